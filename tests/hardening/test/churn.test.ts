import { createChannel, createStreamRegistry } from '@sse/core';
import { describe, expect, it, vi } from 'vitest';
import { requestEventStream } from '@sse/conformance';
import { WAIT_MS, activeTimers, heapAfterGc, pool } from './load.js';
import { record } from './figures.js';
import { adapters } from './servers.js';

/** 5 adapters × 2,500 = 12,500 connect/disconnect cycles. */
const CYCLES_PER_ADAPTER = Number(process.env.HARDENING_CYCLES ?? 2_500);
const MIB = 1024 * 1024;

describe.each(Object.entries(adapters))('churn on %s', (name, mount) => {
  it(`leaves no stream, timer, socket or heap behind after ${CYCLES_PER_ADAPTER} connect/disconnect cycles`, async () => {
    const registry = createStreamRegistry();
    const channel = createChannel({ history: 50 });
    const server = await mount(
      (stream) => {
        channel.subscribe(stream);
        stream.send({ event: 'hello', data: 'x' });
      },
      { registry, keepAlive: 5_000, maxLifetimeMs: 60_000 },
    );
    const cycle = async (): Promise<void> => {
      const client = await requestEventStream(server.url, { light: true, timeoutMs: WAIT_MS });
      await client.waitForEvents(1);
      client.close();
      await client.ended;
    };
    try {
      await pool(100, 20, cycle); // warm-up: JIT, lazily created structures
      await vi.waitFor(() => expect(registry.size).toBe(0), { timeout: 20_000 });
      const timersBefore = activeTimers();
      const heapBefore = heapAfterGc();
      const started = Date.now();
      await pool(CYCLES_PER_ADAPTER, 50, async (index) => {
        await cycle();
        // Not awaited: the churn goes on while it is delivered; the channel reports failures to onError.
        if (index % 100 === 0) void channel.broadcast({ event: 'tick', data: index });
      });
      await vi.waitFor(
        async () => {
          expect(registry.size).toBe(0);
          expect(channel.size).toBe(0);
          expect(await server.connections?.()).toBe(0);
        },
        { timeout: 30_000, interval: 50 },
      );
      const seconds = (Date.now() - started) / 1000;
      const heapAfter = heapAfterGc();
      const counters = registry.counters();
      expect(counters.opened).toBe(CYCLES_PER_ADAPTER + 100);
      expect(counters.closed).toBe(counters.opened);
      expect(counters.closedBy.client).toBe(counters.opened);
      expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
      // A leak of 1.6 KiB per connection would show as 4 MiB here.
      expect(heapAfter - heapBefore).toBeLessThan(4 * MIB);
      record(`churn ${name}`, {
        cycles: CYCLES_PER_ADAPTER,
        seconds: Number(seconds.toFixed(1)),
        heapBeforeMiB: Number((heapBefore / MIB).toFixed(1)),
        heapAfterMiB: Number((heapAfter / MIB).toFixed(1)),
        openAfter: registry.size,
      });
    } finally {
      await server.close();
    }
  });
});
