// The published surface of @sse/hono, pinned: every adapter exports the same user API (that of
// `@sse/core/user-api`) plus its own `sse()`, so a user who switches framework changes one import.
import { describe, expect, it } from 'vitest';

/** The names of `@sse/core/user-api`, written out so that a change to them is deliberate. */
const USER_API = [
  'CLOSE_REASONS',
  'DEFAULT_KEEP_ALIVE_MS',
  'DEFAULT_MAX_BUFFERED_BYTES',
  'DEFAULT_MAX_EVENT_BYTES',
  'DEFAULT_MAX_LAST_EVENT_ID_LENGTH',
  'DEFAULT_STALL_TIMEOUT_MS',
  'GAP_EVENT',
  'SseError',
  'SseFormatError',
  'SseHeadersSentError',
  'createChannel',
  'createMemoryStore',
  'createStreamRegistry',
  'formatComment',
  'formatEvent',
  'gapEvent',
  'parseGap',
  'reject',
  'serializeJson',
  'stopReconnecting',
];

describe('@sse/hono entry points', () => {
  it('@sse/hono: sse() and the user API every adapter shares', async () => {
    expect(Object.keys(await import('@sse/hono')).sort()).toEqual([...USER_API, 'sse'].sort());
    expect(Object.keys(await import('@sse/core/user-api')).sort()).toEqual(USER_API);
  });
});
