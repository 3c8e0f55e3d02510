import { checkOption } from './check-option.js';
import { serializeJson } from './format.js';
import {
  CORE_IDENTITY,
  kAdmit,
  kCloseWith,
  kCreatedBy,
  kFinished,
  kForceAbort,
  kObserve,
  kTrack,
  streamInternals,
  type InternalStream,
  type RegistryInternals,
} from './internal/protocol.js';
import { reject, type Rejection } from './rejection.js';
import type { HeaderValue } from './request.js';
import { jittered } from './timers.js';
import { formatSendArgument } from './send-argument.js';
import { DEFAULT_JITTER, CLOSE_REASONS, type AnyEventStream, type CloseReason, type SendableData, type SlowClientInfo, type StreamEvent } from './stream-types.js';

/** What a registry tells its `onLifecycle` hook, e.g. for logging. */
export type LifecycleEntry =
  | { type: 'open'; key: string | undefined; open: number }
  | { type: 'close'; key: string | undefined; reason: CloseReason; open: number; durationMs: number }
  | {
      type: 'reject';
      key: string | undefined;
      /** `200` for an EventSource told to come back (`retryMs` says when), else 429, 503 or 204. */
      status: number;
      cause: 'max-streams' | 'max-streams-per-key' | 'draining';
      retryMs?: number;
    }
  | { type: 'slow-client'; key: string | undefined; info: SlowClientInfo };

/** Counters since the registry was created (`open` is a gauge). */
export interface StreamCounters {
  /** Streams open now. */
  open: number;
  opened: number;
  closed: number;
  /** Closes by reason: `client`, `server`, `slow-client`, `stalled`, `lifetime`, `shutdown`, `error`. */
  closedBy: Record<CloseReason, number>;
  /** Events written to connections (broadcasts count once per recipient). */
  eventsWritten: number;
  /** Comments written (keep-alives included). */
  commentsWritten: number;
  bytesWritten: number;
  /** Times a client crossed `maxBufferedBytes` (dropped or trimmed, per policy), or was closed for falling too far behind a replay. */
  slowClients: number;
  /** Channel replays served from `Last-Event-ID`, and the events they carried. */
  replays: number;
  replayedEvents: number;
  /** Requests answered with 429/503/204 by the caps or the drain. */
  rejected: number;
}

/**
 * How the registry turns a connection away (caps, drain): `'retry'` answers an EventSource (a
 * request whose `Accept` names `text/event-stream`) with an empty `200` event stream that holds
 * only a `retry` (so it reconnects later: any other status would stop it for good) and answers
 * other clients with the status; `'status'` answers everyone with 503/429 + `Retry-After`.
 */
export type RefusalStyle = 'retry' | 'status';

export interface StreamRegistryOptions {
  /** Most streams open at once; past it new ones are turned away (see `refuseWith`). Defaults to no limit. */
  maxStreams?: number;
  /**
   * Most streams open at once per client key (the client's IP address unless the handler's
   * `clientKey` option says otherwise); past it new ones are turned away (see `refuseWith`, 429
   * for status answers). Defaults to no limit.
   */
  maxStreamsPerKey?: number;
  /**
   * When a client turned away by a cap or the drain should come back, in seconds: sent as
   * `Retry-After` with status answers, and as the `retry` of the answer to an EventSource
   * (in ms, spread by 10% either way, at least 1000 ms). Defaults to `5`.
   */
  retryAfterSeconds?: number;
  /**
   * How connections are turned away: `'retry'` (EventSources get an empty 200 stream with a
   * `retry` and reconnect later; others get 503/429 + `Retry-After`) or `'status'` (503/429 +
   * `Retry-After` for everyone: an EventSource stops for good). Defaults to `'retry'`.
   */
  refuseWith?: RefusalStyle;
  /** Called for every open, close, rejection and slow client. Must not throw. */
  onLifecycle?: (entry: LifecycleEntry) => void;
}

export interface CloseAllOptions {
  /** A last event sent to every stream before it closes (e.g. `{ event: 'bye', data: 'restarting' }`). */
  event?: StreamEvent | SendableData;
  /** How long to wait for clients to receive the end before cutting them off. Defaults to `5_000`. */
  timeoutMs?: number;
  /**
   * The answer to new connections from now on: `503` (clients come back later: an EventSource
   * gets an empty 200 stream with a `retry`, other clients 503 + `Retry-After`; see `refuseWith`)
   * or `204` (clients stop reconnecting). Defaults to `503`.
   */
  status?: 503 | 204;
}

export interface CloseAllResult {
  /** Streams that were open and got closed. */
  closed: number;
  /** Of those, how many did not finish in time and were cut off. */
  forced: number;
  durationMs: number;
}

/**
 * Tracks the open streams of a server: connection caps, graceful shutdown and counters. Pass it
 * to any adapter's `sse(handler, { registry })`; one registry can serve many routes.
 */
export interface StreamRegistry {
  /** Streams open now. */
  readonly size: number;
  /** `true` once `closeAll` started: new connections are turned away. */
  readonly draining: boolean;
  /** A snapshot of the counters. */
  counters(): StreamCounters;
  /** The counters in Prometheus text format, each name prefixed (defaults to `sse`). */
  toPrometheus(prefix?: string): string;
  /** The open streams (a snapshot). */
  streams(): AnyEventStream[];
  /**
   * Drains the server: from now on new connections are told to come back later (or 204); every open stream gets the
   * optional last event and a clean end; resolves once all of them finished, cutting off those
   * that did not within `timeoutMs`.
   */
  closeAll(options?: CloseAllOptions): Promise<CloseAllResult>;
}

/** The shortest `retry` a turned-away EventSource gets: `retry: 0` would make it reconnect in a tight loop. */
const MIN_REFUSAL_RETRY_MS = 1000;

/** Whether the request is an EventSource's: its `Accept` names `text/event-stream` (not just `*\/*`). */
function namesEventStream(accept: HeaderValue): boolean {
  if (accept === undefined || accept === null) return false;
  return /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i.test(typeof accept === 'string' ? accept : accept.join(','));
}

/**
 * The answer that turns an EventSource away without stopping it: a 200 event stream that only
 * sets `retry` and ends at once. EventSource treats every other status as fatal; a stream that
 * ends cleanly makes it reconnect after `retry`. It never becomes an open stream.
 */
function comeBackLater(cause: string, retryMs: number): Rejection {
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    body: `: ${cause}: reconnect after retry\nretry: ${retryMs}\n\n`,
  };
}

function checkLimit(name: string, value: number | undefined): number {
  return value === undefined ? Number.POSITIVE_INFINITY : checkOption.positiveInteger(name, value);
}

/** Creates a registry of open streams (caps, drain, counters). */
export function createStreamRegistry(options: StreamRegistryOptions = {}): StreamRegistry {
  const maxStreams = checkLimit('maxStreams', options.maxStreams);
  const maxPerKey = checkLimit('maxStreamsPerKey', options.maxStreamsPerKey);
  const retryAfter = checkOption.nonNegativeInteger('retryAfterSeconds', options.retryAfterSeconds ?? 5);
  const refuseWith = checkOption.oneOf<RefusalStyle>('refuseWith', options.refuseWith ?? 'retry', ['retry', 'status']);
  const onLifecycle = options.onLifecycle;
  const open = new Map<InternalStream, string | undefined>();
  const perKey = new Map<string, number>();
  const counters: StreamCounters = {
    open: 0,
    opened: 0,
    closed: 0,
    closedBy: Object.fromEntries(CLOSE_REASONS.map((reason) => [reason, 0])) as Record<CloseReason, number>,
    eventsWritten: 0,
    commentsWritten: 0,
    bytesWritten: 0,
    slowClients: 0,
    replays: 0,
    replayedEvents: 0,
    rejected: 0,
  };
  let drainStatus: 503 | 204 | undefined;

  const emit = (entry: LifecycleEntry): void => {
    if (onLifecycle === undefined) return;
    try {
      onLifecycle(entry);
    } catch {
      // A logging hook must never break the stream it reports on.
    }
  };

  const refuse = (key: string | undefined, status: number, cause: 'max-streams' | 'max-streams-per-key' | 'draining', accept: HeaderValue): Rejection => {
    counters.rejected++;
    if (status !== 204 && refuseWith === 'retry' && namesEventStream(accept)) {
      const retryMs = Math.round(jittered(Math.max(MIN_REFUSAL_RETRY_MS, retryAfter * 1000), DEFAULT_JITTER, 'retryAfterSeconds', 'jitter', 0));
      emit({ type: 'reject', key, status: 200, cause, retryMs });
      return comeBackLater(cause, retryMs);
    }
    emit({ type: 'reject', key, status, cause });
    if (status === 204) return reject(204);
    return reject(status, { retryAfter });
  };

  const registry: StreamRegistry & RegistryInternals = {
    [kCreatedBy]: CORE_IDENTITY,
    get size() {
      return open.size;
    },
    get draining() {
      return drainStatus !== undefined;
    },
    counters() {
      return { ...counters, open: open.size, closedBy: { ...counters.closedBy } };
    },
    toPrometheus(prefix = 'sse') {
      const c = this.counters();
      const lines: string[] = [];
      const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number, labels = ''): void => {
        if (labels === '' || !lines.some((line) => line.startsWith(`# TYPE ${prefix}_${name} `))) {
          lines.push(`# HELP ${prefix}_${name} ${help}`, `# TYPE ${prefix}_${name} ${type}`);
        }
        lines.push(`${prefix}_${name}${labels} ${value}`);
      };
      metric('streams_open', 'gauge', 'Event streams open now.', c.open);
      metric('streams_opened_total', 'counter', 'Event streams opened.', c.opened);
      for (const reason of CLOSE_REASONS) {
        metric('streams_closed_total', 'counter', 'Event streams closed, by reason.', c.closedBy[reason], `{reason="${reason}"}`);
      }
      metric('events_written_total', 'counter', 'Events written to connections.', c.eventsWritten);
      metric('comments_written_total', 'counter', 'Comments (keep-alives) written.', c.commentsWritten);
      metric('bytes_written_total', 'counter', 'Bytes written to connections.', c.bytesWritten);
      metric('slow_clients_total', 'counter', 'Clients that crossed the buffer bound or fell too far behind a replay.', c.slowClients);
      metric('replays_total', 'counter', 'Replays served from Last-Event-ID.', c.replays);
      metric('replayed_events_total', 'counter', 'Events sent by replays.', c.replayedEvents);
      metric('rejected_total', 'counter', 'Connections turned away by caps or the drain.', c.rejected);
      return `${lines.join('\n')}\n`;
    },
    streams() {
      return [...open.keys()];
    },
    [kAdmit](key, accept) {
      if (drainStatus !== undefined) return refuse(key, drainStatus, 'draining', accept);
      if (open.size >= maxStreams) return refuse(key, 503, 'max-streams', accept);
      if (key !== undefined && (perKey.get(key) ?? 0) >= maxPerKey) return refuse(key, 429, 'max-streams-per-key', accept);
      return undefined;
    },
    [kTrack](candidate, key) {
      // The stream may come from another copy of @sse/core (the request flow's): check it speaks this protocol.
      const stream = streamInternals(candidate, 'stream registry');
      if (stream.isClosed) return;
      const openedAt = Date.now();
      open.set(stream, key);
      if (key !== undefined) perKey.set(key, (perKey.get(key) ?? 0) + 1);
      counters.opened++;
      emit({ type: 'open', key, open: open.size });
      stream[kObserve]({
        onWrite(bytes, isComment) {
          counters.bytesWritten += bytes;
          if (isComment) counters.commentsWritten++;
          else counters.eventsWritten++;
        },
        onSlowClient(info) {
          counters.slowClients++;
          emit({ type: 'slow-client', key, info });
        },
        onReplay(count) {
          counters.replays++;
          counters.replayedEvents += count;
        },
        onClose({ reason }) {
          open.delete(stream);
          if (key !== undefined) {
            const left = (perKey.get(key) ?? 1) - 1;
            if (left <= 0) perKey.delete(key);
            else perKey.set(key, left);
          }
          counters.closed++;
          counters.closedBy[reason]++;
          emit({ type: 'close', key, reason, open: open.size, durationMs: Date.now() - openedAt });
        },
      });
    },
    async closeAll(closeOptions = {}) {
      const started = Date.now();
      const timeoutMs = closeOptions.timeoutMs ?? 5_000;
      const status = closeOptions.status ?? 503;
      checkOption.oneOf('closeAll status', status, [503, 204]);
      checkOption.nonNegativeNumber('closeAll timeoutMs', timeoutMs);
      // Refuse a bad last event before anything is closed.
      if (closeOptions.event !== undefined) formatSendArgument(closeOptions.event, serializeJson);
      drainStatus = status;
      const streams = [...open.keys()];
      for (const stream of streams) {
        if (closeOptions.event !== undefined) stream.send(closeOptions.event as StreamEvent);
        stream[kCloseWith]('shutdown');
      }
      const pending = new Set(streams);
      const finished = streams.map((stream) =>
        stream[kFinished].then(() => pending.delete(stream)),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(finished),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      for (const stream of pending) stream[kForceAbort]();
      return { closed: streams.length, forced: pending.size, durationMs: Date.now() - started };
    },
  };
  return registry;
}

