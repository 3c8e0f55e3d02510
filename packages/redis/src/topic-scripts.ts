/**
 * The Lua scripts of the topic store. Each touches one topic's keys only (one hash slot, see
 * `topic-keys.ts`), so it runs atomically on the master of that slot, on one node or a Cluster.
 *
 * Meta hash fields: `e` the epoch, `o` the last offset, `u` and `r` the publish id and order of
 * the last event, `b` where the epoch's history starts when it replaced one whose offsets were reused. Stream entries: id `<offset>-0`, fields
 * `r` order (Redis time in µs), `u` a random id of the publish (tells a reused offset apart),
 * `e` the event name (`''` for `message`), `d` the data.
 */

/** Reads the epoch, creating it from the candidate (and dropping a stream left without meta) when missing. */
const EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
`;

/**
 * Publishes one event (once: a publish id equal to the last one's is a retry, answered with the
 * event it wrote, as ioredis's Cluster may resend a command whose connection dropped): epoch if missing, next offset, the stream entry (trimmed to the history
 * limit, expiring with the history), the meta's expiry refreshed, and the event on the sharded
 * channel as `epoch \n offset \n order \n uid \n event \n data`.
 *
 * KEYS[1] meta, KEYS[2] stream; ARGV[1] candidate epoch, ARGV[2] meta TTL (ms), ARGV[3] history
 * limit, ARGV[4] history max age (ms), ARGV[5] channel, ARGV[6] uid, ARGV[7] event, ARGV[8] data.
 * Returns `{ epoch, offset, order }`.
 */
export const TOPIC_PUBLISH_SCRIPT = `${EPOCH}
if redis.call('HGET', KEYS[1], 'u') == ARGV[6] then
  return { epoch, tonumber(redis.call('HGET', KEYS[1], 'o')), redis.call('HGET', KEYS[1], 'r') }
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local t = redis.call('TIME')
local order = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('HSET', KEYS[1], 'u', ARGV[6], 'r', order)
if tonumber(ARGV[3]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], offset .. '-0', 'r', order, 'u', ARGV[6], 'e', ARGV[7], 'd', ARGV[8])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SPUBLISH', ARGV[5], epoch .. '\\n' .. offset .. '\\n' .. order .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[7] .. '\\n' .. ARGV[8])
return { epoch, offset, order }
`;

/**
 * Reads a topic: its epoch (created when missing, so that every instance agrees on the epoch of a
 * topic nobody published to yet) and head, and with an offset the entries after it that are not
 * older than the max age. When an expected epoch is given and differs, the entries are read from
 * the start of the current history. With a window, also the uids of the entries at the offset and
 * the `window - 1` before it (how a listener checks that the history it delivered is still there).
 *
 * KEYS[1] meta, KEYS[2] stream; ARGV[1] candidate epoch, ARGV[2] meta TTL (ms), ARGV[3] offset
 * (`''`: head only), ARGV[4] history max age (ms), ARGV[5] expected epoch (`''`: any), ARGV[6] window,
 * ARGV[7] (optional) most entries read (`0`: all).
 * Returns `{ epoch, head }` or `{ epoch, head, { id, uid, … }, entries, from }`.
 */
export const TOPIC_SINCE_SCRIPT = `${EPOCH}
local head = tonumber(redis.call('HGET', KEYS[1], 'o'))
if ARGV[3] == '' then return { epoch, head } end
local from = tonumber(ARGV[3])
if ARGV[5] ~= '' and ARGV[5] ~= epoch then
  -- Another epoch: read its history from its start (after a new epoch started over reused offsets, the first of them).
  from = math.min(from, tonumber(redis.call('HGET', KEYS[1], 'b') or '0'))
end
local uids = {}
local window = tonumber(ARGV[6])
if window > 0 and from > 0 then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], math.max(1, from - window + 1) .. '-0', from .. '-0')) do
    uids[#uids + 1] = entry[1]
    uids[#uids + 1] = entry[2][4]
  end
end
local events = {}
if from < head then
  local t = redis.call('TIME')
  local oldest = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[4])) * 1000
  local count = tonumber(ARGV[7] or '0')
  local range
  if count > 0 then range = redis.call('XRANGE', KEYS[2], (from + 1) .. '-0', '+', 'COUNT', count)
  else range = redis.call('XRANGE', KEYS[2], (from + 1) .. '-0', '+') end
  for _, entry in ipairs(range) do
    if #events > 0 or tonumber(entry[2][2]) >= oldest then events[#events + 1] = entry end
  end
end
return { epoch, head, uids, events, from }
`;

/**
 * Starts a new epoch, only if the topic is still in `old` (another instance may have done it
 * first): used when the history went back under the same epoch (a failover lost acknowledged
 * writes), so nobody reads reused offsets as the ones they had. Returns the epoch now in force
 * (`false` when the topic is gone).
 *
 * `b` records the last offset before the reused ones: listeners that knew the old epoch read the
 * new one from there, not from its start (what they had delivered up to it is still valid).
 *
 * KEYS[1] meta; ARGV[1] old epoch, ARGV[2] new epoch, ARGV[3] the last offset not reused.
 */
export const TOPIC_BUMP_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if epoch == ARGV[1] then
  redis.call('HSET', KEYS[1], 'e', ARGV[2], 'b', ARGV[3])
  return ARGV[2]
end
return epoch
`;
