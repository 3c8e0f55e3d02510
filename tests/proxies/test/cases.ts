import type { EventStream } from '@sse/core';
import { requestEventStream, type EventStreamClient } from '@sse/conformance';
import { EventSource as PackageEventSource } from 'eventsource';
import { EventSource as UndiciEventSource } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventLatencies, eventually, report, startFront, startOrigin, WAIT_MS, type Front, type FrontSpec, type Origin } from './fronts.js';

/** What a front is expected to do, as measured; each case asserts it. */
export interface FrontCase {
  /** Shown in the figures, e.g. `'nginx defaults'`. */
  label: string;
  spec: FrontSpec;
  /** The HTTP version the front speaks to the origin. */
  upstreamHttpVersion: '1.0' | '1.1';
  /** Sent by the clients (Caddy's `encode` only acts when the client accepts gzip). */
  requestHeaders?: Record<string, string>;
  /**
   * `'at-once'`: the front closes its connection to the origin when the client leaves, so the
   * stream closes with no write. `'at-a-write'`: the front keeps that connection (and forwards no
   * FIN) until a write towards the gone client fails.
   */
  departure: 'at-once' | 'at-a-write';
}

/** The stream the origin opens for the next request. */
async function nextStream(origin: Origin, index: number): Promise<EventStream> {
  await eventually(() => origin.streams.length > index, 'the origin to open a stream', () => `${origin.streams.length} streams`);
  return origin.streams[index]!;
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * The checks every front gets, with a real @sse/node origin behind it: the head and each event
 * reach the client at once, `Last-Event-ID` survives a reconnect, and a client's departure
 * reaches the server (at once, or at the next write: asserted as the front behaves).
 */
export function frontCases(front: FrontCase): void {
  let origin: Origin;
  let proxy: Front;
  const clients: Array<{ close(): void }> = [];

  beforeAll(async () => {
    origin = await startOrigin({ retry: 50 });
    proxy = await startFront(front.spec, origin.url, '/events');
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
    await origin?.close();
    await proxy?.stop();
  });

  async function connect(): Promise<{ client: EventStreamClient; stream: EventStream; index: number }> {
    const index = origin.streams.length;
    const client = await requestEventStream(proxy.url, front.requestHeaders === undefined ? {} : { headers: front.requestHeaders });
    clients.push(client);
    return { client, stream: await nextStream(origin, index), index };
  }

  it('sends the head before any event, and each event as soon as it is sent', async () => {
    // requestEventStream resolves on the head: a front that held it would fail here after 10 s.
    const { client, stream, index } = await connect();
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(origin.requests[index]!.httpVersion).toBe(front.upstreamHttpVersion);
    const latencies = await eventLatencies(client, (n) => stream.send({ id: `e-${n}`, data: `event ${n}` }), 5);
    expect(client.events.map((e) => e.data)).toEqual([1, 2, 3, 4, 5].map((n) => `event ${n}`));
    expect(client.parseErrors).toEqual([]);
    report(`${front.label}: ms from send() to the client, per event`, latencies);
    client.close();
  });

  for (const kind of ['undici', 'eventsource'] as const) {
    it(`passes Last-Event-ID through: a ${kind} EventSource that reconnects resumes after the last id it saw`, async () => {
      const index = origin.streams.length;
      const Source = kind === 'undici' ? UndiciEventSource : PackageEventSource;
      const source = new Source(proxy.url) as unknown as EventTarget & { close(): void; readyState: number };
      clients.push(source);
      const messages: string[] = [];
      source.addEventListener('message', (event) => messages.push((event as MessageEvent<string>).data));
      const first = await nextStream(origin, index);
      expect(first.lastEventId).toBeUndefined();
      first.send({ id: 'seen-41', data: 'before the cut' });
      await eventually(() => messages.length === 1, 'the first message', () => JSON.stringify(messages));
      first.close(); // a clean end: the client reconnects after `retry` (50 ms) through the front
      const second = await nextStream(origin, index + 1);
      expect(second.lastEventId).toBe('seen-41');
      expect(origin.requests[index + 1]!.headers['last-event-id']).toBe('seen-41');
      second.send({ id: 'seen-42', data: 'after the cut' });
      await eventually(() => messages.length === 2, 'the message after the reconnect', () => JSON.stringify(messages));
      expect(messages).toEqual(['before the cut', 'after the cut']);
      source.close();
    });
  }

  if (front.departure === 'at-once') {
    it('sees a client leave with no write: the stream closes (reason client) and the registry counts it out', async () => {
      const { client, stream } = await connect();
      const before = origin.registry.counters();
      const leftAt = performance.now();
      client.close();
      expect(await within(stream.closed, 'the stream to close after the client left')).toEqual({ reason: 'client' });
      report(`${front.label}: ms until the server saw the client leave`, Math.round(performance.now() - leftAt));
      const after = origin.registry.counters();
      expect(after.closedBy.client - before.closedBy.client).toBe(1);
      expect(after.commentsWritten + after.eventsWritten).toBe(before.commentsWritten + before.eventsWritten);
    });
  } else {
    it('forwards no FIN when a client leaves: the server sees the departure at a write (keep-alive finds it)', async () => {
      const { client, stream, index } = await connect();
      const socketEnded = origin.requests[index]!.socketEnded;
      client.close();
      let writes = 0;
      let endedBeforeAWrite: boolean | undefined;
      while (!stream.isClosed) {
        if (writes >= 50) throw new Error(`the stream was still open after ${writes} writes to a client that left`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (stream.isClosed) break;
        endedBeforeAWrite ??= socketEnded();
        stream.comment('are you there');
        writes++;
      }
      expect(await stream.closed).toEqual({ reason: 'client' });
      // No FIN (not even a half-close) reached the origin before it wrote: only a write can tell.
      expect(endedBeforeAWrite).toBe(false);
      expect(writes).toBeGreaterThan(0);
      report(`${front.label}: comments written (100 ms apart) before the server saw the client leave`, writes);
    });
  }
}
