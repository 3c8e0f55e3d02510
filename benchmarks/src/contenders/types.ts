import type { Server } from 'node:http';

/** One event as the harness hands it to a contender: every contender sends `id` and `data`. */
export interface BenchEvent {
  /** Sequential id, sent as the event's `id` field. */
  id: string;
  /** A JSON object; its first key is `t`, the broadcast time in µs, which the client reads for latency. */
  data: Record<string, unknown>;
}

/** How many of the open responses took each write path (`sinkWritePath` of @sse/node). */
export type WritePaths = Record<string, number>;

/** A running contender: its listening servers and the broadcast under test. */
export interface BenchServer {
  /**
   * The HTTP servers listening on 127.0.0.1. Clients are spread over them in turn, so a contender
   * with several instances in one process lists each one (instances in processes of their own:
   * `instances` in the contender list).
   */
  servers: Server[];
  /** Sends one event to every connected client, the way a user of this library would. */
  broadcast(event: BenchEvent): void;
  /** Sends one event to the clients of one topic (contenders of the topics scenario). */
  publish?(topic: string, event: BenchEvent): void;
  /** Ends every stream the way an app that drains would (with `context.drain`). */
  closeAll?(): Promise<void>;
  /** The write path of each open @sse response (`sinkWritePath`), when @sse/node exports it. */
  writePaths?(): WritePaths;
}

/** What the harness hands a contender's `start`. */
export interface ContenderContext {
  /** The throwaway Redis of this measurement, for contenders listed with `redis: true`. */
  redisUrl?: string;
  /**
   * The scale scenario ends every stream (`closeAll`): @sse contenders register their streams
   * on a `createStreamRegistry()`. Off elsewhere, so that the other figures carry no registry.
   */
  drain?: boolean;
}

/** What every module in `src/contenders/` exports. */
export type StartContender = (context: ContenderContext) => Promise<BenchServer>;
