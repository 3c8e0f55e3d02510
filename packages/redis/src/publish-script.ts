/**
 * How a broadcast is written. A plain `XADD` that timed out on the client stays queued in a frozen
 * Redis and runs when it resumes: the event would reach every client late, long after the app was
 * told it failed. So a broadcast is a script that appends only while its deadline (on Redis's own
 * clock) has not passed, and refuses with `SSE_LATE` after it.
 *
 * The script also records in the entry the id of the stream's last entry before it (`p`, `0-0`
 * when the key did not exist): a reader that sees `p` differ from the last entry it read knows it
 * missed entries (trimmed before it read them, or the stream was reset), without another command.
 *
 * KEYS[1] the stream; ARGV[1] the deadline (Redis ms), ARGV[2] maxLen, ARGV[3…] the fields.
 */
export const PUBLISH_SCRIPT = `
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[1]) then
  return redis.error_reply('SSE_LATE the broadcast reached Redis after its deadline and was not written')
end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  fields[#fields + 1] = 'p'
  fields[#fields + 1] = last[1]
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  fields[#fields + 1] = 'p'
  fields[#fields + 1] = '0-0'
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
`;

/** The error prefix of a broadcast the script refused because it arrived after its deadline. */
export const LATE_REPLY = 'SSE_LATE';

/** The entry field naming the previous entry's id. */
export const PREVIOUS_FIELD = 'p';

/** Maps this process's monotonic clock (`performance.now()`) onto Redis's `TIME`. */
export interface RedisClock {
  /** Redis's clock minus `performance.now()`, in ms. */
  offset: number;
  /** Half the round trip of the measurement: how far `offset` may be off. */
  error: number;
  /** `performance.now()` when it was measured. */
  measuredAt: number;
}

/** A clock from a `TIME` reply and the local times just before sending it and after its answer. */
export function measureClock(before: number, time: readonly [seconds: string, micros: string], after: number): RedisClock {
  const redisMs = Number(time[0]) * 1000 + Number(time[1]) / 1000;
  return { offset: redisMs - (before + after) / 2, error: (after - before) / 2, measuredAt: after };
}

/**
 * The deadline to give the script for a command sent at `now` that the client gives up on after
 * `budgetMs`: earlier by the clock's error, so that Redis refuses before the client has stopped waiting.
 */
export function redisDeadline(clock: RedisClock, now: number, budgetMs: number): number {
  return Math.floor(now + clock.offset + budgetMs - clock.error);
}
