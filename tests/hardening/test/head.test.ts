import { createStreamRegistry, createFetchHandler } from '@sse/core';
import { sse as honoSse } from '@sse/hono';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { rawExchange, requestEventStream } from '@sse/conformance';
import { record } from './figures.js';
import { adapters } from './servers.js';

// HEAD requests (monitors, link checkers): answered with the stream's headers and ended, so they
// hold no stream, subscriber, timer or registry slot, and the next request on the socket is served.

const head = (pathname: string): string => `HEAD ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`;
const get = (pathname: string): string => `GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`;

async function eventually(condition: () => boolean, what: string, seen: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`);
}

describe.each(Object.entries(adapters))('HEAD on %s', (name, mount) => {
  it('25 HEADs with maxStreams: 20 leave every slot free and run no handler; GETs still get all 20', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let runs = 0;
    const server = await mount(
      (stream) => {
        runs++;
        stream.send('hello');
      },
      { registry, keepAlive: 50 },
    );
    const { pathname } = new URL(server.url);
    const clients: Array<{ close(): void }> = [];
    try {
      let answered = 0;
      for (let i = 0; i < 25; i++) {
        const exchange = await rawExchange(server.url, head(pathname));
        clients.push({ close: () => exchange.socket.destroy() });
        await eventually(() => exchange.received().includes('\r\n\r\n'), `HEAD ${i + 1}`, () => exchange.received());
        if (/^HTTP\/1\.1 200 /.test(exchange.received())) answered++;
      }
      expect([answered, registry.size, runs]).toEqual([25, 0, 0]);
      const streams = await Promise.all(Array.from({ length: 20 }, () => requestEventStream(server.url, { light: true })));
      clients.push(...streams);
      expect(streams.map((client) => client.status)).toEqual(Array.from({ length: 20 }, () => 200));
      expect([registry.size, runs]).toEqual([20, 20]);
      record(`head ${name}`, { heads: 25, answered200: answered, handlerRuns: 0, slotsTakenByHeads: 0, getsServedAfter: 20 });
    } finally {
      for (const client of clients) client.close();
      await server.close();
    }
  });

  it('HEAD then GET on one keep-alive socket: the HEAD ends, the GET streams', async () => {
    const server = await mount((stream) => stream.send('hello'), { keepAlive: false });
    const { pathname } = new URL(server.url);
    const { socket, received } = await rawExchange(server.url, head(pathname));
    try {
      await eventually(() => received().includes('\r\n\r\n'), 'the HEAD response', () => received());
      socket.write(get(pathname));
      await eventually(() => received().includes('data: hello'), 'the GET behind it', () => received());
      const [first = '', second = ''] = received().split(/(?=HTTP\/1\.1 \d{3} )/);
      expect(first).toMatch(/^HTTP\/1\.1 200 [^]*content-type: text\/event-stream/i);
      expect(first.endsWith('\r\n\r\n')).toBe(true);
      expect(second).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
      await server.close();
    }
  });
});

describe('HEAD without a socket: Hono app.request() and createFetchHandler', () => {
  it('25 HEADs open nothing: no handler, no registry slot, no body to cancel', async () => {
    const registry = createStreamRegistry({ maxStreams: 20 });
    let runs = 0;
    const handler = (): void => {
      runs++;
    };
    const app = new Hono().get('/sse', honoSse(handler, { registry }));
    const fetchHandler = createFetchHandler(handler, { registry });
    for (let i = 0; i < 25; i++) {
      const viaHono = await app.request('/sse', { method: 'HEAD' });
      const viaFetch = await fetchHandler(new Request('http://localhost/sse', { method: 'HEAD' }));
      for (const response of [viaHono, viaFetch]) {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        expect(response.body).toBeNull();
      }
    }
    expect([registry.size, runs]).toEqual([0, 0]);
    // A GET still opens (and takes a slot until it ends).
    const response = await app.request('/sse');
    expect([response.status, registry.size, runs]).toEqual([200, 1, 1]);
    await response.body?.cancel();
    await eventually(() => registry.size === 0, 'the GET stream to close', () => registry.size);
  });
});
