// Memory per topic and the cost of per-stream positions, measured in one process (no sockets):
//   node --expose-gc --conditions=@sse/source --import tsx benchmarks/src/topics-memory.ts
// Figures go into packages/core/README.md ("Topics: costs"); they are not asserted anywhere.
import { createChannel, createMemoryTopicStore, createTopicHub } from '@sse/core';
import { createEventStream, type SseSink } from '@sse/core/adapter';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function sink(counter: { bytes: number }): SseSink {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    open() {},
    write(chunk) {
      counter.bytes += chunk.byteLength;
      return true;
    },
    onDrain() {},
    close() {},
    abort() {},
  };
}

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const TOPICS = 10_000;
const counter = { bytes: 0 };

// 1. Idle topics held by streams (32 topics per stream), no event yet.
{
  const store = createMemoryTopicStore();
  const hub = createTopicHub({ store });
  const streams = Array.from({ length: TOPICS / 32 + 1 }, () => createEventStream(sink(counter), { keepAlive: false }));
  const before = heap();
  for (let i = 0; i < TOPICS; i++) void hub.subscribe(streams[Math.floor(i / 32)]!, [`room:${i}`]);
  const after = heap();
  console.log(`idle topic with one subscribed stream (hub + store): ${Math.round((after - before) / TOPICS)} bytes/topic`);
  // 2. The same topics once their streams left: the store keeps epoch and offset for resumers.
  for (const stream of streams) stream.close();
  const left = heap();
  console.log(`unused topic kept for resumers (epoch + offset, historyMetaTtlMs): ${Math.round((left - before) / TOPICS)} bytes/topic (hub topics ${hub.topicCount}, store topics ${store.size})`);
  await hub.close();
}

// 3. One event of history per topic, nobody subscribed.
{
  const store = createMemoryTopicStore();
  const hub = createTopicHub({ store });
  const before = heap();
  for (let i = 0; i < TOPICS; i++) void hub.publish(`room:${i}`, { event: 'message', data: { text: 'hello' } });
  const after = heap();
  console.log(`topic with one 60-byte event of history: ${Math.round((after - before) / TOPICS)} bytes/topic (history ${store.historyBytes} encoded bytes)`);
  await hub.close();
}

// 4. Fan-out: one event to 10,000 streams. A channel writes the same bytes to all; a hub writes
// a per-stream id (the stream's whole position) in front of the shared bytes.
async function fanOut(label: string, topicsPerStream: number): Promise<void> {
  const STREAMS = 10_000;
  const EVENTS = 50;
  const hub = createTopicHub();
  const streams = Array.from({ length: STREAMS }, () => createEventStream(sink(counter), { keepAlive: false }));
  for (const [index, stream] of streams.entries()) {
    const others = Array.from({ length: topicsPerStream - 1 }, (_, i) => `user:${index}:${i}`);
    await hub.subscribe(stream, ['room:all', ...others]);
  }
  counter.bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) await hub.publish('room:all', { event: 'message', data: { text: 'hello', n: i } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${label}: ${(ms * 1000 / (STREAMS * EVENTS)).toFixed(3)} µs and ${Math.round(counter.bytes / (STREAMS * EVENTS))} bytes per delivered event`);
  for (const stream of streams) stream.close();
  await hub.close();
}

{
  const STREAMS = 10_000;
  const EVENTS = 50;
  const channel = createChannel();
  const streams = Array.from({ length: STREAMS }, () => createEventStream(sink(counter), { keepAlive: false }));
  for (const stream of streams) channel.subscribe(stream);
  counter.bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) await channel.broadcast({ event: 'message', data: { text: 'hello', n: i } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`channel (shared bytes): ${(ms * 1000 / (STREAMS * EVENTS)).toFixed(3)} µs and ${Math.round(counter.bytes / (STREAMS * EVENTS))} bytes per delivered event`);
  for (const stream of streams) stream.close();
}
await fanOut('hub, 1 topic per stream', 1);
await fanOut('hub, 4 topics per stream', 4);
await fanOut('hub, 32 topics per stream', 32);
