export { createRedisStore, type RedisStore, type RedisStoreOptions, type RedisStoreStatus } from './store.js';
export { createRedisTopicStore, type RedisTopicStore, type RedisTopicStoreOptions, type RedisTopicStoreStats } from './topic-store.js';
export { SseRedisUnavailableError, type SseRedisUnavailableReason } from './errors.js';
// The gap types are part of @sse/core's store contract; re-exported for code written against @sse/redis.
export type { GapListener, StoreGap } from '@sse/core';
