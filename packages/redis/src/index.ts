export { createRedisStore, type RedisStore, type RedisStoreOptions, type RedisStoreStatus } from './store.js';
export { SseRedisUnavailableError, type SseRedisUnavailableReason } from './errors.js';
export type { GapListener, StoreGap } from './gap.js';
