import type { Server } from 'node:http';

/** One event as the harness hands it to a contender: every contender sends `id` and `data`. */
export interface BenchEvent {
  /** Sequential id, sent as the event's `id` field. */
  id: string;
  /** A JSON object; its first key is `t`, the broadcast time in µs, which the client reads for latency. */
  data: Record<string, unknown>;
}

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
}

/** What the harness hands a contender's `start`. */
export interface ContenderContext {
  /** The throwaway Redis of this measurement, for contenders listed with `redis: true`. */
  redisUrl?: string;
}

/** What every module in `src/contenders/` exports. */
export type StartContender = (context: ContenderContext) => Promise<BenchServer>;
