import { reject, stopReconnecting, type EventStream, type Rejection, type ReplayResult } from '@sse/core';
import { expect } from 'vitest';
import { connectRawSocket, EventSourceClient, requestEventStream, type EventSourceKind } from '../clients.js';
import { deferred, eventually, withQuery, type CaseContext, type CaseGroup, type Deferred } from '../harness.js';

const EVENT_SOURCES: EventSourceKind[] = ['undici', 'eventsource'];

export const reconnectCases: CaseGroup[] = [
  {
    name: 'last-event-id',
    tests: [
      {
        title: 'reads Last-Event-ID from the header (UTF-8 bytes included) and from the lastEventId query parameter',
        async run(t) {
          const seen: Array<string | undefined> = [];
          const server = await t.mount(
            (stream) => {
              seen.push(stream.lastEventId);
              stream.close();
            },
            { keepAlive: false },
          );
          const read = async (url: string, headers?: Record<string, string>): Promise<void> => {
            const client = t.track(await requestEventStream(url, headers === undefined ? {} : { headers }));
            await client.waitForEnd();
          };
          await read(server.url);
          await read(server.url, { 'Last-Event-ID': '42' });
          await read(withQuery(server.url, { lastEventId: '43' }));
          // Over-long ids are ignored (the default limit is 1024 characters).
          await read(server.url, { 'Last-Event-ID': 'x'.repeat(2000) });
          // Browsers send the id as UTF-8 bytes, which Node shows as latin1 characters.
          const utf8 = t.track(
            await connectRawSocket(server.url, { rawHeaders: { 'Last-Event-ID': Buffer.from('é-7 ✓', 'utf8').toString('latin1') } }),
          );
          await utf8.waitForEnd();
          expect(seen).toEqual([undefined, '42', '43', undefined, 'é-7 ✓']);
        },
      },
    ],
  },
  {
    name: 'replay',
    tests: [
      ...EVENT_SOURCES.map((kind) => ({
        title: `${kind} EventSource reconnects with Last-Event-ID and the channel replays what it missed, no gap, no duplicate`,
        async run(t: CaseContext) {
          const channel = await t.createChannel();
          const streams: EventStream[] = [];
          const replays: ReplayResult[] = [];
          const gates: Array<Deferred<void>> = [deferred(), deferred()];
          gates[0]!.resolve();
          const server = await t.mount(
            async (stream) => {
              const index = streams.push(stream) - 1;
              await gates[index]?.promise;
              channel.subscribe(stream, { onReplay: (result) => replays.push(result) });
            },
            { keepAlive: false, retry: 20 },
          );
          const source = t.track(new EventSourceClient(kind, server.url, ['live']));
          await eventually(() => channel.size === 1, 'the first connection to subscribe');
          const ids = [await channel.broadcast('a'), await channel.broadcast('b'), await channel.broadcast('c')];
          await source.waitForMessages(3);

          streams[0]!.close();
          await eventually(() => streams.length === 2, 'the client to reconnect');
          expect(streams[1]!.lastEventId).toBe(ids[2]);
          // Published while the client was away; the second connection subscribes only after this.
          ids.push(await channel.broadcast('d'), await channel.broadcast('e'));
          gates[1]!.resolve();
          await eventually(() => channel.size === 1, 'the second connection to subscribe');
          ids.push(await channel.broadcast({ event: 'live', data: 'f' }));

          const messages = await source.waitForMessages(6);
          expect(messages).toEqual([
            ...['a', 'b', 'c', 'd', 'e'].map((data, i) => ({ type: 'message', data, lastEventId: ids[i] })),
            { type: 'live', data: 'f', lastEventId: ids[5] },
          ]);
          expect(replays).toEqual([{ status: 'none' }, { status: 'replayed', lastEventId: ids[2], count: 2 }]);
        },
      })),
      {
        title: 'an unknown Last-Event-ID: the client gets the sse-gap event first, onReplay is told unknown, and live events follow',
        async run(t) {
          const channel = await t.createChannel();
          const replays: ReplayResult[] = [];
          const server = await t.mount(
            (stream) => {
              channel.subscribe(stream, {
                onReplay: (result) => {
                  replays.push(result);
                  if (result.status === 'unknown') stream.send({ event: 'refresh', data: 'full state' });
                },
              });
            },
            { keepAlive: false },
          );
          await channel.broadcast('before');
          const client = t.track(await requestEventStream(server.url, { headers: { 'Last-Event-ID': 'never-issued' } }));
          await eventually(() => channel.size === 1, 'the stream to subscribe');
          await channel.broadcast('live');
          const events = await client.waitForEvents(3);
          expect(events.map((e) => [e.event, e.data])).toEqual([
            ['sse-gap', '{"reason":"unknown-id","lastEventId":"never-issued"}'],
            ['refresh', 'full state'],
            [undefined, 'live'],
          ]);
          expect(replays).toEqual([{ status: 'unknown', lastEventId: 'never-issued' }]);
        },
      },
    ],
  },
  {
    name: 'reject',
    tests: [
      {
        title: 'authorize answers 401, 403, 429 and 503 (+ Retry-After) before any event-stream header, and never runs the handler',
        async run(t) {
          let verdict = true as boolean | Rejection | Promise<Rejection>;
          let handled = 0;
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.close();
            },
            { keepAlive: false, authorize: () => verdict },
          );
          const cases: Array<[typeof verdict, number, Record<string, string>, string]> = [
            [reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } }), 401, { 'www-authenticate': 'Bearer' }, 'Unauthorized'],
            [false, 403, {}, 'Forbidden'],
            [reject(429, { retryAfter: 30 }), 429, { 'retry-after': '30' }, 'Too Many Requests'],
            [Promise.resolve(reject(503, { retryAfter: 5, body: 'restarting' })), 503, { 'retry-after': '5' }, 'restarting'],
          ];
          for (const [answer, status, headers, body] of cases) {
            verdict = answer;
            const client = t.track(await requestEventStream(server.url));
            await client.waitForEnd();
            expect(client.status).toBe(status);
            expect(client.headers).toMatchObject(headers);
            expect(client.headers['content-type'] ?? '').not.toContain('text/event-stream');
            expect(client.headers['x-accel-buffering']).toBeUndefined();
            expect(client.text).toBe(body);
          }
          expect(handled).toBe(0);

          verdict = reject(401);
          const source = t.track(new EventSourceClient('undici', server.url));
          await source.until(() => source.readyState === 2, 'EventSource to fail for good', () => source.summary());
          expect(source.opens).toBe(0);

          verdict = true;
          const allowed = t.track(await requestEventStream(server.url));
          expect(allowed.status).toBe(200);
          expect(allowed.headers['content-type']).toBe('text/event-stream; charset=utf-8');
          await allowed.waitForEnd();
          expect(handled).toBe(1);
        },
      },
    ],
  },
  {
    name: 'stop-204',
    tests: [
      {
        title: 'stopReconnecting() answers 204 and EventSource clients close for good',
        async run(t) {
          let asked = 0;
          const server = await t.mount(() => undefined, {
            keepAlive: false,
            authorize: () => {
              asked++;
              return stopReconnecting();
            },
          });
          const client = t.track(await requestEventStream(server.url));
          expect(await client.waitForEnd()).toBe('end');
          expect(client.status).toBe(204);
          expect(client.bytes).toBe(0);
          expect(client.headers['content-type']).toBeUndefined();
          for (const kind of EVENT_SOURCES) {
            const source = t.track(new EventSourceClient(kind, server.url));
            await source.until(() => source.readyState === 2, `${kind} EventSource to close for good`, () => source.summary());
            expect(source.opens).toBe(0);
          }
          expect(asked).toBe(3);
        },
      },
    ],
  },
];
