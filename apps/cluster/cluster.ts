// `pnpm demo:cluster`: two instances of the Express sample app, each its own process on its own
// port, sharing one chat and the rooms through Redis: `REDIS_URL` when set, else a throwaway
// redis-server started here (and stopped on exit). `pnpm demo:cluster --redis-cluster` also starts
// a throwaway Redis Cluster (3 masters, 3 replicas) for the rooms; `REDIS_CLUSTER_NODES` uses yours.
//
// Run by `node --import tsx` rather than the tsx CLI, so that Ctrl+C reaches this process once
// and this process alone stops the instances (they run in their own process group).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedisCluster, startRedisServer, type RedisCluster, type RedisServer } from '@sse/redis/testing';
import { describeRedisUrl, readRedisClusterNodes } from '@sse-example/shared';

const EXPRESS_APP_DIR = fileURLToPath(new URL('../express/', import.meta.url));
const DEFAULT_PORTS = [3001, 3002] as const;

interface Instance {
  name: string;
  child: ChildProcess;
  /** Resolves with the instance's URL once it listens; rejects if it exits first. */
  ready: Promise<string>;
  /** Resolves with the exit code (`null` when a signal killed it). */
  exited: Promise<number | null>;
}

/** `PORTS=4001,4002` chooses the two ports; `0` lets each instance pick a free one. */
function readPorts(raw: string | undefined): [number, number] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_PORTS];
  const ports = raw.split(',').map((part) => part.trim());
  if (ports.length !== 2 || ports.some((port) => !/^\d+$/.test(port) || Number(port) > 65_535)) {
    throw new Error(`PORTS must be two port numbers separated by a comma, e.g. 3001,3002; got ${JSON.stringify(raw)}`);
  }
  return [Number(ports[0]), Number(ports[1])];
}

/** The flags this script takes: `--redis-cluster` starts a Redis Cluster for the rooms. */
function readFlags(args: readonly string[]): { redisCluster: boolean } {
  const unknown = args.filter((arg) => arg !== '--redis-cluster');
  if (unknown.length > 0) throw new Error(`unknown argument ${JSON.stringify(unknown[0])}: demo:cluster takes only --redis-cluster`);
  return { redisCluster: args.includes('--redis-cluster') };
}

function startInstance(name: string, port: number, redisUrl: string, clusterNodes: readonly string[] | undefined): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@sse/source', 'server.ts'], {
    cwd: EXPRESS_APP_DIR,
    env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: clusterNodes?.join(',') ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: Ctrl+C in the terminal reaches only this script, which then
    // sends each instance one SIGTERM (a second signal would make it cut its connections).
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    let pending = '';
    const relay = (target: NodeJS.WriteStream) => (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        target.write(`[${name}] ${line}\n`);
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (url !== undefined) resolve(url);
      }
    };
    child.stdout?.setEncoding('utf8').on('data', relay(process.stdout));
    child.stderr?.setEncoding('utf8').on('data', relay(process.stderr));
    // `exited` never rejects; an exit before the startup line fails the start.
    void exited.then((code) => reject(new Error(`instance ${name} exited (code ${code}) before it listened on port ${port}`)));
  });
  // Handled below; this keeps an early exit from counting as an unhandled rejection meanwhile.
  ready.catch(() => {});
  return { name, child, ready, exited };
}

let ports: [number, number];
let flags: { redisCluster: boolean };
let clusterNodes: string[] | undefined;
try {
  ports = readPorts(process.env.PORTS);
  flags = readFlags(process.argv.slice(2));
  clusterNodes = readRedisClusterNodes(process.env);
  if (flags.redisCluster && clusterNodes !== undefined) {
    throw new Error('--redis-cluster starts a Redis Cluster of its own, and REDIS_CLUSTER_NODES names one: use one or the other');
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
let redis: RedisServer | undefined;
let cluster: RedisCluster | undefined;
let redisUrl = process.env.REDIS_URL?.trim() || undefined;
if (redisUrl === undefined) {
  try {
    // Append-only, so the chat survives a restart of this redis-server (not of the demo: its data
    // directory is removed on exit).
    redis = await startRedisServer({ appendOnly: true });
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_SSE_REDIS_SERVER_NOT_FOUND') {
      console.error(`demo:cluster needs Redis, and REDIS_URL is not set: ${(error as Error).message}`);
      process.exit(1);
    }
    throw error;
  }
  redisUrl = redis.url;
  console.log(`Started redis-server on ${redis.url} (removed when the demo stops)`);
} else {
  console.log(`Using the Redis at REDIS_URL (${describeRedisUrl(redisUrl)})`);
}

if (flags.redisCluster) {
  try {
    cluster = await startRedisCluster();
  } catch (error) {
    console.error(`demo:cluster --redis-cluster could not start a Redis Cluster: ${(error as Error).message}`);
    await redis?.stop();
    process.exit(1);
  }
  clusterNodes = [...cluster.seeds];
  console.log(`Started a Redis Cluster of ${cluster.nodes.length} redis-servers on ${clusterNodes.join(',')} for the rooms (removed when the demo stops)`);
} else if (clusterNodes !== undefined) {
  console.log(`Using the Redis Cluster at REDIS_CLUSTER_NODES (${clusterNodes.join(',')}) for the rooms`);
}

const instances = [startInstance('A', ports[0], redisUrl, clusterNodes), startInstance('B', ports[1], redisUrl, clusterNodes)];
let stopping = false;
/** The instances' URLs once both listen. */
let urls: string[] | undefined;

/** Stops both instances (each drains its streams), then the redis-server and the cluster this script started. */
async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  for (const { child } of instances) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  const codes = await Promise.all(instances.map((instance) => instance.exited));
  await Promise.all([redis?.stop(), cluster?.stop()]);
  console.log('demo:cluster stopped');
  process.exit(codes.every((code) => code === 0) ? exitCode : 1);
}

const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping) {
    console.log(`${signal} again: killing the instances`);
    for (const { child } of instances) child.kill('SIGKILL');
    // redis-server and the cluster's nodes are killed by @sse/redis/testing's exit hook.
    process.exit(1);
  }
  console.log(`${signal} received: stopping both instances`);
  void stopAll(0); // it ends the process itself (process.exit), so there is nothing to await
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Whatever ends this process, the instances must not outlive it.
process.once('exit', () => {
  for (const { child } of instances) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

for (const instance of instances) {
  // `exited` never rejects; this watches each instance for as long as the demo runs.
  void instance.exited.then((code) => {
    if (stopping || urls === undefined) return;
    const others = instances.filter((other) => other !== instance && other.child.exitCode === null && other.child.signalCode === null);
    if (others.length === 0) {
      console.log(`instance ${instance.name} exited (code ${code}) and none is left: stopping`);
      void stopAll(1);
      return;
    }
    const port = new URL(urls[instances.indexOf(instance)] ?? '').port;
    const nodes = clusterNodes === undefined ? '' : `REDIS_CLUSTER_NODES=${clusterNodes.join(',')} `;
    console.log(
      `instance ${instance.name} exited (code ${code}); ${others.map((other) => other.name).join(', ')} keeps serving.\n` +
        `  Bring it back: REDIS_URL=${redis === undefined ? '"$REDIS_URL"' : redis.url} ${nodes}PORT=${port} pnpm --filter @sse-example/express start`,
    );
  });
}

try {
  urls = await Promise.all(instances.map((instance) => instance.ready));
  console.log(
    [
      '',
      `Two instances of the Express demo share one chat and the rooms through Redis${clusterNodes === undefined ? '' : ' (the rooms on the Redis Cluster)'}:`,
      ...instances.map((instance, index) => `  ${instance.name}  ${urls?.[index]}  (pid ${instance.child.pid})`),
      'Open both, post in one, see it in the other. Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );
} catch (error) {
  console.error((error as Error).message);
  await stopAll(1);
}
