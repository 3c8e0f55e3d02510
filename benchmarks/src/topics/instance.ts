// One instance of the Redis fan-out benchmark, in a process of its own (started by fanout.ts):
// a topic hub on @sse/redis's topic store over a Redis Cluster, one stream per topic (a counting
// sink, no socket, so what is measured is the hub and the store, not socket writes). Driven over
// IPC: subscribe, arm (count from now), publish (the first instance only), close.
import { countingSink } from './probes.js';

const { createTopicHub } = await import('@sse/core');
const { createEventStream } = await import('@sse/core/adapter');
const { createRedisTopicStore } = await import('@sse/redis');

export type InstanceCommand =
  | { type: 'subscribe' }
  | { type: 'arm'; deliveries: number }
  | { type: 'publish'; events: number }
  | { type: 'close' };

export interface StoreStats {
  connections: number;
  bytesRead: number;
  topics: number;
}

export type InstanceReply =
  | { type: 'subscribed'; ms: number; stats: StoreStats }
  | { type: 'armed' }
  | { type: 'delivered'; stats: StoreStats; bytesWritten: number }
  | { type: 'published'; ms: number }
  | { type: 'failed'; error: string };

const nodes = (process.env.NODES ?? '').split(',');
const topics = Number(process.env.TOPICS);
const prefix = process.env.PREFIX ?? 'bench:';
/** Publishes in flight at once. */
const IN_FLIGHT = 256;

const store = createRedisTopicStore({ nodes, prefix, historyLimit: 100, onError: (error: unknown) => send({ type: 'failed', error: String(error) }) });
const hub = createTopicHub({ store, onError: (error) => send({ type: 'failed', error: String(error) }) });
const counter = { writes: 0, bytes: 0 };
let expected = Infinity;

function send(reply: InstanceReply): void {
  process.send?.(reply);
}

const statsOf = (): StoreStats => ({ ...store.stats });

async function subscribe(): Promise<void> {
  const started = performance.now();
  const streams = Array.from({ length: topics }, () => createEventStream(sink(), { keepAlive: false }));
  for (let i = 0; i < topics; i += IN_FLIGHT) {
    await Promise.all(streams.slice(i, i + IN_FLIGHT).map((stream, j) => hub.subscribe(stream, [`t:${i + j}`])));
  }
  send({ type: 'subscribed', ms: performance.now() - started, stats: statsOf() });
}

async function publish(events: number): Promise<void> {
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < events) {
      const n = next++;
      await hub.publish(`t:${n % topics}`, { data: { text: 'hello', n } });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  send({ type: 'published', ms: performance.now() - started });
}

/** A counting sink that reports the moment this instance's streams have every event expected. */
function sink(): ReturnType<typeof countingSink> {
  const counting = countingSink(counter);
  return {
    ...counting,
    write(chunk) {
      counting.write(chunk);
      if (counter.writes === expected) send({ type: 'delivered', stats: statsOf(), bytesWritten: counter.bytes });
      return true;
    },
  };
}

process.on('message', (command: InstanceCommand) => {
  const run = async (): Promise<void> => {
    if (command.type === 'subscribe') await subscribe();
    else if (command.type === 'arm') {
      counter.writes = 0;
      counter.bytes = 0;
      expected = command.deliveries;
      send({ type: 'armed' });
    } else if (command.type === 'publish') await publish(command.events);
    else {
      await hub.close();
      process.exit(0);
    }
  };
  run().catch((error: unknown) => send({ type: 'failed', error: String((error as Error)?.stack ?? error) }));
});
