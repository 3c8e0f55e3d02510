// The half of the bridge that runs inside the runtime under test (bundled by esbuild for Bun,
// Deno and workerd). It serves the real `sse()` of @sse/hono and the real `createFetchHandler` of
// @sse/core; only the handler and the option callbacks are stubs that call the test process,
// where the conformance case wrote them. Every call goes through the control server (ctrl) of
// test/bridge.ts, over HTTP, from the request's own context (workerd forbids sharing I/O across
// requests).
import { Hono } from 'hono';
import { sse } from '@sse/hono';
import { createFetchHandler, SseError, type EventStream, type ServeOptions, type StreamEvent } from '@sse/core';
import { fetchServerInfo } from '@sse/core/adapter';

/**
 * The keys of the core's internal protocol (registered symbols: any copy of the core shares them);
 * PROTOCOL is the version of packages/core/src/internal/protocol.ts, as in test/bridge.ts.
 */
const PROTOCOL = 3;
const kWriteFrame = Symbol.for(`@sse/core.internals/${PROTOCOL}.writeFrame`);
const kReplayed = Symbol.for(`@sse/core.internals/${PROTOCOL}.replayed`);
const kForceAbort = Symbol.for(`@sse/core.internals/${PROTOCOL}.forceAbort`);
const kCreatedBy = Symbol.for('@sse/core.createdBy');
const kAdmit = Symbol.for(`@sse/core.internals/${PROTOCOL}.admit`);
const kTrack = Symbol.for(`@sse/core.internals/${PROTOCOL}.track`);

export type Ctrl = (path: string, body: unknown) => Promise<Response>;

interface MountConfig {
  options: Record<string, unknown>;
  callbacks: string[];
  registry: boolean;
  /** The case's `topics` option: which callbacks it has (stubbed here), its replay, whether it has a hub. */
  topics?: { callbacks: string[]; replay?: boolean; hub?: object };
}

/** A command the test process sends to one stream, one JSON line each. */
type Command =
  | { op: 'send'; event: StreamEvent }
  | { op: 'comment'; text: string }
  | { op: 'frame'; frame: string; comment?: true }
  | { op: 'replayed'; count: number }
  | { op: 'close' }
  | { op: 'abort' }
  | { op: 'fail'; ref: number };

/** An error of the test process's handler, stood in for by its number there. */
class RemoteError extends Error {
  constructor(readonly ref: number) {
    super(`handler failure #${ref} in the test process`);
  }
}

export function serializeError(error: unknown): Record<string, unknown> {
  if (error instanceof RemoteError) return { ref: error.ref };
  const e = error as { name?: unknown; code?: unknown; message?: unknown; field?: unknown };
  return { name: String(e?.name), code: e?.code, message: String(e?.message ?? error), field: e?.field };
}

const encoder = new TextEncoder();
const ignore = (): void => undefined;

/**
 * What a request reports to the test process goes out one POST at a time, in order: `onError`
 * before the close of the stream it failed, as the core calls them. On workerd, each POST is
 * also given to `ctx.waitUntil`, so that the request's end does not cancel it.
 */
interface Reports {
  post(path: string, body: unknown): void;
  /** Queues a report built when its turn comes. */
  later(send: () => Promise<unknown>): void;
  /** Settles once the reports queued so far went out. */
  sent(): Promise<unknown>;
}

const reportsByRequest = new WeakMap<object, Reports>();
/** The topics the request flow subscribed a stream to (through the stand-in hub), for its handler's `/open`. */
const chosenTopics = new WeakMap<object, { topics: readonly string[]; replay: boolean | string | undefined }>();
const contexts = new WeakMap<Request, { waitUntil(promise: Promise<unknown>): void }>();

/** The request among the arguments the core passes: `c` (Hono) or the `Request` itself. */
function requestOf(args: unknown[]): Request {
  const first = args[0] as { req?: { raw?: Request } } | undefined;
  return first?.req?.raw ?? (first as Request);
}

function reportsOf(ctrl: Ctrl, args: unknown[]): Reports {
  const request = requestOf(args);
  let reports = reportsByRequest.get(request);
  if (reports === undefined) {
    let chain: Promise<unknown> = Promise.resolve();
    const later = (send: () => Promise<unknown>): void => {
      chain = chain.then(send).then((r) => (r as Response | undefined)?.body?.cancel(), ignore);
      contexts.get(request)?.waitUntil(chain);
    };
    reports = { later, post: (path, body) => later(() => ctrl(path, body)), sent: () => chain };
    reportsByRequest.set(request, reports);
  }
  return reports;
}

function stubOptions(ctrl: Ctrl, mount: string, config: MountConfig): ServeOptions<unknown[]> {
  const options: ServeOptions<unknown[]> = { ...(config.options as ServeOptions<unknown[]>) };
  const post = (path: string, body: unknown, args: unknown[]): void => reportsOf(ctrl, args).post(path, body);
  if (config.callbacks.includes('authorize')) {
    options.authorize = async () => {
      const answer = (await (await ctrl('/authorize', { mount })).json()) as { undefined?: true; value?: unknown };
      return (answer.undefined === true ? undefined : answer.value) as never;
    };
  }
  if (config.callbacks.includes('onError')) options.onError = (error, ...args) => post('/on-error', { mount, error: serializeError(error) }, args);
  if (config.callbacks.includes('onSlowClient')) options.onSlowClient = (info) => void ctrl('/on-slow-client', { mount, info }).then((r) => r.body?.cancel(), ignore);
  if (config.topics !== undefined) options.topics = stubTopics(ctrl, mount, config.topics) as never;
  // The registry lives in the test process (it counts the streams the bridge reports there);
  // this stand-in admits every stream, so the request flow takes its registry path here too.
  if (config.registry) {
    options.registry = { [kCreatedBy]: 'runtime bridge', size: 0, draining: false, [kAdmit]: () => undefined, [kTrack]: ignore } as never;
  }
  return options;
}

/**
 * The `topics` option in the runtime: `from` and `authorize` call the case's, and the hub is a
 * stand-in. The hub lives in the test process, so `from`'s list is checked there (repeats
 * removed, the hub's ERR_SSE_TOPIC / ERR_SSE_TOO_MANY_TOPICS thrown here as they came), and the
 * subscription the request flow makes is handed to the handler's `/open`, where the real hub
 * subscribes the stream's stand-in before the case's handler runs.
 */
function stubTopics(ctrl: Ctrl, mount: string, config: NonNullable<MountConfig['topics']>): Record<string, unknown> {
  const topics: Record<string, unknown> = {};
  if (config.replay !== undefined) topics.replay = config.replay;
  if (config.hub !== undefined) {
    topics.hub = {
      checkTopics: (list: readonly string[]) => [...list],
      subscribe: (stream: object, list: readonly string[], options: { replay?: boolean | string } = {}) => {
        chosenTopics.set(stream, { topics: list, replay: options.replay });
        return Promise.resolve([]);
      },
    };
  }
  if (config.callbacks.includes('from')) {
    topics.from = async () => {
      const answer = (await (await ctrl('/topics/from', { mount })).json()) as { undefined?: true; rejection?: unknown; topics?: string[]; error?: { code?: string; message: string } };
      if (answer.error !== undefined) {
        throw answer.error.code === undefined ? new Error(answer.error.message) : new SseError(answer.error.code as never, answer.error.message);
      }
      return answer.undefined === true ? undefined : (answer.rejection ?? answer.topics);
    };
  }
  if (config.callbacks.includes('authorize')) {
    topics.authorize = async (list: string[]) => {
      const answer = (await (await ctrl('/topics/authorize', { mount, topics: list })).json()) as { undefined?: true; value?: unknown };
      return answer.undefined === true ? undefined : answer.value;
    };
  }
  return topics;
}

function stubHandler(ctrl: Ctrl, mount: string): (stream: EventStream, ...args: unknown[]) => Promise<void> {
  let streams = 0;
  return async (stream, ...args) => {
    const reports = reportsOf(ctrl, args);
    const sid = `${mount}.${++streams}.${Math.random().toString(36).slice(2)}`;
    const post = (type: string, body: Record<string, unknown>): void => reports.post('/event', { sid, type, ...body });
    // Buffered sizes are coalesced: one report queued at a time, with the size when it goes out.
    let reported = 0;
    let stateQueued = false;
    const reportBuffered = (): void => {
      if (stateQueued || stream.bufferedBytes === reported) return;
      stateQueued = true;
      reports.later(() => {
        stateQueued = false;
        reported = stream.bufferedBytes;
        return ctrl('/event', { sid, type: 'buffered', bytes: reported });
      });
    };
    void stream.closed.then((info) => post('closed', { reason: info.reason, error: info.error === undefined ? undefined : serializeError(info.error) }));
    const chosen = chosenTopics.get(stream);
    const response = await ctrl('/open', { mount, sid, lastEventId: stream.lastEventId ?? null, ...(chosen === undefined ? {} : { topics: chosen.topics, replay: chosen.replay ?? true }) });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const internal = stream as unknown as Record<symbol, (...args: unknown[]) => unknown>;
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += value;
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const command = JSON.parse(pending.slice(0, end)) as Command;
        pending = pending.slice(end + 1);
        switch (command.op) {
          case 'send':
            stream.send(command.event);
            break;
          case 'comment':
            stream.comment(command.text);
            break;
          case 'frame':
            internal[kWriteFrame]!(encoder.encode(command.frame), undefined, command.comment === true);
            break;
          case 'replayed':
            internal[kReplayed]!(command.count);
            break;
          case 'close':
            stream.close();
            break;
          case 'abort':
            internal[kForceAbort]!();
            break;
          case 'fail':
            void reader.cancel().catch(ignore);
            throw new RemoteError(command.ref);
        }
      }
      reportBuffered();
    }
  };
}

/**
 * The bridge's fetch handler: `/hono/m/<mount>` is a Hono app with `sse()`, `/fetch/m/<mount>`
 * is `createFetchHandler()`, each built once per mount from the case's options.
 */
export function createBridge(ctrl: Ctrl): (request: Request, ...rest: unknown[]) => Promise<Response> {
  const served = new Map<string, Promise<((request: Request, ...rest: unknown[]) => Response | Promise<Response>) | undefined>>();
  const build = async (kind: string, mount: string) => {
    const answer = await ctrl('/mount', { mount });
    if (answer.status !== 200) return undefined;
    const config = (await answer.json()) as MountConfig;
    const handler = stubHandler(ctrl, mount);
    const options = stubOptions(ctrl, mount, config);
    if (kind === 'hono') {
      const app = new Hono().all('*', sse(handler, options));
      return (request: Request, ...rest: unknown[]) => app.fetch(request, ...(rest as []));
    }
    return createFetchHandler(handler, options as ServeOptions<[Request]>);
  };
  return async (request, ...rest) => {
    const { pathname } = new URL(request.url);
    // Which runtime answers, so that a test can check it is not talking to something else.
    if (pathname === '/runtime') return new Response(typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent);
    // The client address the core reads from the server's second argument (empty on Workers).
    if (pathname === '/client-address') return new Response(fetchServerInfo(request, rest[0]).clientAddress ?? '');
    const match = /^\/(hono|fetch)\/(m|build)\/(\d+)/.exec(pathname);
    if (match === null) return new Response('no such mount', { status: 404 });
    const key = `${match[1]}/${match[3]}`;
    let entry = served.get(key);
    if (entry === undefined) served.set(key, (entry = build(match[1]!, match[3]!)));
    if (match[2] === 'build') {
      // Builds the mount's sse() now, as the case's mount does in process: what it throws (ERR_SSE_OPTION) is the mount's answer.
      return entry.then(
        () => new Response(null, { status: 204 }),
        (error: unknown) => new Response(JSON.stringify(serializeError(error)), { status: 500, headers: { 'content-type': 'application/json' } }),
      );
    }
    const serve = await entry;
    if (serve === undefined) return new Response('mount closed', { status: 404 });
    const context = rest[1] as { waitUntil?: unknown } | undefined;
    if (typeof context?.waitUntil === 'function') contexts.set(request, context as { waitUntil(promise: Promise<unknown>): void });
    const response = await serve(request, ...rest);
    // What the request flow reported before answering (onError for a refused authorize) reaches
    // the test process before the answer reaches the client, as it does in process.
    await reportsByRequest.get(request)?.sent();
    return response;
  };
}

export { SseError };
