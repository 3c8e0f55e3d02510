// The published surface of @sse/core, pinned: a name added to or removed from an entry point
// fails here, so every change to it is deliberate (and gets a README line and a changeset).
import { describe, expect, it } from 'vitest';

/** What every adapter re-exports (`@sse/core/user-api`). */
const USER_API = [
  'CLOSE_REASONS',
  'DEFAULT_KEEP_ALIVE_MS',
  'DEFAULT_MAX_BUFFERED_BYTES',
  'DEFAULT_MAX_EVENT_BYTES',
  'DEFAULT_MAX_LAST_EVENT_ID_LENGTH',
  'DEFAULT_MAX_TOPICS_PER_STREAM',
  'DEFAULT_MAX_TOPIC_HISTORY_BYTES',
  'DEFAULT_STALL_TIMEOUT_MS',
  'DEFAULT_TOPIC_HISTORY_LIMIT',
  'DEFAULT_TOPIC_HISTORY_MAX_AGE_MS',
  'GAP_EVENT',
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
  'gapEvent',
  'parseGap',
  'reject',
  'serializeJson',
  'stopReconnecting',
];

describe('@sse/core entry points', () => {
  it('@sse/core: the user API, plus createFetchHandler for Fetch runtimes', async () => {
    expect(Object.keys(await import('@sse/core')).sort()).toEqual([...USER_API, 'createFetchHandler'].sort());
  });

  it('@sse/core/user-api: what every adapter re-exports', async () => {
    expect(Object.keys(await import('@sse/core/user-api')).sort()).toEqual(USER_API);
  });

  it('@sse/core/adapter: what adapter authors build on', async () => {
    expect(Object.keys(await import('@sse/core/adapter')).sort()).toEqual([
      'acceptsEventStream',
      'checkServeOptions',
      'createEventStream',
      'createWebStreamSink',
      'decodeHeaderBytes',
      'defaultHeaders',
      'fetchServerInfo',
      'readLastEventId',
      'requestFacts',
      'serveEventStream',
      'serveWebRequest',
      'sinkDrained',
      'sinkGone',
    ]);
  });
});
