import type { SseError } from '@sse/core';

/** Failures that mean "the Redis behind this feature cannot take it right now": answer 503, not 500. */
const STORE_UNAVAILABLE_CODES = new Set(['ERR_SSE_REDIS_UNAVAILABLE', 'ERR_SSE_REDIS_CLOSED']);

/** By code rather than class: an error from another copy of @sse/core or @sse/redis is still recognised. */
export const isStoreUnavailable = (error: unknown): error is SseError =>
  error instanceof Error && STORE_UNAVAILABLE_CODES.has(String((error as Partial<SseError>).code));

/** A store's error reporter: during a Redis outage one line per failure (the store already said why), else the whole error. */
export function logStoreError(label: string): (error: unknown) => void {
  return (error) => {
    if (isStoreUnavailable(error)) console.warn(`[${label}] ${error.message}`);
    else console.error(`[${label}] store error:`, error);
  };
}
