// `@sse/redis/testing`: throwaway Redis processes for tests and local demos.
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';
export { startRedisCluster, type RedisCluster, type RedisClusterNode, type RedisClusterOptions } from './redis-cluster.js';
