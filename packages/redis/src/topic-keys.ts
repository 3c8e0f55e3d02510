/**
 * Where a topic lives in Redis. Every key of a topic carries the same `{hash tag}`, so they share
 * one hash slot (a Lua script may touch them together on a Redis Cluster), and the topic's sharded
 * pub/sub channel is that tag itself, so `SPUBLISH` from the script stays in the slot too:
 *
 *     <prefix>{<topic>}     the sharded channel live events go through
 *     <prefix>{<topic>}:m   the meta hash: `e` the epoch, `o` the last offset
 *     <prefix>{<topic>}:s   the stream: one entry per event, id `<offset>-0`
 *
 * Braces and `%` in a topic name are escaped (`%7B`, `%7D`, `%25`): a brace would move the hash
 * tag (`{}` even makes Redis hash the whole key, splitting the topic over slots).
 */
export interface TopicKeys {
  readonly channel: string;
  readonly meta: string;
  readonly stream: string;
  /** The hash slot of all three (0 to 16383). */
  readonly slot: number;
}

export function topicKeys(prefix: string, topic: string): TopicKeys {
  const tag = topic.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'));
  const channel = `${prefix}{${tag}}`;
  return { channel, meta: `${channel}:m`, stream: `${channel}:s`, slot: hashSlot(tag) };
}

const encoder = new TextEncoder();

/** Redis Cluster's hash slot of a hash tag's content: CRC16 (XMODEM) of its UTF-8 bytes, mod 16384. */
export function hashSlot(tag: string): number {
  let crc = 0;
  for (const byte of encoder.encode(tag)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc & 16383;
}
