import { spawn } from 'node:child_process';
import { SseError } from '@sse/core';
import { ask, roleOf, slotRanges, SLOTS, whatIsMissing } from './cluster-probe.js';
import { freePort, startRedisProcess, type RedisServer } from './redis-server.js';

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** How many masters share the 16,384 hash slots; at least 3 (Redis Cluster's minimum). Defaults to `3`. */
  masters?: number;
  /** Replicas of each master. Defaults to `1`. */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout` (ms): how long a node may not answer before it is failed and its
   * replica promoted. Defaults to `1000` (Redis's own default, 15 s, is made for real networks).
   */
  nodeTimeoutMs?: number;
  /** The `redis-server` binary. Defaults to `$REDIS_SERVER`, else `redis-server` on the PATH. */
  command?: string;
  /** The `redis-cli` binary (it creates the cluster). Defaults to `$REDIS_CLI`, else `redis-cli` on the PATH. */
  cliCommand?: string;
  /**
   * How long `startRedisCluster`, `failover()` and `restartNode()` wait for the cluster to be
   * whole (every slot served, every running node agreeing, replicas in sync) (ms). Defaults to `30_000`.
   */
  timeoutMs?: number;
}

/** One `redis-server` of a {@link RedisCluster}. */
export interface RedisClusterNode {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its data directory (its `nodes.conf` lives there; removed by `stop()`). */
  readonly dir: string;
  /** The process id of the running `redis-server`; `undefined` once killed or stopped. */
  readonly pid: number | undefined;
  /** What the node says it is now (`ROLE`). Rejects when it is killed or paused. */
  role(): Promise<'master' | 'replica'>;
}

/** A Redis Cluster of child processes started by {@link startRedisCluster}. */
export interface RedisCluster {
  /** Every node, killed ones included, in a fixed order (the first `masters` started as masters). */
  readonly nodes: readonly RedisClusterNode[];
  /** `127.0.0.1:<port>` of every node: the seeds a cluster client is given. */
  readonly seeds: readonly string[];
  /** The running nodes that are masters now. */
  masters(): Promise<RedisClusterNode[]>;
  /** The running nodes that replicate `master` now. */
  replicasOf(master: RedisClusterNode): Promise<RedisClusterNode[]>;
  /** The master serving a hash slot (0 to 16383), as the cluster says (`CLUSTER SLOTS`). */
  nodeForSlot(slot: number): Promise<RedisClusterNode>;
  /** The master serving `key`'s slot (`CLUSTER KEYSLOT`, so `{hash tags}` count). */
  nodeForKey(key: string): Promise<RedisClusterNode>;
  /** Stops a node abruptly (SIGKILL), as a crash would; the cluster is left to react by itself. */
  killNode(node: RedisClusterNode): Promise<void>;
  /**
   * Kills a master (SIGKILL) and waits until one of its replicas is promoted and every running
   * node says the cluster is whole again; resolves with the new master.
   */
  failover(master: RedisClusterNode): Promise<RedisClusterNode>;
  /**
   * Starts a killed node again (same port, same `nodes.conf`, no data) and waits until the
   * cluster is whole with it: a master that was failed over comes back as a replica.
   */
  restartNode(node: RedisClusterNode): Promise<void>;
  /** Freezes a node (SIGSTOP) with its connections open; paused longer than `nodeTimeoutMs`, it is failed. */
  pause(node: RedisClusterNode): Promise<void>;
  /** Lets a paused node run again (SIGCONT). */
  resume(node: RedisClusterNode): Promise<void>;
  /** Kills every node (SIGKILL) and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

const CLI_NOT_FOUND_HINT =
  'install it (Debian/Ubuntu: apt-get install redis-server, which brings redis-tools; macOS: brew install redis) or set REDIS_CLI to its path';
const POLL_MS = 100;

type WaitCode = 'ERR_SSE_REDIS_CLUSTER_START' | 'ERR_SSE_REDIS_CLUSTER_FAILOVER' | 'ERR_SSE_REDIS_CLUSTER_STATE';


/**
 * Starts a throwaway Redis Cluster for tests: `masters × (1 + replicasPerMaster)` cluster-enabled
 * `redis-server` processes on free 127.0.0.1 ports (client and cluster-bus ports both free), joined
 * by `redis-cli --cluster create`, resolved once every node says `cluster_state:ok`, all slots are
 * served and every replica is in sync. Rejects with an `SseError` (`ERR_SSE_REDIS_CLUSTER_START`,
 * or `ERR_SSE_REDIS_SERVER_NOT_FOUND` when a binary is missing) whose message has the tail of the
 * failing process's output; nothing is left running then. The processes are killed when this process exits.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masterCount = integerOption('masters', options.masters ?? 3, 3);
  const replicasPerMaster = integerOption('replicasPerMaster', options.replicasPerMaster ?? 1, 0);
  const nodeTimeoutMs = integerOption('nodeTimeoutMs', options.nodeTimeoutMs ?? 1000, 1);
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs ?? 30_000, 1);
  const cli = options.cliCommand ?? process.env.REDIS_CLI ?? 'redis-cli';
  const deadline = Date.now() + timeoutMs;
  const clusterArgs = async (): Promise<string[]> => [
    ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'], // in the node's own directory
    ...['--cluster-node-timeout', String(nodeTimeoutMs)],
    // The cluster bus defaults to port + 10000, which may be taken or past 65535.
    ...['--cluster-port', String(await freePort())],
    // A test cluster always promotes a replica, however long it was cut from its master.
    ...['--cluster-replica-validity-factor', '0'],
    // Replicas sync at once instead of waiting 5 s for more replicas to share the transfer.
    ...['--repl-diskless-sync-delay', '0'],
  ];
  const serverOptions = { ...(options.command === undefined ? {} : { command: options.command }), startTimeoutMs: timeoutMs };
  const started = await Promise.allSettled(
    Array.from({ length: masterCount * (1 + replicasPerMaster) }, () => startRedisProcess(serverOptions, clusterArgs)),
  );
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  const { cluster, whole } = createCluster(servers, masterCount, timeoutMs);
  try {
    if (failed !== undefined) {
      const reason: unknown = failed.reason;
      if (reason instanceof SseError && reason.code === 'ERR_SSE_REDIS_SERVER_NOT_FOUND') throw reason;
      const message = reason instanceof Error ? reason.message : String(reason);
      throw new SseError('ERR_SSE_REDIS_CLUSTER_START', `a cluster node did not start: ${message}`, { cause: reason });
    }
    await runCli(cli, ['--cluster', 'create', ...cluster.seeds, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], deadline);
    await whole(deadline, 'ERR_SSE_REDIS_CLUSTER_START', 'after redis-cli --cluster create');
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** Waits until the cluster is whole (and `more` finds nothing missing either), or throws `code` after `deadline`. */
type WaitUntilWhole = (deadline: number, code: WaitCode, when: string, more?: () => Promise<string | undefined>) => Promise<void>;

function createCluster(servers: RedisServer[], masterCount: number, timeoutMs: number): { cluster: RedisCluster; whole: WaitUntilWhole } {
  const paused = new Set<RedisServer>();
  let stopped = false;
  const nodes: RedisClusterNode[] = servers.map((server) => ({
    port: server.port,
    url: server.url,
    dir: server.dir,
    get pid() {
      return server.pid;
    },
    async role() {
      return (await roleOf(answering(server))).role;
    },
  }));
  const serverOf = (node: RedisClusterNode): RedisServer => {
    const server = servers[nodes.indexOf(node)];
    if (server === undefined) throw new SseError('ERR_SSE_OPTION', `node 127.0.0.1:${node.port} is not a node of this cluster; pass one of cluster.nodes`);
    return server;
  };
  const answering = (server: RedisServer): number => {
    if (server.pid === undefined) {
      throw new SseError('ERR_SSE_REDIS_SERVER_STOPPED', `node 127.0.0.1:${server.port} is not running; restartNode() it first`);
    }
    if (paused.has(server)) throw new SseError('ERR_SSE_REDIS_CLUSTER_STATE', `node 127.0.0.1:${server.port} is paused (SIGSTOP); resume() it first`);
    return server.port;
  };
  /** The nodes that can answer now: running, not paused. */
  const live = (): RedisClusterNode[] => nodes.filter((node) => node.pid !== undefined && !paused.has(serverOf(node)));

  /** `CLUSTER SLOTS` of the first live node that answers. */
  const slotMap = async (): Promise<[number, number, number][]> => {
    let lastError: unknown;
    for (const node of live()) {
      try {
        return await slotRanges(node.port);
      } catch (error) {
        lastError = error;
      }
    }
    const why = lastError instanceof Error ? ` (${lastError.message})` : '';
    throw new SseError('ERR_SSE_REDIS_CLUSTER_STATE', `no running node answered CLUSTER SLOTS${why}`, { cause: lastError });
  };

  const replicasOf = async (master: RedisClusterNode): Promise<RedisClusterNode[]> => {
    serverOf(master);
    const found: RedisClusterNode[] = [];
    for (const node of live()) {
      const role = await roleOf(node.port).catch(() => undefined);
      if (role?.role === 'replica' && role.masterPort === master.port) found.push(node);
    }
    return found;
  };

  const nodeForSlot = async (slot: number): Promise<RedisClusterNode> => {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) {
      throw new SseError('ERR_SSE_OPTION', `slot must be an integer from 0 to ${SLOTS - 1}, got ${String(slot)}`);
    }
    const range = (await slotMap()).find(([start, end]) => start <= slot && slot <= end);
    const node = nodes.find((each) => each.port === range?.[2]);
    if (node === undefined) throw new SseError('ERR_SSE_REDIS_CLUSTER_STATE', `no node of this cluster serves slot ${slot}`);
    return node;
  };

  const whole: WaitUntilWhole = async (deadline, code, when, more) => {
    for (;;) {
      const ports = live().map((node) => node.port);
      const seen = (await whatIsMissing({ ports, nodeCount: nodes.length, masterCount })) ?? (await more?.());
      if (seen === undefined) return;
      if (Date.now() > deadline) throw new SseError(code, `the cluster was not whole ${timeoutMs} ms ${when}: ${seen}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  const cluster: RedisCluster = {
    nodes,
    seeds: nodes.map((node) => `127.0.0.1:${node.port}`),
    async masters() {
      const found: RedisClusterNode[] = [];
      for (const node of live()) if ((await node.role().catch(() => undefined)) === 'master') found.push(node);
      return found;
    },
    replicasOf,
    nodeForSlot,
    async nodeForKey(key) {
      const [node] = live();
      if (node === undefined) throw new SseError('ERR_SSE_REDIS_CLUSTER_STATE', 'no node of this cluster is running');
      const [slot] = await ask(node.port, [['CLUSTER', 'KEYSLOT', key]]);
      return nodeForSlot(Number(slot));
    },
    async killNode(node) {
      const server = serverOf(node);
      paused.delete(server);
      await server.kill();
    },
    async failover(master) {
      const deadline = Date.now() + timeoutMs;
      const refuse = (why: string): SseError => new SseError('ERR_SSE_REDIS_CLUSTER_FAILOVER', `cannot fail over 127.0.0.1:${master.port}: ${why}`);
      if ((await master.role()) !== 'master') throw refuse('it is a replica; pass a master (cluster.masters())');
      const replicas = await replicasOf(master);
      if (replicas.length === 0) throw refuse('it has no running replica to promote');
      const ranges = (await slotMap()).filter(([, , port]) => port === master.port);
      await cluster.killNode(master);
      let promoted: RedisClusterNode | undefined;
      // Until the others notice (nodeTimeoutMs), they still say cluster_state:ok with the dead master in it.
      await whole(deadline, 'ERR_SSE_REDIS_CLUSTER_FAILOVER', `after killing master 127.0.0.1:${master.port}`, async () => {
        promoted = undefined;
        for (const replica of replicas) if ((await replica.role().catch(() => undefined)) === 'master') promoted = replica;
        if (promoted === undefined) return `none of its replicas (${replicas.map((node) => node.port).join(', ')}) is a master yet`;
        const served = await slotMap();
        for (const [start, end] of ranges) {
          const owner = served.find(([from, to]) => from <= start && end <= to)?.[2];
          if (owner !== promoted.port) return `slots ${start}-${end} are served by ${owner ?? 'nobody'}, not by the promoted 127.0.0.1:${promoted.port}`;
        }
        return undefined;
      });
      return promoted!;
    },
    async restartNode(node) {
      await serverOf(node).restart();
      await whole(Date.now() + timeoutMs, 'ERR_SSE_REDIS_CLUSTER_STATE', `after restarting 127.0.0.1:${node.port}`);
    },
    async pause(node) {
      const server = serverOf(node);
      await server.pause();
      paused.add(server);
    },
    async resume(node) {
      const server = serverOf(node);
      await server.resume();
      paused.delete(server);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // SIGKILL: on SIGTERM a master waits for its replicas to catch up, up to 10 s for a paused one.
      await Promise.all(servers.map((server) => server.kill()));
      await Promise.all(servers.map((server) => server.stop()));
      paused.clear();
    },
  };
  return { cluster, whole };
}

function integerOption(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new SseError('ERR_SSE_OPTION', `${name} must be an integer of at least ${min}, got ${String(value)}`);
  return value;
}

/** Runs `redis-cli` to its end; rejects with the tail of its output when it fails or outlives `deadline`. */
function runCli(command: string, args: string[], deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, Math.max(0, deadline - Date.now()));
    const line = `${command} ${args.join(' ')}`;
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new SseError('ERR_SSE_REDIS_SERVER_NOT_FOUND', `${command} was not found; ${CLI_NOT_FOUND_HINT}`, { cause: error })
          : new SseError('ERR_SSE_REDIS_CLUSTER_START', `${line} could not run: ${error.message}`, { cause: error }),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      const why = late ? 'did not finish in time' : `failed (${signal ?? `exit code ${code}`})`;
      reject(new SseError('ERR_SSE_REDIS_CLUSTER_START', `${line} ${why}:\n${tail(output)}`));
    });
  });
}

/** The last lines of a process's output, without the colours redis-cli writes even to a pipe. */
function tail(output: string, lines = 20): string {
  const plain = output.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  return plain.trimEnd().split('\n').slice(-lines).join('\n');
}
