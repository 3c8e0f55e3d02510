import { SseClientError } from './errors.js';
import { createEventStreamParser, type ParsedEvent } from './parse.js';
import type { ClientEvent, EventMap, Gap, TopicClientEvent, TopicEventName, TopicMap, TopicName } from './types.js';

/** The default name of the in-band gap event (`GAP_EVENT` of `@sse/core`). */
export const GAP_EVENT = 'sse-gap';
/** Default of `initialRetryMs`: the first delay after a connection ends or fails. */
export const DEFAULT_INITIAL_RETRY_MS = 1000;
/** Default of `maxRetryMs`: the cap of the backoff when the server sent no `retry`. */
export const DEFAULT_MAX_RETRY_MS = 30_000;
/**
 * Statuses retried with backoff (a `Retry-After` is honoured); any other status but 200 stops
 * the client for good, 204 included ("stop reconnecting").
 */
export const RETRY_STATUSES: readonly number[] = [408, 429, 500, 502, 503, 504];

/** What the `headers`, `body` and `url`-related functions see, once per attempt. */
export interface ConnectAttempt {
  /** 0 for the first connection, then one more per attempt. */
  attempt: number;
  /** The id sent as `Last-Event-ID` (`''`: none is sent). */
  lastEventId: string;
  /** The status of the previous attempt's response when it failed with one (a 401 to refresh a token on). */
  previousStatus: number | undefined;
}

/** Why the client waits before its next attempt. */
export interface RetryInfo {
  /** The number of the attempt that follows (1, 2, …). */
  attempt: number;
  /** Consecutive failures since the last connection that opened. */
  failures: number;
  /** The delay chosen: backoff with jitter, capped by the server's `retry` (or `maxRetryMs`), at least `Retry-After`. */
  delayMs: number;
  /** `ended`: an open stream ended; `network`: no response (or the body broke); `status`: a retried status. */
  cause: 'ended' | 'network' | 'status';
  status?: number | undefined;
  error?: unknown;
}

/**
 * Why the client stopped: `close()`; the `signal` aborted; 204 (the server's "stop");
 * a non-retried `status`; a 200 of another `content-type`; `retries` exhausted; a `request` that
 * could not be built.
 */
export type CloseReason = 'closed' | 'aborted' | 'no-content' | 'status' | 'content-type' | 'retries' | 'request';

export interface CloseInfo {
  reason: CloseReason;
  /** The status of the response that ended the client. */
  status?: number | undefined;
  /** Its body, as text. */
  body?: string | undefined;
  /** Its headers. */
  headers?: Headers | undefined;
  /** For `status`, `content-type`, `retries` and `request`: the error the async iterator throws. */
  error?: SseClientError | undefined;
}

/** The state of a client, as `client.state` reads it. */
export type ClientState = 'connecting' | 'open' | 'retrying' | 'paused' | 'closed';

type Resolvable<T> = T | ((attempt: ConnectAttempt) => T | Promise<T>);

// Derived from what both the DOM lib and Node's fetch types declare, so the types hold in either.
/** What `new Headers()` takes (`HeadersInit`). */
export type HeadersInput = ConstructorParameters<typeof Headers>[0];
/** What `fetch` takes as a body (`BodyInit`). */
export type BodyInput = RequestInit['body'];

/** The part of `document` that `pauseWhenHidden` reads. */
interface VisibilitySource {
  visibilityState?: string;
  addEventListener?: (type: 'visibilitychange', listener: () => void) => void;
  removeEventListener?: (type: 'visibilitychange', listener: () => void) => void;
}

export interface ClientOptions {
  /** The request method. Defaults to `'GET'`. */
  method?: string;
  /**
   * Request headers, or a function called before every attempt (refresh a token there). The
   * client adds `Accept: text/event-stream` and, on reconnect, `Last-Event-ID`.
   */
  headers?: Resolvable<HeadersInput>;
  /** The request body (with `method: 'POST'`), or a function called before every attempt. */
  body?: Resolvable<BodyInput>;
  /** `fetch`'s `credentials`. Defaults to `fetch`'s own (`'same-origin'`). */
  credentials?: RequestInit['credentials'];
  /** The `fetch` to use. Defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** The id to resume from on the first connection (sent as `Last-Event-ID`). */
  lastEventId?: string;
  /**
   * Topics to subscribe to on this one connection, written to the query parameter
   * `topicsParam` comma-separated (what the server's `topics.from` reads). Change them with
   * `setTopics`. Defaults to none.
   */
  topics?: readonly string[];
  /** The query parameter that carries `topics`. Defaults to `'topics'`. */
  topicsParam?: string;
  /** The first delay after a connection ends or fails, in ms; it doubles per consecutive failure. Defaults to `1000`. */
  initialRetryMs?: number;
  /** The cap of the backoff while the server has sent no `retry` (its `retry` is the cap once it has). Defaults to `30_000`. */
  maxRetryMs?: number;
  /** Consecutive failed attempts before the client stops (reason `retries`). Defaults to `Infinity`. */
  maxRetries?: number;
  /** The random source of the jitter, `[0, 1)`: a delay is `base / 2 + random() * base / 2`. Defaults to `Math.random`. */
  random?: () => number;
  /** Stops the client for good when it aborts (reason `aborted`); the connection is closed. */
  signal?: AbortSignal;
  /**
   * In browsers: closes the connection while the page is hidden and reconnects (with
   * `Last-Event-ID`) when it is visible again. Defaults to `false`.
   */
  pauseWhenHidden?: boolean;
  /** The in-band gap event's name (the server's `gapEvent`). Defaults to `'sse-gap'`. */
  gapEvent?: string;
  /** How an event's text becomes `data`. Defaults to `JSON.parse`, keeping the text when it is not JSON. */
  parse?: (text: string, type: string) => unknown;
  /** A connection opened (200, `text/event-stream`). */
  onOpen?: (response: Response) => void;
  /** The client will try again after `delayMs`. */
  onRetry?: (info: RetryInfo) => void;
  /** The client stopped for good (once). */
  onClose?: (info: CloseInfo) => void;
}

/** What `for await (const item of client)` yields: a stream event, a topic event, or a gap. */
export type ClientItem<E extends EventMap = EventMap, T extends TopicMap = TopicMap> =
  | ({ kind: 'event' } & ClientEvent<E>)
  | ({ kind: 'topic' } & TopicClientEvent<T>)
  | { kind: 'gap'; gap: Gap<TopicName<T>> };

export interface SseClient<E extends EventMap = EventMap, T extends TopicMap = TopicMap> extends AsyncIterable<ClientItem<E, T>> {
  /** Listens to a stream event by name; returns a function that removes the listener. */
  on<K extends keyof E & string>(type: K, listener: (data: E[K], event: ClientEvent<Pick<E, K>>) => void): () => void;
  /** Listens to a topic event by name, unwrapped from the hub's `{ topic, data }`; returns a remover. */
  onTopic<K extends TopicEventName<T>>(type: K, listener: (data: TopicClientEvent<T, K>['data'], event: TopicClientEvent<T, K>) => void): () => void;
  /** Listens to the in-band gap signal: refetch the state (of `gap.topics`, for a hub). Returns a remover. */
  onGap(listener: (gap: Gap<TopicName<T>>) => void): () => void;
  /** The current state. */
  readonly state: ClientState;
  /** The id sent as `Last-Event-ID` on the next attempt (a hub's position on every topic). */
  readonly lastEventId: string;
  /** The last `retry` the server sent (ms), `undefined` before any. */
  readonly serverRetryMs: number | undefined;
  /** The topics of the next attempt. */
  readonly topics: readonly string[];
  /** Resolves once the client stopped for good, with why (never rejects). */
  readonly closed: Promise<CloseInfo>;
  /** Changes the topics and reconnects now, keeping `Last-Event-ID`: held topics resume, new ones start. */
  setTopics(topics: readonly string[]): void;
  /** Closes the connection and opens a new one now, keeping `Last-Event-ID`. */
  reconnect(): void;
  /** Stops for good (reason `closed`); the connection is closed. */
  close(): void;
}

type Listener = (data: unknown, event: never) => void;

const defaultParse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

function checkNumber(name: string, value: number | undefined, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new TypeError(`@sse/client: ${name} must be a non-negative number of ${name === 'maxRetries' ? 'attempts' : 'ms'}, got ${String(value)}`);
  }
  return value;
}

function isEventStream(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return type.split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** `Retry-After` in ms: seconds or an HTTP date; `0` when absent or unreadable. */
function retryAfterMs(response: Response): number {
  const value = response.headers.get('retry-after');
  if (value === null) return 0;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

/** The most of a refusal's body the client reads (and hands to the app), in bytes. */
const MAX_BODY_BYTES = 65_536;

/**
 * Items one `for await` loop may have waiting before the client stops reading the body; it reads
 * again once the loop is down to `ITERATOR_LOW_WATER`. The queue can pass the mark by the events
 * of one chunk of the body, no more.
 */
const ITERATOR_HIGH_WATER = 1_000;
const ITERATOR_LOW_WATER = 500;

/** One `for await` loop's side: what the client pushes, and how much waits. */
interface IteratorQueue<I> {
  push(item: I | null): void;
  readonly queued: number;
}

/** A refusal's body as text, at most {@link MAX_BODY_BYTES} of it: an explanation, not a download. */
async function readBody(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    while (bytes < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      const room = MAX_BODY_BYTES - bytes;
      const chunk = value.byteLength > room ? value.subarray(0, room) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    await reader.cancel().catch(() => {});
    return text + decoder.decode();
  } catch {
    return text;
  }
}

/** Reports a listener's error without stopping the stream, as an `EventSource` does. */
function report(error: unknown): void {
  const global = globalThis as { reportError?: (error: unknown) => void };
  if (typeof global.reportError === 'function') global.reportError(error);
  else
    queueMicrotask(() => {
      throw error;
    });
}

/**
 * A topic event's data, as a hub writes it: exactly `{ "topic": <string>, "data": … }`.
 * https://github.com/sse-toolkit/sse/tree/main/packages/core#topics ("Wire format")
 */
function asTopicEvent(data: unknown): { topic: string; data: unknown } | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const keys = Object.keys(data);
  const { topic } = data as { topic?: unknown };
  return keys.length === 2 && typeof topic === 'string' && 'data' in data ? (data as { topic: string; data: unknown }) : undefined;
}

function asGap(data: unknown, id: string): Gap | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const { reason, topics, lastEventId } = data as { reason?: unknown; topics?: unknown; lastEventId?: unknown };
  if (typeof reason !== 'string') return undefined;
  const gap: Gap = { reason, id };
  if (Array.isArray(topics)) gap.topics = topics.filter((topic): topic is string => typeof topic === 'string');
  if (typeof lastEventId === 'string') gap.lastEventId = lastEventId;
  return gap;
}

/**
 * Connects to an event stream over `fetch` and keeps it connected: `Last-Event-ID` on every
 * reconnect, backoff with jitter capped by the server's `retry`, and a stop for good on 204 or
 * a status that is not retried. The connection starts in a microtask, so listeners added right
 * after this call see every event.
 *
 * `E` is the stream's event map (the server's `EventMap`), `T` its topic map (`TopicMap`).
 */
export function createClient<E extends EventMap = EventMap, T extends TopicMap = TopicMap>(url: string | URL, options: ClientOptions = {}): SseClient<E, T> {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const target = new URL(url, base);
  const method = options.method ?? 'GET';
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const initialRetryMs = checkNumber('initialRetryMs', options.initialRetryMs, DEFAULT_INITIAL_RETRY_MS);
  const maxRetryMs = checkNumber('maxRetryMs', options.maxRetryMs, DEFAULT_MAX_RETRY_MS);
  const maxRetries = checkNumber('maxRetries', options.maxRetries, Number.POSITIVE_INFINITY, true);
  const random = options.random ?? Math.random;
  const gapEventName = options.gapEvent ?? GAP_EVENT;
  const parse = options.parse ?? defaultParse;
  const topicsParam = options.topicsParam ?? 'topics';

  const listeners = new Map<string, Set<Listener>>();
  const topicListeners = new Map<string, Set<Listener>>();
  const gapListeners = new Set<(gap: Gap<TopicName<T>>) => void>();
  const iterators = new Set<IteratorQueue<ClientItem<E, T>>>();
  // The body's reader, while it waits for the iterators to catch up.
  let resumeReading: (() => void) | undefined;
  const wakeReader = (): void => {
    const resume = resumeReading;
    resumeReading = undefined;
    resume?.();
  };

  let state: ClientState = 'connecting';
  let lastEventId = options.lastEventId ?? '';
  let serverRetryMs: number | undefined;
  let topics: readonly string[] = [...(options.topics ?? [])];
  let closeInfo: CloseInfo | undefined;
  let resolveClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));

  // The attempt in flight and why it was cut, and a wake-up for the wait between attempts.
  let current: AbortController | undefined;
  let cut: 'reconnect' | 'pause' | 'stop' | undefined;
  let wake: (() => void) | undefined;
  let paused = false;
  // The attempt in flight delivered an event or an id.
  let progressed = false;

  const emit = (item: ClientItem<E, T>): void => {
    for (const iterator of iterators) iterator.push(item);
  };

  /** Until every iterator holds fewer than `ITERATOR_HIGH_WATER` items, or the attempt is cut. */
  async function waitForIterators(signal: AbortSignal): Promise<void> {
    const behind = (): boolean => {
      for (const iterator of iterators) if (iterator.queued >= ITERATOR_HIGH_WATER) return true;
      return false;
    };
    while (behind() && !signal.aborted) await new Promise<void>((resolve) => (resumeReading = resolve));
  }

  function call(set: Iterable<Listener> | undefined, data: unknown, event: unknown): void {
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(data, event as never);
      } catch (error) {
        report(error);
      }
    }
  }

  function dispatch(parsed: ParsedEvent): void {
    const data = parse(parsed.data, parsed.type);
    if (parsed.type === gapEventName) {
      const gap = asGap(data, parsed.lastEventId) as Gap<TopicName<T>> | undefined;
      if (gap !== undefined) {
        call(gapListeners as Set<Listener>, gap, gap);
        emit({ kind: 'gap', gap });
        return;
      }
    }
    const topic = asTopicEvent(data);
    if (topic !== undefined) {
      const event = { type: parsed.type, topic: topic.topic, data: topic.data, id: parsed.lastEventId };
      call(topicListeners.get(parsed.type), topic.data, event);
      emit({ kind: 'topic', ...event } as ClientItem<E, T>);
      return;
    }
    const event = { type: parsed.type, data, text: parsed.data, id: parsed.lastEventId };
    call(listeners.get(parsed.type), data, event);
    emit({ kind: 'event', ...event } as ClientItem<E, T>);
  }

  function finish(info: CloseInfo): void {
    if (closeInfo !== undefined) return;
    closeInfo = info;
    state = 'closed';
    cut = 'stop';
    current?.abort();
    wake?.();
    wakeReader();
    options.signal?.removeEventListener('abort', onAbort);
    stopVisibility?.();
    for (const iterator of iterators) iterator.push(null);
    try {
      options.onClose?.(info);
    } catch (error) {
      report(error);
    }
    resolveClosed(info);
  }

  const onAbort = (): void => finish({ reason: 'aborted' });

  function interrupt(why: 'reconnect' | 'pause'): void {
    if (closeInfo !== undefined) return;
    cut = why;
    current?.abort();
    wake?.();
    wakeReader();
  }

  let stopVisibility: (() => void) | undefined;
  const doc = (globalThis as { document?: VisibilitySource }).document;
  if (options.pauseWhenHidden === true && typeof doc?.addEventListener === 'function') {
    const onVisibility = (): void => {
      if (doc.visibilityState === 'hidden') {
        paused = true;
        interrupt('pause');
      } else if (paused) {
        paused = false;
        interrupt('reconnect');
      }
    };
    doc.addEventListener('visibilitychange', onVisibility);
    stopVisibility = () => doc.removeEventListener?.('visibilitychange', onVisibility);
    paused = doc.visibilityState === 'hidden';
  }

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  function requestUrl(): URL {
    if (topics.length === 0) return target;
    const withTopics = new URL(target);
    withTopics.searchParams.delete(topicsParam);
    // Commas stay literal (`?topics=room:a,room:b`), each name is encoded.
    const query = `${encodeURIComponent(topicsParam)}=${topics.map(encodeURIComponent).join(',')}`;
    withTopics.search = withTopics.search === '' ? `?${query}` : `${withTopics.search}&${query}`;
    return withTopics;
  }

  type Outcome =
    | { kind: 'cut' }
    | { kind: 'ended' }
    | { kind: 'network'; error: unknown }
    | { kind: 'status'; status: number; waitMs: number }
    | { kind: 'fatal'; info: CloseInfo };

  async function attempt(info: ConnectAttempt): Promise<Outcome> {
    const controller = new AbortController();
    current = controller;
    let init: RequestInit;
    try {
      const headers = new Headers(typeof options.headers === 'function' ? await options.headers(info) : options.headers);
      headers.set('accept', 'text/event-stream');
      if (lastEventId !== '') headers.set('last-event-id', lastEventId);
      else headers.delete('last-event-id');
      const body = typeof options.body === 'function' ? await options.body(info) : options.body;
      // No `cache` option: Workers refuse it, and a streaming response is not cached anyway.
      init = { method, headers, signal: controller.signal };
      if (body !== undefined && body !== null) init.body = body;
      if (options.credentials !== undefined) init.credentials = options.credentials;
    } catch (error) {
      const failure = new SseClientError('ERR_SSE_CLIENT_REQUEST', `@sse/client: the request could not be built: ${String(error)}`, { cause: error });
      return { kind: 'fatal', info: { reason: 'request', error: failure } };
    }
    if (controller.signal.aborted) return { kind: 'cut' };

    let response: Response;
    try {
      response = await fetchImpl(requestUrl(), init);
    } catch (error) {
      return controller.signal.aborted ? { kind: 'cut' } : { kind: 'network', error };
    }

    const { status } = response;
    if (status !== 200) {
      const body = await readBody(response);
      if (controller.signal.aborted) return { kind: 'cut' };
      if (RETRY_STATUSES.includes(status)) return { kind: 'status', status, waitMs: retryAfterMs(response) };
      if (status === 204) return { kind: 'fatal', info: { reason: 'no-content', status, body, headers: response.headers } };
      const error = new SseClientError('ERR_SSE_CLIENT_STATUS', `@sse/client: the server answered ${status}${body === '' ? '' : `: ${body.slice(0, 200)}`}`, { status, body });
      return { kind: 'fatal', info: { reason: 'status', status, body, headers: response.headers, error } };
    }
    if (!isEventStream(response) || response.body === null) {
      const body = await readBody(response);
      const type = response.headers.get('content-type') ?? 'none';
      const error = new SseClientError('ERR_SSE_CLIENT_CONTENT_TYPE', `@sse/client: the server answered 200 with content-type ${type}, not text/event-stream`, { status, body });
      return { kind: 'fatal', info: { reason: 'content-type', status, body, headers: response.headers, error } };
    }

    // Cut while the response was on its way: nothing of it is delivered.
    if (controller.signal.aborted) {
      await response.body.cancel().catch(() => {});
      return { kind: 'cut' };
    }
    state = 'open';
    try {
      options.onOpen?.(response);
    } catch (error) {
      report(error);
    }
    const parser = createEventStreamParser(
      {
        // Once cut (close(), reconnect(), a listener that stopped the client), the rest of a chunk
        // is neither dispatched nor counted: the id stays that of the last event delivered.
        onEvent: (event) => {
          if (controller.signal.aborted) return;
          progressed = true;
          dispatch(event);
        },
        onRetry: (ms) => {
          if (!controller.signal.aborted) serverRetryMs = ms;
        },
        onId: (id) => {
          if (controller.signal.aborted) return;
          progressed = true;
          lastEventId = id;
        },
      },
      lastEventId,
    );
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(value);
        if (controller.signal.aborted) break;
        // A `for await` loop slower than the stream: stop reading (TCP pushes back on the
        // server) until it has caught up, so its queue stays bounded and nothing is dropped.
        await waitForIterators(controller.signal);
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      if (!controller.signal.aborted) return { kind: 'network', error };
    }
    if (controller.signal.aborted) {
      await reader.cancel().catch(() => {});
      return { kind: 'cut' };
    }
    parser.end();
    return { kind: 'ended' };
  }

  async function run(): Promise<void> {
    let attemptNumber = 0;
    let failures = 0;
    let previousStatus: number | undefined;
    while (closeInfo === undefined) {
      if (paused) {
        state = 'paused';
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        cut = undefined;
        continue;
      }
      state = 'connecting';
      const outcome = await attempt({ attempt: attemptNumber, lastEventId, previousStatus });
      attemptNumber++;
      if (closeInfo !== undefined) return;
      if (outcome.kind === 'fatal') return finish(outcome.info);
      if (outcome.kind === 'cut') {
        // reconnect() or visibility: try again at once, the backoff starts afresh.
        cut = undefined;
        failures = 0;
        continue;
      }
      // A connection that delivered an event or an id resets the backoff: the next delay is the
      // first one again. One that only said `retry` (a server's "come back later") does not.
      const opened = progressed;
      progressed = false;
      failures = opened ? 1 : failures + 1;
      previousStatus = outcome.kind === 'status' ? outcome.status : undefined;
      if (!opened && failures > maxRetries) {
        const error = new SseClientError('ERR_SSE_CLIENT_RETRIES', `@sse/client: gave up after ${failures} failed attempts`, {
          status: previousStatus,
          cause: outcome.kind === 'network' ? outcome.error : undefined,
        });
        return finish({ reason: 'retries', status: previousStatus, error });
      }
      const cap = serverRetryMs ?? maxRetryMs;
      const backoff = Math.min(cap, initialRetryMs * 2 ** (failures - 1));
      let delayMs = Math.round(backoff / 2 + random() * (backoff / 2));
      if (outcome.kind === 'status') delayMs = Math.max(delayMs, outcome.waitMs);
      state = 'retrying';
      try {
        options.onRetry?.({
          attempt: attemptNumber,
          failures,
          delayMs,
          cause: outcome.kind,
          status: previousStatus,
          error: outcome.kind === 'network' ? outcome.error : undefined,
        });
      } catch (error) {
        report(error);
      }
      await sleep(delayMs);
      if (cut === 'reconnect') failures = 0;
      cut = undefined;
    }
  }

  if (options.signal?.aborted === true) queueMicrotask(onAbort);
  else {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    queueMicrotask(() => {
      if (closeInfo === undefined) void run();
    });
  }

  const add = <L>(map: Map<string, Set<L>>, type: string, listener: L): (() => void) => {
    let set = map.get(type);
    if (set === undefined) map.set(type, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  };

  return {
    on: (type, listener) => add(listeners, type, listener as Listener),
    onTopic: (type, listener) => add(topicListeners, type, listener as Listener),
    onGap(listener) {
      gapListeners.add(listener);
      return () => void gapListeners.delete(listener);
    },
    get state() {
      return state;
    },
    get lastEventId() {
      return lastEventId;
    },
    get serverRetryMs() {
      return serverRetryMs;
    },
    get topics() {
      return topics;
    },
    closed,
    setTopics(next) {
      topics = [...next];
      interrupt('reconnect');
    },
    reconnect: () => interrupt('reconnect'),
    close: () => finish({ reason: 'closed' }),
    [Symbol.asyncIterator](): AsyncIterator<ClientItem<E, T>> {
      const queue: Array<ClientItem<E, T> | null> = [];
      let waiting: ((item: ClientItem<E, T> | null) => void) | undefined;
      const iterator: IteratorQueue<ClientItem<E, T>> = {
        push(item) {
          if (waiting !== undefined) {
            const resolve = waiting;
            waiting = undefined;
            resolve(item);
          } else queue.push(item);
        },
        get queued() {
          return queue.length;
        },
      };
      if (closeInfo === undefined) iterators.add(iterator);
      else queue.push(null);
      const done = (): IteratorResult<ClientItem<E, T>> => {
        iterators.delete(iterator);
        wakeReader();
        return { done: true, value: undefined };
      };
      return {
        async next() {
          const item = queue.length > 0 ? queue.shift()! : await new Promise<ClientItem<E, T> | null>((resolve) => (waiting = resolve));
          if (queue.length <= ITERATOR_LOW_WATER) wakeReader();
          if (item !== null) return { done: false, value: item };
          const error = closeInfo?.error;
          done();
          if (error !== undefined) throw error;
          return { done: true, value: undefined };
        },
        // `break` out of a `for await` loop: the loop was the client's reader, so the client stops.
        async return() {
          finish({ reason: 'closed' });
          return done();
        },
      };
    },
  };
}
