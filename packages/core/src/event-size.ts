import { SseError } from './errors.js';
import { encodeFrame } from './format.js';

/** Bytes of `text` in UTF-8, without encoding it (a lone surrogate counts as U+FFFD, 3 bytes, as the encoder writes it). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 2 UTF-16 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** The `ERR_SSE_EVENT_TOO_LARGE` error: what was too large, by how much, and what to do. */
export function eventTooLarge(what: string, bytes: number, limit: number, atLeast = false): SseError {
  return new SseError(
    'ERR_SSE_EVENT_TOO_LARGE',
    `${what} of ${atLeast ? 'at least ' : ''}${bytes} bytes is larger than maxEventBytes (${limit}); nothing was written. Send a reference (an id or a URL to fetch) instead of a large payload, or raise maxEventBytes (a stream's is at most its maxBufferedBytes)`,
  );
}

/**
 * Encodes a frame, or throws `ERR_SSE_EVENT_TOO_LARGE` when it is larger than `limit` bytes. A
 * frame has at least as many UTF-8 bytes as UTF-16 units, so a long one is refused before it is
 * encoded (an 8 MB string costs no 8 MB buffer).
 */
export function encodeWithin(frame: string, limit: number, what: string): Uint8Array {
  if (frame.length > limit) throw eventTooLarge(what, frame.length, limit, true);
  const chunk = encodeFrame(frame);
  if (chunk.byteLength > limit) throw eventTooLarge(what, chunk.byteLength, limit);
  return chunk;
}
