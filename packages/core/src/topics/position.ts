/**
 * The stream position a topic hub writes as every event's `id`, and reads back from
 * `Last-Event-ID`: one entry per topic of the stream, so that a client that only echoes its
 * last id (a standard `EventSource`) tells the server where it is on every one of its topics.
 *
 * Format (printable ASCII, at most {@link MAX_POSITION_ENTRY_LENGTH} + 1 characters per topic):
 *
 *     position = entry *( "_" entry )
 *     entry    = topic-key "." epoch-key "." offset
 *
 * each part in lowercase base 36: `topic-key` is the FNV-1a 32-bit hash of the topic's UTF-8
 * name, `epoch-key` the same hash of the topic's epoch (so a history that restarted is told
 * apart), `offset` the last offset of that topic the client received (`0`: none yet).
 * Example: `1x3k9a.kf12p0.2s_q8z01m.kf12p0.7`.
 */

/** The longest entry: two 32-bit keys (7 base-36 digits each), a 53-bit offset (11), two dots. */
export const MAX_POSITION_ENTRY_LENGTH = 7 + 1 + 7 + 1 + 11;

/** One topic's place in a position. */
export interface PositionEntry {
  /** Hash of the epoch, base 36 (see {@link epochKey}). */
  epochKey: string;
  /** The last offset the client received. */
  offset: number;
}

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over UTF-8 bytes: the same key on every instance and in every language. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The key of a topic name in a position. */
export function topicKey(topic: string): string {
  return fnv1a(topic).toString(36);
}

/** The key of a topic's epoch in a position. */
export function epochKey(epoch: string): string {
  return fnv1a(epoch).toString(36);
}

/** An epoch key no epoch hashes to in practice: written for a topic whose head could not be read, so a resume reports a gap. */
export const UNKNOWN_EPOCH_KEY = '-';

const ENTRY = /^([0-9a-z]{1,7})\.([0-9a-z]{1,7}|-)\.([0-9a-z]{1,11})$/;

/**
 * Reads a position: a map from topic key to entry, or `undefined` when the text is not a
 * position (an id from elsewhere, or tampered with).
 */
export function parsePosition(text: string): Map<string, PositionEntry> | undefined {
  const entries = new Map<string, PositionEntry>();
  if (text === '') return undefined;
  for (const part of text.split('_')) {
    const match = ENTRY.exec(part);
    if (match === null) return undefined;
    const offset = Number.parseInt(match[3]!, 36);
    if (!Number.isSafeInteger(offset)) return undefined;
    // A repeated key (two of the client's topics hashing alike) cannot be told apart: neither is trusted.
    if (entries.has(match[1]!)) entries.set(match[1]!, { epochKey: UNKNOWN_EPOCH_KEY, offset: 0 });
    else entries.set(match[1]!, { epochKey: match[2]!, offset });
  }
  return entries;
}

/** One entry as text. */
export function formatEntry(topicKeyText: string, epochKeyText: string, offset: number): string {
  return `${topicKeyText}.${epochKeyText}.${offset.toString(36)}`;
}
