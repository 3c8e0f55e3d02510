import { Redis } from 'ioredis';

// What the test cluster's nodes say about themselves: one-shot commands on fresh connections (a
// node may have been killed or restarted since the last question) and their parsed replies.

/** Hash slots of a Redis Cluster. */
export const SLOTS = 16384;

/** Sends commands on a fresh connection, in order; a killed or frozen node fails them within 2 s. */
export async function ask(port: number, commands: string[][]): Promise<unknown[]> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 2000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported by the command's rejection
  try {
    await client.connect();
    const replies: unknown[] = [];
    for (const [name, ...args] of commands) replies.push(await client.call(name!, ...args));
    return replies;
  } finally {
    client.disconnect();
  }
}

/** `ROLE`: a master, or a replica with its master's port and its link state (`connected` once in sync). */
export type NodeRole = { role: 'master' } | { role: 'replica'; masterPort: number; link: string };

export async function roleOf(port: number): Promise<NodeRole> {
  const [reply] = (await ask(port, [['ROLE']])) as [unknown[]];
  return parseRole(reply);
}

function parseRole(reply: unknown[]): NodeRole {
  return reply[0] === 'master' ? { role: 'master' } : { role: 'replica', masterPort: Number(reply[2]), link: String(reply[3]) };
}

/** `CLUSTER SLOTS`: [first slot, last slot, master's port][]. */
export async function slotRanges(port: number): Promise<[number, number, number][]> {
  const [reply] = (await ask(port, [['CLUSTER', 'SLOTS']])) as [[number, number, [string, number, ...unknown[]]][]];
  return reply.map(([start, end, master]) => [start, end, Number(master[1])]);
}

/** The cluster as the nodes describe it: what {@link whatIsMissing} compares. */
export interface ClusterShape {
  /** Nodes that should answer (running, not paused). */
  ports: readonly number[];
  /** Every node of the cluster, running or not. */
  nodeCount: number;
  /** Masters that serve slots. */
  masterCount: number;
}

/**
 * What keeps the cluster from being whole, or `undefined` when it is: every node in `ports`
 * says `cluster_state:ok` with every slot served and every node known, flags none of the others
 * failed, sees `masterCount` masters serving slots (the same ones as every other node), and is
 * either a master or a replica in sync with its master.
 */
export async function whatIsMissing({ ports, nodeCount, masterCount }: ClusterShape): Promise<string | undefined> {
  const views = new Set<string>();
  for (const port of ports) {
    const where = `127.0.0.1:${port}`;
    let info: string, table: string, role: unknown[];
    try {
      [info, table, role] = (await ask(port, [['CLUSTER', 'INFO'], ['CLUSTER', 'NODES'], ['ROLE']])) as [string, string, unknown[]];
    } catch (error) {
      return `${where} did not answer (${error instanceof Error ? error.message : String(error)})`;
    }
    const field = (name: string): string => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? '?';
    if (field('cluster_state') !== 'ok') return `${where} says cluster_state:${field('cluster_state')}`;
    if (field('cluster_slots_ok') !== String(SLOTS)) return `${where} says cluster_slots_ok:${field('cluster_slots_ok')}`;
    if (field('cluster_known_nodes') !== String(nodeCount)) return `${where} knows ${field('cluster_known_nodes')} of ${nodeCount} nodes`;
    const lines = parseNodes(table);
    for (const other of ports) {
      const line = lines.find((entry) => entry.port === other);
      if (line === undefined) return `${where} does not know 127.0.0.1:${other}`;
      const bad = line.flags.filter((flag) => ['fail', 'fail?', 'handshake', 'noaddr'].includes(flag));
      if (bad.length > 0) return `${where} flags 127.0.0.1:${other} ${bad.join(',')}`;
    }
    const owners = lines.filter((entry) => entry.slots.length > 0);
    if (owners.length !== masterCount) return `${where} sees ${owners.length} masters serving slots, not ${masterCount}`;
    views.add(owners.map((entry) => `${entry.port}:${entry.slots.join(',')}`).sort().join(' '));
    const self = parseRole(role);
    if (self.role === 'replica' && self.link !== 'connected') {
      return `${where} is a replica in state ${self.link} with its master 127.0.0.1:${self.masterPort}`;
    }
  }
  if (views.size > 1) return `the nodes disagree on who serves which slots: ${[...views].join(' | ')}`;
  return undefined;
}

interface NodeLine {
  port: number;
  flags: string[];
  slots: string[];
}

/** `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
function parseNodes(table: string): NodeLine[] {
  return table
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.trim().split(' ');
      return {
        port: Number(/:(\d+)/.exec(fields[1] ?? '')?.[1]),
        flags: (fields[2] ?? '').split(','),
        slots: fields.slice(8).filter((slot) => !slot.startsWith('[')), // `[slot->-id]`: a slot being migrated
      };
    });
}
