// `pnpm demo:cluster`: two instances of the Express sample app, each its own process on its own
// port, sharing one chat through Redis: `REDIS_URL` when set, else a throwaway redis-server
// started here (and stopped on exit).
//
// Run by `node --import tsx` rather than the tsx CLI, so that Ctrl+C reaches this process once
// and this process alone stops the instances (they run in their own process group).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedisServer, type RedisServer } from '@sse/redis/testing';
import { describeRedisUrl } from '@sse-example/shared';

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

function startInstance(name: string, port: number, redisUrl: string): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@sse/source', 'server.ts'], {
    cwd: EXPRESS_APP_DIR,
    env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl },
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
try {
  ports = readPorts(process.env.PORTS);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
let redis: RedisServer | undefined;
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

const instances = [startInstance('A', ports[0], redisUrl), startInstance('B', ports[1], redisUrl)];
let stopping = false;
/** The instances' URLs once both listen. */
let urls: string[] | undefined;

/** Stops both instances (each drains its streams), then the redis-server this script started. */
async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  for (const { child } of instances) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  const codes = await Promise.all(instances.map((instance) => instance.exited));
  await redis?.stop();
  console.log('demo:cluster stopped');
  process.exit(codes.every((code) => code === 0) ? exitCode : 1);
}

const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping) {
    console.log(`${signal} again: killing the instances`);
    for (const { child } of instances) child.kill('SIGKILL');
    // redis-server is killed by @sse/redis/testing's exit hook.
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
    console.log(
      `instance ${instance.name} exited (code ${code}); ${others.map((other) => other.name).join(', ')} keeps serving.\n` +
        `  Bring it back: REDIS_URL=${redis === undefined ? '"$REDIS_URL"' : redis.url} PORT=${port} pnpm --filter @sse-example/express start`,
    );
  });
}

try {
  urls = await Promise.all(instances.map((instance) => instance.ready));
  console.log(
    [
      '',
      'Two instances of the Express demo share one chat through Redis:',
      ...instances.map((instance, index) => `  ${instance.name}  ${urls?.[index]}  (pid ${instance.child.pid})`),
      'Open both, post in one, see it in the other. Ctrl+C stops everything.',
      '',
    ].join('\n'),
  );
} catch (error) {
  console.error((error as Error).message);
  await stopAll(1);
}
