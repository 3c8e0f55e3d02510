import type { EventStream } from '@sse/core';
import { expect } from 'vitest';
import { requestHttp2EventStream } from '../clients.js';
import { eventually, nextTurn, within, type CaseGroup } from '../harness.js';
import { expectDisconnectPolicy, flood } from './backpressure.js';

/** Hop-by-hop headers HTTP/2 forbids (RFC 9113 §8.2.2): Node drops them with a warning, or throws. */
const FORBIDDEN = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade'];

/** Warnings the suite's own clients may raise (undici's EventSource is marked experimental). */
function isClientWarning(warning: Error & { code?: string }): boolean {
  return warning.code?.startsWith('UNDICI') === true || warning.name === 'ExperimentalWarning';
}

export const http2Cases: CaseGroup[] = [
  {
    name: 'http2',
    tests: [
      {
        title: 'HTTP/2: event-stream headers without Connection, Keep-Alive or Transfer-Encoding, no process warning, events intact',
        async run(t) {
          const warnings: Error[] = [];
          const onWarning = (warning: Error): void => {
            if (!isClientWarning(warning)) warnings.push(warning);
          };
          process.on('warning', onWarning);
          try {
            const server = await t.mountHttp2(
              (stream) => {
                stream.send({ id: 'h2-1', event: 'greeting', data: 'héllo 😀\nover h2' });
                stream.send('second');
              },
              { keepAlive: false },
            );
            const client = t.track(await requestHttp2EventStream(server.url));
            expect(client.status).toBe(200);
            expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
            expect(client.headers['cache-control']).toBe('no-cache, no-transform');
            for (const name of FORBIDDEN) expect(client.headers[name], name).toBeUndefined();
            const events = await client.waitForEvents(2);
            expect(events).toEqual([
              { id: 'h2-1', event: 'greeting', data: 'héllo 😀\nover h2' },
              { id: undefined, event: undefined, data: 'second' },
            ]);
            // Warnings are emitted on the next tick after the offending call.
            await nextTurn();
            expect(warnings.map((w) => `${w.name}: ${w.message}`), 'process warnings').toEqual([]);
          } finally {
            process.off('warning', onWarning);
          }
        },
      },
      {
        title: 'HTTP/2: a cancelled request (RST_STREAM) closes the stream with reason client and frees the session',
        async run(t) {
          const streams: EventStream[] = [];
          const server = await t.mountHttp2(
            (stream) => {
              streams.push(stream);
              stream.send('hello');
            },
            { keepAlive: 20 },
          );
          const client = t.track(await requestHttp2EventStream(server.url));
          await client.waitForEvents(1);
          client.close();
          const stream = streams[0]!;
          expect(await within(stream.closed, 'stream.closed after RST_STREAM')).toEqual({ reason: 'client' });
          expect(stream.signal.aborted).toBe(true);
          expect(stream.send('late')).toBe(false);
          if (server.connections !== undefined) {
            const connections = server.connections.bind(server);
            await eventually(async () => (await connections()) === 0, 'the HTTP/2 session to be released');
          }
        },
      },
      {
        title: 'HTTP/2: stream.close() ends the response stream cleanly after the last event',
        async run(t) {
          const server = await t.mountHttp2(
            (stream) => {
              stream.send('last');
              stream.close();
            },
            { keepAlive: false },
          );
          const client = t.track(await requestHttp2EventStream(server.url));
          expect(await client.waitForEnd()).toBe('end');
          expect(client.events.map((e) => e.data)).toEqual(['last']);
        },
      },
      {
        title: 'HTTP/2: a client that stops reading is held by flow control and disconnected past maxBufferedBytes',
        async run(t) {
          const { handler, options, state } = flood('disconnect', 48 << 20);
          const server = await t.mountHttp2(handler, options);
          const client = t.track(await requestHttp2EventStream(server.url));
          client.pause();
          // Only the HTTP/2 stream is reset; the session (the TCP connection) rightly stays open.
          await expectDisconnectPolicy(state, undefined);
        },
      },
    ],
  },
];
