import type { ChannelStore, EventStream, ServeOptions } from '@sse/core';

/**
 * A handler the suite mounts. Adapters pass their own arguments after the stream
 * (`req, res`, `ctx`, `c`); the suite ignores them, so any adapter's `sse()` accepts it as is.
 */
export type ConformanceHandler = (stream: EventStream) => unknown;

/**
 * The options the suite gives the adapter's `sse()`: stream options plus `authorize` and
 * `onError`, which take no framework arguments here (so they fit every adapter's option type).
 */
export type ConformanceOptions = ServeOptions<[]>;

/** A server started by {@link Mount}. */
export interface MountedServer {
  /** Absolute URL that serves the handler for any method, e.g. `http://127.0.0.1:54321/events`. */
  url: string;
  /** Stops the server and ends every connection it still has. */
  close(): Promise<void>;
  /**
   * Open connections, so the suite can see that a departed client's socket was released.
   * Optional: the cases that need it skip that one check without it. {@link listen} provides it.
   */
  connections?(): Promise<number>;
}

/**
 * Starts a real server for the adapter on 127.0.0.1, port 0, serving `handler` through the
 * adapter's `sse(handler, options)`, and resolves once it listens.
 */
export type Mount = (handler: ConformanceHandler, options: ConformanceOptions) => Promise<MountedServer>;

/** The names of the suite's cases: the keys of {@link ConformanceTarget.skip}. */
export type ConformanceCase =
  | 'framing'
  | 'whole-events'
  | 'injection'
  | 'headers'
  | 'open-before-first-event'
  | 'heartbeat'
  | 'last-event-id'
  | 'replay'
  | 'retry'
  | 'reject'
  | 'stop-204'
  | 'reject-plain'
  | 'fail-closed'
  | 'head'
  | 'topics-option'
  | 'topics-refusal'
  | 'topics-resume'
  | 'topics-large-replay'
  | 'client-disconnect'
  | 'server-close'
  | 'backpressure-disconnect'
  | 'backpressure-drop-oldest'
  | 'handler-error'
  | 'http2';

/** What `runConformance` needs to know about an adapter. */
export interface ConformanceTarget {
  /** Shown in the test names, e.g. `'express 5'`. */
  name: string;
  /** Starts an HTTP/1.1 server (see {@link Mount}). */
  mount: Mount;
  /**
   * Starts a cleartext HTTP/2 server (`node:http2` `createServer`), for frameworks that run on
   * it. Without it, the `http2` cases must be opted out through `skip` with a reason.
   */
  http2?: Mount;
  /**
   * The store the channel cases (`replay`, `client-disconnect`) run against. Defaults to the
   * in-memory store of `@sse/core` with a history of 100 events. `@sse/redis` passes its own.
   */
  createStore?: () => ChannelStore | Promise<ChannelStore>;
  /**
   * Cases this adapter cannot pass, each with the reason (required, shown in the report).
   * An unknown case name or an empty reason throws, so an opt-out is always deliberate.
   */
  skip?: Partial<Record<ConformanceCase, string>>;
}
