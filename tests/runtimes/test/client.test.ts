// @sse/client on Bun, Deno and workerd: the runtime's own fetch and Web Streams against a server
// in this process, which checks what each attempt sent (a token per attempt, Last-Event-ID).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUN, DENO } from './bridge.js';
import type { ProbeResult } from '../bridge/client-probe.js';

const bridgeDir = fileURLToPath(new URL('../bridge/', import.meta.url));
const outdir = mkdtempSync(join(tmpdir(), 'sse-client-runtimes-'));
const requests: Array<{ authorization: string | undefined; lastEventId: string | undefined }> = [];
/** The runtime of each request (its `?runtime=`), by index. */
const runtimes: string[] = [];
let target = '';

/** First attempt: two events and a clean end; second: one more (after Last-Event-ID 2) and an end; then 204. */
const server = createServer((req: IncomingMessage, res) => {
  const runtime = new URL(req.url ?? '/', 'http://x').searchParams.get('runtime') ?? '';
  const mine = requests.filter((_, index) => runtimes[index] === runtime);
  requests.push({ authorization: req.headers.authorization, lastEventId: req.headers['last-event-id'] as string | undefined });
  runtimes.push(runtime);
  if (mine.length >= 2) {
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  if (mine.length === 0) res.end('retry: 5\nid: 1\nevent: tick\ndata: {"n":1}\n\nid: 2\nevent: tick\ndata: {"n":2}\n\n');
  else res.end('id: 3\nevent: tick\ndata: {"n":3}\n\n');
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(outdir, { recursive: true, force: true });
});

async function bundle(entry: string): Promise<string> {
  const outfile = join(outdir, `${entry}.mjs`);
  await build({ entryPoints: [join(bridgeDir, `${entry}.ts`)], outfile, bundle: true, format: 'esm', platform: 'neutral', conditions: ['@sse/source', 'import'], target: 'es2022', logLevel: 'error' });
  return outfile;
}

/** Runs a script to its end (a hang guard of 60 s) and returns its `result` line. */
function runScript(command: string, args: string[], env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = /^result (.*)$/m.exec(output)?.[1];
      if (code === 0 && line !== undefined) resolve(JSON.parse(line) as ProbeResult);
      else reject(new Error(`${command} exited with ${code}: ${output}`));
    });
  });
}

const expected: ProbeResult = {
  seen: [['tick', { n: 1 }, '1'], ['tick', { n: 2 }, '2'], ['tick', { n: 3 }, '3']],
  reason: 'no-content',
  status: 204,
  retries: 2,
};

function attemptsOf(runtime: string): Array<{ authorization: string | undefined; lastEventId: string | undefined }> {
  return requests.filter((_, index) => runtimes[index] === runtime);
}

describe('@sse/client in other runtimes', () => {
  it('Bun 1.4: headers per attempt, Last-Event-ID, typed events, a stop on 204', async () => {
    const result = await runScript(BUN, [await bundle('client-bun')], { SSE_CLIENT_TARGET: `${target}?runtime=bun` });
    expect(result).toEqual(expected);
    expect(attemptsOf('bun')).toEqual([
      { authorization: 'Bearer token-0', lastEventId: undefined },
      { authorization: 'Bearer token-1', lastEventId: '2' },
      { authorization: 'Bearer token-2', lastEventId: '3' },
    ]);
  });

  it('Deno 2.9: the same', async () => {
    const result = await runScript(DENO, ['run', '--allow-net', '--allow-env', '--no-prompt', await bundle('client-deno')], { SSE_CLIENT_TARGET: `${target}?runtime=deno` });
    expect(result).toEqual(expected);
    expect(attemptsOf('deno').map((attempt) => attempt.lastEventId)).toEqual([undefined, '2', '3']);
  });

  it('workerd (Miniflare 4): the same, from a worker', async () => {
    const { Miniflare } = await import('miniflare');
    const script = await bundle('client-worker');
    const mf = new Miniflare({
      modules: true,
      scriptPath: script,
      modulesRoot: outdir,
      compatibilityDate: '2026-07-30',
      bindings: { SSE_CLIENT_TARGET: `${target}?runtime=workerd` },
    });
    try {
      const response = await mf.dispatchFetch('http://localhost/');
      expect(await response.json()).toEqual(expected);
      expect(attemptsOf('workerd').map((attempt) => attempt.authorization)).toEqual(['Bearer token-0', 'Bearer token-1', 'Bearer token-2']);
    } finally {
      await mf.dispose();
    }
  });
});
