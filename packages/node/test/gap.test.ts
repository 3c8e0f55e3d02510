// The in-band gap signal over real sockets, as real clients see it: eventsource-parser (the
// @sse/conformance client, raw bytes) and the two Node EventSources (undici's and the
// `eventsource` package's), which reconnect with Last-Event-ID by themselves.
import { createServer } from 'node:http';
import { connectRawSocket, EventSourceClient, listen, openEventStream, type EventSourceKind, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createChannel,
  createMemoryStore,
  parseGap,
  sse,
  type ChannelEvent,
  type ChannelOptions,
  type ChannelStore,
  type EventStream,
  type GapListener,
  type SlowClientInfo,
} from '../src/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A node:http server whose streams all join `channel` (replaying from Last-Event-ID). */
async function serveChannel(
  options: ChannelOptions,
): Promise<{ url: string; streams: EventStream[]; leave: Array<() => void>; channel: ReturnType<typeof createChannel> }> {
  const channel = createChannel(options);
  const streams: EventStream[] = [];
  const leave: Array<() => void> = [];
  const server: MountedServer = await listen(
    createServer(
      sse(
        (stream) => {
          streams.push(stream);
          leave.push(channel.subscribe(stream));
        },
        { retry: 50, retryJitter: 0, keepAlive: false },
      ),
    ),
  );
  cleanups.push(() => server.close(), () => channel.close());
  return { url: server.url, streams, leave, channel };
}

const until = (condition: () => boolean): Promise<void> => vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });

describe('the gap event reaches eventsource-parser first, once', () => {
  it('for a Last-Event-ID the history no longer holds, before every live event', async () => {
    const { url, channel } = await serveChannel({ history: 2 });
    const trimmed = await channel.broadcast('old');
    await channel.broadcast('kept 1');
    await channel.broadcast('kept 2');
    const client = await openEventStream(url, { lastEventId: trimmed });
    cleanups.push(() => client.close());
    await until(() => channel.size === 1);
    await channel.broadcast('live 1');
    await channel.broadcast('live 2');
    await client.waitForEvents(3);
    expect(client.events.map((event) => event.event ?? event.data)).toEqual(['sse-gap', 'live 1', 'live 2']);
    expect(client.events[0]!.id).toBeUndefined();
    expect(parseGap(client.events[0]!.data)).toEqual({ reason: 'unknown-id', lastEventId: trimmed });
  });

  it('when the replay read fails', async () => {
    const memory = createMemoryStore();
    const broken: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => memory.listen(listener),
      since: () => Promise.reject(new Error('history down')),
    };
    const { url, channel } = await serveChannel({ store: broken, onError: () => {} });
    const client = await openEventStream(url, { lastEventId: 'x-1' });
    cleanups.push(() => client.close());
    await client.waitForEvents(1);
    await channel.broadcast('live');
    await client.waitForEvents(2);
    expect(client.events.map((event) => event.event ?? event.data)).toEqual(['sse-gap', 'live']);
    expect(parseGap(client.events[0]!.data)).toEqual({ reason: 'replay-failed', lastEventId: 'x-1' });
  });

  it('when the store reports that it lost events, to every connected client', async () => {
    const memory = createMemoryStore();
    const gapListeners: GapListener[] = [];
    const store: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener: (event: ChannelEvent) => void, onGap?: GapListener) => {
        if (onGap !== undefined) gapListeners.push(onGap);
        return memory.listen(listener);
      },
      since: (id) => memory.since(id),
    };
    const { url, channel } = await serveChannel({ store });
    const clients = await Promise.all([openEventStream(url), openEventStream(url)]);
    for (const client of clients) cleanups.push(() => client.close());
    await until(() => channel.size === 2);
    const before = await channel.broadcast('before');
    for (const listener of gapListeners) listener({ reason: 'trimmed', after: before, resumeFrom: undefined });
    await channel.broadcast('after');
    for (const client of clients) {
      await client.waitForEvents(3);
      expect(client.events.map((event) => event.event ?? event.data)).toEqual(['before', 'sse-gap', 'after']);
      expect(parseGap(client.events[1]!.data)).toEqual({ reason: 'trimmed', lastEventId: before });
    }
  });

  it("when a slow client's oldest events were dropped (slowClient: 'drop-oldest'): in their place, once", async () => {
    const reports: SlowClientInfo[] = [];
    let stream: EventStream | undefined;
    const server = await listen(
      createServer(
        sse(
          (opened) => {
            stream = opened;
          },
          { keepAlive: false, slowClient: 'drop-oldest', maxBufferedBytes: 64 * 1024, onSlowClient: (info) => reports.push(info) },
        ),
      ),
    );
    cleanups.push(() => server.close());
    const client = await connectRawSocket(server.url, { pauseAfterHead: true });
    cleanups.push(() => client.close());
    await until(() => stream !== undefined);
    // Written until the kernel buffers are full and the stream's own queue has dropped events.
    let n = 0;
    const payload = 'x'.repeat(1000);
    while (reports.length === 0 || stream!.bufferedBytes < 32 * 1024) stream!.send({ id: String(n++), data: payload });
    for (let more = 0; more < 200; more++) stream!.send({ id: String(n++), data: payload });
    const last = String(n - 1);
    client.resume();
    await client.until(() => client.events.at(-1)?.id === last, `event ${last}`);
    const gaps = client.events.flatMap((event, index) => (event.event === 'sse-gap' ? [index] : []));
    expect(gaps).toHaveLength(1);
    expect(parseGap(client.events[gaps[0]!]!.data)).toEqual({ reason: 'dropped' });
    // Before the gap: the events from the start, in order; after it: the newest, in order.
    const ids = client.events.map((event) => (event.event === 'sse-gap' ? -1 : Number(event.id)));
    const head = ids.slice(0, gaps[0]);
    const tail = ids.slice(gaps[0]! + 1);
    expect(head).toEqual(head.map((_, i) => i));
    expect(tail).toEqual(tail.map((_, i) => n - tail.length + i));
    expect(head.length + tail.length).toBeLessThan(n); // events really were dropped
    console.log(`[measure] drop-oldest: ${n} sent, ${n - head.length - tail.length} dropped, 1 gap event in their place`);
  });
});

describe.each<EventSourceKind>(['undici', 'eventsource'])('the gap event reaches a %s EventSource', (kind) => {
  it('that reconnects with an id the history trimmed meanwhile: the gap first, once per connection, without moving its last id, then live events', async () => {
    const { url, channel, streams, leave } = await serveChannel({ history: 2 });
    const source = new EventSourceClient(kind, url, ['sse-gap']);
    cleanups.push(() => source.close());
    await source.until(() => source.opens === 1, 'open');
    await until(() => channel.size === 1);
    const seen = await channel.broadcast('seen');
    await source.waitForMessages(1);
    // The history moves on without this client (it left the channel), then its stream ends.
    leave[0]!();
    for (let n = 0; n < 3; n++) await channel.broadcast(`missed ${n}`);
    streams[0]!.close();
    await source.until(() => source.messages.some((message) => message.type === 'sse-gap'), 'the gap event');
    const gap = source.messages.find((message) => message.type === 'sse-gap')!;
    expect(parseGap(gap.data)).toEqual({ reason: 'unknown-id', lastEventId: seen });
    // The gap has no id line, so the client's last id did not move: its next reconnect sends the same one.
    streams[1]!.close();
    await until(() => streams.length === 3 && channel.size === 1);
    expect(streams[2]!.lastEventId).toBe(seen);
    const live = await channel.broadcast('live');
    await source.until(() => source.messages.some((message) => message.data === 'live'), 'the live event');
    expect(source.messages.map((message) => (message.type === 'sse-gap' ? 'sse-gap' : message.data))).toEqual(['seen', 'sse-gap', 'sse-gap', 'live']);
    expect(source.messages.at(-1)!.lastEventId).toBe(live);
    expect(source.readyState).toBe(1);
  });
});
