import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { SseRedisUnavailableError } from '../src/index.js';
import type { RedisClusterNode } from '../src/testing.js';
import { topicKeys } from '../src/topic-keys.js';
import { openStream } from './support.js';
import { useTopicStoreSetup } from './topic-store-setup.js';
import { expectNoSilentGap, openTopicClient, published, publishRound, startTopicInstance, waitFor, type Published, type TopicClient, type TopicInstance } from './topic-support.js';

// A live slot resharded from one master to another, as `redis-cli --cluster reshard` does it,
// under topics with a subscriber: the slot's keys (each topic's meta and stream) move to the new
// master, and Redis 7 unsubscribes the slot's sharded pub/sub clients on the old one. The store
// must follow the slot (subscribe on the new master, catch up from the history there) without
// losing, repeating or reordering an event, and a resume must read the history where it now is.
const setup = useTopicStoreSetup('m');
const admins = new Map<RedisClusterNode, Redis>();

async function instance(prefix: string): Promise<TopicInstance> {
  // A long deadline: a publish refused during the migration ends by ioredis's redirection limit,
  // never by a deadline a loaded machine could reach (a timed-out publish may have been written).
  const started = await startTopicInstance({ nodes: [...setup.cluster.seeds], prefix, commandTimeoutMs: 20_000 });
  setup.cleanup(() => started.close());
  return started;
}

function client(url: string, topics: readonly string[]): TopicClient {
  const opened = openTopicClient(url, topics);
  setup.cleanup(() => opened.close());
  return opened;
}

/** A plain connection to one node, for the commands a resharding tool sends; closed after the test. */
function admin(node: RedisClusterNode): Redis {
  let redis = admins.get(node);
  if (redis === undefined) {
    const opened = new Redis(node.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
    opened.on('error', () => {});
    admins.set(node, (redis = opened));
    setup.cleanup(() => {
      admins.delete(node);
      opened.disconnect();
    });
  }
  return redis;
}

/** The port of the master that `node` says serves `slot` (its own `CLUSTER SLOTS`). */
async function ownerSeenBy(node: RedisClusterNode, slot: number): Promise<number | undefined> {
  const ranges = (await admin(node).call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
  return ranges.find(([start, end]) => start <= slot && slot <= end)?.[2][1];
}

/** `PUBSUB SHARDNUMSUB`: how many clients are subscribed to `channel` on `node`. */
async function shardSubscribers(node: RedisClusterNode, channel: string): Promise<number> {
  const [, count] = (await admin(node).call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
  return Number(count);
}

/** How many `ASKING` commands `node` has served: each is a command sent to it after an ASK redirect. */
async function askings(node: RedisClusterNode): Promise<number> {
  const stats = String(await admin(node).call('INFO', 'commandstats'));
  return Number(/^cmdstat_asking:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

/** The master serving `slot` now and another master to move it to. */
async function migrationOf(slot: number): Promise<{ from: RedisClusterNode; to: RedisClusterNode }> {
  const from = await setup.cluster.nodeForSlot(slot);
  const to = (await setup.cluster.masters()).find((node) => node !== from)!;
  return { from, to };
}

interface MigrationHooks {
  /** Runs while the MIGRATE of `key` is on its way; `moved` are the keys moved before it. */
  during?: (key: string, moved: readonly string[]) => Promise<unknown>;
  /** Runs after each key moved, the slot still MIGRATING / IMPORTING; `moved` includes that key. */
  between?: (moved: readonly string[]) => Promise<unknown>;
}

/**
 * Moves `slot` from `from` to `to` the way `redis-cli --cluster reshard` does: `SETSLOT IMPORTING`
 * on the target, `SETSLOT MIGRATING` on the source, a `MIGRATE` of each key `CLUSTER
 * GETKEYSINSLOT` lists (one key at a time here, so a topic's two keys can be apart for a while),
 * then `SETSLOT NODE` on every master, the target first. Resolves with the keys moved, in order,
 * once every node of the cluster (replicas too, told by gossip) says the target serves the slot.
 */
async function migrateSlot(slot: number, { from, to }: { from: RedisClusterNode; to: RedisClusterNode }, hooks: MigrationHooks = {}): Promise<string[]> {
  const source = admin(from);
  const target = admin(to);
  const fromId = String(await source.call('CLUSTER', 'MYID'));
  const toId = String(await target.call('CLUSTER', 'MYID'));
  await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
  await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
  const moved: string[] = [];
  for (;;) {
    const [key] = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 1)) as string[];
    if (key === undefined) break;
    const migrate = source.call('MIGRATE', '127.0.0.1', to.port, '', 0, 10_000, 'KEYS', key);
    await Promise.all([migrate, hooks.during?.(key, [...moved])]);
    moved.push(key);
    await hooks.between?.([...moved]);
  }
  const masters = await setup.cluster.masters();
  for (const node of [to, from, ...masters.filter((each) => each !== to && each !== from)]) await admin(node).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
  await vi.waitFor(
    async () => {
      for (const node of setup.cluster.nodes) expect(await ownerSeenBy(node, slot), `the owner of slot ${slot} for 127.0.0.1:${node.port}`).toBe(to.port);
    },
    { timeout: 20_000, interval: 50 },
  );
  return moved;
}

const caughtUp = (watcher: TopicClient, log: Published, topics: readonly string[]): boolean =>
  topics.every((topic) => watcher.last(topic) === log.acked.get(topic)!.at(-1));

describe('Redis topic store during a Cluster slot migration', () => {
  it('a topic whose slot moves under a live subscriber: every event once, in order, no gap; a resume reads the rest from the new master', async () => {
    const prefix = setup.prefix();
    const topic = 'room:moving';
    const keys = topicKeys(prefix, topic);
    const a = await instance(prefix);
    const b = await instance(prefix); // a second server, publishing too
    const watcher = client(a.url, [topic]);
    await waitFor(() => a.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(a.hub, [topic], log, 5);
    await waitFor(() => caughtUp(watcher, log, [topic]), 'the events before the migration');
    const before = watcher.lastEventId();
    const head = await a.store.since(topic);
    expect(head.offset).toBe(5);
    const { from, to } = await migrationOf(keys.slot);
    expect(await shardSubscribers(from, keys.channel)).toBe(1); // the store's subscriber

    const moved = await migrateSlot(keys.slot, { from, to });
    expect([...moved].sort()).toEqual([keys.meta, keys.stream]);
    // Redis unsubscribed it with the slot (and the store moved it to the new master).
    expect(await shardSubscribers(from, keys.channel)).toBe(0);
    await publishRound(a.hub, [topic], log, 5); // through a store whose slot map still says the old master
    await publishRound(b.hub, [topic], log, 5);
    await waitFor(() => caughtUp(watcher, log, [topic]), 'the events after the migration');
    expect(log.maybe).toEqual(new Set());
    expect(watcher.seen.get(topic)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(expectNoSilentGap(watcher, log)).toEqual(new Map());
    await vi.waitFor(async () => expect(await shardSubscribers(to, keys.channel)).toBe(1), { timeout: 20_000, interval: 50 });
    for (const error of [...a.errors, ...b.errors]) expect(error).toBeInstanceOf(SseRedisUnavailableError);

    // A client back with its id from before the migration, on the other server: exactly the rest.
    const resumed = await openStream(`${b.url}/events?topics=${topic}`, before);
    setup.cleanup(() => resumed.close());
    const events = await resumed.stream.waitForEvents(10);
    expect(events.map((event) => event.event ?? 'message')).toEqual(Array.from({ length: 10 }, () => 'message'));
    expect(events.map((event) => (JSON.parse(event.data) as { data: number }).data)).toEqual(Array.from({ length: 10 }, (_, i) => 5 + i));
    // The store's own read: from a store that never knew the old owner, and from the one that did.
    const fresh = setup.store({ nodes: [...setup.cluster.seeds] }, { prefix });
    for (const store of [fresh, a.store]) {
      const history = await store.since(topic, head.offset);
      expect(history).toMatchObject({ status: 'ok', epoch: head.epoch, offset: 15 });
      expect(history.status === 'ok' && history.events.map((event) => [event.offset, Number(event.data)])).toEqual(Array.from({ length: 10 }, (_, i) => [6 + i, 5 + i]));
    }
  });

  it('events published while the slot is half moved (ASK to the new master, TRYAGAIN for a split topic) reach the subscriber once each, in order', async () => {
    const prefix = setup.prefix();
    // Three topics in one slot. Their six keys move one at a time: meanwhile some topics are
    // wholly on the new master (a publish gets there through ASK), some wholly on the old one, and
    // a topic whose meta and stream are apart is refused (TRYAGAIN, then a typed error), as is
    // one with no keys yet on either side.
    const slot = topicKeys(prefix, 'half:0').slot;
    const topics = ['half:0'];
    for (let i = 1; topics.length < 3; i++) if (topicKeys(prefix, `half:${i}`).slot === slot) topics.push(`half:${i}`);
    // A topic of the same slot never published to: no keys on either master until the slot has moved.
    let newTopic = '';
    for (let i = 0; newTopic === ''; i++) if (topicKeys(prefix, `new:${i}`).slot === slot) newTopic = `new:${i}`;
    // And one read but never published to: a meta hash and no stream (as every topic has with `historyLimit: 0`).
    let metaOnly = '';
    for (let i = 0; metaOnly === ''; i++) if (topicKeys(prefix, `meta:${i}`).slot === slot) metaOnly = `meta:${i}`;
    const split = (moved: readonly string[], topic: string): boolean => {
      const keys = topicKeys(prefix, topic);
      return moved.includes(keys.meta) !== moved.includes(keys.stream);
    };
    const a = await instance(prefix);
    const b = await instance(prefix);
    const watcher = client(a.url, topics);
    await waitFor(() => a.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(b.hub, topics, log, 2);
    await waitFor(() => caughtUp(watcher, log, topics), 'the events before the migration');
    const heads = await Promise.all(topics.map((topic) => a.store.since(topic)));
    await a.store.since(metaOnly);
    const nodes = await migrationOf(slot);
    const askedBefore = await askings(nodes.to);

    // The values whose topic had its keys together (on either master) all along their publish: these must be acknowledged.
    const mustSucceed = new Set<number>();
    const round = async (server: TopicInstance, states: ReadonlyArray<readonly string[]>): Promise<void> => {
      const first = log.next; // publishRound numbers the topics' values in order from here
      const done = publishRound(server.hub, topics, log);
      topics.forEach((topic, i) => {
        if (states.every((moved) => !split(moved, topic))) mustSucceed.add(first + i);
      });
      await done;
    };
    let splitRounds = 0;
    let newTopicRefused = 0;
    let metaOnlyRefused = 0;
    const moved = await migrateSlot(slot, nodes, {
      // Races the MIGRATE: the topic being moved may be either side of it.
      during: (key, movedBefore) => round(b, [movedBefore, [...movedBefore, key]]),
      between: async (movedNow) => {
        if (topics.some((topic) => split(movedNow, topic))) splitRounds++;
        if (movedNow.length === 1) {
          // A multi-key script on keys that exist on neither side of a migrating slot: Redis refuses it.
          const refused = await a.hub.publish(newTopic, { data: -1 }).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(refused).toBeInstanceOf(SseRedisUnavailableError);
          newTopicRefused++;
        }
        // Its stream key exists nowhere, so the script's keys are never all on one side: refused after every key moved.
        const refused = await a.hub.publish(metaOnly, { data: -1 }).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refused, `a publish to ${metaOnly} after ${movedNow.length} keys moved`).toBeInstanceOf(SseRedisUnavailableError);
        metaOnlyRefused++;
        return round(a, [movedNow]);
      },
    });
    expect(moved).toHaveLength(topics.length * 2 + 1);
    expect(splitRounds).toBeGreaterThan(0); // one key at a time: the first key of a topic leaves it split
    // The publishes to topics already moved were served by the new master, after an ASK.
    expect(await askings(nodes.to)).toBeGreaterThan(askedBefore);
    await round(a, [moved]);
    await round(b, [moved]);
    await waitFor(() => caughtUp(watcher, log, topics), 'every acknowledged event');

    expect([...mustSucceed].filter((value) => log.maybe.has(value)), 'refused publishes of a topic whose keys were together').toEqual([]);
    const errors = [...a.errors, ...b.errors];
    for (const error of errors) expect(error).toBeInstanceOf(SseRedisUnavailableError);
    // Every refused publish was reported as such (the hub passes a publish's rejection to onError).
    expect(newTopicRefused).toBe(1);
    expect(metaOnlyRefused).toBe(moved.length);
    expect(errors.filter((error) => /\bpublish\b/.test((error as Error).message))).toHaveLength(log.maybe.size + newTopicRefused + metaOnlyRefused);
    // Once the slot has moved, the new topic takes publishes.
    await expect(a.hub.publish(newTopic, { data: 0 })).resolves.toMatchObject({ offset: 1 });
    await expect(a.hub.publish(metaOnly, { data: 0 })).resolves.toMatchObject({ offset: 1 });
    // Refused by Redis while the topic's keys were apart (TRYAGAIN, MOVED, ASK until ioredis gave up): the message says so.
    for (const error of errors.filter((each) => /\bpublish\b/.test((each as Error).message))) {
      expect((error as Error).message).toMatch(/Too many Cluster redirections/);
      expect((error as SseRedisUnavailableError).reason).toBe('redirected');
    }
    // Every acknowledged event once, in order, no gap; and no refused one: a redirection runs nothing.
    expect(expectNoSilentGap(watcher, log)).toEqual(new Map());
    for (const topic of topics) expect(watcher.seen.get(topic), topic).toEqual(log.acked.get(topic));
    // And the history on the new master, read from before the migration, is what the subscriber got after it.
    const fresh = setup.store({ nodes: [...setup.cluster.seeds] }, { prefix });
    for (const [i, topic] of topics.entries()) {
      const history = await fresh.since(topic, heads[i]!.offset);
      expect(history.status === 'ok' && history.epoch === heads[i]!.epoch, `${topic}: ${history.status}`).toBe(true);
      expect(history.status === 'ok' && history.events.map((event) => Number(event.data)), topic).toEqual(watcher.seen.get(topic)!.slice(2));
    }
  });

  it('a slot moved away from a master leaves the other topics that master serves live on the same connection', async () => {
    const prefix = setup.prefix();
    // Two topics of one master, in two slots: one subscriber connection carries both. Redis
    // unsubscribes only the moving slot's channel (a push ioredis takes for a stray reply); the
    // other topic's live events must keep coming on that connection.
    const moving = 'stay:0';
    const { from, to } = await migrationOf(topicKeys(prefix, moving).slot);
    let staying = '';
    for (let i = 1; staying === ''; i++) {
      const keys = topicKeys(prefix, `stay:${i}`);
      if (keys.slot !== topicKeys(prefix, moving).slot && (await setup.cluster.nodeForSlot(keys.slot)) === from) staying = `stay:${i}`;
    }
    const a = await instance(prefix);
    const b = await instance(prefix);
    const watcher = client(a.url, [moving, staying]);
    await waitFor(() => a.subscribed() === 1, 'the stream subscribed');
    const log = published();
    await publishRound(b.hub, [moving, staying], log, 3);
    await waitFor(() => caughtUp(watcher, log, [moving, staying]), 'the events before the migration');

    await migrateSlot(topicKeys(prefix, moving).slot, { from, to });
    expect(await shardSubscribers(from, topicKeys(prefix, moving).channel)).toBe(0);
    expect(await shardSubscribers(from, topicKeys(prefix, staying).channel)).toBe(1);
    // Only the staying topic first: if its connection had stopped taking messages, nothing later would reveal the hole.
    await publishRound(b.hub, [staying], log, 3);
    await waitFor(() => caughtUp(watcher, log, [staying]), 'the staying topic, live after the migration');
    await publishRound(b.hub, [moving, staying], log, 3);
    await waitFor(() => caughtUp(watcher, log, [moving, staying]), 'both topics after the migration');
    expect(log.maybe).toEqual(new Set());
    expect(expectNoSilentGap(watcher, log)).toEqual(new Map());
    for (const topic of [moving, staying]) expect(watcher.seen.get(topic), topic).toEqual(log.acked.get(topic));
    // The staying topic kept its subscription on the old master; the moving one has one on the new master.
    expect(await shardSubscribers(from, topicKeys(prefix, staying).channel)).toBe(1);
    await vi.waitFor(async () => expect(await shardSubscribers(to, topicKeys(prefix, moving).channel)).toBe(1), { timeout: 20_000, interval: 50 });
  });
});
