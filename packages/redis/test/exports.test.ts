// The published surface of @sse/redis, pinned: a name added to or removed from an entry point
// fails here, so every change to it is deliberate (and gets a README line and a changeset).
import { describe, expect, it } from 'vitest';

describe('@sse/redis entry points', () => {
  it('@sse/redis: the channel store, the topic store and their error', async () => {
    expect(Object.keys(await import('@sse/redis')).sort()).toEqual(['SseRedisUnavailableError', 'createRedisStore', 'createRedisTopicStore']);
  });

  it('@sse/redis/testing: a throwaway redis-server and Redis Cluster for tests', async () => {
    expect(Object.keys(await import('@sse/redis/testing')).sort()).toEqual(['startRedisCluster', 'startRedisServer']);
  });
});
