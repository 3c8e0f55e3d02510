import type { TopicEvent } from '@sse/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisTopicStore, SseRedisUnavailableError } from '../src/index.js';
import { startRedisCluster, startRedisServer } from '../src/testing.js';
import { expectNoSilentGap, openTopicClient, published, publishRound, startCuttableProxy, startTopicInstance, waitFor, type Published, type TopicClient, type TopicInstance } from './topic-support.js';

// Faults between the instances and Redis, with real EventSource clients on the instance that
// serves them. After each fault, every client either gets every event it missed, in order and
// once, or an `sse-gap` for the topics concerned: never a silent hole.
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOPICS = ['user:1', 'room:a', 'room:b', 'doc:x', 'feed:7', 'feed:8'];

async function instance(...args: Parameters<typeof startTopicInstance>): Promise<TopicInstance> {
  const started = await startTopicInstance(...args);
  cleanups.push(() => started.close());
  return started;
}

function client(url: string): TopicClient {
  const opened = openTopicClient(url, TOPICS);
  cleanups.push(() => opened.close());
  return opened;
}

/** Publishes rounds until the client has the last acknowledged value of every topic. */
async function settle(publisher: TopicInstance, watcher: TopicClient, log: Published): Promise<void> {
  // A hang guard, not a budget: a failover takes the Cluster a few seconds to notice.
  const deadline = Date.now() + 60_000;
  for (;;) {
    await publishRound(publisher.hub, TOPICS, log);
    const caughtUp = (): boolean => TOPICS.every((topic) => log.acked.get(topic)?.at(-1) === undefined || watcher.last(topic) === log.acked.get(topic)!.at(-1));
    try {
      await waitFor(caughtUp, 'the client to catch up', 2000);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/** Keeps publishing one round after another until `stop` resolves. */
async function publishDuring(publisher: TopicInstance, log: Published, fault: Promise<unknown>): Promise<void> {
  let done = false;
  const ended = fault.finally(() => (done = true));
  while (!done) await publishRound(publisher.hub, TOPICS, log);
  await ended;
}

/**
 * What a listener got from publishes fired one per poll without waiting (`sent` of them): each
 * event once, in the topic's order (offsets rising within an epoch), and only values published.
 * Not in the order sent: retried through a failover, the publishes may reach Redis in any order.
 */
function expectOnceInTopicOrder(got: readonly TopicEvent[], sent: number): void {
  for (const epoch of new Set(got.map((event) => event.epoch))) {
    const offsets = got.filter((event) => event.epoch === epoch).map((event) => event.offset);
    expect(offsets, `offsets of epoch ${epoch}`).toEqual([...new Set(offsets)].sort((a, b) => a - b));
  }
  const values = got.map((event) => Number(event.data));
  expect(new Set(values).size, 'no value twice').toBe(values.length);
  expect(values.every((value) => Number.isInteger(value) && value >= 0 && value < sent), 'only values published').toBe(true);
}

describe('Redis topic store under faults', () => {
  it('a Cluster failover of the master of a topic: missed events are filled in, or reported', async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    const base = { nodes: [...cluster.seeds], prefix: 'f1:' };
    const publisher = await instance(base);
    const serving = await instance(base);
    const watcher = client(serving.url);
    await waitFor(() => serving.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(publisher.hub, TOPICS, log, 3);
    const master = await cluster.nodeForKey('f1:{room:a}');
    const onMaster = new Set<string>();
    for (const topic of TOPICS) if ((await cluster.nodeForKey(`f1:{${topic}}`)).port === master.port) onMaster.add(topic);
    await publishDuring(publisher, log, cluster.failover(master));
    await settle(publisher, watcher, log);
    const gaps = expectNoSilentGap(watcher, log);
    // Only topics of the failed master may have lost anything (acknowledged writes not yet replicated).
    for (const topic of gaps.keys()) expect(onMaster.has(topic), `${topic} reported a gap: ${gaps.get(topic)!.join()}`).toBe(true);
  });

  it('Redis restarted empty: every topic reports a reset, then goes on live', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const base = { url: redis.url, prefix: 'f2:' };
    const publisher = await instance(base);
    const serving = await instance(base);
    const watcher = client(serving.url);
    await waitFor(() => serving.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(publisher.hub, TOPICS, log, 3);
    await waitFor(() => TOPICS.every((topic) => watcher.last(topic) === log.acked.get(topic)!.at(-1)), 'the first rounds');
    await redis.kill();
    await redis.restart(); // no persistence: every key is gone
    await settle(publisher, watcher, log);
    const gaps = expectNoSilentGap(watcher, log);
    for (const topic of TOPICS) expect(gaps.get(topic), topic).toContain('reset');
    // The client's live position holds: a reconnect resumes without a new gap.
    const before = TOPICS.map((topic) => watcher.seen.get(topic)!.length);
    serving.cutClients();
    await waitFor(() => watcher.opens() === 2, 'the client to reconnect');
    await settle(publisher, watcher, log);
    expectNoSilentGap(watcher, log);
    TOPICS.forEach((topic, i) => expect(watcher.seen.get(topic)!.slice(before[i]).filter((item) => typeof item === 'string'), topic).toEqual([]));
  });

  it('the link to Redis cut while 2,000 events per topic are published: the serving instance catches every topic up from history', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const proxy = await startCuttableProxy(redis.port);
    cleanups.push(() => proxy.close());
    // History enough for the whole cut: what the test checks is that it is read, not trimmed.
    const publisher = await instance({ url: redis.url, prefix: 'f3:', historyLimit: 100_000 });
    // What the client missed (some 2.5 MB) is far past what its stream may queue: the catch-up
    // closes it as a slow client, and its resume must then go at its pace, not be closed again.
    const serving = await instance({ url: proxy.url, prefix: 'f3:', historyLimit: 100_000 }, { maxBufferedBytes: 16_384 });
    const watcher = client(serving.url);
    await waitFor(() => serving.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(publisher.hub, TOPICS, log, 2);
    proxy.cut();
    await publishRound(publisher.hub, TOPICS, log, 2000);
    proxy.restore();
    await settle(publisher, watcher, log);
    // Everything was in history: no gap at all, every event once, in order.
    expect(expectNoSilentGap(watcher, log)).toEqual(new Map());
    for (const topic of TOPICS) expect(watcher.seen.get(topic)).toEqual(log.acked.get(topic));
  });

  it('a catch-up read on the wire when the link is cut is sent again after the reconnect, not left to its deadline', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const proxy = await startCuttableProxy(redis.port);
    cleanups.push(() => proxy.close());
    // Deadlines far past the hang guard: only the store's handling of the cut can bring the topic back.
    const store = createRedisTopicStore({ url: proxy.url, prefix: 'f6:', commandTimeoutMs: 60_000, onError: () => {} });
    cleanups.push(() => store.close());
    const writer = createRedisTopicStore({ url: redis.url, prefix: 'f6:' });
    cleanups.push(() => writer.close());
    await store.since('t'); // the command connection is up
    const got: TopicEvent[] = [];
    // Its first read (the head) is written at once, and the link is cut before any answer can come.
    store.listen('t', (event) => got.push(event));
    proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 500));
    proxy.restore();
    let sent = 0;
    await waitFor(() => {
      if (got.length === 0) void writer.publish('t', { data: String(sent++) }).catch(() => {});
      return got.length > 0;
    }, 'the listener to get an event published after the reconnect');
    expectOnceInTopicOrder(got, sent);
  });

  it('on a Cluster, a catch-up read on the wire when its master dies is sent again once the connection closes, not left to its deadline', async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    // Deadlines far past the hang guard: only the store's handling of the closed connection can bring the topic back.
    const errors: unknown[] = [];
    const store = createRedisTopicStore({ nodes: [...cluster.seeds], prefix: 'f7:', commandTimeoutMs: 60_000, onError: (error) => errors.push(error) });
    cleanups.push(() => store.close());
    const writer = createRedisTopicStore({ nodes: [...cluster.seeds], prefix: 'f7:', onError: () => {} });
    cleanups.push(() => writer.close());
    await store.since('t'); // the connection to the topic's master is up
    const master = await cluster.nodeForKey('f7:{t}');
    // Stopped, the master takes the first read (the head) into its socket and never answers it.
    await cluster.pause(master);
    const got: TopicEvent[] = [];
    store.listen('t', (event) => got.push(event));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Killed: its connections close, and a replica takes over its slots (the writer waits for that).
    await cluster.killNode(master);
    let sent = 0;
    await waitFor(() => {
      if (got.length === 0) void writer.publish('t', { data: String(sent++) }).catch(() => {});
      return got.length > 0;
    }, 'the listener to get an event published after the failover', 30_000);
    expectOnceInTopicOrder(got, sent);
    // The read went to the stopped master, so it was on the wire: it failed when the connection
    // closed (ioredis rejects what a Cluster node's connection carried then, after trying the
    // other nodes, which may answer CLUSTERDOWN until the failover), was reported, and sent again.
    expect(errors.some((error) => error instanceof SseRedisUnavailableError && error.message.includes('history read'))).toBe(true);
  });

  it('CLIENT KILL of every pub/sub connection of a Cluster: the same, with no gap', async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    const base = { nodes: [...cluster.seeds], prefix: 'f4:' };
    const publisher = await instance(base);
    const serving = await instance(base);
    const watcher = client(serving.url);
    await waitFor(() => serving.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(publisher.hub, TOPICS, log, 2);
    const kill = async (): Promise<void> => {
      for (const node of await cluster.masters()) {
        const admin = new Redis(node.port, '127.0.0.1');
        await admin.client('KILL', 'TYPE', 'pubsub');
        admin.disconnect();
      }
    };
    await publishDuring(publisher, log, kill());
    await publishRound(publisher.hub, TOPICS, log, 2);
    await settle(publisher, watcher, log);
    expect(expectNoSilentGap(watcher, log)).toEqual(new Map());
    for (const topic of TOPICS) expect(watcher.seen.get(topic)).toEqual(log.acked.get(topic));
  });

  it('acknowledged writes lost under the same epoch (an async failover): the offsets handed out again read as a reset, never as events seen', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const base = { url: redis.url, prefix: 'f5:' };
    const publisher = await instance(base);
    // Two serving instances: both see the offsets come back, one starts the new epoch, the other follows it.
    const serving = await instance(base);
    const other = await instance(base);
    const watcher = client(serving.url);
    const otherWatcher = client(other.url);
    await waitFor(() => serving.subscribed() === 1 && other.subscribed() === 1, 'the streams subscribed');
    const log = published();
    await publishRound(publisher.hub, TOPICS, log, 5);
    await waitFor(() => TOPICS.every((topic) => watcher.last(topic) === log.acked.get(topic)!.at(-1) && otherWatcher.last(topic) === log.acked.get(topic)!.at(-1)), 'the first rounds');
    const lastEventId = watcher.lastEventId();
    // What a promoted replica that had not received the last two writes of room:a holds: offsets 1 to 3, the same epoch.
    const admin = new Redis(redis.port, '127.0.0.1');
    cleanups.push(() => admin.disconnect());
    const kept = (await admin.xrange('f5:{room:a}:s', '-', '3-0')) as Array<[string, string[]]>;
    await admin.del('f5:{room:a}:s');
    for (const [id, fields] of kept) await admin.xadd('f5:{room:a}:s', id, ...fields);
    await admin.hset('f5:{room:a}:m', 'o', '3');
    await publishRound(publisher.hub, TOPICS, log, 3);
    await settle(publisher, watcher, log);
    await settle(publisher, otherWatcher, log);
    for (const each of [watcher, otherWatcher]) expect([...expectNoSilentGap(each, log)]).toEqual([['room:a', ['reset']]]);
    // A client still holding the old position (offset 5 of the old epoch) is told of the reset too.
    const resumed = await fetch(`${serving.url}/events?topics=room:a`, { headers: { 'last-event-id': lastEventId! } });
    const reader = resumed.body!.getReader();
    let text = '';
    while (!text.includes('sse-gap')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/"reason":"reset"/);
  });
});
