// The store's gaps as an HTTP client of the channel sees them: app instances (node:http,
// @sse/node, a channel over @sse/redis) on a real redis-server, and the repository's SSE client
// reading each instance's stream. The store-level view of the same faults is in faults.test.ts.
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGap } from '@sse/core';
import { startRedisServer } from '../src/testing.js';
import { openStream, startInstance, startPausableProxy, waitFor, type StreamClient } from './support.js';

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function redisServer(): Promise<{ url: string; port: number; admin: Redis }> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  cleanups.push(() => server.stop(), () => admin.disconnect());
  return { url: server.url, port: server.port, admin };
}

/** What the client received, in order: chat texts, `gap:<reason>`, and other events by name. */
function timeline(client: StreamClient): string[] {
  return client.stream.events.flatMap((event) => {
    if (event.event === 'replay') return [];
    if (event.event === 'chat') return [(JSON.parse(event.data) as { text: string }).text];
    if (event.event === 'sse-gap') return [`gap:${parseGap(event.data)?.reason ?? '?'}`];
    return [event.event ?? `message:${event.data}`];
  });
}

describe('@sse/redis gaps reach the clients of a channel, in band', () => {
  it('a reader that fell behind the trimmed history: its clients get one trimmed gap, before the first event after the jump', async () => {
    const redis = await redisServer();
    const stream = 'gap-trimmed';
    const proxy = await startPausableProxy(redis.port);
    cleanups.push(() => proxy.close());
    const publisher = await startInstance({ url: redis.url, stream, maxLen: 100 });
    const stalled = await startInstance({ url: proxy.url, stream, maxLen: 100 });
    cleanups.push(() => publisher.close(), () => stalled.close());
    const client = await openStream(`${stalled.url}/events`);
    cleanups.push(() => client.close());
    await client.replay();

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await publisher.channel.broadcast({ event: 'chat', data: { text: String(i) } }));
    await waitFor(() => client.texts().length === 5);
    proxy.pause(); // the stalled instance's connections stay up; it reads nothing more
    for (let i = 5; i < 1005; i++) ids.push(await publisher.channel.broadcast({ event: 'chat', data: { text: String(i) } }));
    const kept = (await redis.admin.xrange(stream, '-', '+')).map(([id]) => id);
    proxy.resume();
    await waitFor(() => client.texts().at(-1) === '1004');

    const seen = timeline(client);
    const gapAt = seen.indexOf('gap:trimmed');
    expect(seen.filter((entry) => entry.startsWith('gap:'))).toEqual(['gap:trimmed']);
    const before = seen.slice(0, gapAt);
    const after = seen.slice(gapAt + 1);
    // Before the gap, the start of the stream (the answer already on its way when the proxy paused
    // may add one); after it, exactly what Redis kept, in order; nothing silently skipped.
    expect(before).toEqual(before.map((_, i) => String(i)));
    expect(after).toEqual(kept.map((id) => String(ids.indexOf(id))));
    expect(before.length + after.length).toBeLessThan(ids.length);
    const gap = client.stream.events.find((event) => event.event === 'sse-gap')!;
    expect(gap.id).toBeUndefined();
    expect(parseGap(gap.data)).toEqual({ reason: 'trimmed', lastEventId: ids[before.length - 1] });
    console.log(`[measure] HTTP client of a stalled instance: ${ids.length} published, ${ids.length - before.length - after.length} missed, 1 gap event, 0 silent`);
  });

  it('a stream reset (a far-future id, then DEL): every instance tells its clients once, then delivery goes on', async () => {
    const redis = await redisServer();
    const stream = 'gap-reset';
    const a = await startInstance({ url: redis.url, stream });
    const b = await startInstance({ url: redis.url, stream });
    cleanups.push(() => a.close(), () => b.close());
    const clients = await Promise.all([openStream(`${a.url}/events`), openStream(`${b.url}/events`)]);
    for (const client of clients) cleanups.push(() => client.close());
    await Promise.all(clients.map((client) => client.replay()));

    const one = await a.channel.broadcast({ event: 'chat', data: { text: 'one' } });
    await waitFor(() => clients.every((client) => client.texts().length === 1));
    await redis.admin.xadd(stream, '9999999999999-0', 'd', 'future');
    const two = await a.channel.broadcast({ event: 'chat', data: { text: 'two' } });
    await waitFor(() => clients.every((client) => client.texts().length === 2));
    await redis.admin.del(stream);
    const three = await a.channel.broadcast({ event: 'chat', data: { text: 'three' } });
    await waitFor(() => clients.every((client) => client.texts().length === 3), 20_000);
    await b.channel.broadcast({ event: 'chat', data: { text: 'four' } });
    await waitFor(() => clients.every((client) => client.texts().length === 4));

    for (const client of clients) {
      expect(timeline(client)).toEqual(['one', 'message:future', 'two', 'gap:reset', 'three', 'four']);
      const gap = client.stream.events.find((event) => event.event === 'sse-gap')!;
      expect(parseGap(gap.data)).toEqual({ reason: 'reset', lastEventId: two });
    }
    expect(one < two && three < two).toBe(true);
    // A client that comes back with an id from before the reset is told in band too.
    const late = await openStream(`${b.url}/events`, two);
    cleanups.push(() => late.close());
    expect(await late.replay()).toEqual({ status: 'unknown' });
    expect(late.stream.events[0]?.event).toBe('sse-gap');
    expect(parseGap(late.stream.events[0]!.data)).toEqual({ reason: 'unknown-id', lastEventId: two });
  });
});
