import type pg from 'pg';
import { copyChunk } from '../db/copy.js';

/** Bytes of encoded rows buffered per destination (about) before they are sent as one COPY. */
const CHUNK_BYTES = 1 << 20;
/** The first buffer of a destination; most tables of an export never fill it. */
const FIRST_BUFFER_BYTES = 1 << 16;
/** COPY chunks allowed in flight before the writer asks its caller to wait (backpressure). */
const MAX_QUEUED = 2;

/** Encoded lines waiting for one destination's next COPY, as UTF-8 bytes. */
export interface ChunkBuffer {
  readonly bytes: Buffer;
  used: number;
}

export interface CopyDestinations<D extends string> {
  /** `<table> (<columns>)` that a destination's lines are loaded into. */
  target(destination: D): string;
  /** What a failed COPY of a destination becomes (e.g. an error naming its table). */
  failure(error: unknown, destination: D): unknown;
}

/**
 * Lines in COPY text format, buffered per destination and sent as one `COPY … FROM STDIN` per full
 * buffer, one after another on one connection (the transaction's), while the caller goes on encoding:
 * the database works in its own process, so the two overlap. Lines are written into the buffers as
 * UTF-8 bytes, so the lines waiting for their COPY are held outside the V8 heap, where they cost no
 * garbage collection; small tables keep small buffers (64 KiB, growing to 1 MiB).
 */
export class CopyChunks<D extends string> {
  readonly #client: pg.ClientBase;
  readonly #destinations: CopyDestinations<D>;
  readonly #buffers = new Map<D, ChunkBuffer>();
  #queue: Promise<void> = Promise.resolve();
  /** The chunks sent and not yet loaded, oldest first (they load one after another). */
  readonly #inFlight: Promise<void>[] = [];
  #failed: unknown;

  constructor(client: pg.ClientBase, destinations: CopyDestinations<D>) {
    this.#client = client;
    this.#destinations = destinations;
  }

  /** A destination's buffer with room for `bytes` more; write, then call {@link written}. */
  room(destination: D, bytes: number): ChunkBuffer {
    let buffer = this.#buffers.get(destination);
    if (buffer && buffer.used + bytes > buffer.bytes.length) {
      if (buffer.bytes.length < CHUNK_BYTES) {
        const grown = Buffer.allocUnsafe(Math.max(buffer.bytes.length * 4, buffer.used + bytes));
        buffer.bytes.copy(grown, 0, 0, buffer.used);
        buffer = { bytes: grown, used: buffer.used };
        this.#buffers.set(destination, buffer);
        return buffer;
      }
      this.#send(destination);
      buffer = undefined;
    }
    if (!buffer) {
      buffer = { bytes: Buffer.allocUnsafe(Math.max(FIRST_BUFFER_BYTES, bytes)), used: 0 };
      this.#buffers.set(destination, buffer);
    }
    return buffer;
  }

  /** Sends a buffer that is full enough; says whether the caller should {@link drain}. */
  written(destination: D, buffer: ChunkBuffer): boolean {
    if (buffer.used >= CHUNK_BYTES) this.#send(destination);
    return this.busy();
  }

  /** Appends an encoded line (a UTF-16 unit is at most 3 bytes of UTF-8); true: call {@link drain}. */
  push(destination: D, line: string): boolean {
    const buffer = this.room(destination, line.length * 3);
    buffer.used += buffer.bytes.write(line, buffer.used);
    return this.written(destination, buffer);
  }

  /** Whether the caller should {@link drain} before it writes more. */
  busy(): boolean {
    return this.#inFlight.length >= MAX_QUEUED || this.#failed !== undefined;
  }

  #send(destination: D): void {
    const buffer = this.#buffers.get(destination);
    if (!buffer || buffer.used === 0) return;
    const chunk = buffer.bytes.subarray(0, buffer.used);
    this.#buffers.delete(destination);
    const sent = this.#queue
      .then(() =>
        this.#failed === undefined
          ? copyChunk(this.#client, this.#destinations.target(destination), chunk)
          : undefined,
      )
      .catch((error) => {
        this.#failed ??= this.#destinations.failure(error, destination);
      })
      .finally(() => {
        this.#inFlight.shift();
      });
    this.#inFlight.push(sent);
    this.#queue = sent;
  }

  /** Waits until the queue is short again (its oldest chunk is loaded); rethrows a failed COPY. */
  async drain(): Promise<void> {
    while (this.#inFlight.length >= MAX_QUEUED) await this.#inFlight[0];
    if (this.#failed !== undefined) throw this.#failed;
  }

  /** Sends every buffered line and waits for all COPYs to finish. */
  async flush(): Promise<void> {
    for (const destination of this.#buffers.keys()) this.#send(destination);
    await this.#queue;
    if (this.#failed !== undefined) throw this.#failed;
  }
}
