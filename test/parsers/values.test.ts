import { describe, expect, it } from 'vitest';
import {
  effectIdFromLink,
  hashtagIdFromLink,
  isEmptyText,
  normalizeBirthDate,
  normalizeTimestamp,
  normKey,
  peerFromChatKey,
  soundIdFromLink,
  videoIdFromLink,
  videoIdFromMessage,
} from '../../src/parsers/values.js';

describe('values', () => {
  it('normalizes export dates with and without a UTC suffix to ISO UTC', () => {
    expect(normalizeTimestamp('2024-05-01 12:34:56')).toBe('2024-05-01T12:34:56Z');
    expect(normalizeTimestamp('2024-05-01 12:34:56 UTC')).toBe('2024-05-01T12:34:56Z');
    expect(normalizeTimestamp('2024-05-01T12:34:56Z')).toBe('2024-05-01T12:34:56Z');
    expect(normalizeTimestamp(' 2024-05-01 12:34:56 ')).toBe('2024-05-01T12:34:56Z');
    expect(normalizeTimestamp('2024-05-01 12:34:56.250')).toBe('2024-05-01T12:34:56.250Z');
  });

  it('reads Unix seconds and milliseconds written as digits', () => {
    expect(normalizeTimestamp('1704103260')).toBe('2024-01-01T10:01:00Z');
    expect(normalizeTimestamp('1704103260000')).toBe('2024-01-01T10:01:00Z');
  });

  it('rejects text that is not a real date', () => {
    expect(normalizeTimestamp('yesterday')).toBeUndefined();
    expect(normalizeTimestamp('2024-02-30 00:00:00')).toBeUndefined();
    expect(normalizeTimestamp('2024-13-01 00:00:00')).toBeUndefined();
    expect(normalizeTimestamp('2024-01-01 24:00:00')).toBeUndefined();
    expect(normalizeTimestamp('2024-01-01 10:00:00 CET')).toBeUndefined();
    expect(normalizeTimestamp('2023-02-29 00:00:00')).toBeUndefined();
    expect(normalizeTimestamp('2024-02-29 00:00:00')).toBe('2024-02-29T00:00:00Z');
  });

  it('converts DD-Mon-YYYY birth dates and keeps ISO ones', () => {
    expect(normalizeBirthDate('05-Jul-2001')).toBe('2001-07-05');
    expect(normalizeBirthDate('5-jul-2001')).toBe('2001-07-05');
    expect(normalizeBirthDate('2001-07-05')).toBe('2001-07-05');
    expect(normalizeBirthDate('31-Feb-2001')).toBeUndefined();
    expect(normalizeBirthDate('sometime')).toBeUndefined();
  });

  it('treats empty strings, N/A and None as empty', () => {
    for (const v of ['', '  ', 'N/A', 'n/a', 'None', ' none ']) expect(isEmptyText(v)).toBe(true);
    for (const v of ['0', 'No', 'Nobody', 'None of them']) expect(isEmptyText(v)).toBe(false);
  });

  it('folds case, spaces and punctuation in keys', () => {
    expect(normKey('Date')).toBe(normKey('date'));
    expect(normKey('Block List')).toBe(normKey('BlockList'));
    expect(normKey('Like(s)')).toBe(normKey('Likes'));
    expect(normKey('HashTag Link')).toBe(normKey('HashtagLink'));
  });

  it('extracts 19-digit video ids from share and web links exactly', () => {
    expect(videoIdFromLink('https://www.tiktokv.com/share/video/7312345678901234567/')).toBe(
      '7312345678901234567',
    );
    expect(videoIdFromLink('https://www.tiktok.com/@some.user/video/7312345678901234567?lang=en')).toBe(
      '7312345678901234567',
    );
    expect(videoIdFromLink('https://www.tiktok.com/@some.user/photo/7312345678901234567')).toBe(
      '7312345678901234567',
    );
    expect(videoIdFromLink('https://m.tiktok.com/v/7312345678901234567.html')).toBe('7312345678901234567');
    expect(videoIdFromLink('https://vm.tiktok.com/ZMabcdef/')).toBeNull();
    expect(videoIdFromLink(null)).toBeNull();
  });

  it('extracts sound, effect and hashtag ids', () => {
    expect(soundIdFromLink('https://m.tiktok.com/h5/share/music/6712345678901234567.html')).toBe(
      '6712345678901234567',
    );
    expect(soundIdFromLink('https://www.tiktok.com/music/original-sound-6712345678901234567')).toBe(
      '6712345678901234567',
    );
    expect(effectIdFromLink('https://m.tiktok.com/share/stickers/detail/123456.html')).toBe('123456');
    expect(hashtagIdFromLink('https://www.tiktok.com/share/challenge/1234567/')).toBe('1234567');
  });

  it('takes a video id from a DM only when the whole message is a share link', () => {
    expect(videoIdFromMessage('https://www.tiktokv.com/share/video/7312345678901234567/')).toBe(
      '7312345678901234567',
    );
    expect(videoIdFromMessage('look https://www.tiktokv.com/share/video/7312345678901234567/')).toBeNull();
    expect(videoIdFromMessage('[https://media.tenor.com/x.gif]')).toBeNull();
  });

  it('takes the peer out of a chat map key', () => {
    expect(peerFromChatKey('Chat History with ana_23:')).toBe('ana_23');
    expect(peerFromChatKey('Chat History with ana_23::')).toBe('ana_23');
    expect(peerFromChatKey('Weekend crew')).toBe('Weekend crew');
  });
});
