// The `topics` option of sse() over real sockets, with the Fetch family's request flow
// (`serveWebRequest`, as on Bun, Deno and Workers) under @hono/node-server: a raw HTTP client for
// the refusals, and a real EventSource (undici's) that the server cuts off and that comes back by
// itself with the Last-Event-ID it holds, to resume every topic exactly.
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { EventSourceClient, listen, requestEventStream, type MountedServer } from '@sse/conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTopicHub, sse, type AuthorizeResult, type EventStream, type TopicResumeStatus } from '../src/index.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = (condition: () => boolean): Promise<void> => vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });

async function serveTopics(verdict: (topics: string[]) => AuthorizeResult | Promise<AuthorizeResult>) {
  const hub = createTopicHub({ maxTopicsPerStream: 3 });
  const calls = { from: 0, authorize: [] as string[][], handler: [] as string[][] };
  const streams: EventStream[] = [];
  const resumes: Array<readonly TopicResumeStatus[]> = [];
  const app = new Hono().get(
    '/events',
    sse(
        (stream) => {
          streams.push(stream);
          calls.handler.push(hub.topicsOf(stream));
        },
        {
          retry: 50,
          retryJitter: 0,
          keepAlive: false,
          topics: {
            hub,
            from: (c) => {
              calls.from++;
              return c.req.query('topics')?.split(',');
            },
            authorize: (topics) => {
              calls.authorize.push(topics);
              return verdict(topics);
            },
            onResume: (statuses) => void resumes.push(statuses),
          },
        },
      ),
  );
  const server: MountedServer = await listen(createAdaptorServer({ fetch: app.fetch }), '/events');
  cleanups.push(() => server.close(), () => hub.close());
  return { hub, calls, streams, resumes, url: server.url };
}

describe('sse(handler, { topics }) on Hono (@hono/node-server)', () => {
  it('answers 400 for a bad topic list and 403 when topics.authorize does not say true, with no stream opened', async () => {
    const { hub, calls, url } = await serveTopics((topics) => (topics.includes('room:9') ? (undefined as unknown as AuthorizeResult) : !topics.includes('room:666')));
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    cleanups.push(() => consoleError.mockRestore());
    const answers: Array<[string, number, string]> = [];
    for (const query of ['topics=a,b,c,d', 'other=1', 'topics=room:666', 'topics=room:9']) {
      const client = await requestEventStream(`${url}?${query}`);
      await client.waitForEnd();
      answers.push([query, client.status, client.text]);
    }
    expect(answers).toEqual([
      ['topics=a,b,c,d', 400, expect.stringMatching(/^Bad topic list: a stream may hold at most 3 topics/) as unknown],
      ['other=1', 400, 'Bad topic list: name at least one topic'], // no parameter: from answered undefined
      ['topics=room:666', 403, 'Forbidden'],
      ['topics=room:9', 403, 'Forbidden'], // fails closed
    ]);
    // Only the undefined verdict is a server bug worth telling (the default onError logs it).
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![1]).toMatchObject({ code: 'ERR_SSE_AUTHORIZE_RESULT' });
    expect(calls.authorize).toEqual([['room:666'], ['room:9']]); // bad lists never reach authorize
    expect(calls.handler).toEqual([]);
    expect([hub.streamCount, hub.topicCount]).toEqual([0, 0]);
  });

  it('subscribes an allowed stream, and a real EventSource resumes every topic exactly after the server cut it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const served = await serveTopics(async (topics) => {
      // The reconnect waits here until the events it will have missed are published.
      if (served.calls.authorize.length === 2) await held;
      return topics.every((topic) => topic.startsWith('user:') || topic.startsWith('room:'));
    });
    const { hub, calls, streams, resumes, url } = served;
    const source = new EventSourceClient('undici', `${url}?topics=user:42,room:7,user:42`, ['notification', 'message']);
    cleanups.push(() => source.close());
    await until(() => calls.handler.length === 1);
    expect(calls.handler[0]).toEqual(['user:42', 'room:7']); // subscribed before the handler ran
    await hub.publish('room:7', { event: 'message', data: 'hi' });
    await hub.publish('user:42', { event: 'notification', data: 'ping' });
    await source.waitForMessages(2);

    streams[0]!.close(); // a clean end: the EventSource reconnects with its Last-Event-ID
    await until(() => calls.authorize.length === 2);
    await hub.publish('user:42', { event: 'notification', data: 'while away' });
    await hub.publish('room:8', { event: 'message', data: 'not subscribed' });
    await hub.publish('room:7', { event: 'message', data: 'also while away' });
    release();
    await source.waitForMessages(4);
    await until(() => resumes.length === 2);
    await hub.publish('room:7', { event: 'message', data: 'live' });
    await source.waitForMessages(5);

    expect(source.messages.map(({ type, data }) => `${type} ${data}`)).toEqual([
      'message {"topic":"room:7","data":"hi"}',
      'notification {"topic":"user:42","data":"ping"}',
      'notification {"topic":"user:42","data":"while away"}',
      'message {"topic":"room:7","data":"also while away"}',
      'message {"topic":"room:7","data":"live"}',
    ]);
    expect(source.opens).toBe(2);
    expect(resumes[1]).toEqual([
      { topic: 'user:42', status: 'resumed', count: 1 },
      { topic: 'room:7', status: 'resumed', count: 1 },
    ]);
    expect(calls.from).toBe(2); // once per request
    expect(calls.authorize).toEqual([['user:42', 'room:7'], ['user:42', 'room:7']]);
    expect(hub.streamCount).toBe(1);
  });
});
