/**
 * A proxy between the client and the sandbox for the faults the sandbox cannot make itself: a 429
 * without Retry-After, an archive whose CRC-32 does not match, a request that expires right between
 * Check and Download, an answer that arrives after the webhook. Everything else streams through
 * unchanged (status, headers, body, resets and early ends of the sandbox's own faults).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const LOCAL = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const CENTRAL = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

export interface FaultProxy {
  readonly url: string;
  /** 429 answers whose Retry-After was removed so far. */
  readonly stripped: number;
  /** Downloads whose CRC-32 fields were changed so far. */
  readonly corrupted: number;
  /** Every access and refresh token the token endpoint handed out through the proxy. */
  readonly tokens: ReadonlySet<string>;
  /** The next `count` 429 answers (of `endpoint`, e.g. `check`, if given) lose their Retry-After header. */
  stripRetryAfter(count: number, endpoint?: string): void;
  /** While on, every downloaded zip has the CRC-32 of its entries changed (the data left intact). */
  corruptCrc(on: boolean): void;
  /** Runs once before the next Download is forwarded (e.g. to expire the request at TikTok). */
  beforeNextDownload(hook: () => void): void;
  /** Breaks the connection instead of passing on the answer of the next Add, which TikTok processed. */
  loseNextAddAnswer(): void;
  /** Holds the answer of the next Add (already processed by TikTok) until `release()`. */
  holdNextAdd(): { held: Promise<void>; release(): void };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let strip = 0;
  let stripOnly: string | undefined;
  let stripped = 0;
  let corrupt = false;
  let corrupted = 0;
  let downloadHook: (() => void) | undefined;
  let addHold: { arrived: () => void; released: Promise<void> } | undefined;
  let loseAdd = false;
  const tokens = new Set<string>();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const endpoint = new URL(request.url ?? '/', 'http://proxy').pathname;
    const isDownload = endpoint === '/v2/user/data/download/';
    const isAdd = endpoint === '/v2/user/data/add/';
    const isToken = endpoint === '/v2/oauth/token/';
    if (isDownload && downloadHook) {
      const hook = downloadHook;
      downloadHook = undefined;
      hook();
    }
    const hold = isAdd ? addHold : undefined;
    if (hold) addHold = undefined;
    const lose = isAdd && loseAdd;
    if (lose) loseAdd = false;
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: upstream.host },
      },
      async (answer) => {
        if (lose) {
          answer.resume();
          answer.once('end', () => request.socket.destroy());
          return;
        }
        const headers = { ...answer.headers };
        const stripHere = stripOnly === undefined || endpoint === `/v2/user/data/${stripOnly}/`;
        if (answer.statusCode === 429 && strip > 0 && stripHere && headers['retry-after'] !== undefined) {
          strip--;
          stripped++;
          delete headers['retry-after'];
        }
        const patch = isDownload && corrupt && answer.statusCode === 200;
        if (!patch && !hold && !isToken) {
          response.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(response);
          answer.on('error', () => response.destroy());
          answer.on('aborted', () => response.destroy());
          return;
        }
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of answer) chunks.push(chunk as Buffer);
        } catch {
          response.destroy();
          return;
        }
        let body: Buffer = Buffer.concat(chunks);
        if (patch && body.subarray(0, 4).equals(LOCAL)) {
          body = changeCrcs(body);
          corrupted++;
        }
        if (isToken) {
          try {
            const reply = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
            for (const key of ['access_token', 'refresh_token']) {
              if (typeof reply[key] === 'string') tokens.add(reply[key] as string);
            }
          } catch {
            // an OAuth error body: no token in it
          }
        }
        if (hold) {
          hold.arrived();
          await hold.released;
        }
        response.writeHead(answer.statusCode ?? 502, headers);
        response.end(body);
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get stripped() {
      return stripped;
    },
    get corrupted() {
      return corrupted;
    },
    tokens,
    stripRetryAfter(count, endpoint) {
      strip = count;
      stripOnly = endpoint;
    },
    corruptCrc(on) {
      corrupt = on;
    },
    beforeNextDownload(hook) {
      downloadHook = hook;
    },
    loseNextAddAnswer() {
      loseAdd = true;
    },
    holdNextAdd() {
      let arrived!: () => void;
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      addHold = { arrived, released };
      return { held, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Flips the CRC-32 of every entry, in its local header and in the central directory. */
function changeCrcs(zip: Buffer): Buffer {
  const out = Buffer.from(zip);
  for (const [signature, offset] of [
    [LOCAL, 14],
    [CENTRAL, 16],
  ] as const) {
    for (let at = out.indexOf(signature); at >= 0; at = out.indexOf(signature, at + 4)) {
      out.writeUInt32LE((out.readUInt32LE(at + offset) ^ 0x00ff00ff) >>> 0, at + offset);
    }
  }
  return out;
}
