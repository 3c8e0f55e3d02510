import type { TopicEvent } from '@sse/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RedisTopicStore } from '../src/index.js';
import { useTopicStoreSetup } from './topic-store-setup.js';
import { waitFor } from './topic-support.js';

// What one instance costs Redis and the network: its connections do not grow with its topics,
// and it reads only the traffic of the topics it listens to.
const setup = useTopicStoreSetup('s');
const { targets, store } = setup;

/** Listens to every topic; resolves once a probe event published to each of `probes` came through. */
async function listenAll(listening: RedisTopicStore, publisher: RedisTopicStore, topics: readonly string[], probes: readonly string[]): Promise<void> {
  const got = new Set<string>();
  for (const topic of topics) listening.listen(topic, (event: TopicEvent) => got.add(event.topic));
  // A probe published before the listener read its topic's head is rightly not delivered: probe again until each came.
  // A probe may also miss its deadline while Redis works through the 10,000 head reads on a busy
  // machine: it is sent again next round, and the last failure is reported if none came.
  const deadline = Date.now() + 60_000;
  let failure: unknown;
  while (!probes.every((topic) => got.has(topic))) {
    if (Date.now() > deadline) throw new Error(`probes never came through: ${probes.filter((topic) => !got.has(topic)).join(', ')}`, { cause: failure });
    for (const topic of probes) if (!got.has(topic)) await publisher.publish(topic, { data: '0' }).catch((error: unknown) => void (failure = error));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Ten topics whose slots cover every master of the cluster (so both stores need every subscriber). */
async function spreadTopics(prefix: string, count: number): Promise<string[]> {
  const masters = new Set((await setup.cluster.masters()).map((node) => node.port));
  const covered = new Set<number>();
  const topics: string[] = [];
  for (let i = 0; topics.length < count || covered.size < masters.size; i++) {
    const topic = `few:${i}`;
    const port = (await setup.cluster.nodeForKey(`${prefix}{${topic}}`)).port;
    if (topics.length < count - (masters.size - covered.size) || !covered.has(port)) {
      topics.push(topic);
      covered.add(port);
    }
  }
  return topics;
}

describe.each(targets)('createRedisTopicStore on %s: cost per instance', (name, target) => {
  it('holds the same number of connections for 10 topics as for 10,000', async () => {
    const prefix = setup.prefix();
    const base = { ...target(), prefix };
    const publisher = store(base);
    const few = name === 'a Redis Cluster' ? await spreadTopics(prefix, 10) : Array.from({ length: 10 }, (_, i) => `few:${i}`);
    const many = Array.from({ length: 10_000 }, (_, i) => `many:${i}`);
    const small = store(base);
    const large = store(base);
    await listenAll(small, publisher, few, few);
    await listenAll(large, publisher, many, [...few.map((_, i) => `many:${i * 997}`)]);
    expect(small.stats.topics).toBe(10);
    expect(large.stats.topics).toBe(10_000);
    expect(small.stats.connections).toBeGreaterThan(0);
    // Read once, at any moment: the count holds no connection that comes and goes (ioredis's
    // slot-map reads are not counted) and none to a replica (the 7th that made this test flaky).
    expect(large.stats.connections, JSON.stringify([small.stats, large.stats])).toBe(small.stats.connections);
    // One for commands and one subscriber per master (one node: one of each).
    expect(large.stats.connections).toBe(name === 'a Redis Cluster' ? 6 : 2);
    if (process.env.SSE_PRINT_STATS) console.log(name, small.stats, large.stats);
  });

  it("reads none of another instance's traffic: two stores on disjoint topics", async () => {
    const base = { ...target(), prefix: setup.prefix() };
    const a = store(base);
    const b = store(base);
    const ours = Array.from({ length: 8 }, (_, i) => `a:${i}`);
    const theirs = Array.from({ length: 8 }, (_, i) => `b:${i}`);
    await listenAll(a, a, ours, ours);
    await listenAll(b, b, theirs, theirs);
    const data = JSON.stringify('x'.repeat(1024));
    const aBefore = a.stats.bytesRead;
    const bBefore = b.stats.bytesRead;
    let delivered = 0;
    for (const topic of ours) a.listen(topic, () => delivered++);
    for (let i = 0; i < 40; i++) await Promise.all(ours.map((topic) => a.publish(topic, { data })));
    await waitFor(() => delivered === 40 * ours.length, 'every event on A');
    const aRead = a.stats.bytesRead - aBefore;
    const bRead = b.stats.bytesRead - bBefore;
    // A read each event at least twice (its publish reply is small; the live event carries the data).
    expect(aRead).toBeGreaterThan(40 * ours.length * 1024);
    // B listens to other topics of the same masters: nothing of A's 320 KiB reached its sockets.
    expect(bRead).toBeLessThan(4096);
    if (process.env.SSE_PRINT_STATS) console.log(name, { aRead, bRead });
  });
});

describe('createRedisTopicStore on a Redis Cluster whose seeds include replicas', () => {
  it('opens no connection to a replica, even when its first slot map names some of its seeds replicas', async () => {
    const prefix = setup.prefix();
    const base = { nodes: [...setup.cluster.seeds], prefix };
    const topics = await spreadTopics(prefix, 3);
    const publisher = store(base);
    // Redis 7 lists a replica in CLUSTER SLOTS only once it replicated a write: one to every master,
    // then wait until every node lists a replica for every slot range.
    for (const topic of topics) await publisher.publish(topic, { data: '0' });
    const nodes = setup.cluster.nodes.map((node) => new Redis(node.url, { lazyConnect: true }));
    setup.cleanup(() => nodes.forEach((node) => node.disconnect()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const maps = (await Promise.all(nodes.map((node) => node.cluster('SLOTS')))) as unknown[][][];
      if (maps.every((ranges) => ranges.length > 0 && ranges.every((range) => range.length > 3))) break;
      if (Date.now() > deadline) throw new Error(`replicas never listed in CLUSTER SLOTS: ${JSON.stringify(maps)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const connectionName = `replica-check-${prefix.slice(0, -1)}`;
    const listening = store(base, { redisOptions: { connectionName } });
    await listenAll(listening, publisher, topics, topics);
    // ioredis took every seed for a master; those the slot map names replicas were told READONLY,
    // which opened a connection each that nothing used (9 in all, before the store kept them closed).
    expect(listening.stats.connections, JSON.stringify(listening.stats)).toBeLessThanOrEqual(6);
    const roles = await Promise.all(setup.cluster.nodes.map((node) => node.role()));
    expect(roles.filter((role) => role === 'replica')).toHaveLength(3);
    const named = await Promise.all(
      nodes.map(async (node, i) => (roles[i] === 'replica' ? String(await node.client('LIST')).split('\n').filter((line) => line.includes(` name=${connectionName} `)).length : 0)),
    );
    expect(named, 'connections of the store on each replica').toEqual(named.map(() => 0));
  });
});
