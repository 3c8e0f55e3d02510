// Fan-out across two instances on a Redis Cluster: two processes (instance.ts), each a topic hub
// on @sse/redis's topic store with one stream per topic; the first publishes `events` events
// spread over every topic, and each instance's streams must receive all of them. Measured with
// 10 and 10,000 topics: events per second delivered on both, and per instance the Redis
// connections and the bytes it read from Redis (`store.stats`).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RedisCluster } from '@sse/redis/testing';
import type { InstanceCommand, InstanceReply, StoreStats } from './instance.js';

export interface FanoutSample {
  topics: number;
  events: number;
  /** Time to join every topic on both instances (ms). */
  subscribeMs: number;
  /** From the first publish until both instances' streams had every event (ms). */
  deliverMs: number;
  /** Events per second that reached every stream of both instances. */
  eventsPerSecond: number;
  /** Per instance: after subscribing, and after the burst (bytes read during it). */
  instances: Array<{ connections: number; connectionsAfter: number; storeTopics: number; bytesReadPerEvent: number }>;
}

const INSTANCE = fileURLToPath(new URL('./instance.ts', import.meta.url));
/** A hang guard per step: the machine may be busy. */
const STEP_TIMEOUT_MS = 180_000;

interface Instance {
  child: ChildProcess;
  next(type: InstanceReply['type']): Promise<InstanceReply>;
  send(command: InstanceCommand): void;
}

function startInstance(env: Record<string, string>, execArgv: string[]): Instance {
  const child = fork(INSTANCE, [], { env: { ...process.env, ...env }, execArgv: [...execArgv, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: InstanceReply[] = [];
  const waiters: Array<() => void> = [];
  let failure: Error | undefined;
  child.on('message', (reply: InstanceReply) => {
    if (reply.type === 'failed') failure ??= new Error(`a fan-out instance failed: ${reply.error}`);
    else replies.push(reply);
    for (const wake of waiters.splice(0)) wake();
  });
  child.on('exit', (code) => {
    failure ??= new Error(`a fan-out instance exited (code ${code})`);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    child,
    send: (command) => child.send(command),
    async next(type) {
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      for (;;) {
        if (failure !== undefined) throw failure;
        const index = replies.findIndex((reply) => reply.type === type);
        if (index >= 0) return replies.splice(index, 1)[0]!;
        if (Date.now() > deadline) throw new Error(`a fan-out instance sent no ${type} within ${STEP_TIMEOUT_MS} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 1000);
        });
      }
    },
  };
}

export async function runFanout(cluster: RedisCluster, options: { topics: number; events: number; round: number; execArgv: string[] }): Promise<FanoutSample> {
  const env = { NODES: cluster.seeds.join(','), TOPICS: String(options.topics), PREFIX: `bench:${options.round}:${options.topics}:` };
  const instances = [startInstance(env, options.execArgv), startInstance(env, options.execArgv)];
  try {
    const started = performance.now();
    for (const instance of instances) instance.send({ type: 'subscribe' });
    const subscribed = (await Promise.all(instances.map((instance) => instance.next('subscribed')))) as Array<Extract<InstanceReply, { type: 'subscribed' }>>;
    const subscribeMs = performance.now() - started;
    // Each topic has one stream per instance: every event is one delivery on each.
    for (const instance of instances) instance.send({ type: 'arm', deliveries: options.events });
    await Promise.all(instances.map((instance) => instance.next('armed')));
    const burst = performance.now();
    instances[0]!.send({ type: 'publish', events: options.events });
    const delivered = (await Promise.all(instances.map((instance) => instance.next('delivered')))) as Array<Extract<InstanceReply, { type: 'delivered' }>>;
    const deliverMs = performance.now() - burst;
    await instances[0]!.next('published');
    return {
      topics: options.topics,
      events: options.events,
      subscribeMs,
      deliverMs,
      eventsPerSecond: options.events / (deliverMs / 1000),
      instances: instances.map((_, index) => {
        const before: StoreStats = subscribed[index]!.stats;
        const after: StoreStats = delivered[index]!.stats;
        return { connections: before.connections, connectionsAfter: after.connections, storeTopics: before.topics, bytesReadPerEvent: (after.bytesRead - before.bytesRead) / options.events };
      }),
    };
  } finally {
    for (const instance of instances) if (instance.child.exitCode === null) instance.send({ type: 'close' });
    await Promise.all(
      instances.map(
        (instance) =>
          new Promise<void>((resolve) => {
            if (instance.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => instance.child.kill('SIGKILL'), 10_000);
            instance.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}
