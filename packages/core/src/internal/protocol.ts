/**
 * The protocol between a stream and the lifecycle code around it (channels, registries, the
 * request flow). It is not exported by any entry point, so it never appears in a published type.
 *
 * Its keys are registered symbols (`Symbol.for`) named after the protocol version: two copies of
 * @sse/core in one process (an ESM and a CJS build, or two versions that speak the same protocol)
 * share them and work together. A copy that meets a stream or registry without these keys throws
 * `ERR_SSE_DUPLICATE_CORE`, naming both copies, instead of failing somewhere deep inside.
 */
import { SseError } from '../errors.js';
import type { Rejection } from '../rejection.js';
import type { HeaderValue } from '../request.js';
import type { AnyEventStream, CloseInfo, CloseReason, SlowClientInfo } from '../stream-types.js';

/**
 * Bumped whenever a member below changes meaning; copies with different numbers refuse each other.
 * 3: close listeners are objects ({@link CloseListener}), not functions.
 */
export const PROTOCOL_VERSION = 3;

declare const __SSE_CORE_VERSION__: string | undefined;
declare const __SSE_CORE_FORMAT__: string | undefined;

/** Who this copy is, e.g. `@sse/core 1.2.0 (cjs)`; the build fills in version and format. */
export const CORE_IDENTITY = `@sse/core ${typeof __SSE_CORE_VERSION__ === 'string' ? __SSE_CORE_VERSION__ : '(source)'} (${typeof __SSE_CORE_FORMAT__ === 'string' ? __SSE_CORE_FORMAT__ : 'source'}, protocol ${PROTOCOL_VERSION})`;

/** Names the copy that made an object; the same key in every version, so any copy can read it. */
export const kCreatedBy: unique symbol = Symbol.for('@sse/core.createdBy');

/** Writes a pre-encoded frame (channels encode a broadcast once and hand every stream the same bytes). */
export const kWriteFrame: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.writeFrame`);
/**
 * Between these two, the frames written to the stream leave in one write to its sink (a fan-out
 * visiting it for several publishes at once); protocol 2.
 */
export const kBeginBatch: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.beginBatch`);
export const kEndBatch: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.endBatch`);
/** Tells the stream's observer a channel replayed `count` events to it. */
export const kReplayed: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.replayed`);
/** Attaches the one observer (the registry) that hears about writes, slow clients, replays and the close. */
export const kObserve: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.observe`);
/** Runs a callback once the stream closes (channels use it instead of the public signal, which costs memory). */
export const kOnClose: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.onClose`);
export const kOffClose: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.offClose`);
/** Settles once the sink handed the end of the stream over. */
export const kFinished: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.finished`);
/** Cuts a stream whose clean close could not complete (a stalled client). */
export const kForceAbort: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.forceAbort`);
/** Closes with a given reason (the request flow closes a failed handler's stream with `'error'`). */
export const kCloseWith: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.closeWith`);
/**
 * Where a stream reports a failure no caller may be watching: an iterable given to `pipe()` that
 * threw, whose promise the handler did not return (the request flow routes it to `onError`).
 */
export const kReportError: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.reportError`);
/** A registry's admission: a rejection when a new stream may not open. */
export const kAdmit: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.admit`);
/** A registry starts tracking a stream that just opened. */
export const kTrack: unique symbol = Symbol.for(`@sse/core.internals/${PROTOCOL_VERSION}.track`);

/** What lifecycle code (the stream registry) is told about a stream. */
export interface StreamObserver {
  onWrite?(bytes: number, isComment: boolean): void;
  onSlowClient?(info: SlowClientInfo): void;
  onReplay?(count: number): void;
  onClose?(info: CloseInfo): void;
}

/** The members every stream of this protocol has besides its public API. */
export interface StreamInternals {
  readonly [kCreatedBy]: string;
  /**
   * Writes (or queues) a whole frame. `false` when it was not taken: the stream is closed, or the
   * frame is larger than the stream's `maxEventBytes` (then nothing was written and the stream
   * stays open).
   */
  [kWriteFrame](chunk: Uint8Array, now?: number, isComment?: boolean): boolean;
  /** Frames written from now on wait (up to a few KiB) to leave in one sink write, at {@link kEndBatch} at the latest. */
  [kBeginBatch](): void;
  [kEndBatch](): void;
  [kReplayed](count: number): void;
  [kObserve](observer: StreamObserver): void;
  [kOnClose](listener: CloseListener): void;
  [kOffClose](listener: CloseListener): void;
  readonly [kFinished]: Promise<void>;
  [kForceAbort](): void;
  [kCloseWith](reason: CloseReason, error?: unknown): void;
  /** Where a failed `pipe()` is reported: an object, so a stream keeps no closure of its own for it. */
  [kReportError](reporter: PipeErrorReporter): void;
}

/**
 * What a stream tells once it closes (see `kOnClose`): an object, so that the hub or channel a
 * stream joined keeps one record per stream and no closure (with its scope) beside it.
 */
export interface CloseListener {
  streamClosed(): void;
}

/** What a stream tells about a failed `pipe()` (see `kReportError`). */
export interface PipeErrorReporter {
  pipeFailed(error: unknown): void;
}

/** A stream as core's own modules see it. */
export type InternalStream = AnyEventStream & StreamInternals;

/** The members every registry of this protocol has besides its public API. */
export interface RegistryInternals {
  readonly [kCreatedBy]: string;
  /** `accept` is the request's `Accept` header: an EventSource is turned away in a way it retries. */
  [kAdmit](key: string | undefined, accept?: HeaderValue): Rejection | undefined;
  [kTrack](stream: InternalStream, key: string | undefined): void;
}

function createdBy(value: object): string {
  const identity = (value as { [kCreatedBy]?: unknown })[kCreatedBy];
  return typeof identity === 'string' ? identity : 'something other than this protocol of @sse/core (another copy too old to say, or a hand-made object)';
}

function duplicateCore(what: string, value: object, owner: string): SseError {
  return new SseError(
    'ERR_SSE_DUPLICATE_CORE',
    `this ${what} was created by ${createdBy(value)} but the ${owner} belongs to ${CORE_IDENTITY}; two copies of @sse/core that speak different protocols are loaded in this process. Make every @sse package use one copy (npm dedupe / pnpm dedupe, one version of @sse/core in the lockfile).`,
  );
}

/** The stream with its internals, or `ERR_SSE_DUPLICATE_CORE` when it comes from a copy that does not speak this protocol. */
export function streamInternals(stream: AnyEventStream, owner: string): InternalStream {
  if (typeof (stream as Partial<StreamInternals>)[kWriteFrame] !== 'function') throw duplicateCore('stream', stream, owner);
  return stream as InternalStream;
}

/** The registry with its internals, or `ERR_SSE_DUPLICATE_CORE` as for streams. */
export function registryInternals<R extends object>(registry: R, owner: string): R & RegistryInternals {
  if (typeof (registry as Partial<RegistryInternals>)[kAdmit] !== 'function') throw duplicateCore('registry', registry, owner);
  return registry as R & RegistryInternals;
}
