import { SseError } from '@sse/core';

/**
 * Why {@link SseRedisUnavailableError} was thrown:
 * - `offline`: not connected within `offlineTimeoutMs` (startup, outage). Nothing was sent.
 * - `timeout`: Redis did not answer within `commandTimeoutMs` (frozen, overloaded, a lossy link),
 *   or has not yet answered an earlier command that timed out, so this one was not even sent. A
 *   broadcast that timed out is refused by Redis if it arrives after its deadline: it is never
 *   delivered late.
 * - `overloaded`: `maxPendingPublishes` broadcasts are already waiting for Redis. Nothing was sent.
 * - `disconnected`: the connection dropped while the command was in flight. A broadcast may
 *   still have reached Redis (and is then delivered, at once).
 * - `redirected` (topic store on a Cluster): the nodes kept sending the command elsewhere
 *   (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`) until ioredis gave up after `maxRedirections`, as
 *   while a topic's slot is migrated or a failover is under way. A redirected attempt ran
 *   nothing; one cut off with its connection (ioredis counts those too) may have, as with
 *   `disconnected`. The message names the last error. Retry once the slot has settled.
 */
export type SseRedisUnavailableReason = 'offline' | 'timeout' | 'overloaded' | 'disconnected' | 'redirected';

/**
 * Thrown (as a rejection) by `publish`, `since` and `recent` (and the topic store's `publish` and `since`) when Redis cannot serve them now:
 * see {@link SseRedisUnavailableReason}. The store reconnects by itself; retry later (or answer 503).
 */
export class SseRedisUnavailableError extends SseError {
  readonly reason: SseRedisUnavailableReason;

  /** `name` is the channel store's stream key, or the topic (`options.topic: true`) of a topic store. */
  constructor(name: string, reason: SseRedisUnavailableReason, detail: string, options?: { cause?: unknown; topic?: boolean }) {
    super(
      'ERR_SSE_REDIS_UNAVAILABLE',
      `Redis is unavailable for ${options?.topic === true ? 'topic' : 'stream'} "${name}" (${detail}); the store reconnects by itself, retry later`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.reason = reason;
  }
}
