/** The sandbox endpoints a fault can target. */
export type Endpoint = 'authorize' | 'token' | 'revoke' | 'add' | 'check' | 'cancel' | 'download';
export type EndpointFilter = Endpoint | '*';

interface Counted {
  endpoint: EndpointFilter;
  remaining: number;
}

export interface ServerErrorFault extends Counted {
  status: number;
}

export interface RateLimitFault extends Counted {
  retryAfterSeconds: number;
  /** Send `Retry-After` as an HTTP date instead of seconds. */
  asHttpDate: boolean;
}

export interface DownloadCutFault {
  remaining: number;
  afterBytes: number;
}

export interface JsonBodyFault {
  remaining: number;
  status: number;
  contentType: string;
}

/**
 * Failures the sandbox injects, switched on per test (`sandbox.faults.serverErrors(3)`) or from
 * flags ({@link parseFaultFlags}). Each counted fault fires on the next matching requests and then
 * stops.
 */
export class Faults {
  readonly serverErrorFaults: ServerErrorFault[] = [];
  readonly rateLimitFaults: RateLimitFault[] = [];
  readonly connectionResets: Counted[] = [];
  readonly downloadResets: DownloadCutFault[] = [];
  readonly downloadTruncations: DownloadCutFault[] = [];
  readonly jsonBodies: JsonBodyFault[] = [];
  /** Real-time pacing of the next `remaining` downloads (I/O, not simulated time): `chunkBytes` every `delayMs`. */
  slow: { chunkBytes: number; delayMs: number; remaining: number } | undefined;
  /** The next `remaining` data requests take `delayMs` to prepare instead of the configured delay. */
  slowPreparation: { delayMs: number; remaining: number } | undefined;
  /** Hooks the sandbox installs for faults that act on its state. */
  onExpireEarly: (requestId?: string) => number = () => 0;
  onRevoke: (username: string, reason: number) => Promise<void> = async () => {};

  /** The next `count` data requests are prepared for `delayMs` (a busy TikTok) before they are ready. */
  prepareSlowly(count: number, delayMs: number): this {
    this.slowPreparation = { delayMs, remaining: count };
    return this;
  }

  /** The preparation time of the next data request, when {@link prepareSlowly} is in force. */
  takePreparationDelay(): number | undefined {
    const slow = this.slowPreparation;
    if (slow === undefined || slow.remaining <= 0) return undefined;
    slow.remaining -= 1;
    if (slow.remaining === 0) this.slowPreparation = undefined;
    return slow.delayMs;
  }

  /** The next `count` requests to `endpoint` answer `status` with `internal_error`. */
  serverErrors(count: number, options: { endpoint?: EndpointFilter; status?: number } = {}): this {
    this.serverErrorFaults.push({
      endpoint: options.endpoint ?? '*',
      remaining: count,
      status: options.status ?? 500,
    });
    return this;
  }

  /** The next `count` requests get 429 `rate_limit_exceeded` with this Retry-After. */
  rateLimit(
    count: number,
    options: { endpoint?: EndpointFilter; retryAfterSeconds?: number; asHttpDate?: boolean } = {},
  ): this {
    this.rateLimitFaults.push({
      endpoint: options.endpoint ?? '*',
      remaining: count,
      retryAfterSeconds: options.retryAfterSeconds ?? 2,
      asHttpDate: options.asHttpDate ?? false,
    });
    return this;
  }

  /** The next `count` requests have their connection destroyed before any answer. */
  resetConnections(count: number, options: { endpoint?: EndpointFilter } = {}): this {
    this.connectionResets.push({ endpoint: options.endpoint ?? '*', remaining: count });
    return this;
  }

  /** The next `count` downloads break (socket destroyed) after `afterBytes`. */
  resetDownload(count: number, options: { afterBytes?: number } = {}): this {
    this.downloadResets.push({ remaining: count, afterBytes: options.afterBytes ?? 4096 });
    return this;
  }

  /** The next `count` downloads end cleanly after `afterBytes`, without a Content-Length to tell. */
  truncateDownload(count: number, options: { afterBytes?: number } = {}): this {
    this.downloadTruncations.push({ remaining: count, afterBytes: options.afterBytes ?? 4096 });
    return this;
  }

  /** The next `count` downloads answer a JSON error body instead of the zip. */
  jsonInsteadOfZip(count: number, options: { status?: number; contentType?: string } = {}): this {
    this.jsonBodies.push({
      remaining: count,
      status: options.status ?? 200,
      contentType: options.contentType ?? 'application/octet-stream',
    });
    return this;
  }

  /** Paces downloads (all of them unless `count` is given); `undefined` switches it off. */
  slowDownload(options: { chunkBytes?: number; delayMs?: number; count?: number } | undefined): this {
    this.slow = options
      ? {
          chunkBytes: options.chunkBytes ?? 16 * 1024,
          delayMs: options.delayMs ?? 20,
          remaining: options.count ?? Number.POSITIVE_INFINITY,
        }
      : undefined;
    return this;
  }

  /** Takes one firing of the slow-download fault, if on. */
  takeSlow(): { chunkBytes: number; delayMs: number } | undefined {
    const slow = this.slow;
    if (!slow) return undefined;
    slow.remaining--;
    if (slow.remaining <= 0) this.slow = undefined;
    return slow;
  }

  /** Expires one request (or every unexpired one) now. Returns how many were expired. */
  expireEarly(requestId?: string): number {
    return this.onExpireEarly(requestId);
  }

  /** The user withdraws consent: their tokens stop working (and `authorization.removed` is sent, if enabled). */
  revokeConsent(username: string, reason = 1): Promise<void> {
    return this.onRevoke(username, reason);
  }

  clear(): this {
    for (const list of [
      this.serverErrorFaults,
      this.rateLimitFaults,
      this.connectionResets,
      this.downloadResets,
      this.downloadTruncations,
      this.jsonBodies,
    ]) {
      list.length = 0;
    }
    this.slow = undefined;
    return this;
  }

  /** Takes one firing of the first matching fault in `list`, if any. */
  take<T extends { remaining: number; endpoint?: EndpointFilter }>(
    list: T[],
    endpoint?: Endpoint,
  ): T | undefined {
    const index = list.findIndex(
      (fault) =>
        fault.remaining > 0 &&
        (fault.endpoint === undefined || fault.endpoint === '*' || fault.endpoint === endpoint),
    );
    if (index < 0) return undefined;
    const fault = list[index]!;
    fault.remaining--;
    if (fault.remaining <= 0) list.splice(index, 1);
    return fault;
  }
}

/**
 * Faults from a flag string, for a CLI: comma-separated `name=value` items.
 *
 * `5xx=N[:status][@endpoint]`, `429=N[:retryAfterSeconds][@endpoint]`, `reset=N[@endpoint]`,
 * `reset-download=N[:afterBytes]`, `truncate-download=N[:afterBytes]`, `json-body=N`,
 * `slow-download=chunkBytes:delayMs`.
 */
export function parseFaultFlags(text: string, faults = new Faults()): Faults {
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z0-9-]+)=(\d+)(?::(\d+))?(?:@([a-z]+))?$/.exec(item);
    if (!match) throw new Error(`Fault flag \`${item}\` is not of the form name=N[:M][@endpoint].`);
    const [, name, first, second, at] = match;
    const count = Number(first);
    const extra = second === undefined ? undefined : Number(second);
    const endpoint = (at ?? '*') as EndpointFilter;
    switch (name) {
      case '5xx':
        faults.serverErrors(count, { endpoint, status: extra ?? 500 });
        break;
      case '429':
        faults.rateLimit(count, { endpoint, retryAfterSeconds: extra ?? 2 });
        break;
      case 'reset':
        faults.resetConnections(count, { endpoint });
        break;
      case 'reset-download':
        faults.resetDownload(count, { afterBytes: extra });
        break;
      case 'truncate-download':
        faults.truncateDownload(count, { afterBytes: extra });
        break;
      case 'json-body':
        faults.jsonInsteadOfZip(count);
        break;
      case 'slow-download':
        faults.slowDownload({ chunkBytes: count, delayMs: extra });
        break;
      default:
        throw new Error(
          `Unknown fault \`${name}\`; known: 5xx, 429, reset, reset-download, truncate-download, json-body, slow-download.`,
        );
    }
  }
  return faults;
}
