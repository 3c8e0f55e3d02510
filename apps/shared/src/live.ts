import { createChannel, type AnyEventStream } from '@sse/core';

/** The numbers behind the metrics panel. */
export interface Metrics {
  tick: number;
  uptimeSeconds: number;
  /** Resident memory of the process, in MiB. */
  memoryMiB: number;
  /** Open streams per route. */
  streams: { live: number; chat: number; private: number };
  /** Chat messages accepted since the process started. */
  messages: number;
}

/** What the status line shows besides the connection state. */
export interface ServerStatus {
  state: 'ok' | 'shutting-down';
  text: string;
}

/** Events of `GET /sse`. */
export type LiveEvents = {
  welcome: { framework: string; text: string; tickMs: number; startedAt: string };
  time: { iso: string; tick: number };
  metrics: Metrics;
  status: ServerStatus;
};

export interface LiveFeed {
  /** Adds a `/sse` stream: a welcome and the current status, then every tick. */
  join(stream: AnyEventStream): void;
  /** Sends the time and the metrics to every `/sse` stream. */
  tick(tick: number, metrics: Metrics): void;
  readonly listeners: number;
}

export function createLiveFeed(framework: string, tickMs: number): LiveFeed {
  // No history: the time and the metrics of a moment ago are not worth replaying.
  const channel = createChannel<LiveEvents>();
  const startedAt = new Date().toISOString();
  // The shutting-down status is sent by the drain, as the last event of every stream.
  const status: ServerStatus = { state: 'ok', text: `streaming every ${tickMs} ms` };
  return {
    join(stream) {
      stream.send({
        event: 'welcome',
        data: { framework, text: `Welcome to the ${framework} demo of @sse.`, tickMs, startedAt },
      });
      stream.send({ event: 'status', data: status });
      channel.subscribe(stream, { replay: false });
    },
    tick(tick, metrics) {
      // Not awaited: the next tick does not wait for this one; the channel reports a failed publish to onError.
      void channel.broadcast({ event: 'time', data: { iso: new Date().toISOString(), tick } });
      void channel.broadcast({ event: 'metrics', data: metrics });
    },
    get listeners() {
      return channel.size;
    },
  };
}
