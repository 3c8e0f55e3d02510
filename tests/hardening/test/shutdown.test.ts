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
      const late = await requestEventStream(server.url, { timeoutMs: WAIT_MS });
      expect(late.status).toBe(503);
      expect(late.headers['retry-after']).toBe('2');
      expect(late.headers['content-type']).not.toMatch(/event-stream/);
      late.close();
      record(`shutdown ${name}`, { streams: STREAMS, drainMs: result.durationMs, forced: result.forced });
    } finally {
      await server.close();
    }
  });
});
