import { createServer } from 'node:http';
import compression from 'compression';
import express5, { type ErrorRequestHandler, type Express } from 'express';
import express4 from 'express4';
import { listen, expectEventsOneByOne, requestEventStream, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reject, sse, SseError, SseHeadersSentError, stopReconnecting, type CloseInfo, type EventStream } from '../src/index.js';

const servers: MountedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(app: Express, path = '/events'): Promise<string> {
  const server = await listen(createServer(app), path);
  servers.push(server);
  return server.url;
}

/** Waits for a condition that other I/O makes true. */
function until(condition: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
])('%s', (_name, express) => {
  describe('headers already sent ("Cannot set headers after they are sent")', () => {
    it('passes a typed SseHeadersSentError to next() when an earlier middleware already responded', async () => {
      const errors: unknown[] = [];
      const handler = vi.fn();
      const onError: ErrorRequestHandler = (error, _req, res, _next) => {
        errors.push(error);
        res.end();
      };
      const app = express()
        .use((_req, res, next) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('an earlier middleware started the response');
          next();
        })
        .get('/events', sse(handler))
        .use(onError);
      const client = await requestEventStream(await start(app));
      await client.waitForEnd();
      expect(handler).not.toHaveBeenCalled();
      expect(errors).toHaveLength(1);
      const error = errors[0] as SseHeadersSentError;
      expect(error).toBeInstanceOf(SseHeadersSentError);
      expect(error.code).toBe('ERR_SSE_HEADERS_SENT');
      expect(error.state).toBe('headers were already sent with status 200');
      expect(error.message).toMatch(/open the event stream before anything writes to the response/);
    });

    it('res.json() in the handler after the stream opened ends the stream cleanly and is reported, not thrown', async () => {
      const errors: unknown[] = [];
      const closed: Array<Promise<CloseInfo>> = [];
      const app = express().get(
        '/events',
        sse(
          (stream, _req, res) => {
            closed.push(stream.closed);
            stream.send('before');
            res.status(500).json({ error: 'should never reach the stream' });
          },
          { onError: (error) => errors.push(error) },
        ),
      );
      const client = await requestEventStream(await start(app));
      expect(await client.waitForEnd()).toBe('end');
      expect(client.events.map((e) => e.data)).toEqual(['before']);
      expect(client.text).not.toContain('should never reach the stream');
      expect(await closed[0]).toEqual({ reason: 'server' });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SseError);
      expect(errors[0]).toMatchObject({ code: 'ERR_SSE_RESPONSE_STREAMING', message: expect.stringMatching(/^res\.json\(\) was called after the event stream opened/) });
    });

    it('res.send() from a timer after the stream opened cannot crash the process', async () => {
      const errors: unknown[] = [];
      const app = express().get(
        '/events',
        sse(
          (stream, _req, res) => {
            stream.send('first');
            setTimeout(() => res.send('late body'), 5);
          },
          { onError: (error) => errors.push(error) },
        ),
      );
      const client = await requestEventStream(await start(app));
      expect(await client.waitForEnd()).toBe('end');
      expect(client.text).not.toContain('late body');
      expect(errors).toMatchObject([{ code: 'ERR_SSE_RESPONSE_STREAMING' }]);
    });

    it('res.format() after the stream opened is reported like res.send(): no 406 through a router that has let the request go', async () => {
      const errors: unknown[] = [];
      const app = express().get(
        '/events',
        sse(
          (stream, _req, res) => {
            stream.send('first');
            res.format({ 'application/json': () => res.json({ never: true }) });
          },
          { onError: (error) => errors.push(error) },
        ),
      );
      const client = await requestEventStream(await start(app));
      expect(await client.waitForEnd()).toBe('end');
      expect(client.events.map((e) => e.data)).toEqual(['first']);
      expect(errors).toMatchObject([{ code: 'ERR_SSE_RESPONSE_STREAMING', message: expect.stringMatching(/^res\.format\(\) was called/) }]);
    });

    it("once the stream opened, req.next no longer keeps the router's state for the request alive", async () => {
      const seen: unknown[] = [];
      const app = express().get(
        '/events',
        (req, _res, next) => {
          seen.push(typeof req.next);
          next();
        },
        sse((stream, req) => {
          seen.push(req.next);
          stream.send('open');
          stream.close();
        }),
      );
      const client = await requestEventStream(await start(app));
      expect(await client.waitForEnd()).toBe('end');
      expect(client.events.map((e) => e.data)).toEqual(['open']);
      expect(seen).toEqual(['function', undefined]);
    });

    it('next(err) after the stream opened, with an error handler that answers 500 as JSON, never writes into the stream', async () => {
      const streams: EventStream[] = [];
      const seenByErrorHandler: unknown[] = [];
      const onError: ErrorRequestHandler = (error, _req, res, _next) => {
        seenByErrorHandler.push(error);
        res.status(500).json({ error: 'failed late' });
      };
      const app = express()
        .get('/events', (req, res, next) => {
          sse((stream) => {
            streams.push(stream);
            stream.send('streaming');
          }, { onError: () => undefined })(req, res, next);
          setTimeout(() => next(new Error('a late failure elsewhere')), 10);
        })
        .use(onError);
      const client = await requestEventStream(await start(app));
      await client.waitForEvents(1);
      await client.waitForEnd();
      expect(seenByErrorHandler).toHaveLength(1);
      expect(client.text).not.toContain('failed late');
      expect(client.events.map((e) => e.data)).toEqual(['streaming']);
      expect(client.parseErrors).toEqual([]);
      await until(() => streams[0]!.isClosed);
    });
  });

  describe('auth and rate limits before the stream', () => {
    it('authorize sees req and res and answers 401, 429 + Retry-After or 204 before any stream header', async () => {
      const app = express().get(
        '/events',
        sse((stream) => stream.send('welcome'), {
          authorize: (req) => {
            if (req.query.gone === '1') return stopReconnecting();
            if (req.get('authorization') !== 'Bearer ok') return reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } });
            if (req.query.busy === '1') return reject(429, { retryAfter: 30 });
            return true;
          },
        }),
      );
      const url = await start(app);
      const anonymous = await requestEventStream(url);
      expect([anonymous.status, anonymous.headers['www-authenticate'], anonymous.headers['content-type']]).toEqual([401, 'Bearer', 'text/plain; charset=utf-8']);
      const limited = await requestEventStream(`${url}?busy=1`, { headers: { authorization: 'Bearer ok' } });
      expect([limited.status, limited.headers['retry-after']]).toEqual([429, '30']);
      const gone = await requestEventStream(`${url}?gone=1`);
      expect(gone.status).toBe(204);
      const allowed = await requestEventStream(url, { headers: { authorization: 'Bearer ok' } });
      expect(allowed.status).toBe(200);
      expect((await allowed.waitForEvents(1)).map((e) => e.data)).toEqual(['welcome']);
      allowed.close();
    });

    it('ordinary middleware can reject before sse() writes anything', async () => {
      const handler = vi.fn();
      const app = express().get(
        '/events',
        (_req, res) => {
          res.status(429).set('Retry-After', '10').send('slow down');
        },
        sse(handler),
      );
      const client = await requestEventStream(await start(app));
      await client.waitForEnd();
      expect([client.status, client.headers['retry-after'], client.text]).toEqual([429, '10', 'slow down']);
      expect(handler).not.toHaveBeenCalled();
    });

    it('an authorize that throws goes to Express error handling (nothing was streamed, so a 500 is fine)', async () => {
      const errors: unknown[] = [];
      const failure = new Error('auth backend down');
      const onError: ErrorRequestHandler = (error, _req, res, _next) => {
        errors.push(error);
        res.status(503).send('try later');
      };
      const app = express()
        .get('/events', sse(() => undefined, { authorize: () => Promise.reject(failure) }))
        .use(onError);
      const client = await requestEventStream(await start(app));
      await client.waitForEnd();
      expect([client.status, client.text]).toEqual([503, 'try later']);
      expect(errors).toEqual([failure]);
    });
  });

  describe('compression middleware in front of the stream', () => {
    it('with the default Cache-Control: no-transform, compression leaves the stream alone and events arrive one by one', async () => {
      const streams: EventStream[] = [];
      const app = express().use(compression()).get('/events', sse((stream) => void streams.push(stream), { keepAlive: false }));
      const client = await requestEventStream(await start(app), { headers: { 'accept-encoding': 'gzip' } });
      expect(client.headers['content-encoding']).toBeUndefined();
      await until(() => streams.length === 1);
      await expectEventsOneByOne(client, (n) => streams[0]!.send(`event ${n}`));
      client.close();
    });

    it('when compression applies, res.flush() after each write delivers every event at once, not at the end', async () => {
      const streams: EventStream[] = [];
      const app = express()
        .use(compression())
        .get('/events', sse((stream) => void streams.push(stream), { keepAlive: false, headers: { 'cache-control': 'no-cache' } }));
      const client = await requestEventStream(await start(app), { headers: { 'accept-encoding': 'gzip' } });
      expect(client.headers['content-encoding']).toBe('gzip');
      await until(() => streams.length === 1);
      // Each event must arrive before the next is sent: a held-back gzip buffer would hang here.
      const received = await expectEventsOneByOne(client, (n) => streams[0]!.send({ id: String(n), data: `compressed event ${n}` }));
      expect(received).toEqual([1, 2, 3].map((n) => ({ id: String(n), event: undefined, data: `compressed event ${n}` })));
      streams[0]!.close();
      expect(await client.waitForEnd()).toBe('end');
    });
  });

  it('a POST stream stays open after express.json() read its body', async () => {
    const streams: EventStream[] = [];
    const bodies: unknown[] = [];
    const requests: Array<{ readableEnded: boolean; closed: boolean }> = [];
    const app = express().post(
      '/events',
      express.json(),
      sse(
        (stream, req) => {
          streams.push(stream);
          requests.push(req);
          bodies.push(req.body);
          stream.send({ data: { received: req.body as unknown } });
        },
        { keepAlive: false },
      ),
    );
    const client = await requestEventStream(await start(app), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'news' }),
    });
    await client.waitForEvents(1);
    expect(bodies).toEqual([{ topic: 'news' }]);
    expect(requests[0]!.readableEnded).toBe(true);
    // The request emits 'close' once its body was read; a sink listening to it would end here.
    await until(() => requests[0]!.closed);
    expect(streams[0]!.isClosed).toBe(false);
    streams[0]!.send('still open');
    expect((await client.waitForEvents(2)).map((e) => e.data)).toEqual(['{"received":{"topic":"news"}}', 'still open']);
    client.close();
  });
});
