import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a bound server listens on, and how to stop it. */
export interface Listening {
  /** The bound address, e.g. `127.0.0.1` or `::1`. */
  readonly address: string;
  readonly port: number;
  /** `http://address:port`, an IPv6 address in brackets. */
  readonly url: string;
  /**
   * Stops accepting connections; resolves once every connection is gone. Idle keep-alive ones are
   * closed at once, busy ones after `graceMs` (default 0: at once; `Infinity`: they finish).
   */
  close(graceMs?: number): Promise<void>;
}

const HINTS: Record<string, string> = {
  EADDRINUSE: 'another process is listening there; stop it or choose another port',
  EACCES: 'this process may not use that port; choose one above 1023',
  EADDRNOTAVAIL: 'that address does not belong to this machine; choose a local one',
};

/** A server could not listen; `code` is the system's (`EADDRINUSE`, `EACCES`, …), as on Node's own error. */
export class ListenError extends Error {
  readonly code: string | undefined;
  readonly host: string;
  readonly port: number;

  constructor(where: { host: string; port: number }, cause: NodeJS.ErrnoException) {
    const shown = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`;
    const hint = cause.code ? HINTS[cause.code] : undefined;
    super(`Cannot listen on ${shown} (${cause.code ?? cause.message})${hint ? `: ${hint}` : ''}.`, {
      cause,
    });
    this.name = 'ListenError';
    this.code = cause.code;
    this.host = where.host;
    this.port = where.port;
  }
}

/**
 * Binds `server` to `host:port` (port 0 picks a free one). Rejects with a {@link ListenError} when
 * the address cannot be used; errors after that are the server's own.
 */
export async function listen(server: Server, where: { host: string; port: number }): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new ListenError(where, error));
    server.once('error', onError);
    server.listen(where.port, where.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: bound.address,
    port: bound.port,
    url: `http://${host}:${bound.port}`,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (graceMs <= 0) {
          server.closeAllConnections();
          return;
        }
        server.closeIdleConnections();
        if (Number.isFinite(graceMs)) setTimeout(() => server.closeAllConnections(), graceMs).unref();
      }),
  };
}
