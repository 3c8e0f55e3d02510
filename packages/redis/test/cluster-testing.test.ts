import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisCluster, type RedisClusterNode } from '../src/testing.js';

// A real Redis Cluster (Debian's redis-server and redis-cli) started by @sse/redis/testing: three
// masters, three replicas, node timeout 1 s. One cluster for the file; the tests run in order and
// the failover one changes which node is a master.

const clients: { disconnect(): void }[] = [];
/** Disconnected after the tests; errors of a connection to a node the test killed are expected. */
const track = <T extends Redis | Cluster>(client: T): T => {
  clients.push(client);
  client.on('error', () => {});
  return client;
};
/** A plain (not cluster-aware) connection to one node: it only sees that node's keys. */
const direct = (node: RedisClusterNode): Redis => track(new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 1 }));

/** `redis-server` children of this process (Linux), to see that nothing is left behind. */
function childRedisServers(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'redis-server'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matched
  }
}

/** `CLUSTER SLOTS` as one node sees it: [first slot, last slot, master's port][]. */
async function slotRanges(node: RedisClusterNode): Promise<[number, number, number][]> {
  const reply = await direct(node).cluster('SLOTS');
  return reply.map(([start, end, master]) => [start, end, master![1]]);
}

/** Whether that process still runs (a zombie, dead but not yet reaped by its new parent, does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // not Linux: kill(pid, 0) is all we can know
  }
}

/** Retries `attempt` until it resolves, for up to `timeoutMs`; rejects with the last error. */
async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const redisMajor = Number(/v=(\d+)/.exec(execFileSync(process.env.REDIS_SERVER ?? 'redis-server', ['--version'], { encoding: 'utf8' }))?.[1]);

describe('startRedisCluster (@sse/redis/testing): failures', () => {
  it('rejects bad options before starting anything', async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_OPTION' });
    await expect(startRedisCluster({ replicasPerMaster: -1 })).rejects.toThrow(/replicasPerMaster must be an integer of at least 0/);
    expect(childRedisServers()).toEqual([]);
  });

  it('says how to install redis-cli when it is missing, and leaves no node running', async () => {
    const attempt = startRedisCluster({ cliCommand: '/nonexistent/redis-cli' });
    await expect(attempt).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_REDIS_SERVER_NOT_FOUND' });
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
    expect(childRedisServers()).toEqual([]);
  });

  it('rejects with the tail of the output of a failing cluster create, and leaves no node running', async () => {
    // node as the "redis-cli": it refuses `--cluster` and says so on stderr.
    const attempt = startRedisCluster({ cliCommand: process.execPath });
    await expect(attempt).rejects.toMatchObject({ name: 'SseError', code: 'ERR_SSE_REDIS_CLUSTER_START' });
    await expect(attempt).rejects.toThrow(/--cluster create 127\.0\.0\.1:\d+ .* failed \(exit code \d+\):\n.*bad option: --cluster/s);
    expect(childRedisServers()).toEqual([]);
  });

  it('says so when redis-server is missing or a node does not start in time, and leaves no node running', async () => {
    await expect(startRedisCluster({ command: '/nonexistent/redis-server' })).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_NOT_FOUND' });
    const late = startRedisCluster({ timeoutMs: 1 });
    await expect(late).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_CLUSTER_START' });
    await expect(late).rejects.toThrow(/a cluster node did not start: redis-server did not accept connections within 1 ms/);
    expect(childRedisServers()).toEqual([]);
  });
});

describe('startRedisCluster exit hook', () => {
  it('kills the nodes when the process that started them exits without stop()', async () => {
    const testing = fileURLToPath(new URL('../src/testing.ts', import.meta.url));
    const script = `import { startRedisCluster } from ${JSON.stringify(testing)};
      const cluster = await startRedisCluster({ replicasPerMaster: 0 });
      console.log(JSON.stringify(cluster.nodes.map((node) => ({ pid: node.pid, dir: node.dir }))));
      process.exit(0);`;
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--conditions=@sse/source', '--input-type=module', '-e', script],
        { timeout: 60_000 },
        (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`))),
      );
    });
    const nodes = JSON.parse(output.trim().split('\n').at(-1)!) as { pid: number; dir: string }[];
    expect(nodes).toHaveLength(3);
    try {
      await eventually(async () => expect(nodes.filter((node) => alive(node.pid))).toEqual([]), 5000);
    } finally {
      for (const node of nodes) rmSync(node.dir, { recursive: true, force: true }); // the hook only kills
    }
  });
});

describe('startRedisCluster options', () => {
  it('starts masters without replicas, with the node timeout it is given; failover() then has nothing to promote', async () => {
    const small = await startRedisCluster({ replicasPerMaster: 0, nodeTimeoutMs: 5000 });
    try {
      expect(small.nodes).toHaveLength(3);
      expect(await small.masters()).toEqual(small.nodes);
      const node = track(new Redis({ port: small.nodes[0]!.port, host: '127.0.0.1' }));
      expect(await node.config('GET', 'cluster-node-timeout')).toEqual(['cluster-node-timeout', '5000']);
      expect(await node.cluster('INFO')).toMatch(/^cluster_size:3\r?$/m);
      await expect(small.failover(small.nodes[0]!)).rejects.toThrow(/has no running replica to promote/);
      node.disconnect();
    } finally {
      await small.stop();
    }
    expect(childRedisServers()).toEqual([]);
  });
});

describe('startRedisCluster (@sse/redis/testing)', () => {
  let cluster: RedisCluster;
  let client: Cluster;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startRedisCluster();
    console.log(`[cluster-testing] 3 masters + 3 replicas up and in sync in ${Date.now() - started} ms`);
    client = track(new Cluster(cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })), { shardedSubscribers: true }));
  }, 60_000);

  afterAll(async () => {
    for (const each of clients.splice(0)) each.disconnect();
    await cluster?.stop();
  });

  it('comes up with 3 masters, one replica each, all 16384 slots served and every node saying cluster_state:ok', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.seeds).toEqual(cluster.nodes.map((node) => `127.0.0.1:${node.port}`));
    for (const node of cluster.nodes) {
      expect(node.url).toBe(`redis://127.0.0.1:${node.port}`);
      expect(alive(node.pid!)).toBe(true);
      expect(existsSync(`${node.dir}/nodes.conf`)).toBe(true);
      expect(await direct(node).cluster('INFO')).toMatch(/^cluster_state:ok\r?$/m);
    }
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    const replicas = await Promise.all(masters.map((master) => cluster.replicasOf(master)));
    expect(replicas.map((list) => list.length)).toEqual([1, 1, 1]);
    const everyNode = new Set([...masters, ...replicas.flat()]);
    expect(everyNode.size).toBe(6);
    for (const replica of replicas.flat()) expect(await replica.role()).toBe('replica');
    for (const master of masters) expect(await master.role()).toBe('master');

    const slots = await slotRanges(cluster.nodes[0]!);
    expect(slots.reduce((sum, [start, end]) => sum + end - start + 1, 0)).toBe(16384);
    expect(new Set(slots.map(([, , port]) => port))).toEqual(new Set(masters.map((master) => master.port)));
    expect(await cluster.nodeForSlot(0)).toBe(masters.find((master) => master.port === slots.find(([start]) => start === 0)![2]));
    await expect(cluster.nodeForSlot(16384)).rejects.toMatchObject({ code: 'ERR_SSE_OPTION' });
  });

  it('serves SET/GET through ioredis Cluster on keys spread over all masters; nodeForKey names the node holding each', async () => {
    const byMaster = new Map<RedisClusterNode, string>();
    for (let i = 0; byMaster.size < 3 && i < 100; i++) {
      const key = `key:${i}`;
      const node = await cluster.nodeForKey(key);
      if (!byMaster.has(node)) byMaster.set(node, key);
    }
    expect(byMaster.size).toBe(3);
    const slotOwners = await slotRanges(cluster.nodes[0]!);
    for (const [node, key] of byMaster) {
      const slot = await client.cluster('KEYSLOT', key);
      expect(slotOwners.find(([start, end]) => start <= slot && slot <= end)![2]).toBe(node.port);
      expect(await cluster.nodeForSlot(slot)).toBe(node);
      await client.set(key, `on ${node.port}`);
      expect(await client.get(key)).toBe(`on ${node.port}`);
      expect(await direct(node).get(key)).toBe(`on ${node.port}`); // the key lives on that node
    }
  });

  it('keeps keys sharing a {hash tag} in one slot, so multi-key commands work on them', async () => {
    const keys = ['{user:42}:inbox', '{user:42}:seen', 'prefix:{user:42}'];
    const slots = await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)));
    expect(new Set(slots).size).toBe(1);
    expect(slots[0]).toBe(await client.cluster('KEYSLOT', 'user:42'));
    const nodes = await Promise.all(keys.map((key) => cluster.nodeForKey(key)));
    expect(new Set(nodes).size).toBe(1);
    await client.mset(keys[0]!, 'a', keys[1]!, 'b', keys[2]!, 'c');
    expect(await direct(nodes[0]!).mget(...keys)).toEqual(['a', 'b', 'c']);
  });

  // SSUBSCRIBE/SPUBLISH came with Redis 7.0.
  it.skipIf(redisMajor < 7)('delivers SPUBLISH on a sharded channel to an SSUBSCRIBE through the cluster', async () => {
    const subscriber = track(new Cluster(cluster.seeds.map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })), { shardedSubscribers: true }));
    const received: [string, string][] = [];
    subscriber.on('smessage', (channel: string, message: string) => received.push([channel, message]));
    await subscriber.ssubscribe('room:{7}');
    const owner = await cluster.nodeForKey('room:{7}');
    const numsub = (await direct(owner).call('PUBSUB', 'SHARDNUMSUB', 'room:{7}')) as [string, number];
    expect(numsub).toEqual(['room:{7}', 1]); // subscribed on the node that owns the channel's slot
    expect(await client.spublish('room:{7}', 'hello')).toBe(1);
    await eventually(async () => expect(received).toEqual([['room:{7}', 'hello']]));
  });

  it('failover() kills the master of a key, its replica takes its slots, and writes work again', async () => {
    const key = 'failover:{x}';
    const master = await cluster.nodeForKey(key);
    const [replica] = await cluster.replicasOf(master);
    await client.set(key, 'before');
    expect(await direct(master).call('WAIT', '1', '5000')).toBe(1); // the replica has it too
    const pid = master.pid!;

    const started = Date.now();
    const promoted = await cluster.failover(master);
    console.log(`[cluster-testing] failover of 127.0.0.1:${master.port} to 127.0.0.1:${promoted.port} took ${Date.now() - started} ms`);

    expect(promoted).toBe(replica);
    expect(await promoted.role()).toBe('master');
    expect(master.pid).toBeUndefined();
    expect(alive(pid)).toBe(false);
    await expect(master.role()).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_STOPPED' });
    expect(await cluster.nodeForKey(key)).toBe(promoted);
    expect(await cluster.masters()).toHaveLength(3);
    expect(await direct(promoted).get(key)).toBe('before');
    // ioredis finds the new master by itself (its connection to the old one fails, it re-reads the slots).
    await eventually(() => client.set(key, 'after'));
    expect(await direct(promoted).get(key)).toBe('after');

    await expect(cluster.failover(promoted)).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_CLUSTER_FAILOVER' }); // no replica left
    const [other] = await cluster.replicasOf((await cluster.masters()).find((node) => node !== promoted)!);
    await expect(cluster.failover(other!)).rejects.toThrow(/it is a replica/);
  });

  it('restartNode() brings a failed-over master back as a replica of the node that replaced it', async () => {
    const old = cluster.nodes.find((node) => node.pid === undefined)!;
    const promoted = await cluster.nodeForKey('failover:{x}');
    await expect(cluster.restartNode(promoted)).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_SERVER_RUNNING' });
    await cluster.restartNode(old);
    expect(alive(old.pid!)).toBe(true);
    expect(await old.role()).toBe('replica');
    expect(await cluster.replicasOf(promoted)).toEqual([old]);
    await client.set('failover:{x}', 'again');
    expect(await direct(promoted).call('WAIT', '1', '5000')).toBe(1); // acknowledged by the restarted replica
  });

  it('pause() freezes a node with its connections open (SIGSTOP), resume() lets it answer again', async () => {
    const [master] = await cluster.masters();
    const [replica] = await cluster.replicasOf(master!);
    const connection = direct(replica!);
    expect(await connection.ping()).toBe('PONG');
    await cluster.pause(replica!);
    let answered = false;
    const pong = connection.ping().then((reply) => {
      answered = true;
      return reply;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    await expect(replica!.role()).rejects.toMatchObject({ code: 'ERR_SSE_REDIS_CLUSTER_STATE' });
    await cluster.resume(replica!);
    expect(await pong).toBe('PONG');
    expect(await replica!.role()).toBe('replica');
  });

  it('killNode() crashes a node (SIGKILL) and leaves the cluster to react; stop() leaves no process and no directory', async () => {
    const [master] = await cluster.masters();
    const [replica] = await cluster.replicasOf(master!);
    const pid = replica!.pid!;
    await cluster.killNode(replica!);
    expect(alive(pid)).toBe(false);
    expect(replica!.pid).toBeUndefined();
    await expect(cluster.replicasOf(master!)).resolves.toEqual([]);

    const pids = cluster.nodes.flatMap((node) => (node.pid === undefined ? [] : [node.pid]));
    expect(pids).toHaveLength(5);
    for (const each of clients.splice(0)) each.disconnect();
    await cluster.stop();
    await cluster.stop(); // idempotent
    expect(pids.filter(alive)).toEqual([]);
    expect(childRedisServers()).toEqual([]);
    expect(cluster.nodes.filter((node) => existsSync(node.dir))).toEqual([]);
    expect(cluster.nodes.map((node) => node.pid)).toEqual(Array(6).fill(undefined));
  });
});
