import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'lossless-json';
import { logId } from './state.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The v2 API envelope (docs/tiktok-api.md §1): `data` (when given) and `error` with a fresh `log_id`. */
export function envelope(
  nowMs: number,
  code: string,
  message: string,
  data?: unknown,
  extra: Record<string, unknown> = {},
): string {
  return (
    stringify({
      ...(data === undefined ? {} : { data }),
      error: { code, message, log_id: logId(nowMs), ...extra },
    }) ?? ''
  );
}

/** A failed API call: the envelope with empty `data`. */
export function apiError(
  response: ServerResponse,
  nowMs: number,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  send(response, status, envelope(nowMs, code, message, {}), { 'content-type': JSON_TYPE, ...headers });
}

/** A failed OAuth call: flat `{error, error_description, log_id}` (docs/tiktok-api.md §2.2). */
export function oauthError(
  response: ServerResponse,
  nowMs: number,
  status: number,
  error: string,
  description: string,
): void {
  send(response, status, JSON.stringify({ error, error_description: description, log_id: logId(nowMs) }), {
    'content-type': JSON_TYPE,
  });
}

export function send(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  response.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

export function sendJsonText(response: ServerResponse, status: number, body: string): void {
  send(response, status, body, { 'content-type': JSON_TYPE });
}

/** The request body, cut off after 1 MiB. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
