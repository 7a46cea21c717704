/** The encryption of stored TikTok tokens: the key from the environment, and AES-256-GCM. */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { decodeKeyText, Secret } from './secret.js';

export const ENCRYPTION_KEY_ENV = 'TIKTOK_SYNC_ENCRYPTION_KEY';
export const KEY_ADVICE = `Create one with \`openssl rand -base64 32\` and put it in ${ENCRYPTION_KEY_ENV} (keep it safe: without it the stored tokens cannot be read and every account must connect again).`;

/**
 * The 32-byte key for token encryption, given as 64 hex digits or base64 (standard or URL-safe).
 * Undefined input gives undefined; anything else that is not 32 bytes is a {@link ConfigError}.
 */
export function parseEncryptionKey(text: string | undefined): Buffer | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const key = decodeKeyText(text);
  if (key?.length !== 32) {
    throw new ConfigError(
      'encryption_key_invalid',
      `${ENCRYPTION_KEY_ENV} is not a 32-byte key in base64 or hex (decoded to ${key?.length ?? 0} bytes). ${KEY_ADVICE}`,
    );
  }
  return key;
}

/** AES-256-GCM with a random 96-bit nonce per value; the tag is appended to the ciphertext. */
export class TokenCipher {
  readonly #key: Buffer;
  /** First 16 hex digits of SHA-256 of the key: tells "wrong key" from "corrupt data". */
  readonly fingerprint: string;

  constructor(key: Buffer) {
    if (key.length !== 32)
      throw new ConfigError(
        'encryption_key_invalid',
        `The encryption key has ${key.length} bytes; expected 32. ${KEY_ADVICE}`,
      );
    this.#key = Buffer.from(key);
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  /** `context` is bound as associated data, so a ciphertext moved to another row or column fails to decrypt. */
  encrypt(secret: Secret, context: string): { ciphertext: Buffer; nonce: Buffer } {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()]);
    return { ciphertext: Buffer.concat([body, cipher.getAuthTag()]), nonce };
  }

  decrypt(ciphertext: Buffer, nonce: Buffer, context: string): Secret {
    const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const plain = Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
      decipher.final(),
    ]);
    return new Secret(plain.toString('utf8'));
  }

  toString(): string {
    return `TokenCipher(${this.fingerprint})`;
  }

  toJSON(): string {
    return this.toString();
  }
}
