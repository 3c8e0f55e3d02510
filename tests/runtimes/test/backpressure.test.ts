// The slow-client policies with the producer in the runtime (bridge/flood.ts), against a raw
// socket that stops reading: the checks of the conformance cases backpressure-disconnect and
// backpressure-drop-oldest, which through the bridge cannot hold their producer back.
import { afterAll, describe, expect, it } from 'vitest';
import { connectRawSocket, WAIT_MS } from '@sse/conformance';
import type { SlowClientInfo } from '@sse/core';
import { lazyRuntime, type RuntimeName } from './bridge.js';

const MAX_BUFFERED_BYTES = 1 << 20;
const PAYLOAD_BYTES = 16 * 1024;

interface FloodState {
  sentBytes: number;
  sentEvents: number;
  maxBuffered: number;
  slow: SlowClientInfo[];
  openBeforeEnd: boolean;
  closed: string;
  done: boolean;
}

const runtimes = (['bun', 'deno', 'workerd'] as RuntimeName[]).map((name) => ({
  name,
  runtime: lazyRuntime(name, { script: name === 'workerd' ? 'flood-worker' : `flood-${name}`, compatibilityFlags: ['enable_request_signal'] }),
}));
afterAll(() => Promise.all(runtimes.map(({ runtime }) => runtime.stop())));

async function until(url: string, condition: (s: FloodState) => boolean, what: string): Promise<FloodState> {
  const deadline = Date.now() + 3 * WAIT_MS;
  for (;;) {
    const s = (await (await fetch(`${url}/stats`)).json()) as FloodState | null;
    if (s !== null && condition(s)) return s;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(runtimes)('slow clients on $name, produced in the runtime', ({ runtime }) => {
  it('disconnect: the queue stays under maxBufferedBytes and the stream closes as slow-client', async () => {
    const { url } = await runtime.get();
    const client = await connectRawSocket(`${url}/flood?policy=disconnect`, { pauseAfterHead: true });
    try {
      const s = await until(url, (state) => state.done && state.closed !== '', 'the producer to stop and the stream to close');
      expect(s.closed).toBe('slow-client');
      expect(s.sentBytes).toBeLessThan(48 << 20);
      expect(s.maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
      expect(s.slow).toHaveLength(1);
      expect(s.slow[0]).toMatchObject({ policy: 'disconnect', droppedEvents: 0 });
      expect(s.slow[0]!.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + PAYLOAD_BYTES + 64);
    } finally {
      client.close();
    }
  }, 4 * WAIT_MS);

  it('drop-oldest: bounded and open; the client that resumes gets ordered whole events, one sse-gap and the last one', async () => {
    const { url } = await runtime.get();
    const client = await connectRawSocket(`${url}/flood?policy=drop-oldest`, { pauseAfterHead: true });
    try {
      const s = await until(url, (state) => state.done, 'the producer to send everything');
      expect(s.openBeforeEnd).toBe(true);
      expect(s.sentBytes).toBe(24 << 20);
      expect(s.maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
      expect(s.slow[0]).toMatchObject({ policy: 'drop-oldest' });
      expect(s.slow[0]!.droppedEvents).toBeGreaterThan(0);
      client.resume();
      expect(await client.waitForEnd()).toBe('end');
      expect(client.parseErrors).toEqual([]);
      const events = client.events;
      expect(events.at(-1)).toEqual({ id: 'end', event: 'end', data: 'end' });
      const gaps = events.filter((e) => e.event === 'sse-gap');
      expect(gaps).toEqual([{ id: undefined, event: 'sse-gap', data: '{"reason":"dropped"}' }]);
      const ids = events.filter((e) => e.event === undefined).map((e) => Number(e.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
      expect(ids.at(-1)).toBe(s.sentEvents - 1);
    } finally {
      client.close();
    }
  }, 4 * WAIT_MS);
});
