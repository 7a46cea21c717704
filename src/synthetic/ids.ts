import type { Rand } from './prng.js';

/**
 * A TikTok-style 64-bit id: the creation time in the high 32 bits, random low bits. For any date after
 * 2016 this is a 19-digit decimal above 2^53, so it must stay a string.
 */
export function tiktokId(createdAt: number, low: number): string {
  return ((BigInt(Math.max(0, Math.floor(createdAt))) << 32n) | BigInt(low >>> 0)).toString();
}

export const videoLink = (id: string): string => `https://www.tiktokv.com/share/video/${id}/`;
export const soundLink = (id: string): string => `https://m.tiktok.com/h5/share/music/${id}.html`;
export const effectLink = (id: string): string => `https://m.tiktok.com/share/stickers/detail/${id}.html`;
export const challengeLink = (id: string): string => `https://www.tiktok.com/share/challenge/${id}/`;

/** Upper-case UUID (IDFA/IDFV style). */
export function uuid(r: Rand): string {
  const h = r.hex(32).toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Addresses from the documentation ranges (RFC 5737 / RFC 3849): realistic shape, never a real host. */
export function ipAddress(r: Rand): string {
  if (r.chance(0.15)) {
    return `2001:db8:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}`.replace(
      /:0+(?=[0-9a-f])/g,
      ':',
    );
  }
  const net = r.pick(['192.0.2', '198.51.100', '203.0.113']);
  return `${net}.${r.int(1, 254)}`;
}
