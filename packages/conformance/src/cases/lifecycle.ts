import type { Channel, CloseInfo, EventStream } from '@sse/core';
import { expect } from 'vitest';
import { connectRawSocket, EventSourceClient, requestEventStream, type EventSourceKind } from '../clients.js';
import { eventually, nextTurn, within, type CaseContext, type CaseGroup } from '../harness.js';
import type { MountedServer } from '../types.js';

/**
 * What "released" means, seen from outside: the stream closed for the client's reason, its
 * signal aborted (so the handler's timers and fetches stop), it left its channel, its sends are
 * refused without throwing, and the server holds no connection any more.
 */
async function expectReleased(stream: EventStream, channel: Channel, server: MountedServer | undefined): Promise<void> {
  const info = await within(stream.closed, 'stream.closed after the client left');
  expect(info).toEqual({ reason: 'client' });
  expect(stream.isClosed).toBe(true);
  expect(stream.signal.aborted).toBe(true);
  await eventually(() => channel.size === 0, 'the stream to leave its channel', () => `size ${channel.size}`);
  expect(stream.send('after the client left')).toBe(false);
  if (server?.connections !== undefined) {
    const connections = server.connections.bind(server);
    await eventually(async () => (await connections()) === 0, 'the server to hold no connection');
  }
}

async function mountSubscribed(t: CaseContext): Promise<{ server: MountedServer; channel: Channel; streams: EventStream[] }> {
  const channel = await t.createChannel();
  const streams: EventStream[] = [];
  const server = await t.mount(
    (stream) => {
      streams.push(stream);
      channel.subscribe(stream);
    },
    // Keep-alive timers run, so a stream that is not released would keep writing.
    { keepAlive: 20 },
  );
  return { server, channel, streams };
}

const EVENT_SOURCES: EventSourceKind[] = ['undici', 'eventsource'];

export const lifecycleCases: CaseGroup[] = [
  {
    name: 'client-disconnect',
    tests: [
      {
        title: 'a client that disconnects is seen at once: closed with reason client, signal aborted, channel left, socket released',
        async run(t) {
          const { server, channel, streams } = await mountSubscribed(t);
          const client = t.track(await requestEventStream(server.url));
          await eventually(() => channel.size === 1, 'the stream to subscribe');
          await channel.broadcast('hello');
          await client.waitForEvents(1);
          client.close();
          await expectReleased(streams[0]!, channel, server);
        },
      },
      ...EVENT_SOURCES.map((kind) => ({
        title: `${kind} EventSource close() is seen by the server and releases the stream`,
        async run(t: CaseContext) {
          const { server, channel, streams } = await mountSubscribed(t);
          const source = t.track(new EventSourceClient(kind, server.url));
          await eventually(() => channel.size === 1, 'the stream to subscribe');
          await channel.broadcast('hello');
          await source.waitForMessages(1);
          source.close();
          // No connection count here: after close(), undici's dispatcher may open a spare
          // connection of its own (seen under load), which says nothing about the server.
          await expectReleased(streams[0]!, channel, undefined);
        },
      })),
      {
        title: 'a client that stopped reading and resets the connection ends in the close path, not an error',
        async run(t) {
          const errors: unknown[] = [];
          const streams: EventStream[] = [];
          const server = await t.mount(
            (stream) => {
              streams.push(stream);
              // Enough to leave unread bytes in the client's buffer, so that closing sends an RST.
              for (let i = 0; i < 64; i++) stream.send('r'.repeat(1024));
            },
            { keepAlive: 20, onError: (error) => errors.push(error) },
          );
          const client = await connectRawSocket(server.url, { pauseAfterHead: true });
          await eventually(() => streams.length === 1, 'the stream to open');
          await nextTurn();
          client.close();
          const stream = streams[0]!;
          const info = await within(stream.closed, 'stream.closed after a reset');
          expect(info).toEqual({ reason: 'client' });
          // Writes after the reset are refused quietly.
          for (let i = 0; i < 10; i++) expect(stream.send('after reset')).toBe(false);
          await nextTurn();
          expect(errors).toEqual([]);
        },
      },
    ],
  },
  {
    name: 'server-close',
    tests: [
      {
        title: 'stream.close() delivers every queued event, then ends the body cleanly',
        async run(t) {
          const streams: EventStream[] = [];
          const server = await t.mount(
            (stream) => {
              streams.push(stream);
              for (let i = 0; i < 120; i++) stream.send({ id: String(i), data: `${i}:${'q'.repeat(8000)}` });
              stream.close();
            },
            { keepAlive: false, maxBufferedBytes: 4 << 20 },
          );
          const client = t.track(await requestEventStream(server.url));
          expect(await client.waitForEnd()).toBe('end');
          expect(client.events.map((e) => e.id)).toEqual(Array.from({ length: 120 }, (_, i) => String(i)));
          expect(client.parseErrors).toEqual([]);
          expect(await within(streams[0]!.closed, 'stream.closed')).toEqual({ reason: 'server' });
          expect(streams[0]!.signal.aborted).toBe(true);
        },
      },
      ...EVENT_SOURCES.map((kind) => ({
        title: `${kind} EventSource receives the last event, then prepares to reconnect`,
        async run(t: CaseContext) {
          const closed: Array<Promise<CloseInfo>> = [];
          const server = await t.mount(
            (stream) => {
              closed.push(stream.closed);
              stream.send('bye');
              stream.close();
            },
            // A long retry, so that the client is still waiting to reconnect when the test looks.
            { keepAlive: false, retry: 60_000 },
          );
          const source = t.track(new EventSourceClient(kind, server.url));
          await source.waitForMessages(1);
          await source.until(() => source.errors === 1, 'the end of the stream', () => source.summary());
          expect(source.messages.map((m) => m.data)).toEqual(['bye']);
          // 0 = CONNECTING: a clean end is a reason to reconnect, not to give up.
          expect(source.readyState).toBe(0);
          expect(await within(closed[0]!, 'stream.closed')).toEqual({ reason: 'server' });
        },
      })),
    ],
  },
  {
    name: 'handler-error',
    tests: [
      {
        title: 'a throwing or rejecting handler closes its stream (reason error) and goes to onError; no 500, the server keeps serving',
        async run(t) {
          const errors: unknown[] = [];
          const streams: EventStream[] = [];
          const thrown = new Error('handler threw');
          const rejected = new Error('handler rejected');
          const server = await t.mount(
            (stream) => {
              const index = streams.push(stream) - 1;
              stream.send('before');
              if (index === 0) throw thrown;
              if (index === 1) return nextTurn().then(() => Promise.reject(rejected));
              stream.send('still serving');
              return undefined;
            },
            { keepAlive: false, onError: (error) => errors.push(error) },
          );
          for (const [index, error] of [thrown, rejected].entries()) {
            // Node sinks send the head when the stream opens, so the client sees 200 and then the
            // connection cut. A Fetch runtime sends the head only once the handler returned, so a
            // handler that throws at once may cut the connection before any head. Both make
            // EventSource reconnect; what must never come is another status, such as a 500.
            const client = await requestEventStream(server.url).catch((reason: unknown) => {
              expect((reason as { code?: unknown }).code, String(reason)).toBe('ECONNRESET');
              return undefined;
            });
            if (client !== undefined) {
              t.track(client);
              expect(client.status).toBe(200);
              expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
              await client.waitForEnd();
              expect(client.text).not.toMatch(/500|Internal Server Error|<html/i);
            }
            expect(await within(streams[index]!.closed, 'stream.closed')).toEqual({ reason: 'error', error });
          }
          expect(errors).toEqual([thrown, rejected]);
          const after = t.track(await requestEventStream(server.url));
          expect((await after.waitForEvents(2)).map((e) => e.data)).toEqual(['before', 'still serving']);
        },
      },
    ],
  },
];
