import { describe, expect, it } from 'vitest';
import { createTopicHub, createMemoryTopicStore, SseError, type EventStream, type TopicEvent, type TopicResumeStatus, type TopicStore } from '../src/index.js';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';
import { lastEventIdOf, routedEvents } from './topic-client.js';

function client(lastEventId?: string): { sink: MemorySink; stream: EventStream } {
  const sink = new MemorySink();
  const stream = createEventStream(sink, { keepAlive: false, lastEventId });
  return { sink, stream };
}

const received = (sink: MemorySink) => parseChunks(sink.chunks).events;
const routed = (sink: MemorySink) => routedEvents(sink.chunks);
const lastId = (sink: MemorySink) => lastEventIdOf(sink.chunks);

describe('topic hub: delivery', () => {
  it('delivers each event once, in per-topic order, with the topic in the data and the app event name as SSE event', async () => {
    const hub = createTopicHub();
    const a = client();
    const b = client();
    await hub.subscribe(a.stream, ['user:42', 'room:7']);
    await hub.subscribe(b.stream, ['room:7', 'room:7']);
    void hub.publish('room:7', { event: 'message', data: { text: 'hi' } });
    void hub.publish('user:42', { event: 'notification', data: 1 });
    void hub.publish('room:8', { event: 'message', data: 'nobody' });
    void hub.publish('room:7', { data: 'plain' });
    expect(routed(a.sink)).toEqual(['room:7/message/{"text":"hi"}', 'user:42/notification/1', 'room:7/message/"plain"']);
    expect(routed(b.sink)).toEqual(['room:7/message/{"text":"hi"}', 'room:7/message/"plain"']);
    expect(received(b.sink)[1]).toMatchObject({ event: undefined, data: '{"topic":"room:7","data":"plain"}' });
    expect(hub.topicCount).toBe(2);
    expect(hub.topicsOf(a.stream)).toEqual(['user:42', 'room:7']);
  });

  it('every id is the whole position of the stream: printable ASCII, one entry per topic', async () => {
    const hub = createTopicHub();
    const a = client();
    await hub.subscribe(a.stream, ['user:42', 'room:7']);
    await hub.publish('room:7', { data: 1 });
    await hub.publish('room:7', { data: 2 });
    const id = lastId(a.sink)!;
    expect(id).toMatch(/^[0-9a-z]+\.[0-9a-z]+\.0_[0-9a-z]+\.[0-9a-z]+\.2$/);
  });

  it('subscribes and unsubscribes while the stream is open, and a closed stream leaves by itself', async () => {
    const hub = createTopicHub();
    const a = client();
    await hub.subscribe(a.stream, ['room:1']);
    void hub.publish('room:1', { data: 1 });
    void hub.publish('room:2', { data: 'missed' });
    await hub.subscribe(a.stream, ['room:2']);
    void hub.publish('room:2', { data: 2 });
    hub.unsubscribe(a.stream, ['room:1']);
    void hub.publish('room:1', { data: 'gone' });
    void hub.publish('room:2', { data: 3 });
    expect(routed(a.sink)).toEqual(['room:1/message/1', 'room:2/message/2', 'room:2/message/3']);
    expect(hub.topicCount).toBe(1);
    a.sink.disconnect();
    expect(hub.topicCount).toBe(0);
    expect(hub.streamCount).toBe(0);
  });

  it('refuses more topics than maxTopicsPerStream, and bad names, with nothing subscribed', async () => {
    const hub = createTopicHub({ maxTopicsPerStream: 2 });
    const a = client();
    await hub.subscribe(a.stream, ['a', 'b']);
    expect(() => hub.subscribe(a.stream, ['c'])).toThrow(expect.objectContaining({ code: 'ERR_SSE_TOO_MANY_TOPICS' }));
    await hub.subscribe(a.stream, ['a']); // held already: nothing added
    expect(() => hub.subscribe(a.stream, [''])).toThrow(SseError);
    expect(() => hub.checkTopics(['x', 'y', 'z'])).toThrow(expect.objectContaining({ code: 'ERR_SSE_TOO_MANY_TOPICS' }));
    expect(hub.checkTopics(['x', 'x', 'y'])).toEqual(['x', 'y']);
    expect(() => hub.checkTopics(['x'.repeat(257)])).toThrow(expect.objectContaining({ code: 'ERR_SSE_TOPIC' }));
    expect(hub.topicsOf(a.stream)).toEqual(['a', 'b']);
  });

  it('keeps every position of the default maximum of topics under 1024 characters, even at the largest offsets', () => {
    // 32 entries of at most 7 + 1 + 7 + 1 + 11 characters, joined by 31 underscores.
    const worst = Array.from({ length: 32 }, () => `${'z'.repeat(7)}.${'z'.repeat(7)}.${Number.MAX_SAFE_INTEGER.toString(36)}`).join('_');
    expect(worst.length).toBeLessThanOrEqual(1024);
  });
});

describe('topic hub: resume', () => {
  it('replays exactly what a client missed on each topic, interleaved as published', async () => {
    const hub = createTopicHub();
    const first = client();
    await hub.subscribe(first.stream, ['a', 'b', 'c']);
    void hub.publish('a', { data: 1 });
    void hub.publish('b', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    void hub.publish('b', { data: 2 });
    void hub.publish('a', { data: 2 });
    void hub.publish('c', { data: 1 });
    void hub.publish('b', { data: 3 });
    const again = client(id);
    let statuses: readonly TopicResumeStatus[] = [];
    const result = await hub.subscribe(again.stream, ['a', 'b', 'c'], { onResume: (value) => (statuses = value) });
    expect(routed(again.sink)).toEqual(['b/message/2', 'a/message/2', 'c/message/1', 'b/message/3']);
    expect(result).toEqual([
      { topic: 'a', status: 'resumed', count: 1 },
      { topic: 'b', status: 'resumed', count: 2 },
      { topic: 'c', status: 'resumed', count: 1 },
    ]);
    expect(statuses).toBe(result);
  });

  it('a topic the position does not hold starts live, without a gap', async () => {
    const hub = createTopicHub();
    const first = client();
    await hub.subscribe(first.stream, ['a']);
    void hub.publish('a', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    void hub.publish('b', { data: 'before' });
    const again = client(id);
    expect(await hub.subscribe(again.stream, ['a', 'b'])).toEqual([
      { topic: 'a', status: 'resumed', count: 0 },
      { topic: 'b', status: 'new' },
    ]);
    void hub.publish('b', { data: 'after' });
    expect(routed(again.sink)).toEqual(['b/message/"after"']);
  });

  it('sends one sse-gap per reason before any event of those topics, and resumes the others exactly', async () => {
    const hub = createTopicHub({ historyLimit: 2 });
    const first = client();
    await hub.subscribe(first.stream, ['kept', 'trimmed', 'freed']);
    void hub.publish('kept', { data: 1 });
    void hub.publish('trimmed', { data: 1 });
    void hub.publish('freed', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    for (let i = 2; i <= 4; i++) void hub.publish('trimmed', { data: i });
    void hub.publish('kept', { data: 2 });
    const again = client(id);
    const result = await hub.subscribe(again.stream, ['kept', 'trimmed']);
    expect(result).toEqual([
      { topic: 'kept', status: 'resumed', count: 1 },
      { topic: 'trimmed', status: 'gap', reason: 'trimmed' },
    ]);
    expect(routed(again.sink)).toEqual(['gap:trimmed:trimmed', 'kept/message/2']);
    void hub.publish('trimmed', { data: 5 });
    expect(routed(again.sink).at(-1)).toBe('trimmed/message/5');
    // Another process (a restart): every topic reads as reset, and the gap's id moves the position on.
    const restarted = createTopicHub();
    const third = client(id);
    expect(await restarted.subscribe(third.stream, ['kept', 'freed'])).toEqual([
      { topic: 'kept', status: 'gap', reason: 'reset' },
      { topic: 'freed', status: 'gap', reason: 'reset' },
    ]);
    expect(routed(third.sink)).toEqual(['gap:reset:kept,freed']);
    const fourth = client(lastId(third.sink));
    expect(await restarted.subscribe(fourth.stream, ['kept', 'freed'])).toEqual([
      { topic: 'kept', status: 'resumed', count: 0 },
      { topic: 'freed', status: 'resumed', count: 0 },
    ]);
  });

  it('an id that is not a position is a gap on every topic; replay: false starts live', async () => {
    const hub = createTopicHub();
    const a = client('some-channel-id-7');
    expect(await hub.subscribe(a.stream, ['x', 'y'])).toEqual([
      { topic: 'x', status: 'gap', reason: 'unknown-id' },
      { topic: 'y', status: 'gap', reason: 'unknown-id' },
    ]);
    expect(routed(a.sink)).toEqual(['gap:unknown-id:x,y']);
    const b = client('some-channel-id-7');
    expect(await hub.subscribe(b.stream, ['x'], { replay: false })).toEqual([{ topic: 'x', status: 'new' }]);
    expect(routed(b.sink)).toEqual([]);
  });

  it('gaps a topic whose history aged out', async () => {
    const hub = createTopicHub({ historyMaxAgeMs: 20, historyMetaTtlMs: 600_000 });
    const first = client();
    await hub.subscribe(first.stream, ['old', 'fresh']);
    const id = lastId(first.sink);
    first.sink.disconnect();
    void hub.publish('old', { data: 1 });
    await eventually(async () => {
      const probe = client(id);
      const result = await hub.subscribe(probe.stream, ['old']);
      probe.stream.close();
      return result[0]?.status === 'gap' ? result : undefined;
    });
    void hub.publish('fresh', { data: 1 });
    const again = client(id);
    const result = await hub.subscribe(again.stream, ['old', 'fresh']);
    expect(result).toEqual([
      { topic: 'old', status: 'gap', reason: 'trimmed' },
      { topic: 'fresh', status: 'resumed', count: 1 },
    ]);
  });

  it('frees an unused topic historyMetaTtlMs after its history is gone: a resume then reads as reset', async () => {
    const store = createMemoryTopicStore({ historyMaxAgeMs: 10, historyMetaTtlMs: 10 });
    const hub = createTopicHub({ store });
    const first = client();
    await hub.subscribe(first.stream, ['quiet']);
    await hub.publish('quiet', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    await eventually(async () => (store.size === 0 ? true : undefined));
    const again = client(id);
    expect(await hub.subscribe(again.stream, ['quiet'])).toEqual([{ topic: 'quiet', status: 'gap', reason: 'reset' }]);
  });

  it('keeps at most maxIdleTopics unused topics: clients churning through names cannot grow the store; an early-freed topic resumes as reset', async () => {
    // No history, and a meta TTL far longer than the test: only the count bound frees topics.
    const store = createMemoryTopicStore({ historyLimit: 0, historyMetaTtlMs: 3_600_000, maxIdleTopics: 10 });
    const hub = createTopicHub({ store });
    const first = client();
    await hub.subscribe(first.stream, ['churn-0']);
    await hub.publish('churn-0', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    for (let i = 1; i <= 200; i++) {
      const visitor = client();
      await hub.subscribe(visitor.stream, [`churn-${i}`]);
      visitor.sink.disconnect();
      expect(store.size).toBeLessThanOrEqual(10);
    }
    expect(store.size).toBe(10);
    // churn-0 was freed early, so its old position reads as a reset (told in band), never resumed silently.
    const again = client(id);
    expect(await hub.subscribe(again.stream, ['churn-0'])).toEqual([{ topic: 'churn-0', status: 'gap', reason: 'reset' }]);
  });

  it('gaps the topics whose oldest events the global byte bound evicted', async () => {
    const store = createMemoryTopicStore({ maxHistoryBytes: 2000 });
    const hub = createTopicHub({ store });
    const first = client();
    await hub.subscribe(first.stream, ['big', 'small']);
    void hub.publish('small', { data: 's' });
    void hub.publish('big', { data: 'b' });
    const id = lastId(first.sink);
    first.sink.disconnect();
    void hub.publish('small', { data: 'missed' });
    for (let i = 0; i < 20; i++) void hub.publish('big', { data: 'x'.repeat(200) });
    expect(store.historyBytes).toBeLessThanOrEqual(2000);
    const again = client(id);
    const result = await hub.subscribe(again.stream, ['big', 'small']);
    expect(result.map((status) => status.status === 'gap' ? status.reason : status.status)).toEqual(['trimmed', 'trimmed']);
    // A topic whose own history was not reached stays resumable.
    const third = client(lastId(again.sink));
    void hub.publish('small', { data: 'tiny' });
    again.sink.disconnect();
    expect(await hub.subscribe(third.stream, ['small'])).toEqual([{ topic: 'small', status: 'resumed', count: 1 }]);
  });

  it('buffers live events while an async store reads history, and drops the overlap by offset', async () => {
    const memory = createMemoryTopicStore();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: TopicStore = {
      publish: (topic, event) => memory.publish(topic, event),
      listen: (topic, listener) => memory.listen(topic, listener),
      // The read sees the history as it is now, then answers late, while live events arrive.
      since: (topic, offset) => {
        const history = memory.since(topic, offset);
        return gate.then(() => history);
      },
    };
    const hub = createTopicHub({ store: slow });
    const first = client();
    await Promise.all([hub.subscribe(first.stream, ['t']), Promise.resolve().then(release)]);
    await hub.publish('t', { data: 1 });
    const id = lastId(first.sink);
    first.sink.disconnect();
    await hub.publish('t', { data: 2 });
    const again = client(id);
    const subscribed = hub.subscribe(again.stream, ['t']);
    await hub.publish('t', { data: 3 });
    expect(routed(again.sink)).toEqual([]);
    release();
    await subscribed;
    expect(routed(again.sink)).toEqual(['t/message/2', 't/message/3']);
  });

  it('a failed read is a replay-failed gap; the topic goes live', async () => {
    const memory = createMemoryTopicStore();
    const failing: TopicStore = {
      publish: (topic, event) => memory.publish(topic, event),
      listen: (topic, listener) => memory.listen(topic, listener),
      since: () => Promise.reject(new Error('down')),
    };
    const errors: unknown[] = [];
    const hub = createTopicHub({ store: failing, onError: (error) => errors.push(error) });
    const a = client();
    const result = await hub.subscribe(a.stream, ['t']);
    expect(result).toEqual([{ topic: 't', status: 'gap', reason: 'replay-failed', error: expect.any(Error) }]);
    void hub.publish('t', { data: 1 });
    expect(routed(a.sink)).toEqual(['gap:replay-failed:t', 't/message/1']);
    expect(errors).toHaveLength(1);
  });
});

describe('topic hub: live path and options', () => {
  it('announces a gap when a shared store skips offsets or restarts its epoch, and goes on exactly', async () => {
    const listeners = new Map<string, (event: TopicEvent) => void>();
    const store: TopicStore = {
      publish: () => {
        throw new Error('not used');
      },
      since: () => ({ status: 'ok', epoch: 'e1', offset: 0, events: [] }),
      listen: (topic, listener) => {
        listeners.set(topic, listener);
        return () => listeners.delete(topic);
      },
    };
    const hub = createTopicHub({ store });
    const a = client();
    await hub.subscribe(a.stream, ['t']);
    const emit = (epoch: string, offset: number) => listeners.get('t')!({ topic: 't', epoch, offset, order: offset, event: undefined, data: String(offset) });
    emit('e1', 1);
    emit('e1', 1); // a repeat: dropped
    emit('e1', 4); // 2 and 3 never came
    emit('e2', 1); // the store lost its data
    expect(routed(a.sink)).toEqual(['t/message/1', 'gap:trimmed:t', 't/message/4', 'gap:reset:t', 't/message/1']);
  });

  it('after unsubscribe, the id no longer holds the topic: a resume treats it as new', async () => {
    const hub = createTopicHub();
    const first = client();
    await hub.subscribe(first.stream, ['kept', 'left']);
    void hub.publish('left', { data: 1 });
    hub.unsubscribe(first.stream, ['left']);
    void hub.publish('left', { data: 'not for this client' });
    const id = lastId(first.sink);
    first.sink.disconnect();
    const again = client(id);
    expect(await hub.subscribe(again.stream, ['kept', 'left'])).toEqual([
      { topic: 'kept', status: 'resumed', count: 0 },
      { topic: 'left', status: 'new' },
    ]);
    expect(routed(again.sink)).toEqual([]);
  });

  it('renames the gap event or sends none (onResume still reports)', async () => {
    const renamed = createTopicHub({ gapEvent: 'lost' });
    const a = client('not-a-position');
    await renamed.subscribe(a.stream, ['t']);
    expect(received(a.sink).map((event) => event.event)).toEqual(['lost']);
    const silent = createTopicHub({ gapEvent: false });
    const b = client('not-a-position');
    expect(await silent.subscribe(b.stream, ['t'])).toEqual([{ topic: 't', status: 'gap', reason: 'unknown-id' }]);
    expect(received(b.sink)).toEqual([]);
    expect(() => createTopicHub({ gapEvent: 'message' })).toThrow(expect.objectContaining({ code: 'ERR_SSE_OPTION' }));
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last !== undefined) return last;
    if (Date.now() > deadline) throw new Error('condition not met before the hang guard');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
