import { createChannel, createStreamRegistry, type SlowClientInfo } from '@sse/core';
import { describe, expect, it, vi } from 'vitest';
import { connectRawSocket, requestEventStream } from '@sse/conformance';
import { WAIT_MS } from './load.js';
import { adapters } from './servers.js';

const KIB = 1024;
const EVENTS = 12_000;
const BOUND = 256 * KIB;

describe.each(Object.entries(adapters))('slow readers among fast ones on %s', (_name, mount) => {
  it('keeps every fast client fed while the slow ones stay bounded and are dropped', async () => {
    const registry = createStreamRegistry();
    const channel = createChannel();
    const reports: SlowClientInfo[] = [];
    const server = await mount((stream) => void channel.subscribe(stream), {
      registry,
      keepAlive: false,
      maxBufferedBytes: BOUND,
      onSlowClient: (info) => reports.push(info),
    });
    try {
      const fast = await Promise.all(Array.from({ length: 10 }, () => requestEventStream(server.url, { light: true, timeoutMs: WAIT_MS })));
      // Clients that never read: paused as soon as the request is written, before the response head.
      const slow = await Promise.all(Array.from({ length: 3 }, () => connectRawSocket(server.url, { waitForHead: false })));
      for (const client of slow) client.pause();
      await vi.waitFor(() => expect(channel.size).toBe(13), { timeout: 10_000 });
      const payload = 'p'.repeat(KIB);
      // A paced producer: a batch per tick, like a real feed.
      for (let n = 0; n < EVENTS; n += 100) {
        // Not awaited: delivered synchronously (in-memory store); the channel reports failures to onError.
        for (let i = n; i < n + 100; i++) void channel.broadcast({ id: String(i + 1), data: payload });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await vi.waitFor(() => expect(fast.every((client) => client.events.length === EVENTS)).toBe(true), { timeout: 60_000, interval: 50 });
      for (const client of fast) {
        expect(client.events.at(-1)?.id).toBe(String(EVENTS));
        expect(new Set(client.events.map((event) => event.id)).size).toBe(EVENTS);
      }
      expect(registry.counters().closedBy['slow-client']).toBe(3);
      expect(reports).toHaveLength(3);
      // The queue is checked as each event arrives: never more than the bound plus the event that crossed it.
      for (const report of reports) expect(report.bufferedBytes).toBeLessThanOrEqual(BOUND + 2 * KIB);
      expect(channel.size).toBe(10);
      for (const client of [...fast, ...slow]) client.close();
    } finally {
      await server.close();
    }
  });
});
