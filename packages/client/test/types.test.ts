// What the types promise: the event map a server declares types the client's listeners, so a
// renamed event or a changed payload fails to compile on both sides; and the client's copies of
// the server's types are the server's own.
import type * as core from '@sse/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createClient,
  DEFAULT_INITIAL_RETRY_MS,
  DEFAULT_MAX_RETRY_MS,
  GAP_EVENT,
  RETRY_STATUSES,
  type ClientItem,
  type EventMap,
  type Gap,
  type GapReason,
  type TopicMap,
  type TopicName,
  type TopicPattern,
} from '../src/index.js';

type ServerEvents = { price: { symbol: string; value: number }; halt: { symbol: string }; message: string };
type Topics = { 'room:*': { message: { from: string; text: string } }; 'user:*': { notification: { text: string } } };

// Never run: only compiled (the URL is never fetched).
function compileOnly(): void {
  const client = createClient<ServerEvents, Topics>('http://127.0.0.1:1/');
  client.on('price', (data, event) => {
    expectTypeOf(data).toEqualTypeOf<{ symbol: string; value: number }>();
    expectTypeOf(event.type).toEqualTypeOf<'price'>();
    expectTypeOf(event.text).toEqualTypeOf<string>();
  });
  client.on('message', (data) => expectTypeOf(data).toEqualTypeOf<string>());
  // @ts-expect-error a renamed event: 'prices' is not in the map
  client.on('prices', () => {});
  // @ts-expect-error a changed payload: value is a number
  client.on('price', (data: { symbol: string; value: string }) => data);
  client.onTopic('message', (data, event) => {
    expectTypeOf(data).toEqualTypeOf<{ from: string; text: string }>();
    expectTypeOf(event.topic).toEqualTypeOf<`room:${string}`>();
  });
  client.onTopic('notification', (_data, event) => expectTypeOf(event.topic).toEqualTypeOf<`user:${string}`>());
  // @ts-expect-error no family has this event
  client.onTopic('typing', () => {});
  client.onGap((gap) => expectTypeOf(gap.topics).toEqualTypeOf<Array<`room:${string}` | `user:${string}`> | undefined>());
  void (async () => {
    for await (const item of client) {
      expectTypeOf(item).toEqualTypeOf<ClientItem<ServerEvents, Topics>>();
      if (item.kind === 'event' && item.type === 'halt') expectTypeOf(item.data).toEqualTypeOf<{ symbol: string }>();
      if (item.kind === 'gap') expectTypeOf(item.gap).toEqualTypeOf<Gap<TopicName<Topics>>>();
    }
  })();
  // The server side of the same map: a renamed event fails there too.
  const stream = {} as core.EventStream<ServerEvents>;
  stream.send({ event: 'price', data: { symbol: 'A', value: 1 } });
  // @ts-expect-error the server cannot send an event the map does not have
  stream.send({ event: 'prices', data: { symbol: 'A', value: 1 } });
}

describe('types', () => {
  it('mirror the server\'s: EventMap, TopicMap, TopicPattern, TopicName, GapReason', () => {
    expectTypeOf<EventMap>().toEqualTypeOf<core.EventMap>();
    expectTypeOf<TopicMap>().toEqualTypeOf<core.TopicMap>();
    expectTypeOf<TopicPattern<'room:*'>>().toEqualTypeOf<core.TopicPattern<'room:*'>>();
    expectTypeOf<TopicName<Topics>>().toEqualTypeOf<core.TopicName<Topics>>();
    expectTypeOf<GapReason>().toEqualTypeOf<core.GapReason>();
    expect(typeof compileOnly).toBe('function');
  });

  it('the constants match the server\'s and the documented defaults', async () => {
    const { GAP_EVENT: serverGap } = await import('@sse/core');
    expect(GAP_EVENT).toBe(serverGap);
    expect([DEFAULT_INITIAL_RETRY_MS, DEFAULT_MAX_RETRY_MS]).toEqual([1000, 30_000]);
    expect(RETRY_STATUSES).toEqual([408, 429, 500, 502, 503, 504]);
  });
});
