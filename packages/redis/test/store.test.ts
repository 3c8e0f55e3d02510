import { createChannel, SseError, type ChannelEvent } from '@sse/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisStore, SseRedisUnavailableError, type RedisStore, type RedisStoreOptions, type RedisStoreStatus } from '../src/index.js';
import { compareStreamIds } from '../src/stream-id.js';
import { startRedisServer, type RedisServer } from '../src/testing.js';
import { openStream, startInstance, startLaggingProxy, waitFor } from './support.js';

let redis: RedisServer;
let admin: Redis;
const stores: RedisStore[] = [];
let streamCount = 0;

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url);
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  admin.disconnect();
  await redis.stop();
});

/** A store on a stream of its own (each test gets a fresh key unless it passes one). */
function store(options: Partial<RedisStoreOptions> = {}): RedisStore {
  const created = createRedisStore({ url: redis.url, stream: `test-${++streamCount}`, onStatus: () => {}, ...options });
  stores.push(created);
  return created;
}

function collect(target: RedisStore): ChannelEvent[] {
  const received: ChannelEvent[] = [];
  target.listen((event) => received.push(event));
  return received;
}

const STREAM_ID = /^\d+-\d+$/;

describe('createRedisStore: publish and listen', () => {
  it('gives every listener of every instance each event once, in publish order, with stream ids', async () => {
    const a = store();
    const b = store({ stream: a.stream });
    // Published at once, before either reader has even connected: both still get everything.
    const onA = collect(a);
    const onB = collect(b);
    // Interleaved from both instances, without waiting: the stream decides the order.
    const pending: Promise<ChannelEvent>[] = [];
    for (let i = 0; i < 20; i++) pending.push((i % 2 === 0 ? a : b).publish({ data: `m${i}`, json: false }));
    const published = await Promise.all(pending);
    published.push(await a.publish({ event: 'typed', data: '{"n":1}', json: true }));
    await waitFor(() => onA.length === 21 && onB.length === 21);
    const order = [...published].sort((x, y) => compareStreamIds(x.id, y.id));
    expect(onA.map((event) => event.id)).toEqual(order.map((event) => event.id));
    expect(onB).toEqual(onA);
    for (const event of published) expect(event.id).toMatch(STREAM_ID);
    expect(onA.at(-1)).toEqual({ id: published.at(-1)!.id, event: 'typed', data: '{"n":1}', json: true });
    expect(onA[0]).toEqual({ id: expect.stringMatching(STREAM_ID), event: undefined, data: expect.stringMatching(/^m\d+$/), json: false });
    // Nothing more arrives: each event was delivered once.
    await b.publish({ data: 'last', json: false });
    await waitFor(() => onA.length === 22 && onB.length === 22);
    expect(new Set(onA.map((event) => event.id)).size).toBe(onA.length);
    expect(new Set(onB.map((event) => event.id)).size).toBe(onB.length);
  });

  it('delivers an event published right after listen, before Redis even answered', async () => {
    const fresh = store();
    const received = collect(fresh);
    const published = await fresh.publish({ data: 'first', json: false });
    await waitFor(() => received.length === 1);
    expect(received[0]?.id).toBe(published.id);
  });

  it('delivers what other instances publish while its own reader is still connecting', async () => {
    const slowLink = await startLaggingProxy(redis.port, 300, 'always');
    try {
      const a = store();
      const slow = store({ stream: a.stream, url: slowLink.url, offlineTimeoutMs: 20_000 });
      const received = collect(slow);
      const sent: string[] = [];
      for (const text of ['one', 'two', 'three']) sent.push((await a.publish({ data: text, json: false })).id);
      await waitFor(() => received.length === 3);
      expect(received.map((event) => event.id)).toEqual(sent);
      await slow.close();
    } finally {
      await slowLink.close();
    }
  });

  it('does not deliver to a listener after it stopped, nor after close', async () => {
    const a = store();
    const kept: ChannelEvent[] = [];
    const dropped: ChannelEvent[] = [];
    a.listen((event) => kept.push(event));
    const stop = a.listen((event) => dropped.push(event));
    await a.publish({ data: 'both', json: false });
    await waitFor(() => kept.length === 1 && dropped.length === 1);
    stop();
    await a.publish({ data: 'one', json: false });
    await waitFor(() => kept.length === 2);
    expect(dropped).toHaveLength(1);
    await a.close();
    await a.close(); // idempotent
    const other = store({ stream: a.stream });
    const seenByOther = collect(other);
    await other.publish({ data: 'after close', json: false });
    await waitFor(() => seenByOther.some((event) => event.data === 'after close'));
    expect(kept.map((event) => event.data)).toEqual(['both', 'one']);
    await expect(a.publish({ data: 'x', json: false })).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_CLOSED' });
    expect(a.listen(() => {})).toBeTypeOf('function');
  });

  it('refuses app-given ids with a typed error: ids are the stream ids', async () => {
    const errors: unknown[] = [];
    const channel = createChannel({ store: store(), onError: (error) => errors.push(error) });
    await expect(channel.broadcast({ id: 'mine-1', data: 'x' })).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_REDIS_ID' });
    expect(errors).toHaveLength(1);
    // Broadcast filters are functions of one process: the core refuses them on a shared store.
    expect(() => channel.broadcast('x', { filter: () => true })).toThrow(expect.objectContaining({ code: 'ERR_SSE_FILTER_NOT_SHAREABLE' }));
    await channel.close();
  });

  it('skips entries it did not write (another writer on the same key), live and in replay', async () => {
    const a = store();
    const received = collect(a);
    const before = await a.publish({ data: 'before', json: false });
    await admin.xadd(a.stream, '*', 'foreign', 'field');
    await admin.xadd(a.stream, '*', 'd', 'injected', 'e', 'evil\ndata: x');
    const after = await a.publish({ data: 'after', json: false });
    await waitFor(() => received.some((event) => event.id === after.id));
    expect(received.map((event) => event.data)).toEqual(['before', 'after']);
    expect((await a.since(before.id))?.map((event) => event.data)).toEqual(['after']);
  });

  it('an 8 MB entry written by another instance (with a larger maxEventBytes) is neither delivered nor replayed here, and is reported', async () => {
    const writer = store();
    const big = createChannel({ store: writer, maxEventBytes: 16 << 20, onError: () => undefined });
    const reader = await startInstance({ url: redis.url, stream: writer.stream });
    try {
      const live = await openStream(`${reader.url}/events`);
      await live.replay();
      const first = await big.broadcast({ event: 'chat', data: { text: 'before' } });
      await big.broadcast({ event: 'chat', data: { text: 'x'.repeat(8 << 20) } });
      await big.broadcast({ event: 'chat', data: { text: 'after' } });
      await live.stream.until(() => live.texts().length === 2, 'the two small events');
      expect(live.texts()).toEqual(['before', 'after']);
      expect(live.stream.bytes).toBeLessThan(1024);
      expect(reader.channelErrors.map((error) => (error as SseError).code)).toEqual(['ERR_SSE_EVENT_TOO_LARGE']);
      // A client reconnecting from before the entry is not sent it either.
      const again = await openStream(`${reader.url}/events`, first);
      expect(await again.replay()).toEqual({ status: 'replayed', count: 1 });
      expect(again.texts()).toEqual(['after']);
      expect(again.stream.bytes).toBeLessThan(1024);
      expect(reader.channelErrors).toHaveLength(2);
      live.close();
      again.close();
    } finally {
      await reader.close();
      await big.close();
    }
  });

  it('keeps the stream bounded by maxLen (Redis trims in whole nodes)', async () => {
    const a = store({ maxLen: 10 });
    for (let i = 0; i < 400; i++) await a.publish({ data: String(i), json: false });
    const length = await admin.xlen(a.stream);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThanOrEqual(10 + 100);
  });
});

describe('createRedisStore: since (replay from Last-Event-ID)', () => {
  it('returns the events after an id, in order, from any instance', async () => {
    const a = store();
    const b = store({ stream: a.stream });
    const onB = collect(b);
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three', 'four']) ids.push((await a.publish({ event: 'chat', data: text, json: false })).id);
    // A replay stops at what this instance's reader delivered (the rest follows live): on a busy
    // machine b's reader may still be behind, so let it catch up first.
    await waitFor(() => onB.length === 4);
    const replay = await b.since(ids[1]!);
    expect(replay).toEqual([
      { id: ids[2], event: 'chat', data: 'three', json: false },
      { id: ids[3], event: 'chat', data: 'four', json: false },
    ]);
    expect(await b.since(ids[3]!)).toEqual([]);
  });

  it('returns null for malformed, foreign, future and trimmed ids', async () => {
    const other = store();
    const foreign = (await other.publish({ data: 'elsewhere', json: false })).id;
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later millisecond than the foreign id
    const a = store({ maxLen: 5 });
    collect(a);
    const first = (await a.publish({ data: 'first', json: false })).id;
    expect(await a.since(first)).toEqual([]);
    for (const bad of ['', 'garbage', '123', '1-2-3', '-1-0', '1-x', ' 1-0', '99999999999999999999999-0', '18446744073709551616-0']) {
      expect(await a.since(bad)).toBeNull();
    }
    expect(await a.since(foreign)).toBeNull();
    expect(await a.since(`${Date.now() + 60_000}-0`)).toBeNull();
    const [ms, seq] = first.split('-');
    expect(await a.since(`${ms}-${Number(seq) + 1000}`)).toBeNull(); // never issued, inside the range
    for (let i = 0; i < 300; i++) await a.publish({ data: String(i), json: false });
    expect(await a.since(first)).toBeNull(); // trimmed: the events after it may be gone
  });

  it('recent(count) lists the newest events oldest first, for a snapshot that replay then continues', async () => {
    const a = store();
    collect(a);
    expect(await a.recent(5)).toEqual([]);
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three', 'four']) ids.push((await a.publish({ event: 'chat', data: text, json: false })).id);
    await admin.xadd(a.stream, '*', 'not', 'ours');
    const snapshot = await a.recent(3);
    expect(snapshot.map((event) => event.data)).toEqual(['three', 'four']); // the foreign entry took a slot
    expect((await a.recent(100)).map((event) => event.id)).toEqual(ids);
    const five = await a.publish({ event: 'chat', data: 'five', json: false });
    expect(await a.since(snapshot.at(-1)!.id)).toEqual([five]);
    await expect(a.recent(0)).rejects.toMatchObject({ code: 'ERR_SSE_OPTION' });
  });

  it('returns null once an id is older than maxAgeMs', async () => {
    const a = store({ maxAgeMs: 200 });
    collect(a);
    const old = await a.publish({ data: 'old', json: false });
    const oldMs = Number(old.id.split('-')[0]);
    expect(await a.since(old.id)).toEqual([]);
    await waitFor(() => Date.now() > oldMs + 300);
    const fresh = await a.publish({ data: 'new', json: false });
    expect(await a.since(old.id)).toBeNull();
    expect(await a.recent(10)).toEqual([fresh]);
  });
});

describe('createRedisStore: options and faults', () => {
  it('rejects invalid options with ERR_SSE_OPTION', () => {
    const bad: unknown[] = [
      {},
      { stream: '' },
      { stream: 'x', url: '' },
      { stream: 'x', maxLen: 0 },
      { stream: 'x', maxLen: 1.5 },
      { stream: 'x', maxAgeMs: 0 },
      { stream: 'x', maxAgeMs: Number.NaN },
      { stream: 'x', offlineTimeoutMs: -1 },
      { stream: 'x', offlineTimeoutMs: Number.POSITIVE_INFINITY },
      { stream: 'x', commandTimeoutMs: 0 },
      { stream: 'x', commandTimeoutMs: Number.NaN },
      { stream: 'x', commandTimeoutMs: Number.POSITIVE_INFINITY },
      { stream: 'x', maxPendingPublishes: 0 },
      { stream: 'x', maxPendingPublishes: 2.5 },
    ];
    for (const options of bad) {
      expect(() => createRedisStore(options as RedisStoreOptions)).toThrow(expect.objectContaining({ name: 'SseError', code: 'ERR_SSE_OPTION' }));
    }
  });

  it('passes redisOptions to both connections', async () => {
    const a = store({ redisOptions: { connectionName: 'sse-redis-test' } });
    collect(a);
    await a.publish({ data: 'x', json: false });
    const clients = (await admin.client('LIST')) as string;
    expect(clients.match(/name=sse-redis-test /g)).toHaveLength(2);
    await a.close();
    await expect
      .poll(async () => ((await admin.client('LIST')) as string).includes('name=sse-redis-test '), { timeout: 10_000 })
      .toBe(false);
  });

  it('fails fast with SseRedisUnavailableError when Redis cannot be reached, and reports the outage', async () => {
    const statuses: RedisStoreStatus[] = [];
    const channelErrors: unknown[] = [];
    const unreachable = await startRedisServer();
    const url = unreachable.url;
    await unreachable.stop(); // a port where nothing listens
    const a = store({ url, offlineTimeoutMs: 100, onStatus: (status) => statuses.push(status) });
    const channel = createChannel({ store: a, onError: (error) => channelErrors.push(error) });
    const broadcast = channel.broadcast('lost');
    await expect(broadcast).rejects.toBeInstanceOf(SseRedisUnavailableError);
    await expect(broadcast).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_UNAVAILABLE', reason: 'offline' });
    expect(channelErrors[0]).toBeInstanceOf(SseRedisUnavailableError);
    await expect(Promise.resolve(a.since('1-0'))).rejects.toBeInstanceOf(SseError);
    await waitFor(() => statuses.length > 0);
    expect(statuses[0]).toEqual({ state: 'down', error: expect.objectContaining({ code: 'ECONNREFUSED' }) });
    expect(statuses.filter((status) => status.state === 'down')).toHaveLength(1); // once per outage, not per retry
    await channel.close();
  });

  it('after Redis restarts empty (no persistence): delivery resumes, old ids read as unknown, the default status log says so', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const volatile = await startRedisServer();
    try {
      const a = createRedisStore({ url: volatile.url, stream: 'volatile', offlineTimeoutMs: 200 });
      stores.push(a);
      const received = collect(a);
      const before = await a.publish({ data: 'before', json: false });
      await waitFor(() => received.length === 1);
      await volatile.kill();
      await waitFor(() => warn.mock.calls.length === 1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/stream "volatile": Redis is unavailable .*local streams stay open/);
      await expect(a.publish({ data: 'lost', json: false })).rejects.toBeInstanceOf(SseRedisUnavailableError);
      await volatile.restart();
      await waitFor(() => warn.mock.calls.length === 2);
      expect(String(warn.mock.calls[1]?.[0])).toMatch(/stream "volatile": Redis is back/);
      const after = await a.publish({ data: 'after', json: false });
      await waitFor(() => received.length === 2);
      expect(received.map((event) => event.data)).toEqual(['before', 'after']);
      expect(await a.since(before.id)).toBeNull();
      expect(await a.since(after.id)).toEqual([]);
    } finally {
      await volatile.stop();
    }
  });
});
