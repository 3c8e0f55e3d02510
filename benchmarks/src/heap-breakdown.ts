/**
 * What an idle connection of one contender keeps on the heap, by kind of object: two heap
 * snapshots of its server, before and after `count` idle clients connected (the clients in a child
 * process, so only the server's side is counted), each after a full GC. Prints the growth per
 * connection by node type and constructor, then the closures that came with each connection and
 * where each was created (script:line:column, 0-based), which names the code that keeps them.
 * Run from benchmarks/ (packages built):
 * `node --expose-gc --import tsx src/heap-breakdown.ts sse-hono 1000`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { CONTENDERS } from './contenders/index.js';
import { EVENTS_PATH } from './contenders/listen.js';
import type { StartContender } from './contenders/types.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]]; location_fields: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations: number[];
}

/** Per key: how many nodes and how many bytes (self size). */
type Tally = Map<string, { count: number; bytes: number }>;

function add(tally: Tally, key: string, bytes: number): void {
  const entry = tally.get(key) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += bytes;
  tally.set(key, entry);
}

/** Tallies a snapshot by `type:constructor` and, for closures, by where each was created. */
function tallies(file: string): { kinds: Tally; closures: Tally } {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { meta } = s.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [types] = meta.node_types;
  const [edgeTypes] = meta.edge_types;
  const type = meta.node_fields.indexOf('type');
  const name = meta.node_fields.indexOf('name');
  const size = meta.node_fields.indexOf('self_size');
  const edgeCount = meta.node_fields.indexOf('edge_count');
  const count = s.nodes.length / nf;
  const firstEdge = new Uint32Array(count);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * nf + edgeCount]! * ef;
  }
  const child = (node: number, edgeName: string): number | undefined => {
    const end = firstEdge[node]! + s.nodes[node * nf + edgeCount]! * ef;
    for (let e = firstEdge[node]!; e < end; e += ef) {
      const kind = edgeTypes[s.edges[e]!];
      if (kind !== 'element' && kind !== 'hidden' && s.strings[s.edges[e + 1]!] === edgeName) return s.edges[e + 2]! / nf;
    }
    return undefined;
  };
  const locations = new Map<number, string>();
  const lf = meta.location_fields.length;
  for (let i = 0; i < s.locations.length; i += lf) locations.set(s.locations[i]! / nf, `${s.locations[i + 2]}:${s.locations[i + 3]}`);
  const kinds: Tally = new Map();
  const closures: Tally = new Map();
  for (let i = 0; i < count; i++) {
    const kind = types[s.nodes[i * nf + type]!]!;
    const label = kind.endsWith('string') ? '(string)' : String(s.strings[s.nodes[i * nf + name]!]).slice(0, 60);
    const bytes = s.nodes[i * nf + size]!;
    add(kinds, `${kind}:${label}`, bytes);
    if (kind !== 'closure') continue;
    const shared = child(i, 'shared');
    const script = shared === undefined ? undefined : child(shared, 'script_or_debug_info');
    const scriptName = script === undefined ? undefined : child(script, 'name');
    const where = scriptName === undefined ? '' : String(s.strings[s.nodes[scriptName * nf + name]!]).replace(/^.*node_modules\//, '').replace(/^.*\/(packages|benchmarks)\//, '$1/');
    add(closures, `${label || '(anonymous)'} @ ${where}:${locations.get(i) ?? '?'}`, bytes);
  }
  return { kinds, closures };
}

/** Growth from `before` to `after`, per connection, largest first, down to `minBytes` per connection. */
function growth(before: Tally, after: Tally, connections: number, minBytes: number): Array<{ key: string; count: number; bytes: number }> {
  const rows: Array<{ key: string; count: number; bytes: number }> = [];
  for (const [key, { count, bytes }] of after) {
    const was = before.get(key) ?? { count: 0, bytes: 0 };
    const perConnection = (bytes - was.bytes) / connections;
    if (perConnection >= minBytes) rows.push({ key, count: (count - was.count) / connections, bytes: perConnection });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc');
  collect();
  collect();
}

/** Opens `count` idle event streams to `port` from a child process; resolves once all have their head. */
function openClients(port: number, count: number): Promise<{ close: () => void }> {
  const script = `
    const net = require('node:net');
    let open = 0;
    const next = () => {
      const socket = net.connect(${port}, '127.0.0.1', () => socket.write('GET ${EVENTS_PATH} HTTP/1.1\\r\\nHost: x\\r\\nAccept: text/event-stream\\r\\n\\r\\n'));
      socket.once('data', () => (++open === ${count} ? process.stdout.write('ready\\n') : next()));
      socket.on('error', (error) => { console.error(error); process.exit(1); });
    };
    next();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('ready')) resolve({ close: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code, signal) => reject(new Error(`the client process ended early (${String(code ?? signal)})`)));
  });
}

async function main(): Promise<void> {
  const [name = 'sse-node', countArg = '1000'] = process.argv.slice(2);
  const connections = Number(countArg);
  const contender = CONTENDERS.find((each) => each.name === name && each.instances === undefined && each.redis !== true);
  if (contender === undefined) throw new Error(`unknown contender ${name}; one of ${CONTENDERS.filter((each) => each.redis !== true).map((each) => each.name).join(', ')}`);
  const { start } = (await import(new URL(`./contenders/${contender.module}`, import.meta.url).href)) as { start: StartContender };
  const server = await start({ drain: false });
  const { port } = server.servers[0]!.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'sse-heap-'));
  try {
    // Warm-up: compiled code, lazily created structures, the first hidden-class transitions.
    const warm = await openClients(port, Math.min(100, connections));
    warm.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    gc();
    const beforeFile = writeHeapSnapshot(join(dir, 'before.heapsnapshot'));
    const clients = await openClients(port, connections);
    await new Promise((resolve) => setTimeout(resolve, 500));
    gc();
    const afterFile = writeHeapSnapshot(join(dir, 'after.heapsnapshot'));
    clients.close();
    // Read only now: the tallies of the first would be on the heap of the second.
    const before = tallies(beforeFile);
    const after = tallies(afterFile);
    const total = [...after.kinds.values()].reduce((sum, { bytes }) => sum + bytes, 0) - [...before.kinds.values()].reduce((sum, { bytes }) => sum + bytes, 0);
    console.log(`${name}: ${(total / connections).toFixed(0)} bytes of heap per idle connection (${connections} connections)`);
    console.log('\n| bytes / conn | objects / conn | type:constructor |\n|---:|---:|---|');
    for (const row of growth(before.kinds, after.kinds, connections, 16)) console.log(`| ${row.bytes.toFixed(0)} | ${row.count.toFixed(2)} | ${row.key} |`);
    console.log('\n| closures / conn | bytes / conn | closure @ where it was created |\n|---:|---:|---|');
    for (const row of growth(before.closures, after.closures, connections, 16)) console.log(`| ${row.count.toFixed(2)} | ${row.bytes.toFixed(0)} | ${row.key} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await Promise.all(server.servers.map((each) => new Promise((resolve) => each.close(resolve))));
    process.exit(0);
  }
}

await main();
