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
 */
export type SseRedisUnavailableReason = 'offline' | 'timeout' | 'overloaded' | 'disconnected';

/**
 * Thrown (as a rejection) by `publish`, `since` and `recent` when Redis cannot serve them now:
 * see {@link SseRedisUnavailableReason}. The store reconnects by itself; retry later (or answer 503).
 */
export class SseRedisUnavailableError extends SseError {
  readonly reason: SseRedisUnavailableReason;

  constructor(stream: string, reason: SseRedisUnavailableReason, detail: string, options?: { cause?: unknown }) {
    super(
      'ERR_SSE_REDIS_UNAVAILABLE',
      `Redis is unavailable for stream "${stream}" (${detail}); the store reconnects by itself, retry later`,
      options,
    );
    this.reason = reason;
  }
}
