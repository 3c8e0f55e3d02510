// The `topics` option of a route, through a real Fetch handler (Request in, Response out): the
// topic list is read once, checked by the hub and authorized per topic before any header; a bad
// list is a 400, a refusal a 403 (fail closed), and an allowed request opens a stream that is
// already subscribed, resumed exactly from the Last-Event-ID it sends back.
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  createFetchHandler,
  createTopicHub,
  reject,
  SseError,
  type AuthorizeResult,
  type Rejection,
  type ServeOptions,
  type ServeTopicsOptions,
  type TopicHub,
  type TopicName,
  type TopicResumeStatus,
} from '../src/index.js';
import { requestFacts, serveEventStream } from '../src/adapter.js';
import { lastEventIdOf, routedEvents } from './topic-client.js';

type Topics = {
  'user:*': { notification: { text: string } };
  'room:*': { message: { from: string; text: string } };
};

const topicsParam = (request: Request): string[] => (new URL(request.url).searchParams.get('topics') ?? '').split(',').filter((topic) => topic !== '');

/** Reads a response body until `done(chunks)` holds; the reader is cancelled after. */
async function read(response: Response, done: (chunks: Uint8Array[]) => boolean): Promise<Uint8Array[]> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  while (!done(chunks)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    chunks.push(value);
  }
  await reader.cancel();
  return chunks;
}

const until = (condition: () => boolean): Promise<void> => vi.waitFor(() => expect(condition()).toBe(true), { timeout: 10_000, interval: 5 });

/** A route streaming the topics of `?topics=`, allowed when `allowed` has every one; records what ran. */
function route(hub: TopicHub<Topics>, options: Partial<ServeTopicsOptions<[Request], Topics>> & { onError?: ServeOptions<[Request]>['onError'] } = {}) {
  const calls = { from: 0, authorize: [] as string[][], handler: [] as string[][] };
  const allowed = new Set(['user:42', 'room:7', 'room:8']);
  const { onError, ...topics } = options;
  const handler = createFetchHandler(
    (stream) => {
      calls.handler.push(hub.topicsOf(stream));
      stream.send({ event: 'ready', data: hub.topicsOf(stream) });
    },
    {
      keepAlive: false,
      ...(onError === undefined ? {} : { onError }),
      topics: {
        hub,
        from: (request) => {
          calls.from++;
          return topicsParam(request);
        },
        authorize: (list) => {
          calls.authorize.push(list);
          return list.every((topic) => allowed.has(topic));
        },
        ...topics,
      },
    },
  );
  return { handler, calls };
}

/** What `run` throws (or `undefined`). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('topics.authorize is required: a client names any topic it likes', () => {
  it('createFetchHandler throws ERR_SSE_OPTION when it is created without one, saying how to allow public topics', () => {
    const hub = createTopicHub<Topics>();
    const create = (topics: unknown) => () => createFetchHandler(() => {}, { topics: topics as ServeTopicsOptions<[Request]> });
    expect(thrown(create({ hub, from: () => ['user:1'] }))).toMatchObject({
      name: 'SseError',
      code: 'ERR_SSE_OPTION',
      message:
        'topics.authorize must be a function that decides whether the request may stream the topics it names (a client can name any topic, user:<someone else> included); for topics anyone may read, pass authorize: () => true, got undefined',
    });
    expect(thrown(create({ hub, from: () => ['user:1'], authorize: true }))).toMatchObject({ code: 'ERR_SSE_OPTION', message: expect.stringMatching(/^topics\.authorize must be a function .* got true$/) as unknown });
    expect(thrown(create({ hub, authorize: () => true }))).toMatchObject({ code: 'ERR_SSE_OPTION', message: 'topics.from must be a function that reads the topic list from the request, got undefined' });
    expect(thrown(create({ from: () => ['user:1'], authorize: () => true }))).toMatchObject({ code: 'ERR_SSE_OPTION', message: 'topics.hub must be a topic hub (createTopicHub()), got undefined' });
    expect(thrown(create(null))).toMatchObject({ code: 'ERR_SSE_OPTION', message: 'topics must be an object { hub, from, authorize }, got null' });
    // Allowing every topic is a decision written down, and then it works.
    expect(thrown(create({ hub, from: () => ['user:1'], authorize: () => true }))).toBeUndefined();
    expect(thrown(() => createFetchHandler(() => {}, {}))).toBeUndefined();
  });

  it('fails every request of an adapter that did not check at creation: nothing answered, no sink, nothing subscribed', async () => {
    const hub = createTopicHub<Topics>();
    let fromCalls = 0;
    let sinks = 0;
    const answered: Rejection[] = [];
    const served = serveEventStream<[]>({
      request: requestFacts({ url: '/events?topics=user:1', headers: new Headers({ accept: 'text/event-stream' }) }),
      createSink: () => {
        sinks++;
        throw new Error('no sink expected');
      },
      respond: (rejection) => void answered.push(rejection),
      args: [],
      handler: () => {},
      options: { topics: { hub, from: () => (fromCalls++, ['user:1']) } as unknown as ServeTopicsOptions<[]> },
    });
    await expect(served).rejects.toMatchObject({ code: 'ERR_SSE_OPTION', message: expect.stringContaining('authorize: () => true') as unknown });
    expect([fromCalls, sinks, answered.length, hub.streamCount, hub.topicCount]).toEqual([0, 0, 0, 0, 0]);
  });

  it('answers 403 for every verdict but true, with no stream opened and nothing subscribed', async () => {
    const hub = createTopicHub<Topics>();
    const errors: unknown[] = [];
    let verdict: unknown;
    let handled = 0;
    const handler = createFetchHandler(() => void handled++, {
      keepAlive: false,
      onError: (error) => void errors.push(error),
      topics: { hub, from: () => ['user:1', 'room:7'], authorize: () => verdict as AuthorizeResult },
    });
    const verdicts: unknown[] = [false, undefined, null, 0, '', 'yes', {}, Promise.resolve(undefined)];
    for (const value of verdicts) {
      verdict = value;
      const response = await handler(new Request('http://localhost/events'));
      expect([response.status, response.headers.get('content-type'), await response.text()], String(value)).toEqual([403, 'text/plain; charset=utf-8', 'Forbidden']);
    }
    expect([handled, hub.streamCount, hub.topicCount]).toEqual([0, 0, 0]);
    // false is a refusal; everything else is a bug of the route, told to onError.
    expect(errors.map((error) => (error as SseError).code)).toEqual(verdicts.slice(1).map(() => 'ERR_SSE_AUTHORIZE_RESULT'));
  });
});

describe('sse(handler, { topics }) behind createFetchHandler', () => {
  it('answers 400 with the reason for a list the hub refuses, before any header: no stream, nothing subscribed, no handler', async () => {
    const hub = createTopicHub<Topics>({ maxTopicsPerStream: 2 });
    const onError = vi.fn();
    const { handler, calls } = route(hub, { onError });
    const cases: Array<[string, RegExp]> = [
      ['/events?topics=user:42,room:7,room:8', /^Bad topic list: a stream may hold at most 2 topics/],
      ['/events', /^Bad topic list: name at least one topic$/],
      [`/events?topics=${'x'.repeat(257)}`, /^Bad topic list: a topic name must be a non-empty string of at most 256 characters/],
    ];
    for (const [path, body] of cases) {
      const response = await handler(new Request(`http://localhost${path}`));
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toMatch(body);
    }
    // Repeats are not topics: three names, two distinct, fit in two.
    const repeated = await handler(new Request('http://localhost/events?topics=room:7,room:7,user:42'));
    expect(repeated.status).toBe(200);
    await repeated.body!.cancel();
    expect(calls.authorize).toEqual([['room:7', 'user:42']]);
    expect(calls.handler).toEqual([['room:7', 'user:42']]);
    await until(() => hub.streamCount === 0);
    expect(onError).not.toHaveBeenCalled(); // a client's bad list is not a server error

    // `from` answering undefined (`c.req.query('topics')?.split(',')` with no parameter) names no topic;
    // one answering something that is no list is refused by the hub.
    const { handler: none } = route(hub, { from: () => undefined });
    const response = await none(new Request('http://localhost/events'));
    expect([response.status, await response.text()]).toEqual([400, 'Bad topic list: name at least one topic']);
    const { handler: odd } = route(hub, { from: () => 'room:7' as unknown as string[] });
    const oddAnswer = await odd(new Request('http://localhost/events'));
    expect([oddAnswer.status, await oddAnswer.text()]).toEqual([400, 'Bad topic list: topics must be an array of topic names, got string']);
    // So is the hub's own error thrown by `from`.
    const { handler: throwing } = route(hub, { from: (request) => hub.checkTopics(topicsParam(request)).concat(['room:1', 'room:2']) });
    expect((await throwing(new Request('http://localhost/events?topics=room:7'))).status).toBe(400);
    expect(hub.streamCount).toBe(0);
  });

  it('fails closed: false answers 403, undefined answers 403 and tells onError, a rejection answers itself', async () => {
    const hub = createTopicHub<Topics>();
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    const { handler } = route(hub, { onError });
    const refused = await handler(new Request('http://localhost/events?topics=room:7,room:9'));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toBe('Forbidden');

    const { handler: careless } = route(hub, { onError, authorize: () => undefined as unknown as AuthorizeResult });
    expect((await careless(new Request('http://localhost/events?topics=room:7'))).status).toBe(403);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_SSE_AUTHORIZE_RESULT', message: expect.stringMatching(/^topics\.authorize must return true/) as unknown });

    const { handler: asking } = route(hub, { authorize: async () => reject(401, { headers: { 'www-authenticate': 'Bearer' } }) });
    const unauthorized = await asking(new Request('http://localhost/events?topics=room:7'));
    expect([unauthorized.status, unauthorized.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    // `from` may refuse too, before the list is checked.
    const { handler: stopping, calls } = route(hub, { from: () => ({ status: 204 }) });
    expect((await stopping(new Request('http://localhost/events?topics=room:7'))).status).toBe(204);
    expect(calls.authorize).toEqual([]);
    // A rejection that cannot be answered is a bug: it goes to the framework (no stream was opened).
    const { handler: broken } = route(hub, { authorize: () => ({ status: 200 }) });
    await expect(broken(new Request('http://localhost/events?topics=room:7'))).rejects.toMatchObject({ code: 'ERR_SSE_AUTHORIZE_RESULT' });
    expect(hub.streamCount).toBe(0);
  });

  it('reads the list once, after the route authorize, and hands topics.authorize the checked list', async () => {
    const hub = createTopicHub<Topics>();
    const order: string[] = [];
    const handler = createFetchHandler(() => void order.push('handler'), {
      keepAlive: false,
      authorize: (request) => {
        order.push('authorize');
        return request.headers.get('authorization') === 'ok';
      },
      topics: {
        hub,
        from: async (request) => {
          order.push('from');
          return topicsParam(request);
        },
        authorize: (topics, request) => {
          order.push(`topics.authorize ${topics.join(',')} ${new URL(request.url).pathname}`);
          return true;
        },
      },
    });
    expect((await handler(new Request('http://localhost/events?topics=room:7'))).status).toBe(403);
    expect(order).toEqual(['authorize']); // a refused request never reaches `from`
    order.length = 0;
    const response = await handler(new Request('http://localhost/events?topics=room:7,user:1,room:7', { headers: { authorization: 'ok' } }));
    expect(response.status).toBe(200);
    await until(() => order.includes('handler'));
    expect(order).toEqual(['authorize', 'from', 'topics.authorize room:7,user:1 /events', 'handler']);
    await response.body!.cancel();
    // An error `from` throws that is not about the list goes to the framework, as authorize's does.
    const failing = createFetchHandler(() => {}, {
      topics: {
        hub,
        from: () => {
          throw new Error('session store down');
        },
        authorize: () => true,
      },
    });
    await expect(failing(new Request('http://localhost/events'))).rejects.toThrow('session store down');
    expect(hub.streamCount).toBe(0);
  });

  it('opens the stream subscribed, resumes exactly from Last-Event-ID, and runs the handler once the topics are live', async () => {
    const hub = createTopicHub<Topics>();
    const resumes: Array<{ statuses: readonly TopicResumeStatus[]; path: string }> = [];
    const { handler, calls } = route(hub, {
      onResume: (statuses, stream, request) => {
        resumes.push({ statuses, path: new URL(request.url).search });
        // Sent before any live event and before the handler's: a fresh start for a topic with a gap.
        if (statuses.some((status) => status.status === 'gap')) stream.send({ event: 'refetch', data: 'x' });
      },
    });
    const first = await handler(new Request('http://localhost/events?topics=user:42,room:7'));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const topicEvents = (chunks: Uint8Array[]): string[] => routedEvents(chunks).filter((event) => /^(user|room):/.test(event));
    const reading = read(first, (chunks) => topicEvents(chunks).length === 2);
    await until(() => calls.handler.length === 1);
    expect(hub.streamCount).toBe(1);
    await hub.publish('room:7', { event: 'message', data: { from: 'ann', text: 'hi' } });
    await hub.publish('user:42', { event: 'notification', data: { text: 'ping' } });
    const chunks = await reading;
    await until(() => hub.streamCount === 0);

    await hub.publish('user:42', { event: 'notification', data: { text: 'while away' } });
    await hub.publish('room:8', { event: 'message', data: { from: 'bob', text: 'not subscribed' } });
    await hub.publish('room:7', { event: 'message', data: { from: 'bob', text: 'also while away' } });
    const again = await handler(new Request('http://localhost/events?topics=user:42,room:7', { headers: { 'Last-Event-ID': lastEventIdOf(chunks)! } }));
    const replayed = await read(again, (parts) => new TextDecoder().decode(parts.at(-1)).includes('event: ready'));
    const text = replayed.map((chunk) => new TextDecoder().decode(chunk)).join('');
    // Exactly the two missed events, in publish order, then the handler's own event.
    expect(text.indexOf('event: ready')).toBeGreaterThan(text.indexOf('also while away'));
    expect(topicEvents(replayed)).toEqual([
      'user:42/notification/{"text":"while away"}',
      'room:7/message/{"from":"bob","text":"also while away"}',
    ]);
    expect(resumes.map(({ statuses, path }) => [path, statuses])).toEqual([
      ['?topics=user:42,room:7', [{ topic: 'user:42', status: 'new' }, { topic: 'room:7', status: 'new' }]],
      ['?topics=user:42,room:7', [{ topic: 'user:42', status: 'resumed', count: 1 }, { topic: 'room:7', status: 'resumed', count: 1 }]],
    ]);
    expect(calls.from).toBe(2); // once per request
    expect(calls.handler).toEqual([['user:42', 'room:7'], ['user:42', 'room:7']]); // hub.topicsOf(stream), from the handler
    await until(() => hub.streamCount === 0);
  });

  it('starts live with replay: false, and answers HEAD like a GET without subscribing', async () => {
    const hub = createTopicHub<Topics>();
    const { handler, calls } = route(hub, { replay: false });
    const head = await handler(new Request('http://localhost/events?topics=room:7', { method: 'HEAD' }));
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/event-stream; charset=utf-8', '']);
    expect([calls.from, calls.authorize.length, calls.handler.length, hub.streamCount]).toEqual([1, 1, 0, 0]);
    // A HEAD reveals no more than a GET: the same list is refused the same way.
    expect((await handler(new Request('http://localhost/events?topics=room:9', { method: 'HEAD' }))).status).toBe(403);

    await hub.publish('room:7', { event: 'message', data: { from: 'ann', text: 'old' } });
    const stale = '0.0.0'; // any position: with replay off it is not read
    const response = await handler(new Request('http://localhost/events?topics=room:7', { headers: { 'Last-Event-ID': stale } }));
    const reading = read(response, (chunks) => routedEvents(chunks).some((event) => event.startsWith('room:7/')));
    await until(() => calls.handler.length === 1);
    await hub.publish('room:7', { event: 'message', data: { from: 'ann', text: 'new' } });
    const events = routedEvents(await reading);
    expect(events.filter((event) => event.startsWith('room:7/'))).toEqual(['room:7/message/{"from":"ann","text":"new"}']);
  });

  it('tells every topic of a position too long to read (maxLastEventIdLength) that it cannot be resumed, never a silent gap', async () => {
    const hub = createTopicHub<Topics>();
    const statuses: Array<readonly TopicResumeStatus[]> = [];
    const handler = createFetchHandler(() => {}, {
      keepAlive: false,
      maxLastEventIdLength: 20,
      topics: { hub, from: (request) => topicsParam(request), authorize: () => true, onResume: (list) => void statuses.push(list) },
    });
    const position = '1x3k9a.kf12p0.2_q8z01m.kf12p0.7'; // 31 characters: a position of two topics
    const response = await handler(new Request('http://localhost/events?topics=user:42,room:7', { headers: { 'Last-Event-ID': position } }));
    const chunks = await read(response, (parts) => routedEvents(parts).length === 1);
    expect(routedEvents(chunks)).toEqual(['gap:unknown-id:user:42,room:7']);
    expect(statuses).toEqual([[
      { topic: 'user:42', status: 'gap', reason: 'unknown-id' },
      { topic: 'room:7', status: 'gap', reason: 'unknown-id' },
    ]]);
  });

  it('sends an error onResume throws to the route onError, and still runs the handler', async () => {
    const hub = createTopicHub<Topics>();
    const errors: unknown[] = [];
    const ran: string[][] = [];
    const handler = createFetchHandler((stream) => void ran.push(hub.topicsOf(stream)), {
      keepAlive: false,
      onError: (error) => void errors.push(error),
      topics: {
        hub,
        from: () => ['room:7'],
        authorize: () => true,
        onResume: () => {
          throw new Error('snapshot failed');
        },
      },
    });
    const response = await handler(new Request('http://localhost/events'));
    await until(() => ran.length === 1);
    expect(errors).toEqual([new Error('snapshot failed')]);
    expect(ran).toEqual([['room:7']]);
    await response.body!.cancel();
  });

  it('types the topic names by the hub when the option is written for it', () => {
    const hub = createTopicHub<Topics>();
    const topics: ServeTopicsOptions<[Request], Topics> = {
      hub,
      from: (request) => topicsParam(request),
      authorize: (list) => {
        expectTypeOf(list).toEqualTypeOf<Array<TopicName<Topics>>>();
        return list.every((topic) => topic.startsWith('room:'));
      },
    };
    // …and it is what a route takes, as is an untyped one written in place.
    expectTypeOf(topics).toMatchTypeOf<NonNullable<ServeOptions<[Request]>['topics']>>();
    createFetchHandler(() => {}, { topics });
    createFetchHandler(() => {}, {
      topics: { hub, from: () => ['room:1'], authorize: (list: Array<TopicName<Topics>>) => list.length > 0 },
    });
    expect(() => hub.checkTopics([1 as unknown as string])).toThrow(SseError);
  });
});
