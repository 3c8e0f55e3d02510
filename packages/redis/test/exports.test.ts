// The published surface of @sse/redis, pinned: a name added to or removed from an entry point
// fails here, so every change to it is deliberate (and gets a README line and a changeset).
import { describe, expect, it } from 'vitest';

describe('@sse/redis entry points', () => {
  it('@sse/redis: the store and its error', async () => {
    expect(Object.keys(await import('@sse/redis')).sort()).toEqual(['SseRedisUnavailableError', 'createRedisStore']);
  });

  it('@sse/redis/testing: a throwaway redis-server for tests', async () => {
    expect(Object.keys(await import('@sse/redis/testing')).sort()).toEqual(['startRedisServer']);
  });
});
