import { createStreamRegistry } from '@sse/core';
import { describe, expect, it, vi } from 'vitest';
import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { WAIT_MS, pool } from './load.js';
import { record } from './figures.js';
import { adapters } from './servers.js';

const STREAMS = 1_000;

describe.each(Object.entries(adapters))('shutdown on %s', (name, mount) => {
  it(`drains ${STREAMS} open streams promptly; every client gets the last event and a clean end`, async () => {
    const registry = createStreamRegistry({ retryAfterSeconds: 2 });
    const server = await mount((stream) => void stream.send({ event: 'hello', data: 'x' }), { registry, keepAlive: 15_000 });
    try {
      const clients: EventStreamClient[] = [];
      await pool(STREAMS, 100, async () => {
        clients.push(await requestEventStream(server.url, { light: true, timeoutMs: WAIT_MS }));
      });
      await vi.waitFor(() => expect(registry.size).toBe(STREAMS), { timeout: 30_000 });
      const result = await registry.closeAll({ event: { event: 'bye', data: 'restarting' }, timeoutMs: 10_000 });
      expect(result).toMatchObject({ closed: STREAMS, forced: 0 });
      const endings = await Promise.all(clients.map((client) => client.ended));
      expect(endings.filter((how) => how === 'end')).toHaveLength(STREAMS);
      for (const client of clients) expect(client.events.map((event) => event.event)).toEqual(['hello', 'bye']);
      // A latecomer EventSource is told to come back (a 200 stream with only a retry, ended at
      // once: a 503 would stop it for good); another client gets 503 + Retry-After.
      const late = await requestEventStream(server.url, { timeoutMs: WAIT_MS });
      expect(late.status).toBe(200);
      expect(late.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(await late.waitForEnd()).toBe('end');
      expect(late.events).toEqual([]);
      expect(late.retries).toEqual([expect.any(Number)]);
      expect(late.retries[0]).toBeGreaterThanOrEqual(1800);
      expect(late.retries[0]).toBeLessThanOrEqual(2200);
      const plain = await requestEventStream(server.url, { headers: { accept: '*/*' }, timeoutMs: WAIT_MS });
      expect(plain.status).toBe(503);
      expect(plain.headers['retry-after']).toBe('2');
      expect(plain.headers['content-type']).not.toMatch(/event-stream/);
      plain.close();
      expect(registry.size).toBe(0);
      record(`shutdown ${name}`, { streams: STREAMS, drainMs: result.durationMs, forced: result.forced });
    } finally {
      await server.close();
    }
  });
});
