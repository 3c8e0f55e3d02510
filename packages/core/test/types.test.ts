// What the types promise: filters and recent() see data typed by the channel's event map, and an
// SseError's code is one of a closed list.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createChannel, SseError, type ChannelMessage, type SseErrorCode } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';

type Prices = {
  price: { symbol: string; value: number };
  halt: { symbol: string };
  message: string;
};

describe('ChannelMessage', () => {
  it('narrows data by event name, in filters and in recent()', async () => {
    const channel = createChannel<Prices>({ history: 10 });
    const seen: string[] = [];
    const stream = createEventStream(new MemorySink(), { keepAlive: false });
    channel.subscribe(stream, {
      filter: (message) => {
        if (message.event === 'price') {
          expectTypeOf(message.data).toEqualTypeOf<{ symbol: string; value: number }>();
          seen.push(`${message.data.symbol}=${message.data.value}`);
          return message.data.value > 1;
        }
        if (message.event === undefined) {
          expectTypeOf(message.data).toEqualTypeOf<string>();
          seen.push(`message ${message.data}`);
        }
        return true;
      },
    });
    await channel.broadcast({ event: 'price', data: { symbol: 'AAPL', value: 2 } });
    await channel.broadcast('hello');
    expect(seen).toEqual(['AAPL=2', 'message hello']);
    const recent = await channel.recent(2);
    expectTypeOf(recent).toEqualTypeOf<Array<ChannelMessage<Prices>>>();
    expect(recent.map((message) => [message.event, message.data])).toEqual([
      ['price', { symbol: 'AAPL', value: 2 }],
      [undefined, 'hello'],
    ]);
    stream.close();
  });

  it('keeps data unknown on an untyped channel', () => {
    expectTypeOf<ChannelMessage['data']>().toEqualTypeOf<unknown>();
    expectTypeOf<ChannelMessage['event']>().toEqualTypeOf<string | undefined>();
  });
});

describe('SseErrorCode', () => {
  it('types code as the union of every code', () => {
    const error = new SseError('ERR_SSE_OPTION', 'x');
    expectTypeOf(error.code).toEqualTypeOf<SseErrorCode>();
    expect(error.code).toBe('ERR_SSE_OPTION');
    // @ts-expect-error a code outside the list does not type-check
    void new SseError('ERR_SSE_NOT_A_CODE', 'x');
  });
});
