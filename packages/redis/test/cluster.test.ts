import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../src/testing.js';
import { chatTexts, openStream, startBalancer, startInstance, startLaggingProxy, waitFor, type Instance, type StreamClient } from './support.js';

// Two app instances (node:http + @sse/node) on different ports share one Redis started here.
// Append-only with fsync on every write: what Redis kept must survive the crash test.
let redis: RedisServer;
let streamCount = 0;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedisServer({ appendOnly: true });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await redis.stop();
});

async function twoInstances(): Promise<[Instance, Instance]> {
  const stream = `cluster-${++streamCount}`;
  const a = await startInstance({ url: redis.url, stream });
  const b = await startInstance({ url: redis.url, stream });
  cleanups.push(() => a.close(), () => b.close());
  return [a, b];
}

async function openTracked(url: string, lastEventId?: string): Promise<StreamClient> {
  const client = await openStream(url, lastEventId);
  cleanups.push(() => client.close());
  return client;
}

function eventSource(url: string): { source: EventSource; received: MessageEvent[]; opens: () => number; errors: () => number } {
  const source = new EventSource(url);
  const received: MessageEvent[] = [];
  let opens = 0;
  let errors = 0;
  source.addEventListener('chat', (event) => received.push(event));
  source.addEventListener('replay', (event) => received.push(event));
  source.addEventListener('open', () => opens++);
  source.addEventListener('error', () => errors++);
  cleanups.push(() => source.close());
  return { source, received, opens: () => opens, errors: () => errors };
}

const texts = (received: readonly MessageEvent[]): string[] =>
  chatTexts(received.map((event) => ({ event: event.type, data: event.data as string })));

async function post(instance: Instance, text: string): Promise<string> {
  const { status, body } = await instance.broadcast(text);
  expect(status, body).toBe(200);
  return body;
}

describe('@sse/redis across two instances', () => {
  it('delivers a message posted to A to EventSource clients on A and B, once each, in order', async () => {
    const [a, b] = await twoInstances();
    const onA = eventSource(`${a.url}/events`);
    const onB = eventSource(`${b.url}/events`);
    await waitFor(() => onA.received.length === 1 && onB.received.length === 1); // the 'replay' hello
    const ids = [await post(a, 'hello'), await post(a, 'from A'), await post(b, 'from B')];
    await waitFor(() => texts(onA.received).length === 3 && texts(onB.received).length === 3);
    for (const client of [onA, onB]) {
      expect(texts(client.received)).toEqual(['hello', 'from A', 'from B']);
      expect(client.received.filter((event) => event.type === 'chat').map((event) => event.lastEventId)).toEqual(ids);
    }
    await post(b, 'one more');
    await waitFor(() => texts(onB.received).length === 4);
    await waitFor(() => texts(onA.received).length === 4);
    expect(texts(onA.received)).toEqual(['hello', 'from A', 'from B', 'one more']);
  });

  it('fills the gap of a client that reconnects to B with an id seen on A: in order, no duplicates', async () => {
    const [a, b] = await twoInstances();
    const first = await openTracked(`${a.url}/events`);
    await first.replay();
    await post(a, 'm1');
    const seen = await post(a, 'm2');
    await waitFor(() => first.texts().length === 2);
    first.close();
    await post(a, 'm3');
    await post(b, 'm4');
    await post(a, 'm5');
    const again = await openTracked(`${b.url}/events`, seen);
    expect(await again.replay()).toEqual({ status: 'replayed', count: 3 });
    expect(again.texts()).toEqual(['m3', 'm4', 'm5']);
    await post(a, 'm6');
    await waitFor(() => again.texts().length === 4);
    expect(again.texts()).toEqual(['m3', 'm4', 'm5', 'm6']);
  });

  it('replays without duplicates on an instance whose reader lags behind Redis', async () => {
    const stream = `cluster-${++streamCount}`;
    const lag = await startLaggingProxy(redis.port, 400);
    cleanups.push(() => lag.close());
    const a = await startInstance({ url: redis.url, stream });
    // Room for the reader to catch up however busy the machine is (the default is 1 s).
    const slow = await startInstance({ url: lag.url, stream, offlineTimeoutMs: 20_000 });
    cleanups.push(() => a.close(), () => slow.close());
    const onA = await openTracked(`${a.url}/events`);
    await onA.replay();
    await post(a, 'm1');
    await post(a, 'm2');
    await waitFor(() => onA.texts().length === 2);
    const m2 = onA.stream.events.filter((event) => event.event === 'chat')[1]!.id;
    // Redis already has m3 and m4 but the slow instance's reader has not delivered them yet: the
    // history read must not hand them out and then deliver them again live.
    await post(a, 'm3');
    const m4 = await post(a, 'm4');
    const behind = await openTracked(`${slow.url}/events`, m2);
    // And a client whose own last id is ahead of that reader must not get its events again.
    const ahead = await openTracked(`${slow.url}/events`, m4);
    await post(a, 'm5');
    await waitFor(() => behind.texts().includes('m5') && ahead.texts().includes('m5'));
    expect(behind.texts()).toEqual(['m3', 'm4', 'm5']);
    expect(ahead.texts()).toEqual(['m5']);
  });

  it('keeps a real EventSource gap-free while a balancer moves it from A to B during a burst', async () => {
    const [a, b] = await twoInstances();
    const balancer = await startBalancer(a.url);
    cleanups.push(() => balancer.close());
    const client = eventSource(`${balancer.url}/events`);
    await waitFor(() => client.received.length === 1);
    const total = 60;
    const sending = (async () => {
      for (let i = 1; i <= total; i++) {
        await post(i % 2 === 0 ? a : b, `m${i}`);
        if (i === 20) balancer.switchTo(b.url); // the client loses A and reconnects through the balancer
      }
    })();
    await sending;
    await waitFor(() => texts(client.received).length >= total && client.opens() === 2);
    await post(a, 'end');
    await waitFor(() => texts(client.received).includes('end'));
    expect(texts(client.received)).toEqual([...Array.from({ length: total }, (_, i) => `m${i + 1}`), 'end']);
    expect(client.opens()).toBe(2);
    const replays = client.received.filter((event) => event.type === 'replay').map((event) => JSON.parse(event.data as string) as { status: string });
    expect(replays.map((replay) => replay.status)).toEqual(['none', 'replayed']);
  });

  it('answers unknown for malformed, foreign and future ids, and still streams live events', async () => {
    const other = await startInstance({ url: redis.url, stream: `cluster-other-${++streamCount}` });
    cleanups.push(() => other.close());
    const foreign = await post(other, 'elsewhere');
    const [a, b] = await twoInstances();
    await new Promise((resolve) => setTimeout(resolve, 5)); // later than the foreign id's millisecond
    await post(a, 'kept');
    for (const bad of ['garbage', '1-2-3', 'abc-def', '99999999999999999999999-0', foreign, `${Date.now() + 3_600_000}-0`]) {
      const client = await openTracked(`${b.url}/events`, bad);
      expect(await client.replay(), bad).toEqual({ status: 'unknown' });
      client.close();
    }
    const live = await openTracked(`${b.url}/events`, 'garbage');
    await live.replay();
    await post(a, 'live');
    await waitFor(() => live.texts().length === 1);
    expect(live.texts()).toEqual(['live']);
  });

  it('survives Redis being killed and restarted mid-stream: streams stay open, the outage is reported, delivery resumes', async () => {
    const [a, b] = await twoInstances();
    const onA = eventSource(`${a.url}/events`);
    const onB = eventSource(`${b.url}/events`);
    await waitFor(() => onA.received.length === 1 && onB.received.length === 1);
    const beforeCrash = await post(a, 'before 1');
    await post(b, 'before 2');
    await waitFor(() => texts(onA.received).length === 2 && texts(onB.received).length === 2);

    await redis.kill();
    await waitFor(() => [a, b].every((instance) => instance.statuses.at(-1)?.state === 'down'));
    const refused = await a.broadcast('during');
    expect(refused).toEqual({ status: 503, body: 'ERR_SSE_REDIS_UNAVAILABLE' });
    expect(a.channelErrors).toHaveLength(1);
    // A replay attempted during the outage reports an error, and the stream still opens and lives.
    const duringOutage = await openTracked(`${b.url}/events`, beforeCrash);
    expect(await duringOutage.replay()).toEqual({ status: 'error' });

    await redis.restart();
    await waitFor(() => [a, b].every((instance) => instance.statuses.at(-1)?.state === 'up'));
    await post(b, 'after');
    await waitFor(() => texts(onA.received).length === 3 && texts(onB.received).length === 3);
    for (const client of [onA, onB]) {
      expect(texts(client.received)).toEqual(['before 1', 'before 2', 'after']);
      // Same connection all along: the clients never noticed the outage.
      expect(client.opens()).toBe(1);
      expect(client.errors()).toBe(0);
    }
    await waitFor(() => duringOutage.texts().length === 1);
    expect(duringOutage.texts()).toEqual(['after']);
    expect(duringOutage.stream.outcome).toBeUndefined();
    expect(a.statuses.map((status) => status.state)).toEqual(['up', 'down', 'up']);

    // Redis kept the history (append-only file): a client that reconnects now gets what it missed.
    const late = await openTracked(`${a.url}/events`, beforeCrash);
    expect(await late.replay()).toEqual({ status: 'replayed', count: 2 });
    expect(late.texts()).toEqual(['before 2', 'after']);
  });
});
