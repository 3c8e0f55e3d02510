// The in-band gap signal at the core level: what a subscriber's bytes say when it missed events
// (unknown id, failed replay, a store's gap, dropped events), parsed as a client does. The same
// cases over real sockets with real clients are in @sse/node's test/gap.test.ts.
import { describe, expect, it } from 'vitest';
import {
  createChannel,
  createMemoryStore,
  GAP_EVENT,
  gapEvent,
  parseGap,
  SseError,
  type ChannelEvent,
  type ChannelStore,
  type EventStream,
  type GapListener,
  type ReplayResult,
} from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

function client(lastEventId?: string): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  return { sink, stream: createEventStream(sink, { keepAlive: false, lastEventId }) };
}

const received = (sink: MemorySink) => parseChunks(sink.chunks).events;
const names = (sink: MemorySink) => received(sink).map((event) => event.event ?? event.data);

/** A memory store whose gaps the test triggers, as @sse/redis reports them. */
function gappyStore(): ChannelStore & { gap(reason: 'trimmed' | 'reset', after?: string, resumeFrom?: string): void; sinceGate?: Promise<void> | undefined } {
  const memory = createMemoryStore({ limit: 100 });
  const gapListeners = new Set<GapListener>();
  const store = {
    publish: (event: Parameters<ChannelStore['publish']>[0]) => memory.publish(event),
    listen(listener: (event: ChannelEvent) => void, onGap?: GapListener) {
      const stop = memory.listen(listener);
      if (onGap !== undefined) gapListeners.add(onGap);
      return () => {
        stop();
        if (onGap !== undefined) gapListeners.delete(onGap);
      };
    },
    async since(lastEventId: string) {
      await store.sinceGate;
      return memory.since(lastEventId);
    },
    gap(reason: 'trimmed' | 'reset', after?: string, resumeFrom?: string) {
      for (const listener of gapListeners) listener({ reason, after, resumeFrom });
    },
    sinceGate: undefined as Promise<void> | undefined,
  };
  return store;
}

describe('the gap event on the wire', () => {
  it('is named sse-gap, has JSON data { reason, lastEventId? } and no id line, so the client keeps its last id', async () => {
    const channel = createChannel({ history: 2 });
    const first = await channel.broadcast('one');
    await channel.broadcast('two');
    await channel.broadcast('three'); // `first` is trimmed away
    const { sink, stream } = client(first);
    channel.subscribe(stream);
    // After the comment every stream writes at open.
    expect(sink.text).toBe(`:\n\nevent: sse-gap\ndata: {"reason":"unknown-id","lastEventId":"${first}"}\n\n`);
    expect(GAP_EVENT).toBe('sse-gap');
  });

  it('gapEvent() builds it for stream.send() and parseGap() reads it back', () => {
    const { sink, stream } = client();
    stream.send(gapEvent({ reason: 'reset', lastEventId: '7' }));
    stream.send(gapEvent({ reason: 'dropped', lastEventId: undefined }));
    const [reset, dropped] = received(sink);
    expect(reset).toEqual({ event: 'sse-gap', data: '{"reason":"reset","lastEventId":"7"}', id: undefined });
    expect(parseGap(reset!.data)).toEqual({ reason: 'reset', lastEventId: '7' });
    expect(parseGap(dropped!.data)).toEqual({ reason: 'dropped' });
    expect(parseGap('{"reason":"topic-trimmed","extra":1}')).toEqual({ reason: 'topic-trimmed' });
    for (const bad of ['', 'not json', 'null', '"dropped"', '{"lastEventId":"1"}', '[1]']) expect(parseGap(bad)).toBeUndefined();
  });
});

describe('a channel signals a gap in band', () => {
  it('for an unknown, foreign or trimmed Last-Event-ID: before what onReplay sends and before any live event, once', async () => {
    const channel = createChannel({ history: 5 });
    const ids: string[] = [];
    for (let n = 0; n < 10; n++) ids.push(await channel.broadcast(`m${n}`));
    for (const lastEventId of [ids[0]!, 'never-issued', 'other-store-1']) {
      const { sink, stream } = client(lastEventId);
      const results: ReplayResult[] = [];
      channel.subscribe(stream, {
        onReplay: (result) => {
          results.push(result);
          stream.send({ event: 'snapshot', data: 'state' });
        },
      });
      await channel.broadcast('live');
      await channel.broadcast('live 2');
      expect(names(sink)).toEqual(['sse-gap', 'snapshot', 'live', 'live 2']);
      expect(parseGap(received(sink)[0]!.data)).toEqual({ reason: 'unknown-id', lastEventId });
      expect(results).toEqual([{ status: 'unknown', lastEventId }]); // the server is still told
      channel.subscribe(client().stream); // other subscribers change nothing for this one
      expect(names(sink).filter((name) => name === 'sse-gap')).toHaveLength(1);
    }
  });

  it('never for a replay that worked, a first connection, or replay: false', async () => {
    const channel = createChannel({ history: 5 });
    const id = await channel.broadcast('m0');
    await channel.broadcast('m1');
    const streams = [client(id), client(), client('unknown')];
    channel.subscribe(streams[0]!.stream);
    channel.subscribe(streams[1]!.stream);
    channel.subscribe(streams[2]!.stream, { replay: false });
    await channel.broadcast('live');
    expect(streams.map(({ sink }) => names(sink))).toEqual([['m1', 'live'], ['live'], ['live']]);
  });

  it('when the replay read fails: replay-failed, then live events', async () => {
    const memory = createMemoryStore();
    const broken: ChannelStore = {
      publish: (event) => memory.publish(event),
      listen: (listener) => memory.listen(listener),
      since: () => Promise.reject(new Error('history down')),
    };
    const errors: unknown[] = [];
    const channel = createChannel({ store: broken, onError: (error) => errors.push(error) });
    const { sink, stream } = client('42');
    const results: ReplayResult[] = [];
    channel.subscribe(stream, { onReplay: (result) => results.push(result) });
    await expect.poll(() => results.length).toBe(1);
    await channel.broadcast('live');
    expect(names(sink)).toEqual(['sse-gap', 'live']);
    expect(parseGap(received(sink)[0]!.data)).toEqual({ reason: 'replay-failed', lastEventId: '42' });
    expect(results[0]).toMatchObject({ status: 'error', lastEventId: '42' });
  });

  it("when the store reports a gap (trimmed, reset): every current subscriber, once, before the next event", async () => {
    const store = gappyStore();
    const channel = createChannel({ store });
    const a = client();
    const b = client();
    channel.subscribe(a.stream);
    channel.subscribe(b.stream);
    const before = await channel.broadcast('before');
    store.gap('trimmed', before);
    await channel.broadcast('after');
    store.gap('reset');
    await channel.broadcast('new data');
    for (const { sink } of [a, b]) {
      expect(names(sink)).toEqual(['before', 'sse-gap', 'after', 'sse-gap', 'new data']);
      const gaps = received(sink).filter((event) => event.event === 'sse-gap').map((event) => parseGap(event.data));
      expect(gaps).toEqual([{ reason: 'trimmed', lastEventId: before }, { reason: 'reset' }]);
    }
  });

  it('to a subscriber still reading its replay: after it, before any later event, unless the replay holds the event after the gap', async () => {
    const store = gappyStore();
    const channel = createChannel({ store });
    const id = await channel.broadcast('m0');
    await channel.broadcast('m1');
    let open!: () => void;
    store.sinceGate = new Promise((resolve) => (open = resolve));
    const { sink, stream } = client(id);
    channel.subscribe(stream);
    await channel.broadcast('during 1');
    store.gap('trimmed'); // where delivery resumed is unknown: the replay cannot prove it covered the gap
    await channel.broadcast('during 2');
    open();
    await expect.poll(() => names(sink).length).toBe(4);
    await channel.broadcast('later');
    expect(names(sink)).toEqual(['m1', 'during 1', 'during 2', 'sse-gap', 'later']);

    // A store that names the first event after its gap: the replay (read after it) holds it, so
    // this client missed nothing and is told nothing.
    const covered = client(id);
    store.sinceGate = new Promise((resolve) => (open = resolve));
    channel.subscribe(covered.stream);
    const resumeFrom = await channel.broadcast('during 3');
    store.gap('trimmed', undefined, resumeFrom);
    open();
    await expect.poll(() => names(covered.sink).length).toBe(5);
    await channel.broadcast('last');
    expect(names(covered.sink)).toEqual(['m1', 'during 1', 'during 2', 'later', 'during 3', 'last']);
  });

  it('under another name (gapEvent), or not at all (gapEvent: false) while onReplay still reports', async () => {
    const renamed = createChannel({ history: 1, gapEvent: 'resync' });
    const quiet = createChannel({ history: 1, gapEvent: false });
    const one = client('unknown');
    const two = client('unknown');
    const results: ReplayResult[] = [];
    renamed.subscribe(one.stream);
    quiet.subscribe(two.stream, { onReplay: (result) => results.push(result) });
    await renamed.broadcast('live');
    await quiet.broadcast('live');
    expect(received(one.sink)[0]).toEqual({ event: 'resync', data: '{"reason":"unknown-id","lastEventId":"unknown"}', id: undefined });
    expect(names(two.sink)).toEqual(['live']);
    expect(results).toEqual([{ status: 'unknown', lastEventId: 'unknown' }]);
    for (const gapEvent of ['', 'message', 'a\nb']) expect(() => createChannel({ gapEvent })).toThrow(SseError);
  });
});

describe("a stream under slowClient: 'drop-oldest' signals dropped events", () => {
  it('the next frame after a run of drops is one gap event, in place of the dropped ones; a later run gets another', () => {
    const sink = new MemorySink();
    const stream = createEventStream(sink, { keepAlive: false, maxBufferedBytes: 1024, slowClient: 'drop-oldest' });
    stream.send({ id: 'first', data: 'written' });
    sink.accepting = false;
    stream.send({ id: 'q0', data: 'queued' }); // the write that found the connection full
    for (let n = 1; n <= 200; n++) {
      stream.send({ id: `q${n}`, data: 'x'.repeat(50) });
      expect(stream.bufferedBytes).toBeLessThanOrEqual(1024);
    }
    sink.drain();
    let events = received(sink);
    expect(events.slice(0, 3).map((event) => event.event ?? event.id)).toEqual(['first', 'q0', 'sse-gap']);
    expect(parseGap(events[2]!.data)).toEqual({ reason: 'dropped' });
    expect(events.filter((event) => event.event === 'sse-gap')).toHaveLength(1);
    expect(events.at(-1)?.id).toBe('q200');

    // A second episode: one more gap event, again right before what survived.
    sink.accepting = false;
    stream.send({ id: 'r0', data: 'queued' });
    for (let n = 1; n <= 200; n++) stream.send({ id: `r${n}`, data: 'x'.repeat(50) });
    sink.drain();
    events = received(sink);
    const gaps = events.flatMap((event, index) => (event.event === 'sse-gap' ? [index] : []));
    expect(gaps).toHaveLength(2);
    expect(events[gaps[1]! - 1]?.id).toBe('r0');
    expect(events.at(-1)?.id).toBe('r200');
  });

  it('sends none when nothing was dropped, or with gapEvent: false', () => {
    const calm = new MemorySink();
    const calmStream = createEventStream(calm, { keepAlive: false, maxBufferedBytes: 1024, slowClient: 'drop-oldest' });
    calm.accepting = false;
    for (let n = 0; n < 5; n++) calmStream.send({ data: 'small' });
    calm.drain();
    expect(received(calm).map((event) => event.event ?? event.data)).not.toContain('sse-gap');

    const quiet = new MemorySink();
    const quietStream = createEventStream(quiet, { keepAlive: false, maxBufferedBytes: 1024, slowClient: 'drop-oldest', gapEvent: false });
    quiet.accepting = false;
    for (let n = 0; n < 200; n++) quietStream.send({ data: 'x'.repeat(50) });
    quiet.drain();
    expect(received(quiet).map((event) => event.event ?? 'message')).not.toContain('sse-gap');
  });
});
