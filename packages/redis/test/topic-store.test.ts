import type { TopicEvent } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { createRedisTopicStore, SseRedisUnavailableError } from '../src/index.js';
import { useTopicStoreSetup } from './topic-store-setup.js';
import { expectNoSilentGap, openTopicClient, published as publishLog, publishRound, startTopicInstance, waitFor, type TopicClient } from './topic-support.js';

// The same tests on one redis-server and on a 3-master Redis Cluster: one code path for both.
const setup = useTopicStoreSetup('t');
const { targets, store } = setup;

function client(url: string, topics: readonly string[]): TopicClient {
  const opened = openTopicClient(url, topics);
  setup.cleanup(() => opened.close());
  return opened;
}

describe('createRedisTopicStore: options', () => {
  it('needs exactly one of url and nodes, and a prefix without braces', () => {
    expect(() => createRedisTopicStore({})).toThrow(expect.objectContaining({ code: 'ERR_SSE_OPTION' }));
    expect(() => createRedisTopicStore({ url: 'redis://127.0.0.1:1', nodes: ['127.0.0.1:2'] })).toThrow(/exactly one of url/);
    expect(() => createRedisTopicStore({ url: 'redis://127.0.0.1:1', prefix: 'a{b}' })).toThrow(/prefix/);
    expect(() => createRedisTopicStore({ url: 'redis://127.0.0.1:1', historyLimit: -1 })).toThrow(/historyLimit/);
    expect(() => createRedisTopicStore({ nodes: ['nope'] })).toThrow(/host:port/);
  });
});

describe('createRedisTopicStore: Redis unreachable', () => {
  it('rejects publish and since with SseRedisUnavailableError naming the topic', async () => {
    const unreachable = createRedisTopicStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300, onError: () => {} });
    setup.cleanup(() => unreachable.close());
    for (const attempt of [unreachable.publish('room:1', { data: '1' }), unreachable.since('room:1', 0)]) {
      const error: unknown = await attempt.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SseRedisUnavailableError);
      expect((error as Error).message).toContain('topic "room:1"');
    }
    await unreachable.close();
    await expect(unreachable.publish('room:1', { data: '1' })).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_CLOSED' });
  });
});

describe.each(targets)('createRedisTopicStore on %s', (_name, target) => {
  it('publishes with epoch and offset, delivers to listeners once in order, and reads history back', async () => {
    const base = target();
    const prefix = setup.prefix();
    const a = store(base, { prefix });
    const b = store(base, { prefix });
    const got: TopicEvent[] = [];
    const stop = b.listen('room:{1}', (event) => got.push(event));
    const head = await b.since('room:{1}');
    expect(head).toMatchObject({ status: 'ok', offset: 0, events: [] });
    // Two instances agree on the epoch of a topic nobody published to yet.
    expect((await a.since('room:{1}')).epoch).toBe(head.epoch);
    const first = await a.publish('room:{1}', { data: '1' });
    const second = await a.publish('room:{1}', { event: 'edit', data: '{"x":2}' });
    expect(first).toMatchObject({ topic: 'room:{1}', epoch: head.epoch, offset: 1, data: '1' });
    expect(second).toMatchObject({ offset: 2, event: 'edit' });
    expect(second.order).toBeGreaterThan(first.order);
    await waitFor(() => got.length === 2, 'two live events');
    expect(got.map((event) => [event.offset, event.event, event.data])).toEqual([
      [1, undefined, '1'],
      [2, 'edit', '{"x":2}'],
    ]);
    const history = await b.since('room:{1}', 0);
    expect(history.status).toBe('ok');
    expect(history.status === 'ok' && history.events.map((event) => event.offset)).toEqual([1, 2]);
    expect(await b.since('room:{1}', 2)).toMatchObject({ status: 'ok', offset: 2, events: [] });
    stop();
    expect(b.stats.topics).toBe(0);
  });

  it('reports trimmed when the history no longer reaches the offset', async () => {
    const one = store(target(), { historyLimit: 3 });
    for (let i = 1; i <= 5; i++) await one.publish('news', { data: String(i) });
    expect(await one.since('news', 1)).toMatchObject({ status: 'trimmed', offset: 5 });
    const kept = await one.since('news', 2);
    expect(kept.status === 'ok' && kept.events.map((event) => event.data)).toEqual(['3', '4', '5']);
    // historyLimit 0: offsets go on, nothing is kept to resume from.
    const none = store(target(), { historyLimit: 0 });
    await none.publish('news', { data: '1' });
    await none.publish('news', { data: '2' });
    expect(await none.since('news', 0)).toMatchObject({ status: 'trimmed', offset: 2 });
    expect(await none.since('news', 2)).toMatchObject({ status: 'ok', offset: 2, events: [] });
  });

  it('a history longer than one read (2,500 events, reads of 1,000) comes back whole from any offset, page edges too', async () => {
    const one = store(target(), { historyLimit: 5000 });
    for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 100 }, () => one.publish('long', { data: 'x' })));
    for (const from of [0, 1, 999, 1000, 1001, 2000, 2499]) {
      const history = await one.since('long', from);
      expect(history.status === 'ok' && history.events.map((event) => event.offset), `from ${from}`).toEqual(Array.from({ length: 2500 - from }, (_, i) => from + 1 + i));
      expect(history.offset).toBe(2500);
    }
  });

  it('a long history trimmed while its pages are read reads as trimmed, never with a hole', async () => {
    const one = store(target(), { historyLimit: 2500 });
    for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 100 }, () => one.publish('busy', { data: 'x' })));
    for (let round = 0; round < 3; round++) {
      // Each publish trims the oldest entry while the read goes on.
      const [history] = await Promise.all([one.since('busy', 2500 * round), ...Array.from({ length: 2500 }, () => one.publish('busy', { data: 'y' }))]);
      if (history.status === 'ok') {
        const offsets = history.events.map((event) => event.offset);
        expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => 2500 * round + 1 + i));
      } else expect(history.status).toBe('trimmed');
    }
  });

  it('keeps the epoch of a listened topic while it is quiet; an unused one expires and starts a new epoch', async () => {
    const one = store(target(), { historyMaxAgeMs: 150, historyMetaTtlMs: 150 });
    const stop = one.listen('quiet', () => {});
    const quiet = await one.since('quiet');
    const unused = await one.since('unused');
    // Four times the meta TTL (300 ms): a listened topic is kept alive, an unused one is gone.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await one.publish('quiet', { data: '1' })).epoch).toBe(quiet.epoch);
    expect((await one.since('unused')).epoch).not.toBe(unused.epoch);
    stop();
  });

  it('a multi-topic stream resumes exactly from its Last-Event-ID on a second instance', async () => {
    const base = { ...target(), prefix: setup.prefix() };
    const a = await startTopicInstance(base);
    const b = await startTopicInstance(base);
    setup.cleanup(() => a.close());
    setup.cleanup(() => b.close());
    const topics = ['user:1', 'room:a', 'room:b', 'doc:{x}'];
    const log = publishLog();
    const published = log.acked;
    const onA = client(a.url, topics);
    await waitFor(() => a.subscribed() === 1, 'the stream on A');
    await publishRound(b.hub, topics, log, 3);
    await waitFor(() => topics.every((topic) => onA.last(topic) === published.get(topic)!.at(-1)), 'live events on A');
    const lastEventId = onA.lastEventId();
    onA.close();
    await publishRound(a.hub, topics, log, 2);
    // A client that comes back on B with A's last id (a real EventSource sends it as Last-Event-ID).
    const resumed = await fetch(`${b.url}/events?topics=${topics.join(',')}`, { headers: { 'last-event-id': String(lastEventId ?? '') } });
    expect(lastEventId).toBeTypeOf('string');
    const reader = resumed.body!.getReader();
    let text = '';
    const want = topics.length * 2;
    while ((text.match(/^data:/gm) ?? []).length < want) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const replayed = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!) as { topic: string; data: number });
    // Exactly what each topic missed (the values after the first three rounds), nothing before it.
    for (const topic of topics) expect(replayed.filter((event) => event.topic === topic).map((event) => event.data)).toEqual(published.get(topic)!.slice(3));
    expect(replayed).toHaveLength(want);
    expect(text).not.toContain('sse-gap');
  });

  it('live stream through two hubs: every client sees every event once, in order', async () => {
    const base = { ...target(), prefix: setup.prefix() };
    const a = await startTopicInstance(base);
    const b = await startTopicInstance(base);
    setup.cleanup(() => a.close());
    setup.cleanup(() => b.close());
    const topics = ['t1', 't2', 't3'];
    const clients = [client(a.url, topics), client(b.url, topics.slice(1))];
    await waitFor(() => a.subscribed() === 1 && b.subscribed() === 1, 'both streams subscribed');
    const log = publishLog();
    const published = log.acked;
    await publishRound(a.hub, topics, log, 20);
    // Every topic's last event: on a Cluster topics travel on different shards, so t3's last can
    // arrive before t1's.
    const caughtUp = (index: number, names: string[]): boolean => names.every((topic) => clients[index]!.last(topic) === published.get(topic)!.at(-1));
    await waitFor(() => caughtUp(0, topics) && caughtUp(1, topics.slice(1)), 'every event');
    for (const topic of topics) expect(clients[0]!.seen.get(topic), topic).toEqual(published.get(topic));
    for (const topic of topics.slice(1)) expect(clients[1]!.seen.get(topic), topic).toEqual(published.get(topic));
    expectNoSilentGap(clients[0]!, log);
  });
});
