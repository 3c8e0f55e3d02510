// The setup the topic store's tests on both targets share: one redis-server and one 3-master
// Redis Cluster started for the file, the same tests run against each, and everything a test
// opened closed after it.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedisTopicStore, type RedisTopicStore, type RedisTopicStoreOptions } from '../src/index.js';
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '../src/testing.js';

/** A target's name and the options that reach it (read inside a test, once the servers run). */
export type TopicStoreTarget = [name: string, options: () => RedisTopicStoreOptions];

export interface TopicStoreSetup {
  /** One redis-server and a Redis Cluster, for `describe.each`. */
  readonly targets: TopicStoreTarget[];
  /** The Cluster (once `beforeAll` ran), for the tests that place keys on its masters. */
  readonly cluster: RedisCluster;
  /** A key prefix no other test of the file uses: `<letter><n>:`. */
  prefix: () => string;
  /** A store closed after the test, under a fresh prefix unless `more` names one. */
  store: (base: RedisTopicStoreOptions, more?: Partial<RedisTopicStoreOptions>) => RedisTopicStore;
  /** Runs `cleanup` after the test; the last registered runs first. */
  cleanup: (cleanup: () => unknown) => void;
}

/**
 * Registers the file's hooks (call it at the top level of a test file) and returns its setup.
 * `letter` starts every prefix, so that files sharing a Redis never share keys.
 */
export function useTopicStoreSetup(letter: string): TopicStoreSetup {
  let redis: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  const cleanups: Array<() => unknown> = [];
  let run = 0;

  beforeAll(async () => {
    [redis, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  const started = <T>(server: T | undefined): T => {
    if (server === undefined) throw new Error('the Redis servers start in beforeAll: read a target inside a test');
    return server;
  };
  const prefix = (): string => `${letter}${++run}:`;
  return {
    targets: [
      ['one redis-server', () => ({ url: started(redis).url })],
      ['a Redis Cluster', () => ({ nodes: [...started(cluster).seeds] })],
    ],
    get cluster() {
      return started(cluster);
    },
    prefix,
    store: (base, more = {}) => {
      const created = createRedisTopicStore({ ...base, ...more, prefix: more.prefix ?? base.prefix ?? prefix() });
      cleanups.push(() => created.close());
      return created;
    },
    cleanup: (cleanup) => void cleanups.push(cleanup),
  };
}
