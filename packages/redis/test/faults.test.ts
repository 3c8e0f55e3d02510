import { createChannel, createFetchHandler, type ChannelEvent, type ReplayResult } from '@sse/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, SseRedisUnavailableError, type RedisStore, type RedisStoreOptions, type RedisStoreStatus, type StoreGap } from '../src/index.js';
import { startRedisServer, type RedisServer } from '../src/testing.js';
import { startLaggingProxy, startPausableProxy, waitFor } from './support.js';

// Redis under faults, at the store level: each test starts its own redis-server (freezing or
// restarting one must not touch the others' data), runs two or three store instances on it as
// separate app instances would, and counts what each one delivered. Times to detect each fault
// are printed (`[measure]`), never asserted: the machine is shared.

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisServer(): Promise<{ server: RedisServer; admin: Redis }> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  cleanups.push(() => server.stop(), () => admin.disconnect());
  return { server, admin };
}

interface Watched {
  store: RedisStore;
  statuses: RedisStoreStatus[];
  /** Events and gaps in the order this instance's listener was told of them. */
  log: ({ event: ChannelEvent } | { gap: StoreGap })[];
  events(): ChannelEvent[];
  gaps(): StoreGap[];
  data(): string[];
}

/** A store instance that listens (unless `listen: false`) and records everything it is told. */
function instance(options: Partial<RedisStoreOptions> & { url: string; stream: string }, listen = true): Watched {
  const statuses: RedisStoreStatus[] = [];
  const store = createRedisStore({ ...options, onStatus: (status) => statuses.push(status) });
  cleanups.push(() => store.close());
  const log: Watched['log'] = [];
  if (listen) store.listen((event) => log.push({ event }), (gap) => log.push({ gap }));
  const events = (): ChannelEvent[] => log.flatMap((entry) => ('event' in entry ? [entry.event] : []));
  return {
    store,
    statuses,
    log,
    events,
    gaps: () => log.flatMap((entry) => ('gap' in entry ? [entry.gap] : [])),
    data: () => events().map((event) => event.data),
  };
}

const isUp = (statuses: readonly RedisStoreStatus[]): boolean => statuses.at(-1)?.state === 'up';
const downs = (statuses: readonly RedisStoreStatus[]): RedisStoreStatus[] => statuses.filter((status) => status.state === 'down');

function measure(what: string, ms: number): void {
  console.log(`[measure] ${what}: ${Math.round(ms)} ms`);
}

/** Statuses seen from `from` on: resolves with the time the first `state` arrived. */
function whenStatus(watched: Watched, state: RedisStoreStatus['state'], from: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + 20_000;
    const poll = (): void => {
      if (watched.statuses.slice(from).some((status) => status.state === state)) resolve(performance.now());
      else if (performance.now() > deadline) reject(new Error(`no "${state}" status; saw ${JSON.stringify(watched.statuses.map((s) => s.state))}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('@sse/redis when Redis freezes (SIGSTOP, connections up)', () => {
  it('fails broadcasts and replays within the command timeout, delivers none of them late, reports the stall, and flows again after SIGCONT', async () => {
    const { server, admin } = await redisServer();
    const stream = 'frozen';
    const commandTimeoutMs = 1000;
    const a = instance({ url: server.url, stream, commandTimeoutMs }); // broadcasts
    const b = instance({ url: server.url, stream, commandTimeoutMs }); // only listens
    // A third instance serves a reconnecting client through @sse/core's channel (no sockets: the
    // Fetch handler is called directly).
    const c = instance({ url: server.url, stream, commandTimeoutMs }, false);
    const channel = createChannel({ store: c.store, onError: () => {} });
    const replays: ReplayResult[] = [];
    const handler = createFetchHandler((events) => {
      channel.subscribe(events, { onReplay: (result) => replays.push(result) });
    });
    const before = await a.store.publish({ data: 'before', json: false });
    await waitFor(() => a.data().length === 1 && b.data().length === 1 && isUp(a.statuses) && isUp(b.statuses));
    await waitFor(() => isUp(c.statuses));

    const statusMarks = [a.statuses.length, b.statuses.length, c.statuses.length];
    await server.pause();
    const frozenAt = performance.now();
    const aDown = whenStatus(a, 'down', statusMarks[0]!);
    const bDown = whenStatus(b, 'down', statusMarks[1]!);

    // A first wave is sent to the frozen Redis and times out; the next ones are refused at once,
    // since Redis has not answered the first wave yet.
    const attempted: Promise<ChannelEvent>[] = [];
    for (let i = 0; i < 20; i++) attempted.push(a.store.publish({ data: `frozen-${i}`, json: false }));
    const firstWave = await Promise.allSettled(attempted);
    const firstRejectedAt = performance.now();
    for (let i = 20; i < 40; i++) attempted.push(a.store.publish({ data: `frozen-${i}`, json: false }));
    const outcomes = await Promise.allSettled(attempted);
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(rejected).toHaveLength(40);
    for (const outcome of rejected) {
      expect(outcome.reason).toBeInstanceOf(SseRedisUnavailableError);
      expect((outcome.reason as SseRedisUnavailableError).reason).toBe('timeout');
    }
    expect(firstWave.every((outcome) => outcome.status === 'rejected')).toBe(true);
    // Replays fail too: on the stalled instance at once, elsewhere within the timeout, and a
    // reconnecting client's replay through the channel reports `error` instead of hanging.
    await expect(Promise.resolve(a.store.since(before.id))).rejects.toMatchObject({ reason: 'timeout' });
    const replayAskedAt = performance.now();
    const response = await handler(new Request('http://localhost/events', { headers: { accept: 'text/event-stream', 'last-event-id': before.id } }));
    await waitFor(() => replays.length === 1);
    const replayFailedAt = performance.now();
    expect(replays[0]).toMatchObject({ status: 'error', lastEventId: before.id, error: expect.any(SseRedisUnavailableError) });
    await response.body?.cancel();

    // The stall is reported by the broadcasting instance and by the one that only reads.
    const aDownAt = await aDown;
    const bDownAt = await bDown;
    expect(downs(a.statuses.slice(statusMarks[0]))[0]).toEqual({ state: 'down', error: expect.objectContaining({ code: 'ERR_SSE_REDIS_UNAVAILABLE', reason: 'timeout' }) });
    expect(downs(b.statuses.slice(statusMarks[1]))[0]).toEqual({ state: 'down', error: expect.objectContaining({ reason: 'timeout' }) });

    const upMarks = [a.statuses.length, b.statuses.length, c.statuses.length];
    await server.resume();
    const thawedAt = performance.now();
    const [aUpAt, bUpAt] = await Promise.all([whenStatus(a, 'up', upMarks[0]!), whenStatus(b, 'up', upMarks[1]!), whenStatus(c, 'up', upMarks[2]!)]);

    // Broadcasts flow again; the ones that failed during the freeze never arrive: the stream
    // holds none of them, and `after` is the next event every instance delivers.
    const after: string[] = [];
    for (let i = 0; i < 10; i++) after.push((await a.store.publish({ data: `after-${i}`, json: false })).id);
    await waitFor(() => a.data().length === 11 && b.data().length === 11);
    const expected = ['before', ...after.map((_, i) => `after-${i}`)];
    expect(a.data()).toEqual(expected);
    expect(b.data()).toEqual(expected);
    const kept = await admin.xrange(stream, '-', '+');
    expect(kept.filter(([, fields]) => fields[1]?.startsWith('frozen-'))).toEqual([]);
    expect(a.gaps()).toEqual([]);
    expect(b.gaps()).toEqual([]);
    const late = [...a.data(), ...b.data()].filter((data) => data.startsWith('frozen-')).length;
    console.log(`[measure] freeze: ${attempted.length} broadcasts attempted, ${rejected.length} rejected, ${late} delivered late`);
    measure('freeze -> first broadcasts rejected (commandTimeoutMs 1000)', firstRejectedAt - frozenAt);
    measure('freeze -> broadcasting instance reports down', aDownAt - frozenAt);
    measure('freeze -> listening-only instance reports down (XREAD block 5000 + 1000)', bDownAt - frozenAt);
    measure('replay asked during the freeze -> the channel reports error', replayFailedAt - replayAskedAt);
    measure('SIGCONT -> up (broadcasting / listening instance)', Math.max(aUpAt, bUpAt) - thawedAt);
    await channel.close();
  });

  it('bounds the broadcasts waiting for Redis (maxPendingPublishes): past it, publish rejects at once, until Redis has answered', async () => {
    const { server } = await redisServer();
    const a = instance({ url: server.url, stream: 'bounded', commandTimeoutMs: 1000, maxPendingPublishes: 5 }, false);
    const closing = instance({ url: server.url, stream: 'bounded' });
    await a.store.publish({ data: 'warm-up', json: false }); // connected, Redis's clock measured
    await waitFor(() => isUp(closing.statuses));
    await server.pause();
    await closing.store.close(); // does not wait for the frozen Redis to answer QUIT
    let firstFiveSettled = 0;
    const firstFive = Array.from({ length: 5 }, (_, i) =>
      a.store.publish({ data: `pending-${i}`, json: false }).finally(() => firstFiveSettled++),
    );
    const overflow = Array.from({ length: 3 }, (_, i) => a.store.publish({ data: `overflow-${i}`, json: false }));
    for (const attempt of overflow) {
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_UNAVAILABLE', reason: 'overloaded' });
    }
    // Refused before any of the five in flight had its answer or its timeout.
    expect(firstFiveSettled).toBe(0);
    for (const attempt of firstFive) await expect(attempt).rejects.toMatchObject({ reason: 'timeout' });
    // Timed out, but still unanswered in the connection: still counted.
    await expect(a.store.publish({ data: 'still-full', json: false })).rejects.toMatchObject({ reason: 'overloaded' });
    await server.resume();
    await waitFor(() => isUp(a.statuses));
    const ok = await Promise.all(Array.from({ length: 5 }, (_, i) => a.store.publish({ data: `ok-${i}`, json: false })));
    expect(ok).toHaveLength(5);
    expect((await a.store.recent(100)).map((event) => event.data)).toEqual(['warm-up', 'ok-0', 'ok-1', 'ok-2', 'ok-3', 'ok-4']);
  });
});

describe('@sse/redis when a reader falls behind the trimmed history', () => {
  it('tells its listeners of the gap once, before the jump, then delivers everything Redis still has, in order, no duplicate', async () => {
    const { server, admin } = await redisServer();
    const stream = 'trimmed';
    const proxy = await startPausableProxy(server.port);
    cleanups.push(() => proxy.close());
    const a = instance({ url: server.url, stream, maxLen: 100 });
    const stalled = instance({ url: proxy.url, stream, maxLen: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.store.publish({ data: String(i), json: false })).id);
    await waitFor(() => stalled.events().length === 5 && a.events().length === 5);

    proxy.pause(); // the stalled instance's connections stay up; it reads nothing more
    for (let i = 5; i < 1005; i++) ids.push((await a.store.publish({ data: String(i), json: false })).id);
    const kept = (await admin.xrange(stream, '-', '+')).map(([id]) => id);
    const pausedAt = performance.now();
    proxy.resume();
    await waitFor(() => stalled.events().at(-1)?.id === ids.at(-1));
    const detectedAt = performance.now();

    const log = stalled.log;
    const gapAt = log.findIndex((entry) => 'gap' in entry);
    expect(stalled.gaps()).toHaveLength(1);
    const before = log.slice(0, gapAt).map((entry) => ('event' in entry ? entry.event.id : 'gap'));
    const afterGap = log.slice(gapAt + 1).map((entry) => ('event' in entry ? entry.event.id : 'gap'));
    // Before the gap: the start of the stream, contiguous (the answer already on its way when the
    // proxy paused may add one). After it: exactly what Redis kept, in order.
    expect(before).toEqual(ids.slice(0, before.length));
    expect(before.length).toBeGreaterThanOrEqual(5);
    expect(afterGap).toEqual(kept);
    expect(kept.length).toBeGreaterThanOrEqual(100);
    expect(kept.length).toBeLessThan(1000 - before.length); // something really was trimmed
    expect(stalled.gaps()[0]).toEqual({ reason: 'trimmed', after: before.at(-1), resumeFrom: kept[0] });
    // The instance that kept up saw everything and no gap.
    await waitFor(() => a.events().length === ids.length);
    expect(a.events().map((event) => event.id)).toEqual(ids);
    expect(a.gaps()).toEqual([]);
    console.log(`[measure] trimmed: ${ids.length} published, ${ids.length - before.length - kept.length} missed, 1 gap reported`);
    measure('reader resumes -> gap reported and caught up', detectedAt - pausedAt);
  });
});

describe('@sse/redis when a reader lags behind Redis the whole time', () => {
  it('announces every jump with a gap naming both ends, and never skips ahead silently', async () => {
    // The setup: every answer to the reader arrives 200 ms late while another instance
    // broadcasts 1,000 events with maxLen 100. How many jumps happen depends on the machine's
    // speed (the paused-reader test above is the deterministic one); that each is announced does not.
    const { server } = await redisServer();
    const stream = 'lagging';
    const lag = await startLaggingProxy(server.port, 200);
    cleanups.push(() => lag.close());
    const a = instance({ url: server.url, stream, maxLen: 100 }, false);
    const slow = instance({ url: lag.url, stream, maxLen: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.store.publish({ data: String(i), json: false })).id);
    await waitFor(() => slow.events().length === 5);
    for (let i = 5; i < 1005; i++) ids.push((await a.store.publish({ data: String(i), json: false })).id);
    await waitFor(() => slow.events().at(-1)?.id === ids.at(-1));
    const unannounced: string[] = [];
    let previous = -1;
    let announced: StoreGap | undefined;
    for (const entry of slow.log) {
      if ('gap' in entry) {
        if (announced !== undefined) unannounced.push(`two gaps in a row after ${ids[previous]}`);
        announced = entry.gap;
        continue;
      }
      const index = ids.indexOf(entry.event.id);
      const jumped = index !== previous + 1;
      const matches = announced !== undefined && announced.reason === 'trimmed' && announced.after === ids[previous] && announced.resumeFrom === entry.event.id;
      if (jumped && !matches) unannounced.push(`${ids[previous]} -> ${entry.event.id} (gap: ${JSON.stringify(announced)})`);
      if (!jumped && announced !== undefined) unannounced.push(`a gap before ${entry.event.id}, which followed on`);
      announced = undefined;
      previous = index;
    }
    expect(unannounced).toEqual([]);
    const delivered = slow.events().length;
    console.log(`[measure] lagging reader: ${ids.length} published, ${delivered} delivered, ${ids.length - delivered} missed, ${slow.gaps().length} gaps reported, 0 silent`);
  });
});

describe('@sse/redis when the stream is reset or rewound', () => {
  it('recovers from a far-future id followed by DEL: one reset gap on every instance, then delivery and publishing go on', async () => {
    const { admin, server } = await redisServer();
    const stream = 'rewound';
    const a = instance({ url: server.url, stream });
    const b = instance({ url: server.url, stream });
    const one = await a.store.publish({ data: 'one', json: false });
    await waitFor(() => a.events().length === 1 && b.events().length === 1);
    // Anything with write access can do this: every id after it must be larger.
    const future = await admin.xadd(stream, '9999999999999-0', 'd', 'future');
    const two = await a.store.publish({ data: 'two', json: false });
    expect(two.id).toBe('9999999999999-1');
    await waitFor(() => a.events().length === 3 && b.events().length === 3);
    await admin.del(stream);
    const deletedAt = performance.now();
    // Publishing keeps working, with ids below what the readers last read.
    const three = await a.store.publish({ data: 'three', json: false });
    expect(three.id < '9999999999999').toBe(true);
    await waitFor(() => a.events().length === 4 && b.events().length === 4);
    const recoveredAt = performance.now();
    const four = await b.store.publish({ data: 'four', json: false });
    await waitFor(() => a.events().length === 5 && b.events().length === 5);
    for (const watched of [a, b]) {
      expect(watched.log).toEqual([
        { event: expect.objectContaining({ id: one.id, data: 'one' }) },
        { event: expect.objectContaining({ id: future, data: 'future' }) },
        { event: expect.objectContaining({ id: two.id, data: 'two' }) },
        { gap: { reason: 'reset', after: two.id, resumeFrom: three.id } },
        { event: expect.objectContaining({ id: three.id, data: 'three' }) },
        { event: expect.objectContaining({ id: four.id, data: 'four' }) },
      ]);
    }
    // A client holding an id from before the reset is told its id is unknown.
    expect(await a.store.since(two.id)).toBeNull();
    expect(await a.store.since(three.id)).toEqual([expect.objectContaining({ id: four.id })]);
    measure('DEL of a stream with a far-future id -> readers recovered (one XREAD block, 5000)', recoveredAt - deletedAt);
  });

  it('says clearly when the stream has used up its ids, and recovers once the key is deleted', async () => {
    const { admin, server } = await redisServer();
    const stream = 'exhausted';
    const a = instance({ url: server.url, stream });
    await a.store.publish({ data: 'one', json: false });
    await waitFor(() => a.events().length === 1);
    const max = '18446744073709551615-18446744073709551615';
    await admin.xadd(stream, max, 'd', 'last possible');
    await waitFor(() => a.events().length === 2);
    await expect(a.store.publish({ data: 'refused', json: false })).rejects.toMatchObject({
      code: 'ERR_SSE_REDIS',
      message: expect.stringMatching(/exhausted the last possible ID/),
    });
    await admin.del(stream);
    const next = await a.store.publish({ data: 'next', json: false });
    await waitFor(() => a.events().length === 3);
    expect(a.log.at(-2)).toEqual({ gap: { reason: 'reset', after: max, resumeFrom: next.id } });
    expect(a.data()).toEqual(['one', 'last possible', 'next']);
  });

  it('after Redis restarts empty (no persistence) while instances run: one reset gap each, then delivery resumes', async () => {
    const { server } = await redisServer();
    const stream = 'restarted';
    const a = instance({ url: server.url, stream, offlineTimeoutMs: 200 });
    const b = instance({ url: server.url, stream });
    const kept = await a.store.publish({ data: 'before', json: false });
    await waitFor(() => a.events().length === 1 && b.events().length === 1);
    await server.kill();
    await waitFor(() => downs(a.statuses).length === 1 && downs(b.statuses).length === 1);
    await server.restart();
    const restartedAt = performance.now();
    // Both gaps are reported even if nothing is broadcast: the history they could replay is gone.
    await waitFor(() => a.gaps().length === 1 && b.gaps().length === 1);
    const detectedAt = performance.now();
    await waitFor(() => isUp(a.statuses));
    const after = await a.store.publish({ data: 'after', json: false });
    await waitFor(() => a.events().length === 2 && b.events().length === 2);
    for (const watched of [a, b]) {
      expect(watched.log).toEqual([
        { event: expect.objectContaining({ id: kept.id }) },
        { gap: { reason: 'reset', after: kept.id, resumeFrom: undefined } },
        { event: expect.objectContaining({ id: after.id }) },
      ]);
    }
    expect(await a.store.since(kept.id)).toBeNull();
    measure('Redis restarted empty -> reset gap reported (reconnect + XINFO)', detectedAt - restartedAt);
  });

  it('reports a reset when Redis restarted empty and a broadcast arrived before the reader looked', async () => {
    const { server, admin } = await redisServer();
    const stream = 'recreated';
    const proxy = await startPausableProxy(server.port);
    cleanups.push(() => proxy.close());
    const a = instance({ url: server.url, stream });
    const b = instance({ url: proxy.url, stream }); // its reader will not look until resumed
    const first = await a.store.publish({ data: 'first', json: false });
    await waitFor(() => b.events().length === 1);
    proxy.pause();
    // The key is recreated by a broadcast with a later id: the reader would read on without
    // noticing that the history in between is gone.
    await admin.del(stream);
    const second = await a.store.publish({ data: 'second', json: false });
    proxy.resume();
    await waitFor(() => b.events().length === 2);
    expect(b.log).toEqual([
      { event: expect.objectContaining({ id: first.id }) },
      { gap: { reason: 'reset', after: first.id, resumeFrom: second.id } },
      { event: expect.objectContaining({ id: second.id }) },
    ]);
  });
});
