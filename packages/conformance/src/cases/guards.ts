import { createStreamRegistry, type AuthorizeResult } from '@sse/core';
import { expect } from 'vitest';
import { rawExchange, requestEventStream, type RawExchange } from '../clients.js';
import { eventually, type CaseGroup } from '../harness.js';

/** The head and body of the responses read so far on a raw socket, split at each status line. */
function responses(exchange: RawExchange): string[] {
  return exchange.received().split(/(?=HTTP\/1\.1 \d{3} )/).filter((part) => part !== '');
}

function rawRequest(method: string, pathname: string): string {
  return `${method} ${pathname} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`;
}

export const guardCases: CaseGroup[] = [
  {
    name: 'reject-plain',
    tests: [
      {
        title: 'a hand-made rejection ({ status }, with or without headers and body, 204) answers as reject() would; status 200 is refused with a 500',
        async run(t) {
          let verdict: AuthorizeResult = true;
          let handled = 0;
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.close();
            },
            { keepAlive: false, authorize: () => verdict },
          );
          const cases: Array<[AuthorizeResult, number, Record<string, string>, string]> = [
            [{ status: 401 }, 401, {}, 'Unauthorized'],
            [{ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }, 401, { 'www-authenticate': 'Bearer' }, 'Unauthorized'],
            [{ status: 403, body: 'admins only' }, 403, {}, 'admins only'],
            [{ status: 429, retryAfter: 30 }, 429, { 'retry-after': '30' }, 'Too Many Requests'],
            [{ status: 204 }, 204, {}, ''],
          ];
          for (const [answer, status, headers, body] of cases) {
            verdict = answer;
            const client = t.track(await requestEventStream(server.url));
            await client.waitForEnd();
            expect([client.status, client.text], JSON.stringify(answer)).toEqual([status, body]);
            expect(client.headers).toMatchObject(headers);
            expect(client.headers['content-type'] ?? '').not.toContain('text/event-stream');
          }
          // A status that would open a stream is a programming error: the framework's error path answers it.
          verdict = { status: 200 };
          const refused = t.track(await requestEventStream(server.url));
          await refused.waitForEnd();
          expect(refused.status).toBe(500);
          expect(handled).toBe(0);
        },
      },
    ],
  },
  {
    name: 'fail-closed',
    tests: [
      {
        title: 'authorize opens a stream only on true: undefined, null, 0, empty string and Promise<undefined> answer 403 and are reported as ERR_SSE_AUTHORIZE_RESULT',
        async run(t) {
          let verdict: unknown;
          let handled = 0;
          const errors: unknown[] = [];
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.close();
            },
            { keepAlive: false, authorize: () => verdict as AuthorizeResult, onError: (error) => errors.push(error) },
          );
          const values: unknown[] = [undefined, null, 0, '', Promise.resolve(undefined)];
          for (const value of values) {
            verdict = value;
            const client = t.track(await requestEventStream(server.url));
            await client.waitForEnd();
            expect(client.status).toBe(403);
            expect(client.headers['content-type'] ?? '').not.toContain('text/event-stream');
          }
          expect(handled).toBe(0);
          expect(errors.map((error) => (error as { code?: unknown }).code)).toEqual(values.map(() => 'ERR_SSE_AUTHORIZE_RESULT'));
          expect(String((errors[0] as Error).message)).toContain('authorize must return true to open the stream, false or a reject(...) to refuse; it returned undefined');
          verdict = true;
          const allowed = t.track(await requestEventStream(server.url));
          await allowed.waitForEnd();
          expect([allowed.status, handled, errors.length]).toEqual([200, 1, values.length]);
        },
      },
    ],
  },
  {
    name: 'head',
    tests: [
      {
        title: 'a HEAD is answered with the event-stream headers and ended: the next request on the same keep-alive socket is served',
        async run(t) {
          let handled = 0;
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.send('hello');
            },
            { keepAlive: false },
          );
          const { pathname } = new URL(server.url);
          const exchange = await rawExchange(server.url, rawRequest('HEAD', pathname));
          t.track({ close: () => exchange.socket.destroy() });
          await eventually(() => exchange.received().includes('\r\n\r\n'), 'the HEAD response', () => exchange.received());
          const [head = ''] = responses(exchange);
          expect(head).toMatch(/^HTTP\/1\.1 200 /);
          expect(head.toLowerCase()).toContain('content-type: text/event-stream');
          expect(handled).toBe(0);
          exchange.socket.write(rawRequest('GET', pathname));
          await eventually(() => exchange.received().includes('data: hello'), 'the GET on the same socket to stream', () => exchange.received());
          const [headAgain = '', get = ''] = responses(exchange);
          // Nothing but the head: no body (no chunk, no event) came before the next response.
          expect(headAgain.endsWith('\r\n\r\n')).toBe(true);
          expect(headAgain).not.toContain('data:');
          expect(get).toMatch(/^HTTP\/1\.1 200 /);
          expect(handled).toBe(1);
        },
      },
      {
        title: '25 HEADs against maxStreams: 20 run no handler and hold no registry slot',
        async run(t) {
          const registry = createStreamRegistry({ maxStreams: 20 });
          let handled = 0;
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.send('hello');
            },
            { keepAlive: false, registry },
          );
          const { pathname } = new URL(server.url);
          for (let i = 0; i < 25; i++) {
            const exchange = await rawExchange(server.url, rawRequest('HEAD', pathname));
            t.track({ close: () => exchange.socket.destroy() });
            await eventually(() => exchange.received().includes('\r\n\r\n'), `HEAD ${i + 1} to be answered`, () => exchange.received());
            expect(exchange.received()).toMatch(/^HTTP\/1\.1 200 /);
          }
          expect([registry.size, handled]).toEqual([0, 0]);
          const client = t.track(await requestEventStream(server.url));
          expect(client.status).toBe(200);
          await client.waitForEvents(1);
          expect([registry.size, handled]).toEqual([1, 1]);
        },
      },
    ],
  },
];
