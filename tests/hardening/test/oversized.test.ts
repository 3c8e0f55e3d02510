import { createChannel, createMemoryStore, createStreamRegistry, type ChannelEvent, type ChannelStore, type EventStream } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { record } from './figures.js';
import { adapters } from './servers.js';

// An event larger than the byte bound, written into the shared store by anything with write
// access (another instance, a raw XADD), must not be delivered whole to every client.

const MIB = 1 << 20;
const CLIENTS = 10;

/** A shared store whose `inject` plays an entry that another writer put into it, with no size check of ours. */
function sharedStore(): ChannelStore & { inject(event: ChannelEvent): void; published: number } {
  const inner = createMemoryStore({ limit: 100 });
  const listeners = new Set<(event: ChannelEvent) => void>();
  const store = {
    shared: true,
    published: 0,
    publish(input: Parameters<ChannelStore['publish']>[0]) {
      store.published++;
      return inner.publish(input);
    },
    listen(listener: (event: ChannelEvent) => void) {
      listeners.add(listener);
      const off = inner.listen(listener);
      return () => {
        listeners.delete(listener);
        off();
      };
    },
    since: (id: string) => inner.since(id),
    inject(event: ChannelEvent) {
      for (const listener of listeners) listener(event);
    },
  };
  return store;
}

async function eventually(condition: () => boolean, what: string, seen: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 4_000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`);
}

describe.each(Object.entries(adapters))('oversized events on %s', (name, mount) => {
  it('an 8 MB entry from the store reaches no client and is reported; the clients stay connected and get the next event', async () => {
    const store = sharedStore();
    const errors: unknown[] = [];
    const channel = createChannel({ store, onError: (error) => errors.push(error) });
    const registry = createStreamRegistry();
    const server = await mount((stream) => void channel.subscribe(stream), { registry, keepAlive: false });
    const clients: EventStreamClient[] = [];
    try {
      clients.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => requestEventStream(server.url)))));
      await eventually(() => channel.size === CLIENTS, 'every client to subscribe', () => channel.size);
      store.inject({ id: 'raw-xadd-1', data: 'x'.repeat(8 * MIB), json: false });
      store.inject({ id: 'after', data: 'small', json: false });
      // Each client is told in band that it missed the entry (a too-large gap naming it), then gets the next event.
      for (const client of clients) await client.waitForEvents(2);
      const delivered = clients.reduce((sum, client) => sum + client.bytes, 0);
      expect(clients.map((client) => client.events.map((e) => [e.event, e.id ?? JSON.parse(e.data).reason]))).toEqual(
        clients.map(() => [
          ['sse-gap', 'too-large'],
          [undefined, 'after'],
        ]),
      );
      expect(delivered).toBeLessThan(CLIENTS * 1024);
      expect(errors.map((error) => (error as { code?: unknown }).code)).toEqual(['ERR_SSE_EVENT_TOO_LARGE']);
      expect([registry.size, channel.size]).toEqual([CLIENTS, CLIENTS]);
      record(`oversized foreign ${name}`, { clients: CLIENTS, entryBytes: 8 * MIB, bytesDelivered: delivered, reported: errors.length, stillConnected: registry.size });
    } finally {
      for (const client of clients) client.close();
      await server.close();
      await channel.close();
    }
  });

  it('broadcast() refuses an 8 MB event before publishing; stream.send() throws and writes nothing', async () => {
    const store = sharedStore();
    const errors: unknown[] = [];
    const channel = createChannel({ store, onError: (error) => errors.push(error) });
    const sendErrors: unknown[] = [];
    const server = await mount(
      (stream) => {
        try {
          stream.send('y'.repeat(8 * MIB));
        } catch (error) {
          sendErrors.push(error);
        }
        stream.send('after');
      },
      { keepAlive: false },
    );
    try {
      await expect(channel.broadcast('x'.repeat(8 * MIB))).rejects.toMatchObject({ code: 'ERR_SSE_EVENT_TOO_LARGE' });
      expect(store.published).toBe(0);
      expect(errors).toHaveLength(1);
      const client = await requestEventStream(server.url);
      expect((await client.waitForEvents(1)).map((e) => e.data)).toEqual(['after']);
      expect(client.bytes).toBeLessThan(1024);
      expect(sendErrors.map((error) => (error as { code?: unknown }).code)).toEqual(['ERR_SSE_EVENT_TOO_LARGE']);
      client.close();
    } finally {
      await server.close();
      await channel.close();
    }
  });

  it('a frame larger than a stream’s maxBufferedBytes is not written into its idle connection', async () => {
    const channel = createChannel({ onError: () => undefined });
    const streams: EventStream[] = [];
    const server = await mount(
      (stream) => {
        streams.push(stream);
        channel.subscribe(stream);
      },
      { keepAlive: false, maxBufferedBytes: 64 * 1024 },
    );
    try {
      const client = await requestEventStream(server.url);
      await eventually(() => channel.size === 1, 'the client to subscribe', () => channel.size);
      await channel.broadcast('z'.repeat(200 * 1024));
      await channel.broadcast('fits');
      const events = await client.waitForEvents(2);
      expect(events.map((e) => e.event)).toEqual(['sse-gap', undefined]);
      expect(JSON.parse(events[0]!.data)).toMatchObject({ reason: 'too-large' });
      expect(events[1]!.data).toBe('fits');
      expect(client.bytes).toBeLessThan(1024);
      expect(streams[0]!.isClosed).toBe(false);
      client.close();
    } finally {
      await server.close();
      await channel.close();
    }
  });
});
