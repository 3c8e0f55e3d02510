export {
  createRedisStore,
  SseRedisUnavailableError,
  type RedisStore,
  type RedisStoreOptions,
  type RedisStoreStatus,
} from './store.js';
