/**
 * Redis Stream ids are `<ms>-<seq>`, two unsigned 64-bit integers. A `Last-Event-ID` comes from
 * the client and may be anything: it is checked here before it reaches a Redis command, so a
 * malformed id reads as unknown instead of failing with `ERR Invalid stream ID`.
 * https://redis.io/docs/latest/develop/data-types/streams/#entry-ids
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const MAX_U64 = 18_446_744_073_709_551_615n;

export interface StreamIdParts {
  ms: bigint;
  seq: bigint;
}

/** The two parts of a complete stream id, or `undefined` when `id` is not one. */
export function parseStreamId(id: string): StreamIdParts | undefined {
  const match = STREAM_ID.exec(id);
  if (match === null) return undefined;
  const ms = BigInt(match[1]!);
  const seq = BigInt(match[2]!);
  if (ms > MAX_U64 || seq > MAX_U64) return undefined;
  return { ms, seq };
}

/** Orders two valid stream ids: negative when `a` comes first, `0` when equal. */
export function compareStreamIds(a: string, b: string): number {
  const left = parseStreamId(a);
  const right = parseStreamId(b);
  if (left === undefined || right === undefined) throw new TypeError(`not a stream id: ${left === undefined ? a : b}`);
  if (left.ms !== right.ms) return left.ms < right.ms ? -1 : 1;
  if (left.seq !== right.seq) return left.seq < right.seq ? -1 : 1;
  return 0;
}
