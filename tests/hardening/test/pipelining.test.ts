import type { Socket } from 'node:net';
import { createStreamRegistry, type EventStream } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { rawExchange, requestEventStream, type EventStreamClient } from '@sse/conformance';
import { adapters } from './servers.js';

// HTTP/1.1 pipelining: requests a client sends behind an unfinished response are parsed and handed
// to the app at once, but their responses only get the socket when the one before finished. Behind
// an event stream that may be never, and if the socket dies such a response never emits 'close'.

/** How many event-stream requests may wait behind the current response (packages/node/src/pipelining.ts). */
const WAITING_LIMIT = 4;

function pipelined(pathname: string, count: number): string {
  return `GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`.repeat(count);
}

/** Waits (bounded) until `condition` holds; fails with what was seen. */
async function eventually(condition: () => boolean, what: string, seen: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`);
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

describe.each(Object.entries(adapters))('HTTP/1.1 pipelining on %s', (_name, mount) => {
  it('25 GETs on one socket: one stream, no slot or handler for the queue, the socket cut past the bound, every slot free after', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let runs = 0;
    const server = await mount(
      (stream) => {
        runs++;
        stream.send('hello');
      },
      { registry, keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    const clients: EventStreamClient[] = [];
    try {
      const { socket, received } = await rawExchange(server.url, pipelined(pathname, 25));
      socket.on('error', () => undefined);
      // The server destroys the socket once more than WAITING_LIMIT requests wait behind the stream.
      await Promise.race([
        closed(socket),
        eventually(() => false, 'the server to cut the pipelining socket', () => ({ runs, size: registry.size, received: received().slice(0, 200) })),
      ]);
      await eventually(() => registry.size === 0, 'every slot to be free', () => ({ runs, size: registry.size }));
      expect(runs).toBe(1);

      // All 20 slots are there for 20 other clients; a 21st is refused.
      clients.push(...(await Promise.all(Array.from({ length: 20 }, () => requestEventStream(server.url, { light: true })))));
      const statuses = clients.map((client) => client.status);
      expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
      expect(registry.size).toBe(20);
      // The 21st EventSource is told to come back later: an empty 200 stream with a retry, never a stream of its own.
      const refused = await requestEventStream(server.url, { light: true });
      clients.push(refused);
      expect(await refused.waitForEnd()).toBe('end');
      expect(refused.events).toEqual([]);
      expect(refused.retries).toHaveLength(1);
      expect(registry.size).toBe(20);
      expect(runs).toBe(21);
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });

  it('a client that leaves with requests queued within the bound releases everything: no handler ran for them', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let runs = 0;
    const server = await mount(
      (stream) => {
        runs++;
        stream.send('hello');
      },
      { registry, keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      const { socket, received } = await rawExchange(server.url, pipelined(pathname, 1 + WAITING_LIMIT));
      await eventually(() => received().includes('data: hello'), 'the first stream to open', () => received());
      // The queued requests were parsed in the same chunk as the first one; they hold no slot.
      expect(registry.size).toBe(1);
      expect(runs).toBe(1);
      expect(socket.destroyed).toBe(false);
      socket.destroy();
      await eventually(() => registry.size === 0, 'every slot to be free', () => ({ runs, size: registry.size }));
      expect(runs).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a queued request is served in its turn: its handler runs only once the stream before it has closed', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    const openAtStart: number[] = [];
    const streams: EventStream[] = [];
    const server = await mount(
      (stream) => {
        openAtStart.push(registry.size - 1);
        streams.push(stream);
        stream.send(`run ${streams.length}`);
      },
      { registry, keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      const { socket, received } = await rawExchange(server.url, pipelined(pathname, 3));
      for (let run = 1; run <= 3; run++) {
        await eventually(() => received().includes(`data: run ${run}`), `stream ${run} to open`, () => received());
        expect(streams).toHaveLength(run);
        streams[run - 1]!.close();
      }
      // Each handler ran with no other stream open: the next one waited for the previous to end.
      expect(openAtStart).toEqual([0, 0, 0]);
      await eventually(() => registry.size === 0, 'every slot to be free', () => registry.size);
      expect(received().match(/^HTTP\/1\.1 200/gm)).toHaveLength(3);
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
