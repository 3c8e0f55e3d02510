// The published surface of @sse/hono, pinned: every adapter exports the same user API (that of
// `@sse/core/user-api`) plus its own `sse()`, so a user who switches framework changes one import.
import { describe, expect, it } from 'vitest';

/** The names of `@sse/core/user-api`, written out so that a change to them is deliberate. */
const USER_API = [
  'CLOSE_REASONS',
  'DEFAULT_KEEP_ALIVE_MS',
  'DEFAULT_MAX_BUFFERED_BYTES',
  'DEFAULT_MAX_LAST_EVENT_ID_LENGTH',
  'DEFAULT_MAX_TOPICS_PER_STREAM',
  'DEFAULT_MAX_TOPIC_HISTORY_BYTES',
  'DEFAULT_STALL_TIMEOUT_MS',
  'DEFAULT_TOPIC_HISTORY_LIMIT',
  'DEFAULT_TOPIC_HISTORY_MAX_AGE_MS',
  'MAX_TOPIC_NAME_LENGTH',
  'SseError',
  'SseFormatError',
  'SseHeadersSentError',
  'createChannel',
  'createMemoryStore',
  'createMemoryTopicStore',
  'createStreamRegistry',
  'createTopicHub',
  'formatComment',
  'formatEvent',
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
