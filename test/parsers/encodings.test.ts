import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/errors.js';
import { parseJsonExport } from '../../src/parsers/json-export.js';
import type { ParseEvent, RecordEvent, WarningEvent } from '../../src/parsers/records.js';
import { parseTxtExport } from '../../src/parsers/txt-export.js';

type Parser = typeof parseJsonExport;

/** Feeds `bytes` in chunks of `size` bytes (odd sizes cut characters and line ends in two). */
async function events(
  parser: Parser,
  member: string,
  bytes: Buffer,
  size = 64 * 1024,
): Promise<ParseEvent[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  const out: ParseEvent[] = [];
  for await (const e of parser(Readable.from(parts), member)) out.push(e);
  return out;
}

const terms = (list: ParseEvent[]) =>
  list
    .filter((e): e is RecordEvent => e.kind === 'record' && e.table === 'searches')
    .map((e) => (e.row as { term: string | null }).term);
const warnings = (list: ParseEvent[]) =>
  list.filter((e): e is WarningEvent => e.kind === 'warning').map((e) => `${e.code}: ${e.message}`);

const TXT_MEMBER = 'TikTok/Activity/Searches.txt';
const JSON_MEMBER = 'user_data_tiktok.json';
const TERMS = ['café crème', 'naïve 東京', 'emoji 🎉 "quoted"'];
const txt = (eol = '\n') =>
  TERMS.map((t, i) => `Date: 2024-01-0${i + 1} 00:00:00${eol}Search Term: ${t}${eol}`).join(eol);
const jsonText = () =>
  JSON.stringify({
    'Your Activity': {
      Searches: { SearchList: TERMS.map((t, i) => ({ Date: `2024-01-0${i + 1} 00:00:00`, SearchTerm: t })) },
    },
  });

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
}

const ENCODINGS: [string, (text: string) => Buffer, string | undefined][] = [
  ['UTF-8', (t) => Buffer.from(t), undefined],
  ['UTF-8 with BOM', (t) => Buffer.from(`\ufeff${t}`), undefined],
  ['UTF-16 LE with BOM', (t) => Buffer.from(`\ufeff${t}`, 'utf16le'), 'UTF-16 LE (by its byte-order mark)'],
  ['UTF-16 BE with BOM', (t) => utf16be(`\ufeff${t}`), 'UTF-16 BE (by its byte-order mark)'],
  ['UTF-16 LE without BOM', (t) => Buffer.from(t, 'utf16le'), 'UTF-16 LE (by the NUL bytes'],
  ['UTF-16 BE without BOM', (t) => utf16be(t), 'UTF-16 BE (by the NUL bytes'],
];

describe('encodings', () => {
  for (const [name, encode, reported] of ENCODINGS) {
    for (const size of [64 * 1024, 7, 1]) {
      it(`reads a ${name} TXT and JSON file in ${size}-byte chunks, reporting the encoding`, async () => {
        const fromTxt = await events(parseTxtExport, TXT_MEMBER, encode(txt()), size);
        const fromJson = await events(parseJsonExport, JSON_MEMBER, encode(jsonText()), size);
        expect(terms(fromTxt)).toEqual(TERMS);
        expect(terms(fromJson)).toEqual(TERMS);
        for (const [list, member] of [
          [fromTxt, TXT_MEMBER],
          [fromJson, JSON_MEMBER],
        ] as const) {
          if (reported === undefined) expect(warnings(list)).toEqual([]);
          else
            expect(warnings(list)).toEqual([
              expect.stringContaining(`encoding: \`${member}\` is ${reported}`),
            ]);
        }
      });
    }
  }

  it('reads Latin-1 as Latin-1, with a warning', async () => {
    const list = await events(parseTxtExport, TXT_MEMBER, Buffer.from(txt(), 'latin1').subarray(0), 5);
    // Latin-1 cannot hold the CJK and emoji terms: only the first is compared.
    expect(terms(list)[0]).toBe('café crème');
    expect(warnings(list)).toEqual([expect.stringMatching(/^not_utf8: .*read as Latin-1/)]);
  });

  it('fails a file that starts as UTF-16 but is not, naming the file and the encoding', async () => {
    // A lone high surrogate (D800) followed by an ASCII character.
    const bad = Buffer.concat([
      Buffer.from('\ufeffDate: 2024', 'utf16le'),
      Buffer.from([0x00, 0xd8, 0x41, 0x00]),
    ]);
    const failure = events(parseTxtExport, TXT_MEMBER, bad);
    await expect(failure).rejects.toBeInstanceOf(ArchiveError);
    await expect(failure).rejects.toThrow(
      /`TikTok\/Activity\/Searches.txt` looks like UTF-16 LE but is not valid UTF-16 LE/,
    );
  });

  it('reads a tiny file that fits in the bytes held to tell the encoding', async () => {
    const list = await events(parseTxtExport, TXT_MEMBER, Buffer.from('\ufeffSearch Term: a\n'));
    expect(terms(list)).toEqual(['a']);
    expect(warnings(list)).toEqual([]);
  });
});

describe('line ends', () => {
  for (const [name, text] of [
    ['CRLF', txt('\r\n')],
    ['lone CR', txt('\r')],
    [
      'mixed',
      `${txt('\r\n').split('\r\n').slice(0, 3).join('\r')}\n\n${txt('\n').split('\n').slice(3).join('\r\n')}`,
    ],
  ] as const) {
    it(`splits ${name} line ends, also when a chunk ends between CR and LF`, async () => {
      for (const size of [1, 2, 3, 64 * 1024]) {
        const list = await events(parseTxtExport, TXT_MEMBER, Buffer.from(text), size);
        expect(terms(list), `${name} in ${size}-byte chunks`).toEqual(TERMS);
      }
    });
  }

  it('keeps a blank line made of CR LF as the end of a record', async () => {
    const list = await events(
      parseTxtExport,
      TXT_MEMBER,
      Buffer.from('Search Term: a\r\n\r\nSearch Term: b\r\n'),
    );
    expect(terms(list)).toEqual(['a', 'b']);
  });
});

describe('bytes after the JSON', () => {
  const tails: [string, string][] = [
    ['NUL padding', '\0'.repeat(300)],
    ['a line of text', '\nsaved by SyncTool 2.1\n'],
    ['a second copy', jsonText()],
    ['a stray brace', '}'],
  ];
  for (const [name, tail] of tails) {
    it(`reads every record before ${name}, and reports it with its offset`, async () => {
      const body = jsonText();
      for (const size of [3, 64 * 1024]) {
        const list = await events(parseJsonExport, JSON_MEMBER, Buffer.from(body + tail), size);
        expect(terms(list)).toEqual(TERMS);
        const reported = warnings(list);
        expect(reported).toHaveLength(1);
        const offset = Buffer.byteLength(body + tail) - Buffer.byteLength(tail.trimStart());
        expect(reported[0]).toMatch(
          new RegExp(`^trailing_data: .*after its JSON ends \\(from byte ${offset}:`),
        );
      }
    });
  }

  it('does not count trailing white space', async () => {
    const list = await events(parseJsonExport, JSON_MEMBER, Buffer.from(`${jsonText()}\r\n\n  `));
    expect(warnings(list)).toEqual([]);
  });

  it('is not fooled by brackets, quotes and backslashes inside strings, whatever the chunks', async () => {
    const tricky = ['} ] {', 'a \\" b', 'ends in \\', '\\\\"', '"}'];
    const text = JSON.stringify({
      'Your Activity': {
        Searches: { SearchList: tricky.map((t) => ({ Date: '2024-01-01 00:00:00', SearchTerm: t })) },
      },
    });
    for (const size of [1, 2, 5, 64 * 1024]) {
      const list = await events(parseJsonExport, JSON_MEMBER, Buffer.from(`${text}garbage`), size);
      expect(terms(list), `${size}-byte chunks`).toEqual(tricky);
      expect(warnings(list)).toEqual([expect.stringContaining(`from byte ${text.length}:`)]);
    }
  });

  it('reports where they start as a byte offset in the file, and their size, whatever the encoding and the chunks', async () => {
    const latin1 = JSON.stringify({
      'Your Activity': {
        Searches: { SearchList: [{ Date: '2024-01-01 00:00:00', SearchTerm: 'café crème' }] },
      },
    });
    const cases: [string, (text: string) => Buffer, string][] = [
      ...ENCODINGS.map(
        ([name, encode]) => [name, encode, jsonText()] as [string, (t: string) => Buffer, string],
      ),
      ['Latin-1', (t) => Buffer.from(t, 'latin1'), latin1],
    ];
    for (const [name, encode, body] of cases) {
      for (const tail of ['saved by SyncTool', '\r\n\n  \0\0\0 ü 東 end\n', '\0'.repeat(70)]) {
        const file = encode(body + tail);
        const garbage = tail.trimStart();
        // Where the bytes of the garbage begin: the file without them (the BOM, if any, included).
        const offset = file.length - (encode(body + garbage).length - encode(body).length);
        for (const size of [1, 2, 3, 7, 64, 64 * 1024]) {
          const reported = warnings(await events(parseJsonExport, JSON_MEMBER, file, size)).filter((w) =>
            w.startsWith('trailing_data'),
          );
          expect(reported, `${name}, ${JSON.stringify(tail)}, ${size}-byte chunks`).toEqual([
            expect.stringContaining(
              `has ${file.length - offset} bytes after its JSON ends (from byte ${offset}: "${tail === 'saved by SyncTool' ? `${tail}")` : ''}`,
            ),
          ]);
        }
      }
    }
  });

  it('still refuses JSON broken before its end', async () => {
    await expect(
      events(parseJsonExport, JSON_MEMBER, Buffer.from('{"Your Activity": {"Searches": ]}} tail')),
    ).rejects.toThrow(/is not valid JSON/);
  });
});
