// Two copies of @sse/core in one process: the ESM and the CJS build loaded side by side (what a
// dual-package hazard gives an app), and a copy that speaks another internal protocol. Both
// builds are made here with tsup from this package's source, so the test runs without `pnpm build`.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as AdapterEntry from '../src/adapter.js';
import type * as UserEntry from '../src/index.js';
import { parseText } from './parse.js';
import { PROTOCOL_VERSION } from '../src/internal/protocol.js';

type UserApi = typeof UserEntry;
type AdapterApi = typeof AdapterEntry;
interface Copy {
  core: UserApi;
  adapter: AdapterApi;
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
const OTHER_VERSION = '9.9.9-other';
let workDir: string;
let esm: Copy;
let cjs: Copy;
let other: Copy;
let sameProtocol: Copy;

async function buildCopy(srcDir: string, outDir: string, formats: Array<'esm' | 'cjs'>, copyVersion: string): Promise<void> {
  await build({
    config: false,
    silent: true,
    entry: { index: join(srcDir, 'index.ts'), adapter: join(srcDir, 'adapter.ts') },
    outDir,
    format: formats,
    splitting: true,
    target: 'es2022',
    esbuildOptions(options, context) {
      options.define = { __SSE_CORE_VERSION__: JSON.stringify(copyVersion), __SSE_CORE_FORMAT__: JSON.stringify(context.format) };
    },
  });
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'sse-duplicate-core-'));
  const dist = join(workDir, 'dist');
  await buildCopy(join(packageDir, 'src'), dist, ['esm', 'cjs'], version);
  // A later @sse/core whose internal protocol changed.
  const otherSrc = join(workDir, 'other-src');
  cpSync(join(packageDir, 'src'), otherSrc, { recursive: true });
  const protocolFile = join(otherSrc, 'internal', 'protocol.ts');
  const protocol = readFileSync(protocolFile, 'utf8');
  const current = `export const PROTOCOL_VERSION = ${PROTOCOL_VERSION};`;
  expect(protocol).toContain(current);
  writeFileSync(protocolFile, protocol.replace(current, `export const PROTOCOL_VERSION = ${PROTOCOL_VERSION + 1};`));
  await buildCopy(otherSrc, join(workDir, 'other-dist'), ['esm'], OTHER_VERSION);
  // Another version that speaks the same protocol.
  await buildCopy(join(packageDir, 'src'), join(workDir, 'same-dist'), ['esm'], '9.9.9-same');

  const load = async (dir: string): Promise<Copy> => ({
    core: (await import(pathToFileURL(join(dir, 'index.js')).href)) as UserApi,
    adapter: (await import(pathToFileURL(join(dir, 'adapter.js')).href)) as AdapterApi,
  });
  esm = await load(dist);
  other = await load(join(workDir, 'other-dist'));
  sameProtocol = await load(join(workDir, 'same-dist'));
  const require = createRequire(join(dist, 'index.cjs'));
  cjs = { core: require('./index.cjs') as UserApi, adapter: require('./adapter.cjs') as AdapterApi };
}, 60_000);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

/** Reads a Response body until `count` events arrived, or to its end when `count` is `Infinity`. */
async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<{ parsed: ReturnType<typeof parseText>; ended: boolean }> {
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { parsed: parseText(text), ended: true };
    text += decoder.decode(value, { stream: true });
    if (parseText(text).events.length >= count) return { parsed: parseText(text), ended: false };
  }
}

/** A stream of `streamCopy` subscribed to a channel of `channelCopy`, over the real Web stream sink. */
async function fanOut(streamCopy: Copy, channelCopy: Copy): Promise<void> {
  const channel = channelCopy.core.createChannel({ history: 10 });
  const registry = channelCopy.core.createStreamRegistry();
  await channel.broadcast({ id: 'e1', event: 'tick', data: 1 });
  await channel.broadcast({ id: 'e2', event: 'tick', data: 2 });
  const response = await streamCopy.adapter.serveWebRequest({
    request: new Request('http://localhost/sse', { headers: { 'last-event-id': 'e1' } }),
    args: [],
    handler: (stream) => void channel.subscribe(stream),
    options: { keepAlive: false, registry },
  });
  expect(response.status).toBe(200);
  expect(registry.size).toBe(1);
  await channel.broadcast({ id: 'e3', event: 'tick', data: 3 });
  const reader = response.body!.getReader();
  const { parsed } = await readEvents(reader, 2);
  expect(parsed.events.map((event) => [event.id, event.event, event.data])).toEqual([
    ['e2', 'tick', '2'],
    ['e3', 'tick', '3'],
  ]);
  expect(registry.counters()).toMatchObject({ replays: 1, replayedEvents: 1, eventsWritten: 2 });
  // The registry's drain reaches into the other copy's stream: a last event, a clean end.
  const drained = registry.closeAll({ event: { event: 'bye', data: 'now' }, timeoutMs: 10_000 });
  const rest = await readEvents(reader, Number.POSITIVE_INFINITY);
  expect(rest.ended).toBe(true);
  expect(rest.parsed.events.map((event) => [event.event, event.data])).toEqual([['bye', 'now']]);
  expect(await drained).toMatchObject({ closed: 1, forced: 0 });
  expect(registry.counters().closedBy.shutdown).toBe(1);
  expect(channel.size).toBe(0);
}

describe('two copies of @sse/core in one process', () => {
  it('are really two copies', () => {
    expect(esm.core.createChannel).not.toBe(cjs.core.createChannel);
    expect(esm.core.SseError).not.toBe(cjs.core.SseError);
  });

  it('an ESM stream works with a CJS channel and registry', async () => {
    await fanOut(esm, cjs);
  });

  it('a CJS stream works with an ESM channel and registry', async () => {
    await fanOut(cjs, esm);
  });

  it('another version that speaks the same protocol works with this one, both ways', async () => {
    await fanOut(sameProtocol, cjs);
    await fanOut(esm, sameProtocol);
  });

  it('a copy with another protocol refuses a stream, naming both copies', async () => {
    const channel = other.core.createChannel();
    let error: unknown;
    await cjs.adapter.serveWebRequest({
      request: new Request('http://localhost/sse'),
      args: [],
      handler: (stream) => {
        try {
          channel.subscribe(stream);
        } catch (caught) {
          error = caught;
        }
        stream.close();
      },
    });
    expect(error).toBeInstanceOf(other.core.SseError);
    expect((error as InstanceType<UserApi['SseError']>).code).toBe('ERR_SSE_DUPLICATE_CORE');
    expect((error as Error).message).toContain(`this stream was created by @sse/core ${version} (cjs, protocol ${PROTOCOL_VERSION}) but the channel belongs to @sse/core ${OTHER_VERSION} (esm, protocol ${PROTOCOL_VERSION + 1})`);
    expect((error as Error).message).toContain('dedupe');
  });

  it('a request flow refuses a registry of another protocol before it opens a stream', async () => {
    const registry = other.core.createStreamRegistry();
    const opened: unknown[] = [];
    const serving = esm.adapter.serveWebRequest({
      request: new Request('http://localhost/sse'),
      args: [],
      handler: (stream) => void opened.push(stream),
      options: { registry },
    });
    await expect(serving).rejects.toThrow(esm.core.SseError);
    await expect(serving).rejects.toMatchObject({
      code: 'ERR_SSE_DUPLICATE_CORE',
      message: expect.stringContaining(`this registry was created by @sse/core ${OTHER_VERSION} (esm, protocol ${PROTOCOL_VERSION + 1}) but the request flow (serveEventStream) belongs to @sse/core ${version} (esm, protocol ${PROTOCOL_VERSION})`),
    });
    expect(opened).toEqual([]);
    expect(registry.size).toBe(0);
  });

  it('a registry of another protocol refuses a stream it is handed', () => {
    const stream = esm.adapter.createEventStream(esm.adapter.createWebStreamSink(), { keepAlive: false });
    const channel = other.core.createChannel();
    expect(() => channel.subscribe(stream)).toThrow(new RegExp(`this stream was created by @sse/core .* \\(esm, protocol ${PROTOCOL_VERSION}\\) but the channel belongs to @sse/core 9\\.9\\.9-other`));
    stream.close();
  });
});
