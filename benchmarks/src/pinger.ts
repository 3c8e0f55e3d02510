/**
 * Plain `GET /ping` requests, one at a time on one keep-alive connection, from the orchestrator:
 * whether a server still answers another request while it fans a broadcast out.
 */
import { Agent, request } from 'node:http';
import { nowMicros } from './events.js';

/** The path the harness's server process answers ahead of every contender. */
export const PING_PATH = '/ping';

export class Pinger {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  /** When each answer arrived, µs on the shared monotonic clock. */
  readonly answeredAt: number[] = [];
  #running = true;
  readonly #done: Promise<void>;

  constructor(port: number) {
    this.#done = this.#loop(port);
  }

  async #loop(port: number): Promise<void> {
    while (this.#running) {
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: PING_PATH, agent: this.#agent }, (res) => {
          res.resume();
          res.on('end', () => {
            this.answeredAt.push(nowMicros());
            resolve();
          });
          res.on('error', () => resolve());
        });
        req.on('error', () => setTimeout(resolve, 5));
        req.end();
      });
    }
  }

  /** Answers that arrived in [from, to] (µs). */
  answeredBetween(from: number, to: number): number {
    return this.answeredAt.filter((at) => at >= from && at <= to).length;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
    this.#agent.destroy();
  }
}
