// A topic hub behind a real Fetch handler: the topic list comes from the URL, `authorize` checks
// it before any header, and a client that reconnects with the Last-Event-ID it holds resumes
// every topic exactly. Also the typed topic map.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createFetchHandler, createTopicHub, reject, SseError, type TopicName } from '../src/index.js';
import { lastEventIdOf, routedEvents } from './topic-client.js';

type Topics = {
  'user:*': { notification: { text: string } };
  'room:*': { message: { from: string; text: string }; typing: { from: string } };
};

function topicsOf(request: Request): string[] {
  return (new URL(request.url).searchParams.get('topics') ?? '').split(',').filter((topic) => topic !== '');
}

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

describe('topic hub behind createFetchHandler', () => {
  it('authorizes the topic list before headers, and resumes every topic from the Last-Event-ID the client holds', async () => {
    const hub = createTopicHub<Topics>({ maxTopicsPerStream: 3 });
    const allowed = new Set(['user:42', 'room:7', 'room:8']);
    const handler = createFetchHandler(
      async (stream, request) => {
        await hub.subscribe(stream, topicsOf(request) as Array<TopicName<Topics>>);
      },
      {
        // The pattern for per-topic authorization: parse, check, then decide, all before headers.
        authorize: (request) => {
          let topics: string[];
          try {
            topics = hub.checkTopics(topicsOf(request));
          } catch (error) {
            if (error instanceof SseError) return reject(400, { body: error.message });
            throw error;
          }
          if (topics.length === 0) return reject(400, { body: 'name at least one topic' });
          return topics.every((topic) => allowed.has(topic)) || reject(403);
        },
      },
    );
    expect((await handler(new Request('http://localhost/events?topics=room:9'))).status).toBe(403);
    const tooMany = await handler(new Request('http://localhost/events?topics=user:42,room:7,room:8,room:1'));
    expect(tooMany.status).toBe(400);
    expect(await tooMany.text()).toMatch(/at most 3 topics/);

    const first = await handler(new Request('http://localhost/events?topics=user:42,room:7'));
    expect(first.status).toBe(200);
    const reading = read(first, (chunks) => routedEvents(chunks).length === 2);
    for (let i = 0; hub.streamCount === 0; i++) {
      if (i > 1000) throw new Error('the handler never subscribed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await hub.publish('room:7', { event: 'message', data: { from: 'ann', text: 'hi' } });
    await hub.publish('user:42', { event: 'notification', data: { text: 'ping' } });
    const chunks = await reading;
    expect(routedEvents(chunks)).toEqual(['room:7/message/{"from":"ann","text":"hi"}', 'user:42/notification/{"text":"ping"}']);
    // Missed while away, on both topics and one the client does not hold.
    await hub.publish('user:42', { event: 'notification', data: { text: 'while away' } });
    await hub.publish('room:8', { event: 'message', data: { from: 'bob', text: 'elsewhere' } });
    await hub.publish('room:7', { event: 'typing', data: { from: 'bob' } });

    const again = await handler(new Request('http://localhost/events?topics=user:42,room:7', { headers: { 'Last-Event-ID': lastEventIdOf(chunks)! } }));
    const replayed = await read(again, (parts) => routedEvents(parts).length === 2);
    expect(routedEvents(replayed)).toEqual(['user:42/notification/{"text":"while away"}', 'room:7/typing/{"from":"bob"}']);
  });

  it('types each topic family: publish checks the event name and data against the topic', () => {
    const hub = createTopicHub<Topics>();
    expectTypeOf(hub.publish<'room:7'>).parameter(1).toEqualTypeOf<
      | { event: 'message'; data: { from: string; text: string } }
      | { event: 'typing'; data: { from: string } }
      // A `message` may also go without a name (the SSE default event).
      | { event?: undefined; data: { from: string; text: string } }
    >();
    void hub.publish('user:1', { event: 'notification', data: { text: 'x' } });
    // @ts-expect-error a room has no notification event
    expect(() => hub.publish('room:1', { event: 'notification', data: { text: 'x' } })).not.toThrow();
    // @ts-expect-error wrong data for the event
    void hub.publish('room:1', { event: 'message', data: { text: 1 } });
    // @ts-expect-error not a topic of the map
    void hub.publish('doc:1', { event: 'message', data: { from: 'a', text: 'b' } });
    const untyped = createTopicHub();
    void untyped.publish('anything', { data: [1, 2] });
    void untyped.publish('anything', { event: 'custom', data: null });
  });
});
