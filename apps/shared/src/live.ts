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
  /** Adds a `/sse` stream: a welcome, the current status, time and metrics, then every tick. */
  join(stream: AnyEventStream): void;
  /** Sends the time and the metrics to every `/sse` stream. */
  tick(): void;
  readonly listeners: number;
}

/** `sample()` gives the metrics of this moment (the tick count included), at each tick and for each new stream. */
export function createLiveFeed(framework: string, tickMs: number, sample: () => Metrics): LiveFeed {
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
      // The time and the metrics of now, rather than a page of placeholders until the next tick
      // (up to TICK_MS away). Sampled after subscribe(), so the live streams count this one.
      const metrics = sample();
      stream.send({ event: 'time', data: { iso: new Date().toISOString(), tick: metrics.tick } });
      stream.send({ event: 'metrics', data: metrics });
    },
    tick() {
      const metrics = sample();
      // Not awaited: the next tick does not wait for this one; the channel reports a failed publish to onError.
      void channel.broadcast({ event: 'time', data: { iso: new Date().toISOString(), tick: metrics.tick } });
      void channel.broadcast({ event: 'metrics', data: metrics });
    },
    get listeners() {
      return channel.size;
    },
  };
}
