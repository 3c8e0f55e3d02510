import { checkOption } from './check-option.js';
import { SseError } from './errors.js';
import { defaultHeaders, lowerCaseKeys } from './headers.js';
import { kCloseWith, kTrack, kAdmit, kReportError, registryInternals, type InternalStream, type PipeErrorReporter } from './internal/protocol.js';
import { isRejection, reject, toRejection, type PlainRejection, type Rejection } from './rejection.js';
import type { StreamRegistry } from './registry.js';
import { acceptsEventStream, readLastEventId, type RequestFacts } from './request.js';
import type { SseSink } from './sink.js';
import { openEventStream, routeStreamSettings } from './stream.js';
import type { AnyEventStream, EventMap, EventStream, EventStreamOptions } from './stream-types.js';
import type { TopicHub, TopicResumeStatus } from './topics/hub.js';
import type { TopicMap, TopicName } from './topics/types.js';

/** The handler users write: it gets the stream first, then the framework's own objects. */
export type SseHandler<Args extends unknown[], E extends EventMap = EventMap> = (
  stream: EventStream<E>,
  ...args: Args
) => unknown;

/**
 * A route's options. The stream options among them are checked and resolved when the route's
 * first stream opens and kept for all its streams: changing the object afterwards changes nothing.
 */
export interface ServeOptions<Args extends unknown[]> extends Omit<EventStreamOptions, 'lastEventId'> {
  /**
   * Runs before any stream header is written, and fails closed: only `true` opens the stream.
   * `false` answers 403; a {@link reject}ion, or one written by hand (`{ status: 401 }`,
   * `{ status: 204 }`, `{ status: 429, retryAfter: 30 }`), answers itself. Anything else
   * (`undefined`, `null`, `0`, `''`, an object without a numeric `status`) answers 403 too and is
   * reported to `onError` as `SseError` `ERR_SSE_AUTHORIZE_RESULT`: `(req) => req.user &&
   * req.user.isAdmin` refuses a request without a user instead of letting it in. May be async.
   * An error it throws, or a rejection that cannot be answered (status 200 or out of range: also
   * `ERR_SSE_AUTHORIZE_RESULT`), goes to the framework's error handling (no stream was opened).
   * It runs for `HEAD` requests too, which are answered like a `GET` without a body.
   */
  authorize?: (...args: Args) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Called when the handler throws or rejects, or a `stream.pipe()` source fails (awaited or
   * not); the stream is closed (reason `'error'`). Never sends a 500: the response is already
   * streaming. Also told (before a 403) when `authorize` returned neither `true`, `false` nor a
   * rejection. Defaults to `console.error`.
   */
  onError?: (error: unknown, ...args: Args) => void;
  /** Longest `Last-Event-ID` accepted, in characters. Defaults to `1024`. */
  maxLastEventIdLength?: number;
  /** Tracks this route's streams for caps, graceful shutdown and counters (see `createStreamRegistry`). */
  registry?: StreamRegistry;
  /**
   * The key a registry's `maxStreamsPerKey` counts by. Defaults to the client's IP address as the
   * adapter sees it (behind a proxy, return the forwarded address you trust).
   */
  clientKey?: (...args: Args) => string | undefined;
  /**
   * Answer 406 when the request's `Accept` header excludes `text/event-stream` (EventSource always
   * sends it; `*\/*` and no header are accepted). Defaults to `true`.
   */
  checkAccept?: boolean;
  /**
   * Streams the topics a request names, from a topic hub: `from` reads the list once, the hub
   * checks it (a bad list answers 400), `topics.authorize` decides per topic (fails closed like
   * `authorize`), then the stream opens already subscribed (resumed from `Last-Event-ID`) and the
   * handler runs once the topics are live; it reads them with `hub.topicsOf(stream)`.
   * `topics.authorize` is required: `sse()` throws `ERR_SSE_OPTION` without it.
   */
  // Any hub: its topic map is the app's (a typed hub's option is a `ServeTopicsOptions<Args, Topics>`).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  topics?: ServeTopicsOptions<Args, any> | undefined;
}

/**
 * The `topics` option of a route. `M` is the hub's topic map: with a typed hub, write
 * `ServeTopicsOptions<[Request], Topics>` (or let `authorize` name its parameter's type) so that
 * `authorize` sees the map's topic names.
 */
export interface ServeTopicsOptions<Args extends unknown[], M extends TopicMap = TopicMap> {
  /** The hub the stream subscribes to. */
  hub: TopicHub<M>;
  /**
   * Reads the topic list from the request (query, route params, the user's saved topics), once
   * per request, before any header. May return a rejection (`reject(401)`, `{ status: 204 }`),
   * which answers itself, and may be async. Repeats are removed; an empty list, `undefined`
   * (`c.req.query('topics')?.split(',')` without the parameter) or a list the hub refuses (an
   * empty or over-long name, more than `maxTopicsPerStream` topics) answers 400 with the reason as text. An error it throws goes to the framework, as
   * `authorize`'s does (an `SseError` `ERR_SSE_TOPIC` or `ERR_SSE_TOO_MANY_TOPICS` answers 400).
   */
  from(...args: Args): TopicListResult | Promise<TopicListResult>;
  /**
   * Decides on the checked list, before any header, with the same rules as the route's
   * `authorize` (which runs first): only `true` opens the stream, `false` answers 403, a rejection
   * answers itself, anything else answers 403 and is reported to `onError` as
   * `ERR_SSE_AUTHORIZE_RESULT`. Required, since a client names whatever topics it likes
   * (`user:<someone else>`): without it `sse()` throws `SseError` `ERR_SSE_OPTION`. For topics
   * anyone may read, say so with `authorize: () => true`.
   */
  authorize(topics: Array<TopicName<M>>, ...args: Args): AuthorizeResult | Promise<AuthorizeResult>;
  /** Resumes the topics from the request's `Last-Event-ID` (a hub position). `false` starts live. Defaults to `true`. */
  replay?: boolean;
  /**
   * Told how each topic started (`hub.subscribe`'s `onResume`), after the replay and before any
   * live event and before the handler runs: send a fresh snapshot of a topic whose status is `'gap'`.
   */
  onResume?(statuses: readonly TopicResumeStatus[], stream: AnyEventStream, ...args: Args): void;
}

/** What `topics.from` returns: the names the request asks for (`undefined`: none), or a rejection. */
export type TopicListResult = readonly string[] | undefined | Rejection | PlainRejection;

/** What `authorize` returns: `true` opens the stream, `false` answers 403, a rejection answers itself. */
export type AuthorizeResult = boolean | Rejection | PlainRejection;

/** What an adapter tells `serveEventStream` about the request, and how to answer it. */
export interface ServeIO {
  /** What the flow reads from the request (see `requestFacts`). */
  request: RequestFacts;
  /** Creates the sink; only called once the request was authorized. */
  createSink(): SseSink;
  /**
   * Writes a plain response for a rejection (406, 403, 429, 503, 204…) instead of a stream. Also
   * answers a `HEAD`: status 200, the event-stream headers and an empty body (the adapter's
   * server sends no body for a HEAD anyway).
   */
  respond(rejection: Rejection): void | Promise<void>;
}

/** Everything `serveEventStream` needs for one request. */
export interface ServeEventStreamInit<Args extends unknown[], E extends EventMap = EventMap> extends ServeIO {
  /** What the handler (and `authorize`, `onError`, `clientKey`) receive after the stream. */
  args: Args;
  handler: SseHandler<Args, E>;
  options?: ServeOptions<Args> | undefined;
  /**
   * Where the stream's errors go when `options.onError` is not given, in place of `console.error`:
   * an adapter's framework logger. It gets the error alone, so a stream without `onError` keeps
   * none of `args` (the framework's request objects) for it.
   */
  defaultOnError?: ((error: unknown) => void) | undefined;
}

const defaultOnError = (error: unknown): void => {
  console.error('[@sse] event stream handler failed; the stream was closed:', error);
};

const defaultOnAuthorizeResult = (error: unknown): void => {
  console.error('[@sse] the request was refused with 403:', error);
};

/** Names what `authorize` returned, for `ERR_SSE_AUTHORIZE_RESULT`. */
function describeVerdict(verdict: unknown): string {
  if (typeof verdict === 'string') return JSON.stringify(verdict);
  if (typeof verdict === 'object' && verdict !== null) return 'an object without a numeric status';
  if (typeof verdict === 'function') return 'a function';
  return String(verdict);
}

/** The answer to an `authorize` that did not say `true`; throws for a rejection that cannot be answered. */
function refusal(verdict: unknown, what = 'authorize'): { rejection: Rejection; error?: SseError } {
  if (verdict === false) return { rejection: reject(403) };
  if (isRejection(verdict)) {
    try {
      return { rejection: toRejection(verdict) };
    } catch (cause) {
      throw new SseError(
        'ERR_SSE_AUTHORIZE_RESULT',
        `${what} returned a rejection that cannot be answered (${(cause as Error).message}); return true to open the stream, false or a reject(...) with a status from 201 to 599 to refuse`,
        { cause },
      );
    }
  }
  return {
    rejection: reject(403),
    error: new SseError(
      'ERR_SSE_AUTHORIZE_RESULT',
      `${what} must return true to open the stream, false or a reject(...) to refuse; it returned ${describeVerdict(verdict)}, so the request was refused with 403`,
    ),
  };
}

/**
 * Checks the `topics` option: a hub, and `from` and `authorize` functions. `authorize` has no
 * default because the topic names come from the client: a route that forgot it would stream
 * `user:<anyone>` to anyone.
 */
function checkTopicsOption(option: unknown): void {
  if (typeof option !== 'object' || option === null) {
    throw new SseError('ERR_SSE_OPTION', `topics must be an object { hub, from, authorize }, got ${String(option)}`);
  }
  const { hub, from, authorize } = option as Partial<Record<'hub' | 'from' | 'authorize', unknown>>;
  const hubLike = hub as Partial<Pick<TopicHub, 'checkTopics' | 'subscribe'>> | null | undefined;
  if (typeof hubLike?.checkTopics !== 'function' || typeof hubLike.subscribe !== 'function') {
    throw new SseError('ERR_SSE_OPTION', `topics.hub must be a topic hub (createTopicHub()), got ${String(hub)}`);
  }
  checkOption.callback('topics.from', from, 'a function that reads the topic list from the request');
  checkOption.callback(
    'topics.authorize',
    authorize,
    'a function that decides whether the request may stream the topics it names (a client can name any topic, user:<someone else> included); for topics anyone may read, pass authorize: () => true',
  );
}

/**
 * Checks a route's options once, when its `sse()` is created, so that a mistake stops the app at
 * startup instead of failing its requests: throws `SseError` `ERR_SSE_OPTION` (today: a `topics`
 * option without a hub, `from` or `authorize`). Every adapter's `sse()` calls it; the request
 * flow checks the same again, so an adapter that does not still fails closed (its requests fail).
 */
export function checkServeOptions<Args extends unknown[]>(options: ServeOptions<Args> | undefined): void {
  if (options?.topics !== undefined) checkTopicsOption(options.topics);
}

/** A topic list the hub refused (or one `from` refused by throwing the hub's error). */
function isTopicListError(error: unknown): error is SseError {
  return error instanceof SseError && (error.code === 'ERR_SSE_TOPIC' || error.code === 'ERR_SSE_TOO_MANY_TOPICS');
}

const badTopicList = (reason: string): Rejection => reject(400, { body: `Bad topic list: ${reason}` });

/**
 * Runs `topics.from` once, the hub's checks and `topics.authorize`: the topics to subscribe, or
 * the answer to give instead. Throws what `from` or `authorize` throw (but a refused list).
 */
async function chooseTopics<Args extends unknown[]>(
  option: ServeTopicsOptions<Args, TopicMap>,
  args: Args,
  report: (error: unknown) => void,
): Promise<{ topics: string[] } | { rejection: Rejection }> {
  let topics: string[];
  try {
    const listed: unknown = await option.from(...args);
    if (isRejection(listed)) return { rejection: refusal(listed, 'topics.from').rejection };
    topics = listed === undefined || listed === null ? [] : option.hub.checkTopics(listed as readonly string[]);
  } catch (error) {
    if (isTopicListError(error)) return { rejection: badTopicList(error.message) };
    throw error;
  }
  // A stream with no topic would never receive anything: most likely a request that forgot them.
  if (topics.length === 0) return { rejection: badTopicList('name at least one topic') };
  const verdict: unknown = await option.authorize(topics, ...args);
  if (verdict !== true) {
    const { rejection, error } = refusal(verdict, 'topics.authorize');
    if (error !== undefined) report(error);
    return { rejection };
  }
  return { topics };
}

/**
 * Reports a stream's errors for as long as it lives. Kept out of `serveEventStream`'s scope on
 * purpose: a closure made there would keep that whole scope (the request, the options, the
 * adapter's callbacks) alive with every idle stream.
 */
class StreamErrors<Args extends unknown[]> implements PipeErrorReporter {
  readonly #onError: ((error: unknown, ...args: Args) => void) | undefined;
  // Kept only for onError: the request and response stay reachable through the stream's sink anyway, but not this array.
  readonly #args: Args | undefined;
  // The adapter's default (its framework's logger), used instead of each report's fallback.
  readonly #adapterDefault: ((error: unknown) => void) | undefined;
  #pipeFailure: { error: unknown } | undefined;

  constructor(onError: ((error: unknown, ...args: Args) => void) | undefined, args: Args, adapterDefault: ((error: unknown) => void) | undefined) {
    this.#onError = onError;
    this.#args = onError === undefined ? undefined : args;
    this.#adapterDefault = adapterDefault;
  }

  /**
   * onError with the request's arguments, or the adapter's default, or `fallback`; a hook that
   * throws is logged, never rethrown.
   */
  report(error: unknown, fallback: (error: unknown) => void): void {
    try {
      if (this.#onError !== undefined) this.#onError(error, ...this.#args!);
      else (this.#adapterDefault ?? fallback)(error);
    } catch (hookError) {
      defaultOnError(hookError);
    }
  }

  /**
   * A pipe() whose promise the handler did not return reports here; if it did return it, the
   * same failure also reaches the failer and is not reported twice.
   */
  pipeFailed(error: unknown): void {
    this.#pipeFailure = { error };
    this.report(error, defaultOnError);
  }

  /** What a handler's failure goes to: reported (once), and the stream closed with reason `error`. */
  failer(stream: InternalStream): (error: unknown) => void {
    return (error) => {
      if (this.#pipeFailure === undefined || this.#pipeFailure.error !== error) this.report(error, defaultOnError);
      stream[kCloseWith]('error', error);
    };
  }
}

function runHandler<Args extends unknown[], E extends EventMap>(handler: SseHandler<Args, E>, stream: EventStream<E>, args: Args, fail: (error: unknown) => void): void {
  try {
    const result = handler(stream, ...args);
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, fail);
    }
  } catch (error) {
    fail(error);
  }
}

/**
 * The request flow every adapter shares: authorize, choose and authorize the topics (with
 * `topics`), open the stream, subscribe it, run the handler (once the topics are live), and
 * route a handler failure to `onError` and a clean close. Resolves with the stream, or
 * `undefined` when the request was rejected. Throws `SseHeadersSentError` (from the sink) when
 * the response was already started.
 */
export async function serveEventStream<Args extends unknown[], E extends EventMap = EventMap>(
  init: ServeEventStreamInit<Args, E>,
): Promise<EventStream<E> | undefined> {
  const { request, args, handler } = init;
  const { authorize, onError, maxLastEventIdLength, registry: publicRegistry, clientKey, checkAccept, topics: topicsOption, ...streamOptions } = init.options ?? {};
  const registry = publicRegistry === undefined ? undefined : registryInternals(publicRegistry, 'request flow (serveEventStream)');
  const errors = new StreamErrors(onError, args, init.defaultOnError);
  const report = (error: unknown, fallback: (error: unknown) => void): void => errors.report(error, fallback);
  // Again per request, for an adapter whose sse() did not check: a missing topics.authorize must never mean "allow".
  if (topicsOption !== undefined) checkTopicsOption(topicsOption);
  if (checkAccept !== false && !acceptsEventStream(request.accept)) {
    await init.respond(reject(406, { body: 'This endpoint serves text/event-stream; send Accept: text/event-stream.' }));
    return undefined;
  }
  if (registry?.draining === true) {
    await init.respond(registry[kAdmit](undefined, request.accept) ?? reject(503));
    return undefined;
  }
  if (authorize !== undefined) {
    const verdict: unknown = await authorize(...args);
    if (verdict !== true) {
      const { rejection, error } = refusal(verdict);
      if (error !== undefined) report(error, defaultOnAuthorizeResult);
      await init.respond(rejection);
      return undefined;
    }
  }
  let topics: string[] | undefined;
  if (topicsOption !== undefined) {
    const chosen = await chooseTopics(topicsOption, args, (error) => report(error, defaultOnAuthorizeResult));
    if ('rejection' in chosen) {
      await init.respond(chosen.rejection);
      return undefined;
    }
    topics = chosen.topics;
  }
  const lastEventId = readLastEventId(
    request.lastEventIdHeader,
    request.url,
    maxLastEventIdLength === undefined ? {} : { maxLength: maxLastEventIdLength },
  );
  // Admission and tracking happen with no await in between, so concurrent requests cannot overshoot a cap.
  const key = registry === undefined ? undefined : (clientKey?.(...args) ?? request.clientAddress);
  const admission = registry?.[kAdmit](key, request.accept);
  if (admission !== undefined) {
    await init.respond(admission);
    return undefined;
  }
  if (request.method === 'HEAD') {
    // What a GET would be told, without a body: no handler, no stream, no registry slot, no timer.
    // (Connection is left to the server: it knows whether the client asked to close.)
    await init.respond({ status: 200, headers: { ...defaultHeaders(undefined), ...lowerCaseKeys(streamOptions.headers) }, body: '' });
    return undefined;
  }
  // The route's options are resolved once, at its first stream, and shared by all its streams.
  const settings = routeStreamSettings(init.options);
  const stream = openEventStream<E>(init.createSink(), settings, lastEventId) as EventStream<E> & InternalStream;
  registry?.[kTrack](stream, key);
  stream[kReportError](errors);
  const fail = errors.failer(stream);
  const run = (): void => runHandler(handler, stream, args, fail);
  if (topicsOption === undefined || topics === undefined) {
    run();
    return stream;
  }
  const { hub, onResume } = topicsOption;
  let replay: boolean | string = topicsOption.replay ?? true;
  // A position longer than maxLastEventIdLength was not read: resuming "as new" would be a silent
  // gap, so every topic is told it cannot be resumed (an unparsable position: 'unknown-id').
  if (replay && lastEventId === undefined && readLastEventId(request.lastEventIdHeader, request.url, { maxLength: Number.MAX_SAFE_INTEGER }) !== undefined) replay = '';
  try {
    // The handler runs once the topics are live (the replay written), so whatever it sends
    // comes after the missed events; the head went out already, so the client saw `open`.
    hub
      .subscribe(stream, topics, {
        replay,
        ...(onResume === undefined
          ? {}
          : {
              onResume: (statuses: readonly TopicResumeStatus[]) => {
                try {
                  onResume(statuses, stream, ...args);
                } catch (error) {
                  report(error, defaultOnError);
                }
              },
            }),
      })
      .then(run, fail);
  } catch (error) {
    fail(error);
  }
  return stream;
}

