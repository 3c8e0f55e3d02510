// The test-process half of the bridge (bridge/app.ts is the other): a control server on
// 127.0.0.1, the runtimes as child processes, and a conformance target per runtime and API.
//
// A case's handler and callbacks are closures of this process, so they run here; everything
// else runs in the runtime: the HTTP server, @sse/hono's `sse()` or `createFetchHandler`, the
// request flow, the stream with its queue, timers and backpressure, and its Web Streams sink.
// The handler gets a `RemoteStream`, which forwards each call to the runtime's stream and
// mirrors what the runtime reports back (its close, its buffered bytes); channels and
// registries of the case stay here and see it as one of their streams.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  SseError,
  SseFormatError,
  type CloseInfo,
  type CloseReason,
  type EventStream,
  type SlowClientInfo,
  type StreamEvent,
  type TopicResumeStatus,
} from '@sse/core';
import { createEventStream } from '@sse/core/adapter';
import type { ConformanceCase, ConformanceHandler, ConformanceOptions, ConformanceTarget, MountedServer } from '@sse/conformance';

// The core's internal protocol, by hand (it is not exported): its version must be the one of
// packages/core/src/internal/protocol.ts. A stale one fails at once (see `speaksTheCoreProtocol`).
const PROTOCOL = 3;
const kWriteFrame = Symbol.for(`@sse/core.internals/${PROTOCOL}.writeFrame`);
const kBeginBatch = Symbol.for(`@sse/core.internals/${PROTOCOL}.beginBatch`);
const kEndBatch = Symbol.for(`@sse/core.internals/${PROTOCOL}.endBatch`);
const kReplayed = Symbol.for(`@sse/core.internals/${PROTOCOL}.replayed`);
const kObserve = Symbol.for(`@sse/core.internals/${PROTOCOL}.observe`);
const kOnClose = Symbol.for(`@sse/core.internals/${PROTOCOL}.onClose`);
const kOffClose = Symbol.for(`@sse/core.internals/${PROTOCOL}.offClose`);
const kFinished = Symbol.for(`@sse/core.internals/${PROTOCOL}.finished`);
const kForceAbort = Symbol.for(`@sse/core.internals/${PROTOCOL}.forceAbort`);
const kCloseWith = Symbol.for(`@sse/core.internals/${PROTOCOL}.closeWith`);
const kReportError = Symbol.for(`@sse/core.internals/${PROTOCOL}.reportError`);
const kCreatedBy = Symbol.for('@sse/core.createdBy');
const kTrack = Symbol.for(`@sse/core.internals/${PROTOCOL}.track`);

type Command = Record<string, unknown> & { op: string };

interface StreamObserver {
  onClose?(info: CloseInfo): void;
}

/** What a hub or channel gives `kOnClose` (protocol 3: an object, not a function). */
interface CloseListener {
  streamClosed(): void;
}

/** A discarding sink, for a stream that only checks send arguments exactly as the runtime's will. */
function discardSink() {
  return { signal: new AbortController().signal, open() {}, write: () => true, onDrain() {}, close() {}, abort() {} };
}

// A stream of the core itself has every key of the protocol above, or the versions differ.
const speaksTheCoreProtocol = typeof (createEventStream(discardSink()) as unknown as Record<symbol, unknown>)[kBeginBatch] === 'function';
if (!speaksTheCoreProtocol) throw new Error(`the runtime bridge speaks protocol ${PROTOCOL} of @sse/core's internals, and the core another: update PROTOCOL in tests/runtimes/test/bridge.ts and bridge/app.ts`);

/** The handler's view of a stream that lives in the runtime. */
class RemoteStream {
  readonly #controller = new AbortController();
  readonly #closeListeners = new Set<CloseListener>();
  readonly #observers: StreamObserver[] = [];
  readonly #check: EventStream;
  readonly #write: (command: Command) => void;
  #resolveClosed!: (info: CloseInfo) => void;
  #isClosed = false;
  /** Frames of a fan-out batch (see kBeginBatch), sent as one write at its end. */
  #batch: string[] | undefined;
  bufferedBytes = 0;
  readonly closed = new Promise<CloseInfo>((resolve) => (this.#resolveClosed = resolve));
  readonly [kCreatedBy] = 'runtime bridge (test process)';

  constructor(
    readonly lastEventId: string | undefined,
    options: ConformanceOptions,
    write: (command: Command) => void,
  ) {
    this.#write = write;
    const { maxEventBytes, serialize } = options;
    this.#check = createEventStream(discardSink(), {
      keepAlive: false,
      ...(maxEventBytes === undefined ? {} : { maxEventBytes }),
      ...(serialize === undefined ? {} : { serialize }),
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  get isClosed(): boolean {
    return this.#isClosed;
  }
  get writable(): boolean {
    return !this.#isClosed;
  }
  get [kFinished](): Promise<void> {
    return this.closed.then(() => undefined);
  }

  send(event: StreamEvent | unknown): boolean {
    // Throws the SseFormatError the runtime's stream would throw, synchronously, as the case expects.
    if (!this.#check.send(event as StreamEvent)) return false;
    if (this.#isClosed) return false;
    this.#write({ op: 'send', event });
    return true;
  }
  comment(text = ''): boolean {
    this.#check.comment(text);
    if (this.#isClosed) return false;
    this.#write({ op: 'comment', text });
    return true;
  }
  close(): void {
    if (!this.#isClosed) this.#write({ op: 'close' });
  }
  pipe(): Promise<void> {
    return Promise.reject(new Error('pipe() is not bridged to the runtime'));
  }
  whenWritable(): Promise<boolean> {
    return Promise.resolve(!this.#isClosed);
  }
  [kWriteFrame](chunk: Uint8Array, _now?: number, isComment?: boolean): boolean {
    if (this.#isClosed) return false;
    const frame = Buffer.from(chunk).toString('utf8');
    if (this.#batch !== undefined && isComment !== true) {
      this.#batch.push(frame);
      return true;
    }
    this[kEndBatch]();
    this.#write({ op: 'frame', frame, ...(isComment === true ? { comment: true } : {}) });
    return true;
  }
  /** A fan-out visiting this stream for several publishes: their frames go to the runtime as one write. */
  [kBeginBatch](): void {
    if (!this.#isClosed) this.#batch ??= [];
  }
  [kEndBatch](): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    if (batch.length > 0 && !this.#isClosed) this.#write({ op: 'frame', frame: batch.join('') });
  }
  [kReplayed](count: number): void {
    this.#write({ op: 'replayed', count });
  }
  [kObserve](observer: StreamObserver): void {
    this.#observers.push(observer);
  }
  [kOnClose](listener: CloseListener): void {
    this.#closeListeners.add(listener);
  }
  [kOffClose](listener: CloseListener): void {
    this.#closeListeners.delete(listener);
  }
  [kForceAbort](): void {
    this.#write({ op: 'abort' });
  }
  [kCloseWith](): void {
    this.close();
  }
  [kReportError](): void {}

  /** The runtime's stream closed. */
  finish(info: CloseInfo): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.bufferedBytes = 0;
    this.#controller.abort(new SseError('ERR_SSE_CLIENT_GONE', `closed in the runtime (${info.reason})`));
    for (const listener of [...this.#closeListeners]) listener.streamClosed();
    for (const observer of this.#observers) observer.onClose?.(info);
    this.#resolveClosed(info);
  }
}

interface Mount {
  handler: ConformanceHandler;
  options: ConformanceOptions;
  streams: Set<RemoteStream>;
}

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The control server the runtime's stubs call, and the mounts it serves. */
class Control {
  readonly #mounts = new Map<string, Mount>();
  readonly #streams = new Map<string, { stream: RemoteStream; res: ServerResponse }>();
  /** Errors thrown by handlers here, which the runtime refers to by number. */
  readonly #errors: unknown[] = [];
  #nextMount = 0;
  readonly server = createServer((req, res) => {
    readBody(req)
      .then((body) => this.#route(req.url ?? '', body, res))
      .catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: String(error) });
      });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  add(handler: ConformanceHandler, options: ConformanceOptions): string {
    const id = String(++this.#nextMount);
    this.#mounts.set(id, { handler, options, streams: new Set() });
    return id;
  }

  remove(id: string): void {
    const mount = this.#mounts.get(id);
    this.#mounts.delete(id);
    for (const stream of mount?.streams ?? []) stream.close();
  }

  #error(serialized: Record<string, unknown>): unknown {
    if (typeof serialized.ref === 'number') return this.#errors[serialized.ref];
    const message = String(serialized.message);
    if (serialized.name === 'SseFormatError') return new SseFormatError(serialized.field as never, message);
    if (typeof serialized.code === 'string') return new SseError(serialized.code as never, message);
    return Object.assign(new Error(message), { name: serialized.name });
  }

  async #route(path: string, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const mount = this.#mounts.get(String(body.mount));
    switch (path) {
      case '/mount': {
        if (mount === undefined) return json(res, 404, {});
        const { options } = mount;
        const data = Object.fromEntries(Object.entries(options).filter(([key, value]) => typeof value !== 'function' && key !== 'registry' && key !== 'topics'));
        const callbacks = Object.keys(options).filter((key) => typeof options[key as keyof typeof options] === 'function');
        // The hub stays here; the runtime gets stubs of the callbacks the case gave (and the rest as is).
        const topics = options.topics === undefined ? undefined : {
          callbacks: Object.keys(options.topics).filter((key) => typeof (options.topics as unknown as Record<string, unknown>)[key] === 'function'),
          replay: options.topics.replay,
          hub: options.topics.hub === undefined ? undefined : {},
        };
        return json(res, 200, { options: data, callbacks, registry: options.registry !== undefined, topics });
      }
      case '/topics/from': {
        // from and the hub's check run here, where the hub is: the runtime gets the checked list, or why not.
        const topics = mount!.options.topics!;
        try {
          const listed: unknown = await topics.from();
          if (listed === undefined) return json(res, 200, { undefined: true });
          // A rejection (`{ status }`) goes as is; the runtime's request flow reads it.
          if (typeof listed === 'object' && listed !== null && !Array.isArray(listed)) return json(res, 200, { rejection: listed });
          return json(res, 200, { topics: topics.hub.checkTopics(listed as readonly string[]) });
        } catch (error) {
          return json(res, 200, { error: { code: (error as SseError).code, message: String((error as Error).message) } });
        }
      }
      case '/topics/authorize': {
        const verdict: unknown = await mount!.options.topics!.authorize(body.topics as string[]);
        return json(res, 200, verdict === undefined ? { undefined: true } : { value: verdict });
      }
      case '/authorize': {
        const verdict: unknown = await mount!.options.authorize!();
        return json(res, 200, verdict === undefined ? { undefined: true } : { value: verdict });
      }
      case '/on-error':
        mount?.options.onError?.(this.#error(body.error as Record<string, unknown>));
        return json(res, 200, {});
      case '/on-slow-client':
        mount?.options.onSlowClient?.(body.info as SlowClientInfo);
        return json(res, 200, {});
      case '/event': {
        const entry = this.#streams.get(String(body.sid));
        if (entry !== undefined && body.type === 'buffered') entry.stream.bufferedBytes = Number(body.bytes);
        if (entry !== undefined && body.type === 'closed') {
          this.#streams.delete(String(body.sid));
          const info: CloseInfo = { reason: body.reason as CloseReason };
          if (body.error !== undefined) info.error = this.#error(body.error as Record<string, unknown>);
          entry.stream.finish(info);
          entry.res.end();
        }
        return json(res, 200, {});
      }
      case '/open': {
        if (mount === undefined) return json(res, 404, {});
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.flushHeaders();
        const write = (command: Command): void => void res.write(`${JSON.stringify(command)}\n`);
        const stream = new RemoteStream((body.lastEventId as string | null) ?? undefined, mount.options, write);
        this.#streams.set(String(body.sid), { stream, res });
        mount.streams.add(stream);
        void stream.closed.then(() => mount.streams.delete(stream));
        const registry = mount.options.registry as unknown as Record<symbol, (stream: unknown, key: unknown) => void> | undefined;
        registry?.[kTrack]!(stream, undefined);
        const fail = (error: unknown): void => write({ op: 'fail', ref: this.#errors.push(error) - 1 });
        const run = (): void => {
          try {
            const result = mount.handler(stream as unknown as EventStream);
            if (result instanceof Promise) result.catch(fail);
          } catch (error) {
            fail(error);
          }
        };
        const topicsOption = mount.options.topics;
        if (topicsOption === undefined || !Array.isArray(body.topics)) return run();
        // The runtime's request flow chose the topics; the hub here subscribes this stream's stand-in
        // to them, with the runtime's replay, and the handler runs once they are live, as in process.
        const { onResume } = topicsOption;
        const resumed = (statuses: readonly TopicResumeStatus[]): void => {
          try {
            onResume?.(statuses, stream as unknown as EventStream);
          } catch (error) {
            mount.options.onError?.(error);
          }
        };
        topicsOption.hub.subscribe(stream as unknown as EventStream, body.topics as string[], { replay: body.replay as boolean | string, onResume: resumed }).then(run, fail);
        return;
      }
      default:
        return json(res, 404, {});
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export type RuntimeName = 'bun' | 'deno' | 'workerd';

const here = fileURLToPath(new URL('.', import.meta.url));
const bridgeDir = join(here, '..', 'bridge');
const modules = join(here, '..', 'node_modules');

/** Bundles the runtime's entry with the workspace sources (the `@sse/source` condition) into one ES module. */
async function bundle(runtime: RuntimeName, outdir: string, script?: string): Promise<string> {
  const entry = script ?? (runtime === 'workerd' ? 'worker' : runtime);
  const outfile = join(outdir, `${entry}.mjs`);
  await build({
    entryPoints: [join(bridgeDir, `${entry}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['@sse/source', 'worker', 'import'],
    target: 'es2022',
    logLevel: 'error',
  });
  return outfile;
}

/** Waits for the child's `listening <port>` line (a hang guard of 30 s: a cold start under load). */
function listening(child: ChildProcess, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening (\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (process.env.SSE_RUNTIME_LOG !== undefined) process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${output}`));
    });
  });
}

/** Stops a child by its pid, and waits until it is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

export interface RuntimeOptions {
  /** workerd compatibility flags (Miniflare). */
  compatibilityFlags?: string[];
  /** Another entry of bridge/ than the runtime's own (a script that needs no control server). */
  script?: string;
}

/** One runtime serving the bridge: its base URL, and how to stop it. */
export interface RunningRuntime {
  readonly name: RuntimeName;
  readonly url: string;
  readonly control: Control;
  stop(): Promise<void>;
}

export const BUN = join(modules, 'bun', 'bin', 'bun.exe');
export const DENO = join(modules, 'deno', 'deno');

/** Starts `runtime` serving the bridge, with a control server of its own. */
export async function startRuntime(runtime: RuntimeName, options: RuntimeOptions = {}): Promise<RunningRuntime> {
  const control = new Control();
  const ctrl = await control.listen();
  const outdir = mkdtempSync(join(tmpdir(), `sse-${runtime}-`));
  const script = await bundle(runtime, outdir, options.script);
  const cleanup = async (): Promise<void> => {
    await control.close();
    rmSync(outdir, { recursive: true, force: true });
  };
  if (runtime === 'workerd') {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({
      modules: true,
      scriptPath: script,
      modulesRoot: outdir,
      host: '127.0.0.1',
      port: 0,
      compatibilityDate: '2026-07-30',
      compatibilityFlags: options.compatibilityFlags ?? [],
      bindings: { SSE_BRIDGE_CTRL: ctrl },
    });
    const url = (await mf.ready).href.replace(/\/$/, '');
    return { name: runtime, url, control, stop: async () => { await mf.dispose(); await cleanup(); } };
  }
  const [command, args] = runtime === 'bun' ? [BUN, [script]] : [DENO, ['run', '--allow-net', '--allow-env', '--no-prompt', script]];
  const child = spawn(command, args, { env: { ...process.env, SSE_BRIDGE_CTRL: ctrl, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await listening(child, runtime);
    return { name: runtime, url: `http://127.0.0.1:${port}`, control, stop: async () => { await stopChild(child); await cleanup(); } };
  } catch (error) {
    await stopChild(child);
    await cleanup();
    throw error;
  }
}

/**
 * A conformance target for `api` on a runtime started lazily (the first mount starts it; `stop`
 * in `afterAll`). Each mount is a fresh app in the same runtime, at a path of its own.
 */
export function bridgeTarget(
  runtime: () => Promise<RunningRuntime>,
  api: 'hono' | 'fetch',
  name: string,
  skip: Partial<Record<ConformanceCase, string>>,
): ConformanceTarget {
  const mount = async (handler: ConformanceHandler, options: ConformanceOptions): Promise<MountedServer> => {
    const running = await runtime();
    const id = running.control.add(handler, options);
    // The runtime builds this mount's sse() now, so that what it throws (ERR_SSE_OPTION) fails the mount, as in process.
    const built = await fetch(`${running.url}/${api}/build/${id}`);
    if (built.status !== 204) {
      running.control.remove(id);
      const error = (await built.json()) as { code?: string; message: string };
      throw error.code === undefined ? new Error(error.message) : new SseError(error.code as never, error.message);
    }
    return {
      url: `${running.url}/${api}/m/${id}`,
      close: () => {
        running.control.remove(id);
        return Promise.resolve();
      },
    };
  };
  return {
    name,
    mount,
    skip: {
      http2: 'the runtime is served over HTTP/1.1 here (its HTTP/2 needs TLS, and the suite speaks cleartext HTTP/2)',
      'topics-large-replay':
        "the case's hub runs in the test process and sees the runtime's stream through the bridge, which cannot tell it synchronously that the connection is full: the pace of a replay is not the runtime's to keep (the hub's own pacing is tested in @sse/core, and over every Node adapter's socket)",
      ...skip,
    },
  };
}

/** Starts the runtime once, on first use. */
export function lazyRuntime(runtime: RuntimeName, options?: RuntimeOptions): { get(): Promise<RunningRuntime>; stop(): Promise<void> } {
  let started: Promise<RunningRuntime> | undefined;
  return {
    get: () => (started ??= startRuntime(runtime, options)),
    stop: async () => {
      if (started !== undefined) await (await started).stop();
    },
  };
}
