import type { EventStream, SlowClientInfo, SlowClientPolicy } from '@sse/core';
import { expect } from 'vitest';
import { connectRawSocket } from '../clients.js';
import { deferred, eventually, nextTurn, within, type CaseContext, type CaseGroup } from '../harness.js';
import type { ConformanceHandler, ConformanceOptions, MountedServer } from '../types.js';

export const MAX_BUFFERED_BYTES = 1 << 20;
const PAYLOAD = 'p'.repeat(16 * 1024);
/** Far more than kernel buffers absorb (a few MB on loopback): the policy must apply well before. */
const DISCONNECT_CAP_BYTES = 48 << 20;
const DROP_OLDEST_TOTAL_BYTES = 24 << 20;

export interface Flood {
  /** Largest `stream.bufferedBytes` seen after any send. */
  maxBuffered: number;
  sentBytes: number;
  sentEvents: number;
  slow: SlowClientInfo[];
  stream?: EventStream;
  /** Resolves when the producer stopped (bytes sent, or stream closed). */
  done: Promise<void>;
}

/**
 * A producer that writes 16 KiB events in batches, one batch per turn of the event loop (so
 * the socket gets its chance to take data), and records how much the stream queued.
 */
export function flood(policy: SlowClientPolicy, totalBytes: number, then?: (stream: EventStream) => void): {
  handler: ConformanceHandler;
  options: ConformanceOptions;
  state: Flood;
} {
  const finished = deferred();
  const state: Flood = { maxBuffered: 0, sentBytes: 0, sentEvents: 0, slow: [], done: finished.promise };
  const handler: ConformanceHandler = async (stream) => {
    state.stream = stream;
    try {
      while (!stream.isClosed && state.sentBytes < totalBytes) {
        for (let i = 0; i < 16 && !stream.isClosed && state.sentBytes < totalBytes; i++) {
          stream.send({ id: String(state.sentEvents), data: PAYLOAD });
          state.sentEvents++;
          state.sentBytes += PAYLOAD.length;
          state.maxBuffered = Math.max(state.maxBuffered, stream.bufferedBytes);
        }
        await nextTurn();
      }
      then?.(stream);
    } finally {
      finished.resolve();
    }
  };
  return {
    handler,
    options: { keepAlive: false, maxBufferedBytes: MAX_BUFFERED_BYTES, slowClient: policy, onSlowClient: (info) => state.slow.push(info) },
    state,
  };
}

/** The `'disconnect'` policy against a client that stopped reading, over any transport. */
export async function expectDisconnectPolicy(state: Flood, connections: MountedServer['connections']): Promise<void> {
  await within(state.done, 'the producer to stop');
  const stream = state.stream!;
  expect(stream.isClosed, `the stream stayed open after ${state.sentBytes} bytes to a client that does not read`).toBe(true);
  expect(await stream.closed).toEqual({ reason: 'slow-client' });
  expect(state.maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
  expect(state.slow).toHaveLength(1);
  expect(state.slow[0]).toMatchObject({ policy: 'disconnect', droppedEvents: 0 });
  // The report is taken as the bound is crossed: at most one event over it.
  expect(state.slow[0]!.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + PAYLOAD.length + 64);
  if (connections !== undefined) {
    await eventually(async () => (await connections()) === 0, 'the slow client to be disconnected');
  }
}

export const backpressureCases: CaseGroup[] = [
  {
    name: 'backpressure-disconnect',
    tests: [
      {
        title: `a client that never reads: the queue stays under maxBufferedBytes and the stream closes as slow-client`,
        async run(t: CaseContext) {
          const { handler, options, state } = flood('disconnect', DISCONNECT_CAP_BYTES);
          const server = await t.mount(handler, options);
          t.track(await connectRawSocket(server.url, { pauseAfterHead: true }));
          await expectDisconnectPolicy(state, server.connections?.bind(server));
        },
      },
    ],
  },
  {
    name: 'backpressure-drop-oldest',
    tests: [
      {
        title: 'drop-oldest keeps the stream open and bounded, and a client that resumes gets whole, ordered events, one sse-gap event where events were dropped, and the last one',
        async run(t) {
          let openBeforeEnd = false;
          const { handler, options, state } = flood('drop-oldest', DROP_OLDEST_TOTAL_BYTES, (stream) => {
            openBeforeEnd = !stream.isClosed;
            stream.send({ event: 'end', id: 'end', data: 'end' });
            stream.close();
          });
          const server = await t.mount(handler, options);
          const client = t.track(await connectRawSocket(server.url, { pauseAfterHead: true }));
          await within(state.done, 'the producer to send everything');
          expect(openBeforeEnd).toBe(true);
          expect(state.sentBytes).toBe(DROP_OLDEST_TOTAL_BYTES);
          expect(state.maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
          expect(state.slow.length).toBeGreaterThanOrEqual(1);
          expect(state.slow[0]!.policy).toBe('drop-oldest');
          expect(state.slow[0]!.droppedEvents).toBeGreaterThan(0);

          client.resume();
          expect(await client.waitForEnd()).toBe('end');
          expect(client.parseErrors).toEqual([]);
          const events = client.events;
          expect(events.at(-1)).toEqual({ id: 'end', event: 'end', data: 'end' });
          // The drops are announced once, in band, where they happened (no id: the client's last id stays).
          const gaps = events.flatMap((e, i) => (e.event === 'sse-gap' ? [i] : []));
          expect(gaps).toHaveLength(1);
          expect(events[gaps[0]!]).toEqual({ id: undefined, event: 'sse-gap', data: '{"reason":"dropped"}' });
          const numbered = events.slice(0, -1).filter((e) => e.event !== 'sse-gap');
          expect(numbered.length).toBeLessThan(state.sentEvents);
          expect(numbered.every((e) => e.data === PAYLOAD)).toBe(true);
          const ids = numbered.map((e) => Number(e.id));
          expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
          // The newest events survive: the last one sent before the end arrived.
          expect(ids.at(-1)).toBe(state.sentEvents - 1);
          expect(await state.stream!.closed).toEqual({ reason: 'server' });
        },
      },
    ],
  },
];
