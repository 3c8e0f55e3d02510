import type { Socket } from 'node:net';
import { createStreamRegistry } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { rawExchange } from '@sse/conformance';
import { adapters } from './servers.js';

// A client that says `Connection: close` (or speaks HTTP/1.0, where that is the default) must get
// `Connection: close`, and the socket must close once the stream ends; other clients keep
// keep-alive and can send their next request on the same socket.

/** Waits (bounded) until `condition` holds; fails with what was seen. */
async function eventually(condition: () => boolean, what: string, seen: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`);
}

function head(received: string): string {
  return received.slice(0, received.indexOf('\r\n\r\n'));
}

function watchClose(socket: Socket): () => boolean {
  let closed = false;
  socket.once('close', () => (closed = true));
  return () => closed;
}

describe.each(Object.entries(adapters))('Connection: close and HTTP/1.0 on %s', (_name, mount) => {
  const request = (pathname: string, version: string, extra = ''): string => `GET ${pathname} HTTP/${version}\r\nHost: x\r\nAccept: text/event-stream\r\n${extra}\r\n`;

  it('Connection: close gets Connection: close, and the socket closes after stream.close()', async () => {
    const registry = createStreamRegistry();
    const server = await mount(
      (stream) => {
        stream.send('bye');
        stream.close();
      },
      { registry, keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      const { socket, received } = await rawExchange(server.url, request(pathname, '1.1', 'Connection: close\r\n'));
      const isClosed = watchClose(socket);
      await eventually(isClosed, 'the server to close the socket', () => received());
      expect(head(received())).toMatch(/\r\nconnection: close(\r\n|$)/i);
      expect(head(received())).not.toMatch(/keep-alive/i);
      // The whole stream arrived, with the chunked terminator.
      expect(received()).toContain('data: bye\n\n');
      expect(received()).toMatch(/\r\n0\r\n\r\n$/);
      expect(registry.size).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('HTTP/1.0 gets no keep-alive: the body ends with the connection, after stream.close()', async () => {
    const server = await mount(
      (stream) => {
        stream.send('bye');
        stream.close();
      },
      { keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      const { socket, received } = await rawExchange(server.url, request(pathname, '1.0'));
      const isClosed = watchClose(socket);
      await eventually(isClosed, 'the server to close the socket', () => received());
      expect(head(received())).not.toMatch(/keep-alive/i);
      expect(head(received())).not.toMatch(/transfer-encoding/i);
      expect(received().endsWith('data: bye\n\n')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('HTTP/1.1 keeps the connection: a second request on the same socket is served after the stream closed', async () => {
    let runs = 0;
    const server = await mount(
      (stream) => {
        runs++;
        stream.send(`run ${runs}`);
        stream.close();
      },
      { keepAlive: false },
    );
    const { pathname } = new URL(server.url);
    try {
      const { socket, received } = await rawExchange(server.url, request(pathname, '1.1'));
      const isClosed = watchClose(socket);
      await eventually(() => /\r\n0\r\n\r\n$/.test(received()), 'the first stream to end', () => received());
      expect(head(received())).toMatch(/\r\nconnection: keep-alive(\r\n|$)/i);
      socket.write(request(pathname, '1.1'));
      await eventually(() => received().includes('data: run 2'), 'the second stream on the same socket', () => received());
      expect(isClosed()).toBe(false);
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
