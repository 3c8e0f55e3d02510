import type { EventStream, StreamEvent, SendableData } from '@sse/core';
import { expect } from 'vitest';
import { connectRawSocket, EventSourceClient, requestEventStream, type EventSourceKind } from '../clients.js';
import { deferred, type CaseGroup } from '../harness.js';

interface FramingSample {
  send: StreamEvent | SendableData;
  /** What every client must dispatch: the type, the data, and the last event id in force. */
  type: string;
  data: string;
  /** The `id` field of this very frame (what `eventsource-parser` reports), if it has one. */
  id?: string;
  lastEventId: string;
}

const BIG = 'x'.repeat(199_999) + 'y';

/** Each sample is sent as written and must reach every client exactly as `data`. */
export const FRAMING_SAMPLES: FramingSample[] = [
  { send: 'plain', type: 'message', data: 'plain', lastEventId: '' },
  { send: 'two\nlines', type: 'message', data: 'two\nlines', lastEventId: '' },
  // CR and CRLF are line breaks to a client: they arrive as LF (documented normalisation).
  { send: 'crlf\r\nline', type: 'message', data: 'crlf\nline', lastEventId: '' },
  { send: 'cr\rline', type: 'message', data: 'cr\nline', lastEventId: '' },
  { send: ' leading space kept', type: 'message', data: ' leading space kept', lastEventId: '' },
  { send: '', type: 'message', data: '', lastEventId: '' },
  { send: 'trailing\n', type: 'message', data: 'trailing\n', lastEventId: '' },
  { send: 'blank\n\nline inside', type: 'message', data: 'blank\n\nline inside', lastEventId: '' },
  { send: 'data: not a field\nevent: nor this\nid: nor this', type: 'message', data: 'data: not a field\nevent: nor this\nid: nor this', lastEventId: '' },
  { send: ': not a comment', type: 'message', data: ': not a comment', lastEventId: '' },
  { send: 'unicode é 中文 😀 \u2028 end', type: 'message', data: 'unicode é 中文 😀 \u2028 end', lastEventId: '' },
  // A lone surrogate cannot be UTF-8: it arrives as U+FFFD.
  { send: 'lone \ud800 surrogate', type: 'message', data: 'lone \ufffd surrogate', lastEventId: '' },
  { send: 42, type: 'message', data: '42', lastEventId: '' },
  { send: [1, 'two', null], type: 'message', data: '[1,"two",null]', lastEventId: '' },
  { send: { data: { nested: { ok: true } } }, type: 'message', data: '{"nested":{"ok":true}}', lastEventId: '' },
  { send: { event: 'custom:type', data: 'named' }, type: 'custom:type', data: 'named', lastEventId: '' },
  // An event with no data still fires, with empty data.
  { send: { event: 'tick' } as StreamEvent, type: 'tick', data: '', lastEventId: '' },
  { send: { id: 'id-1', data: 'with id' }, type: 'message', data: 'with id', id: 'id-1', lastEventId: 'id-1' },
  { send: 'the id persists', type: 'message', data: 'the id persists', lastEventId: 'id-1' },
  { send: { id: 7, data: 'numeric id' }, type: 'message', data: 'numeric id', id: '7', lastEventId: '7' },
  { send: { id: '', data: 'id reset' }, type: 'message', data: 'id reset', id: '', lastEventId: '' },
  { send: BIG, type: 'message', data: BIG, lastEventId: '' },
  { send: 'last', type: 'message', data: 'last', lastEventId: '' },
];

const EVENT_TYPES = ['custom:type', 'tick'];
const EVENT_SOURCES: EventSourceKind[] = ['undici', 'eventsource'];

function sendAll(stream: EventStream): void {
  for (const sample of FRAMING_SAMPLES) stream.send(sample.send as StreamEvent);
}

export const wireCases: CaseGroup[] = [
  {
    name: 'framing',
    tests: [
      {
        title: 'events, line breaks, unicode and ids round-trip through undici EventSource, the eventsource package and eventsource-parser',
        async run(t) {
          const server = await t.mount(sendAll, { keepAlive: false });
          const raw = t.track(await requestEventStream(server.url));
          const sources = EVENT_SOURCES.map((kind) => t.track(new EventSourceClient(kind, server.url, EVENT_TYPES)));

          const events = await raw.waitForEvents(FRAMING_SAMPLES.length);
          expect(raw.parseErrors).toEqual([]);
          expect(events.map((e) => ({ type: e.event ?? 'message', data: e.data, id: e.id }))).toEqual(
            FRAMING_SAMPLES.map((s) => ({ type: s.type, data: s.data, id: s.id })),
          );
          for (const source of sources) {
            const messages = await source.waitForMessages(FRAMING_SAMPLES.length);
            expect(messages, `${source.kind} EventSource`).toEqual(
              FRAMING_SAMPLES.map((s) => ({
                type: s.type,
                data: s.data,
                // The eventsource package reports only the event's own id, not the one in force
                // (the spec's "last event ID buffer"); undici follows the spec.
                lastEventId: source.kind === 'eventsource' ? (s.id ?? '') : s.lastEventId,
              })),
            );
          }
        },
      },
    ],
  },
  {
    name: 'whole-events',
    tests: [
      {
        title: 'every write on the wire holds whole events, also when queued events are flushed in batches',
        async run(t) {
          const server = await t.mount(
            (stream) => {
              sendAll(stream);
              // A burst larger than any socket buffer: the overflow is queued and later written in batches.
              for (let i = 0; i < 300; i++) stream.send({ id: `burst-${i}`, data: 'b'.repeat(4000) });
              stream.send('done');
            },
            { keepAlive: false, maxBufferedBytes: 8 << 20 },
          );
          const client = t.track(await connectRawSocket(server.url));
          await client.waitForEvents(FRAMING_SAMPLES.length + 301);
          expect(client.parseErrors).toEqual([]);
          expect(client.chunks.length).toBeGreaterThan(0);
          const torn = client.chunks.filter((chunk) => !chunk.toString('utf8').endsWith('\n\n'));
          expect(torn.map((chunk) => chunk.toString('utf8').slice(-60)), 'chunks that end inside an event').toEqual([]);
        },
      },
    ],
  },
  {
    name: 'injection',
    tests: [
      {
        title: 'CR/LF/NUL in event names and ids, bad retries and unknown keys throw SseFormatError and write nothing',
        async run(t) {
          const outcomes: Array<{ name: string; code: unknown; field: unknown } | 'sent'> = [];
          const attempts: Array<(stream: EventStream) => unknown> = [
            (s) => s.send({ event: 'a\nb', data: 'x' }),
            (s) => s.send({ event: 'x\rdata: injected', data: 'x' }),
            (s) => s.send({ id: '1\n\ndata: injected', data: 'x' }),
            (s) => s.send({ id: 'a\r\nevent: injected', data: 'x' }),
            (s) => s.send({ id: 'nul\u0000id', data: 'x' }),
            (s) => s.send({ id: 'non-ascii-é', data: 'x' }),
            (s) => s.send({ retry: -1 }),
            (s) => s.send({ retry: 1.5 }),
            (s) => s.send({ retry: Number.NaN }),
            (s) => s.send({ event: 'ok', data: 'x', injected: 'y' } as unknown as StreamEvent),
          ];
          const server = await t.mount(
            (stream) => {
              for (const attempt of attempts) {
                try {
                  attempt(stream);
                  outcomes.push('sent');
                } catch (error) {
                  const e = error as { name?: unknown; code?: unknown; field?: unknown };
                  outcomes.push({ name: String(e.name), code: e.code, field: e.field });
                }
              }
              // Comments cannot inject either: each line of a multi-line comment stays a comment.
              stream.comment('line\ndata: injected\n\nevent: injected');
              stream.send('after');
            },
            { keepAlive: false },
          );
          const client = t.track(await requestEventStream(server.url));
          await client.waitForEvents(1);
          expect(outcomes).toHaveLength(attempts.length);
          for (const outcome of outcomes) expect(outcome).toMatchObject({ name: 'SseFormatError', code: 'ERR_SSE_FORMAT' });
          expect(outcomes.map((o) => (o === 'sent' ? o : o.field))).toEqual(['event', 'event', 'id', 'id', 'id', 'id', 'retry', 'retry', 'retry', 'message']);
          expect(client.events.map((e) => e.data)).toEqual(['after']);
          const injectedLines = client.text.split('\n').filter((line) => line.includes('injected') && !line.startsWith(':'));
          expect(injectedLines).toEqual([]);
        },
      },
    ],
  },
  {
    name: 'headers',
    tests: [
      {
        title: 'answers 200 with the event-stream headers and no length',
        async run(t) {
          const server = await t.mount(() => undefined, { keepAlive: false });
          const client = t.track(await requestEventStream(server.url));
          expect(client.status).toBe(200);
          expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
          expect(client.headers['cache-control']).toBe('no-cache, no-transform');
          expect(client.headers['x-accel-buffering']).toBe('no');
          expect(client.headers['content-length']).toBeUndefined();
          expect(client.headers['content-encoding']).toBeUndefined();
        },
      },
      {
        title: 'the headers option adds headers and overrides defaults, whatever their case',
        async run(t) {
          const server = await t.mount(() => undefined, {
            keepAlive: false,
            headers: { 'Cache-Control': 'no-store', 'X-Stream-Name': 'conformance' },
          });
          const client = t.track(await requestEventStream(server.url));
          expect(client.headers['cache-control']).toBe('no-store');
          expect(client.headers['x-stream-name']).toBe('conformance');
          expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        },
      },
    ],
  },
  {
    name: 'open-before-first-event',
    tests: [
      {
        title: 'headers and one comment reach the client, and EventSource fires open, before the first event is sent',
        async run(t) {
          const streams: EventStream[] = [];
          const opened = [deferred(), deferred()];
          const server = await t.mount(
            (stream) => {
              opened[streams.push(stream) - 1]?.resolve();
            },
            { keepAlive: false },
          );
          const raw = t.track(await requestEventStream(server.url));
          await opened[0]!.promise;
          expect(raw.status).toBe(200);
          // One comment at open and nothing else: fronts that hold the head until the first body
          // byte (Caddy `encode`, nginx over HTTP/2, Bun) then pass the head on at once.
          await raw.until(() => raw.comments.length === 1, 'the comment at open');
          expect(raw.text).toBe(':\n\n');
          expect(raw.events).toEqual([]);
          streams[0]!.send('first');
          expect((await raw.waitForEvents(1)).map((e) => e.data)).toEqual(['first']);

          const source = t.track(new EventSourceClient('undici', server.url));
          await source.until(() => source.opens === 1, 'EventSource open', () => source.summary());
          await opened[1]!.promise;
          expect(source.messages).toEqual([]);
          streams[1]!.send('first');
          expect((await source.waitForMessages(1)).map((m) => m.data)).toEqual(['first']);
        },
      },
    ],
  },
  {
    name: 'heartbeat',
    tests: [
      {
        title: 'keepAlive sends comments while the stream is idle, which fire no event',
        async run(t) {
          const server = await t.mount(() => undefined, { keepAlive: 20 });
          const client = t.track(await requestEventStream(server.url));
          await client.until(() => client.comments.length >= 3, 'three keep-alive comments');
          expect(client.events).toEqual([]);
          expect(client.parseErrors).toEqual([]);
        },
      },
    ],
  },
  {
    name: 'retry',
    tests: [
      {
        title: 'the retry option is sent first, and send({ retry }) changes it later',
        async run(t) {
          const server = await t.mount(
            (stream) => {
              stream.send({ retry: 2500 });
              stream.send('after');
            },
            { keepAlive: false, retry: 1234, retryJitter: 0 },
          );
          const client = t.track(await requestEventStream(server.url));
          await client.waitForEvents(1);
          expect(client.retries).toEqual([1234, 2500]);
          expect(client.text.startsWith('retry: 1234\n')).toBe(true);
        },
      },
      {
        title: 'EventSource reconnects after a server close, using the retry delay it was given',
        async run(t) {
          let connections = 0;
          const server = await t.mount(
            (stream) => {
              connections++;
              stream.send(`connection ${connections}`);
              if (connections === 1) stream.close();
            },
            { keepAlive: false, retry: 20 },
          );
          for (const kind of EVENT_SOURCES) {
            connections = 0;
            const source = t.track(new EventSourceClient(kind, server.url));
            const messages = await source.waitForMessages(2);
            expect(messages.map((m) => m.data)).toEqual(['connection 1', 'connection 2']);
            source.close();
          }
        },
      },
    ],
  },
];
