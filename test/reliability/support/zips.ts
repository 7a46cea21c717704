/**
 * Byte surgery on small zip files, to make the damaged archives that zip writers refuse to produce.
 * Offsets are those of the zip format (APPNOTE 4.3.7 local header, 4.3.12 central directory header).
 */
import { randomBytes } from 'node:crypto';
import yazl from 'yazl';

const LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

function each(zip: Buffer, signature: Buffer, edit: (out: Buffer, at: number) => void): Buffer {
  const out = Buffer.from(zip);
  for (let at = out.indexOf(signature); at >= 0; at = out.indexOf(signature, at + 4)) edit(out, at);
  return out;
}

/** Applies `edit` to the local header and to the central directory header of every entry. */
export function patchHeaders(
  zip: Buffer,
  edit: { local?: (out: Buffer, at: number) => void; central?: (out: Buffer, at: number) => void },
): Buffer {
  let out = zip;
  if (edit.local) out = each(out, LOCAL, edit.local);
  if (edit.central) out = each(out, CENTRAL, edit.central);
  return out;
}

/** Marks every entry encrypted (general purpose bit 0). */
export function markEncrypted(zip: Buffer): Buffer {
  return patchHeaders(zip, {
    local: (out, at) => out.writeUInt16LE(out.readUInt16LE(at + 6) | 1, at + 6),
    central: (out, at) => out.writeUInt16LE(out.readUInt16LE(at + 8) | 1, at + 8),
  });
}

/** Claims a compression method we do not read (12 = bzip2) for every entry. */
export function setMethod(zip: Buffer, method: number): Buffer {
  return patchHeaders(zip, {
    local: (out, at) => out.writeUInt16LE(method, at + 8),
    central: (out, at) => out.writeUInt16LE(method, at + 10),
  });
}

/** Replaces the first occurrence of `from` by `to` (same length): changes data, keeps the stored CRC. */
export function replaceBytes(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('same length only');
  const out = Buffer.from(zip);
  const at = out.indexOf(Buffer.from(from));
  if (at < 0) throw new Error(`\`${from}\` not found`);
  Buffer.from(to).copy(out, at);
  return out;
}

/** Flips bytes in the middle of the first entry's compressed data. */
export function damageData(zip: Buffer): Buffer {
  const out = Buffer.from(zip);
  const at = out.indexOf(LOCAL);
  const nameLength = out.readUInt16LE(at + 26);
  const extraLength = out.readUInt16LE(at + 28);
  const start = at + 30 + nameLength + extraLength;
  for (let i = 0; i < 16; i++) out[start + 40 + i * 7] = (out[start + 40 + i * 7] ?? 0) ^ 0x5a;
  return out;
}

export interface Member {
  name: string;
  data: string | Buffer;
  compress?: boolean;
}

/** A zip of these members in memory; `zip64` writes every structure in its ZIP64 form. */
export async function zipOf(members: readonly Member[], options: { zip64?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const member of members) {
    zip.addBuffer(Buffer.from(member.data), member.name, {
      compress: member.compress ?? true,
      forceZip64Format: options.zip64 ?? false,
    });
  }
  zip.end({ forceZip64Format: options.zip64 ?? false, comment: '' });
  const parts: Buffer[] = [];
  for await (const chunk of zip.outputStream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Text that deflate cannot shrink much (base64 of random bytes), so no ratio limit refuses it. */
export function incompressible(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64')
    .slice(0, length);
}
