import { createHmac } from 'node:crypto';
import { stringify } from 'lossless-json';
import type { Logger } from '../logger.js';
import type { Clock } from '../tiktok/clock.js';
import type { SandboxAccount } from './state.js';

export interface WebhookDelivery {
  event: string;
  /** The exact bytes POSTed (the same on every attempt). */
  rawBody: string;
  /** The `TikTok-Signature` of the last attempt. */
  signature: string | undefined;
  attempts: number;
  /** HTTP status of the last attempt (undefined after a network failure). */
  lastStatus: number | undefined;
  delivered: boolean;
  /** True once the sandbox stopped trying (delivered, attempts used up, or closed). */
  done: boolean;
}

export interface WebhookSenderOptions {
  url: string | undefined;
  clientSecret: string;
  clock: Clock;
  logger: Logger;
  /** Attempts per event; TikTok retries with exponential backoff for up to 72 h. */
  maxAttempts: number;
  initialDelayMs: number;
  signal: AbortSignal;
}

/**
 * Sends webhooks the way TikTok documents them (docs/tiktok-api.md §3): a JSON POST signed with
 * `TikTok-Signature: t=<unix s>,s=<hex HMAC-SHA256(client_secret, t + "." + body)>`, retried with
 * exponential backoff (on the sandbox clock) until a 200.
 */
export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = [];
  url: string | undefined;
  readonly #options: WebhookSenderOptions;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.url = options.url;
  }

  /** Queues an event; returns its delivery record. */
  send(body: Record<string, unknown>, serialize: (value: unknown) => string): WebhookDelivery {
    const delivery: WebhookDelivery = {
      event: String(body.event),
      rawBody: serialize(body),
      signature: undefined,
      attempts: 0,
      lastStatus: undefined,
      delivered: false,
      done: false,
    };
    this.deliveries.push(delivery);
    const running = this.#deliver(delivery).finally(() => {
      delivery.done = true;
      this.#inFlight.delete(running);
    });
    this.#inFlight.add(running);
    return delivery;
  }

  /** Sends a delivery's body again with a fresh signature, as TikTok's at-least-once retries do. */
  async redeliver(delivery: WebhookDelivery): Promise<number | undefined> {
    return this.#attempt(delivery);
  }

  /** Resolves when no delivery is being attempted right now (retries waiting on the clock do not count). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) {
      const pending = [...this.#inFlight];
      const current = await Promise.race([
        Promise.allSettled(pending).then(() => 'done' as const),
        new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 50)),
      ]);
      if (current === 'waiting') return;
    }
  }

  sign(rawBody: string, timestampSeconds: number): string {
    const s = createHmac('sha256', this.#options.clientSecret)
      .update(`${timestampSeconds}.${rawBody}`)
      .digest('hex');
    return `t=${timestampSeconds},s=${s}`;
  }

  async #deliver(delivery: WebhookDelivery): Promise<void> {
    const { clock, signal, maxAttempts, initialDelayMs, logger } = this.#options;
    if (!this.url) return; // no webhook configured: nothing is sent, as at TikTok
    const giveUpAt = clock.now() + 72 * 3600_000;
    for (let attempt = 0; attempt < maxAttempts && !signal.aborted; attempt++) {
      const status = await this.#attempt(delivery);
      if (status === 200) {
        delivery.delivered = true;
        return;
      }
      const delay = initialDelayMs * 2 ** attempt;
      if (clock.now() + delay > giveUpAt) break;
      logger.debug(
        { event: delivery.event, status, attempt: delivery.attempts, delay },
        'sandbox webhook not accepted; retrying',
      );
      try {
        await clock.sleep(delay, signal);
      } catch {
        return;
      }
    }
  }

  async #attempt(delivery: WebhookDelivery): Promise<number | undefined> {
    if (!this.url) return undefined;
    const signature = this.sign(delivery.rawBody, Math.floor(this.#options.clock.now() / 1000));
    delivery.signature = signature;
    delivery.attempts++;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'TikTok-Signature': signature },
        body: delivery.rawBody,
        signal: AbortSignal.any([this.#options.signal, AbortSignal.timeout(10_000)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      delivery.lastStatus = response.status;
      return response.status;
    } catch {
      delivery.lastStatus = undefined;
      return undefined;
    }
  }
}

/**
 * Queues one TikTok event (docs/tiktok-api.md §3): `client_key`, `event`, `create_time` in Unix
 * seconds, `user_openid` when `withOpenId`, and `content` as a JSON string inside the JSON body.
 */
export function sendEvent(
  sender: WebhookSender,
  clientKey: string,
  nowMs: number,
  event: string,
  account: SandboxAccount,
  content: Record<string, unknown>,
  withOpenId: boolean,
): WebhookDelivery {
  const body: Record<string, unknown> = {
    client_key: clientKey,
    event,
    create_time: Math.floor(nowMs / 1000),
    ...(withOpenId ? { user_openid: account.openId } : {}),
    content: stringify(content),
  };
  return sender.send(body, (value) => stringify(value) ?? '');
}
