import { createStreamRegistry, type CloseInfo } from '@sse/core';
import { describe, expect, it } from 'vitest';
import { rawExchange } from '@sse/conformance';
import { adapters } from './servers.js';

// A client that half-closes (sends FIN after its GET, as a front that forwards half-closes does)
// has left: its stream closes with reason 'client' and frees its slot at once, with no write
// needed (keep-alive comments off). Node's server ends the socket on a FIN by default; with
// `httpAllowHalfOpen` it keeps the socket, and only the adapter can tell the stream.

/** Waits (bounded) until `condition` holds; fails with what was seen. */
async function eventually(condition: () => boolean, what: string, seen: () => unknown): Promise<void> {
  for (let attempt = 0; attempt < 2_000; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen())}`);
}

describe.each(Object.entries(adapters))('half-close on %s', (_name, mount) => {
  for (const allowHalfOpen of [false, true]) {
    it(`a GET stream whose client sends FIN closes as 'client', no write needed (httpAllowHalfOpen: ${allowHalfOpen})`, async () => {
      const registry = createStreamRegistry();
      const closes: CloseInfo[] = [];
      const server = await mount(
        (stream) => {
          void stream.closed.then((info) => closes.push(info));
        },
        { registry, keepAlive: false },
      );
      (server.server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = allowHalfOpen;
      const { pathname } = new URL(server.url);
      try {
        const { socket, received } = await rawExchange(server.url, `GET ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
        await eventually(() => received().includes('\r\n\r\n') && registry.size === 1, 'the stream to open', () => received());
        socket.end();
        await eventually(() => closes.length === 1, 'the stream to close', () => ({ closes, size: registry.size }));
        expect(closes).toEqual([{ reason: 'client' }]);
        expect(registry.size).toBe(0);
        await eventually(() => socket.destroyed, 'the server to close the connection', () => received());
      } finally {
        await server.close();
      }
    });
  }
});
