import { createChannel, createStreamRegistry, type CloseReason } from '@sse/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connectRawSocket, requestEventStream } from '@sse/conformance';
import { WAIT_MS, pool } from './load.js';
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
        const client = await requestEventStream(server.url, { light: true, timeoutMs: WAIT_MS });
        // Reset after a random amount of data: mid-event, between events, before the first.
        const cutAfter = (index * 7919) % (256 * 1024);
        await client.until(() => (client.bytes > 0 && client.bytes >= cutAfter) || client.outcome !== undefined, `${cutAfter} bytes`);
        // An RST rather than a FIN: the harshest way for a client to vanish.
        client.reset();
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
    // Half-open: the client sends FIN after its request and never reads. Silent: it just stops reading.
    const halfOpen = await Promise.all(Array.from({ length: 5 }, () => connectRawSocket(server.url, { waitForHead: false })));
    const silent = await Promise.all(Array.from({ length: 5 }, () => connectRawSocket(server.url, { waitForHead: false })));
    for (const client of [...halfOpen, ...silent]) client.pause();
    for (const client of halfOpen) client.end();
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
    for (const client of [...halfOpen, ...silent]) client.close();
    await vi.waitFor(async () => expect(await server.connections?.()).toBe(0), { timeout: 10_000 });
    expect(unexpected).toEqual([]);
    await server.close();
  });
});
