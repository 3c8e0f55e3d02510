import { createChannel, createStreamRegistry, type CloseReason } from '@sse/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStream, pool, rawRequest } from './clients.js';
import { adapters } from './servers.js';

const unexpected: unknown[] = [];
const onUnexpected = (error: unknown): void => void unexpected.push(error);
beforeEach(() => {
  unexpected.length = 0;
  process.on('uncaughtException', onUnexpected);
  process.on('unhandledRejection', onUnexpected);
});
afterEach(() => {
  process.off('uncaughtException', onUnexpected);
  process.off('unhandledRejection', onUnexpected);
});

const sum = (counts: Record<CloseReason, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe.each(Object.entries(adapters))('faults on %s', (_name, mount) => {
  it('survives clients reset in the middle of large writes: no unhandled error, no leak', async () => {
    const registry = createStreamRegistry();
    const channel = createChannel();
    const onError = vi.fn();
    const server = await mount((stream) => void channel.subscribe(stream), { registry, onError, keepAlive: false });
    let producing = true;
    const big = 'z'.repeat(16 * 1024);
    const producer = (async () => {
      while (producing) {
        // Not awaited: a flood, faster than the readers; the channel reports a failed publish to onError.
        for (let n = 0; n < 20; n++) void channel.broadcast(big);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      await pool(200, 25, async (index) => {
        const client = openStream(server.url);
        const res = await client.response;
        // Reset after a random amount of data: mid-event, between events, before the first.
        const cutAfter = (index * 7919) % (256 * 1024);
        let seen = 0;
        await new Promise<void>((resolve) => {
          res.on('data', (chunk: string) => {
            seen += chunk.length;
            if (seen >= cutAfter) {
              // An RST rather than a FIN: the harshest way for a client to vanish.
              res.socket?.resetAndDestroy();
              resolve();
            }
          });
          res.once('close', () => resolve());
        });
        client.destroy();
      });
      producing = false;
      await producer;
      await vi.waitFor(
        async () => {
          expect(registry.size).toBe(0);
          expect(await server.connections?.()).toBe(0);
        },
        { timeout: 30_000, interval: 50 },
      );
      const counters = registry.counters();
      expect(counters.opened).toBe(200);
      expect(sum(counters.closedBy)).toBe(200);
      expect(onError).not.toHaveBeenCalled();
      expect(channel.size).toBe(0);
      expect(unexpected).toEqual([]);
    } finally {
      producing = false;
      await server.close();
    }
  });

  it('closes half-open and silent clients through stall detection, without errors', async () => {
    const registry = createStreamRegistry();
    const channel = createChannel();
    const server = await mount((stream) => void channel.subscribe(stream), { registry, keepAlive: false, stallTimeoutMs: 300 });
    const { pathname } = new URL(server.url);
    const head = `GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`;
    // Half-open: the client sends FIN after its request and never reads. Silent: it just stops reading.
    const halfOpen = await Promise.all(Array.from({ length: 5 }, () => rawRequest(server.url, head)));
    const silent = await Promise.all(Array.from({ length: 5 }, () => rawRequest(server.url, head)));
    for (const { socket } of [...halfOpen, ...silent]) socket.pause();
    for (const { socket } of halfOpen) socket.end();
    await vi.waitFor(() => expect(registry.counters().opened).toBe(10), { timeout: 10_000 });
    const chunk = 'h'.repeat(64 * 1024);
    for (let round = 0; round < 400 && registry.size > 0; round++) {
      // Not awaited: delivery is synchronous (in-memory store); the channel reports failures to onError.
      for (let n = 0; n < 8; n++) void channel.broadcast(chunk);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await vi.waitFor(() => expect(registry.size).toBe(0), { timeout: 30_000, interval: 50 });
    const { closedBy } = registry.counters();
    // Each one ends as stalled, slow (byte bound) or gone (the server saw the FIN): never an error.
    expect(closedBy.error).toBe(0);
    expect(closedBy.stalled + closedBy['slow-client'] + closedBy.client).toBe(10);
    for (const { socket } of [...halfOpen, ...silent]) socket.destroy();
    await vi.waitFor(async () => expect(await server.connections?.()).toBe(0), { timeout: 10_000 });
    expect(unexpected).toEqual([]);
    await server.close();
  });
});
