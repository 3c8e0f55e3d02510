import { createTopicHub, type AuthorizeResult, type EventStream, type TopicListResult, type TopicResumeStatus } from '@sse/core';
import { expect } from 'vitest';
import { EventSourceClient, requestEventStream } from '../clients.js';
import { deferred, eventually, type CaseGroup } from '../harness.js';
import type { ConformanceOptions } from '../types.js';

// The suite cannot read a framework's request, so `from` answers the list the case set for the
// next request (requests are made one at a time); reading it from the URL is the app's part.

export const topicCases: CaseGroup[] = [
  {
    name: 'topics-option',
    tests: [
      {
        title: 'sse() throws ERR_SSE_OPTION when it is created with a topics option without authorize (a client names any topic), saying to pass authorize: () => true',
        async run(t) {
          const hub = t.track(createTopicHub());
          let handled = 0;
          const open = { hub, from: () => ['user:1'] };
          const refused = t.mount(() => void handled++, { topics: open as unknown as ConformanceOptions['topics'] });
          await expect(refused).rejects.toMatchObject({
            code: 'ERR_SSE_OPTION',
            message: expect.stringMatching(/^topics\.authorize must be a function .*pass authorize: \(\) => true, got undefined$/) as unknown,
          });
          // Written down, every topic is allowed.
          const server = await t.mount(
            (stream) => {
              handled++;
              stream.close();
            },
            { keepAlive: false, topics: { ...open, authorize: () => true } },
          );
          const client = t.track(await requestEventStream(server.url));
          await client.waitForEnd();
          expect([client.status, handled]).toEqual([200, 1]);
        },
      },
    ],
  },
  {
    name: 'topics-refusal',
    tests: [
      {
        title: 'a bad topic list answers 400, a refusing from answers itself, and a topics.authorize that does not say true answers 403: no handler, nothing subscribed',
        async run(t) {
          const hub = t.track(createTopicHub({ maxTopicsPerStream: 3 }));
          let listed: TopicListResult;
          let verdict: unknown;
          const authorized: string[][] = [];
          const handled: string[][] = [];
          const errors: unknown[] = [];
          const server = await t.mount(
            (stream) => {
              handled.push(hub.topicsOf(stream));
              stream.close();
            },
            {
              keepAlive: false,
              onError: (error) => void errors.push(error),
              topics: {
                hub,
                from: () => listed,
                authorize: (topics) => {
                  authorized.push(topics);
                  return verdict as AuthorizeResult;
                },
              },
            },
          );
          const cases: Array<[TopicListResult, unknown, number, string | RegExp]> = [
            [['a', 'b', 'c', 'd'], true, 400, /^Bad topic list: a stream may hold at most 3 topics/],
            [[], true, 400, 'Bad topic list: name at least one topic'],
            [undefined, true, 400, 'Bad topic list: name at least one topic'], // the request named none
            [{ status: 204 }, true, 204, ''],
            [['room:666'], false, 403, 'Forbidden'],
            [['room:9', 'room:9'], undefined, 403, 'Forbidden'], // fails closed
            [['room:9'], null, 403, 'Forbidden'],
            [['room:9'], Promise.resolve(undefined), 403, 'Forbidden'],
          ];
          for (const [list, answer, status, body] of cases) {
            listed = list;
            verdict = answer;
            const client = t.track(await requestEventStream(server.url));
            await client.waitForEnd();
            expect(client.headers['content-type'] ?? '', JSON.stringify(list)).not.toContain('text/event-stream');
            expect([client.status, client.text], JSON.stringify(list)).toEqual([status, typeof body === 'string' ? body : expect.stringMatching(body)]);
          }
          expect(handled).toEqual([]);
          expect([hub.streamCount, hub.topicCount]).toEqual([0, 0]);
          // Bad lists never reach authorize, which sees each list once, checked (repeats removed).
          expect(authorized).toEqual([['room:666'], ['room:9'], ['room:9'], ['room:9']]);
          // A refusal is no server error; an answer that is not true is one (a bug of the route).
          expect(errors.map((error) => (error as { code?: unknown }).code)).toEqual(['ERR_SSE_AUTHORIZE_RESULT', 'ERR_SSE_AUTHORIZE_RESULT', 'ERR_SSE_AUTHORIZE_RESULT']);
          expect(String((errors[0] as Error).message)).toMatch(/^topics\.authorize must return true to open the stream/);

          listed = ['room:9', 'user:1'];
          verdict = true;
          const allowed = t.track(await requestEventStream(server.url));
          await allowed.waitForEnd();
          expect(allowed.status).toBe(200);
          expect(handled).toEqual([['room:9', 'user:1']]); // subscribed before the handler ran
          await eventually(() => hub.streamCount === 0, 'the closed stream to leave its topics');
        },
      },
    ],
  },
  {
    name: 'topics-resume',
    tests: [
      {
        title: 'an allowed stream is subscribed before the handler runs, and a real EventSource that the server cut off resumes every topic exactly',
        async run(t) {
          const hub = t.track(createTopicHub());
          const calls = { from: 0, authorize: [] as string[][], handler: [] as string[][] };
          const streams: EventStream[] = [];
          const resumes: Array<readonly TopicResumeStatus[]> = [];
          const held = deferred();
          const server = await t.mount(
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
                from: () => {
                  calls.from++;
                  return ['user:42', 'room:7', 'user:42'];
                },
                authorize: async (topics) => {
                  calls.authorize.push(topics);
                  // The reconnect waits here until the events it will have missed are published.
                  if (calls.authorize.length === 2) await held.promise;
                  return topics.every((topic) => topic.startsWith('user:') || topic.startsWith('room:'));
                },
                onResume: (statuses) => void resumes.push(statuses),
              },
            },
          );
          const source = t.track(new EventSourceClient('undici', server.url, ['notification', 'message']));
          await eventually(() => calls.handler.length === 1, 'the handler to run');
          expect(calls.handler[0]).toEqual(['user:42', 'room:7']);
          await hub.publish('room:7', { event: 'message', data: 'hi' });
          await hub.publish('user:42', { event: 'notification', data: 'ping' });
          await source.waitForMessages(2);

          streams[0]!.close(); // a clean end: the EventSource reconnects with its Last-Event-ID
          await eventually(() => calls.authorize.length === 2, 'the EventSource to reconnect');
          await hub.publish('user:42', { event: 'notification', data: 'while away' });
          await hub.publish('room:8', { event: 'message', data: 'not subscribed' });
          await hub.publish('room:7', { event: 'message', data: 'also while away' });
          held.resolve();
          await source.waitForMessages(4);
          await eventually(() => resumes.length === 2, 'the second subscription to resume');
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
          expect(resumes).toEqual([
            [
              { topic: 'user:42', status: 'new' },
              { topic: 'room:7', status: 'new' },
            ],
            [
              { topic: 'user:42', status: 'resumed', count: 1 },
              { topic: 'room:7', status: 'resumed', count: 1 },
            ],
          ]);
          expect(calls.from).toBe(2); // once per request
          expect(calls.authorize).toEqual([
            ['user:42', 'room:7'],
            ['user:42', 'room:7'],
          ]);
          expect(calls.handler).toEqual([
            ['user:42', 'room:7'],
            ['user:42', 'room:7'],
          ]);
          expect(hub.streamCount).toBe(1);
        },
      },
    ],
  },
  {
    name: 'topics-large-replay',
    tests: [
      {
        title: 'a resume whose replay is 180 times the stream bound (12 MB, past what the sockets hold) reaches a real EventSource whole, at its pace, on the same connection',
        async run(t) {
          const COUNT = 3000;
          const hub = t.track(createTopicHub({ historyLimit: COUNT }));
          const streams: EventStream[] = [];
          const resumes: Array<readonly TopicResumeStatus[]> = [];
          const held = deferred();
          let requests = 0;
          const server = await t.mount((stream) => void streams.push(stream), {
            retry: 50,
            retryJitter: 0,
            keepAlive: false,
            maxBufferedBytes: 65_536,
            topics: {
              hub,
              from: () => ['feed:1'],
              authorize: async () => {
                // The reconnect waits here until the events it will have missed are published.
                if (++requests === 2) await held.promise;
                return true;
              },
              onResume: (statuses) => void resumes.push(statuses),
            },
          });
          const source = t.track(new EventSourceClient('undici', server.url, ['message']));
          await eventually(() => streams.length === 1, 'the handler to run');
          await hub.publish('feed:1', { data: 'first' });
          await source.waitForMessages(1);
          streams[0]!.close(); // a clean end: the EventSource reconnects with its Last-Event-ID
          await eventually(() => requests === 2, 'the EventSource to reconnect');
          const padding = 'x'.repeat(4000);
          for (let i = 0; i < COUNT; i++) await hub.publish('feed:1', { data: `${i} ${padding}` });
          held.resolve();
          await source.waitForMessages(1 + COUNT);
          await eventually(() => resumes.length === 2, 'the replay to be written');
          // Never taken for a slow client: one reconnect (the server's close), no more.
          expect(source.opens).toBe(2);
          expect(streams[1]!.isClosed).toBe(false);
          expect(resumes[1]).toEqual([{ topic: 'feed:1', status: 'resumed', count: COUNT }]);
          const numbers = source.messages.slice(1).map(({ data }) => Number((JSON.parse(data) as { data: string }).data.split(' ')[0]));
          expect(numbers).toEqual(Array.from({ length: COUNT }, (_, i) => i));
        },
      },
    ],
  },
];
