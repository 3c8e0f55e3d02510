/**
 * Several client processes as one: connections are split over them (and over source addresses),
 * results are merged. The scale scenario needs more connections than one process (and one source
 * address's ports) should carry.
 */
import type { ConnectResult, EndedResult, WaitResult } from './client.js';
import { RpcChild } from './rpc.js';

/** Loopback source addresses: all of 127.0.0.0/8 routes to lo on Linux, each with its own ports. */
export const SOURCE_ADDRESSES = Array.from({ length: 8 }, (_, index) => `127.0.0.${index + 2}`);

export interface PoolConnect {
  ports: number[];
  count: number;
  /** Request path, may hold `{i}` (see the client's `connect`). */
  path?: string;
  /** Spread the connections over SOURCE_ADDRESSES. */
  spreadSources?: boolean;
  timeoutMs?: number;
}

export class ClientPool {
  readonly #clients: RpcChild[];
  readonly #owned: boolean;
  /** The processes that got connections in the last `connect` (a process with none has no `doneAt`). */
  #active: RpcChild[];

  private constructor(clients: RpcChild[], owned: boolean) {
    this.#clients = clients;
    this.#owned = owned;
    this.#active = clients;
  }

  /** `processes` client processes of their own, each allowed `nofile` open files when given. */
  static start(processes: number, nofile?: number): ClientPool {
    return new ClientPool(
      Array.from({ length: processes }, (_, index) => new RpcChild(`client #${index + 1}`, 'client', [], nofile === undefined ? {} : { nofile })),
      true,
    );
  }

  /** One existing client process (the bench's own); `kill` leaves it running. */
  static of(client: RpcChild): ClientPool {
    return new ClientPool([client], false);
  }

  get size(): number {
    return this.#clients.length;
  }

  /** Opens `count` connections, process k taking an equal share and its own source addresses. */
  async connect({ ports, count, path, spreadSources = false, timeoutMs = 300_000 }: PoolConnect): Promise<void> {
    const n = this.#clients.length;
    let first = 0;
    const share = (k: number): number => Math.floor(count / n) + (k < count % n ? 1 : 0);
    this.#active = this.#clients.filter((_, k) => share(k) > 0);
    const results = await Promise.all(
      this.#clients.map((client, k) => {
        const mine = share(k);
        const firstIndex = first;
        first += mine;
        const localAddresses = spreadSources ? SOURCE_ADDRESSES.filter((_, index) => n > SOURCE_ADDRESSES.length || index % n === k) : [];
        return client.call<ConnectResult>('connect', { ports, count: mine, firstIndex, localAddresses, ...(path === undefined ? {} : { path }) }, timeoutMs);
      }),
    );
    const connected = results.reduce((sum, result) => sum + result.connected, 0);
    if (connected !== count) throw new Error(`connected ${connected} of ${count}: ${results.flatMap((result) => result.failures).slice(0, 3).join('; ')}`);
  }

  async expect(events: number): Promise<void> {
    await Promise.all(this.#active.map((client) => client.call('expect', { events })));
  }

  /** Every process's wait, merged: done when all are, `doneAt` the last one's. */
  async wait(timeoutMs: number, settleMs = 50): Promise<WaitResult> {
    const results = await Promise.all(this.#active.map((client) => client.call<WaitResult>('wait', { timeoutMs, settleMs }, timeoutMs + 5_000)));
    const doneAts = results.map((result) => result.doneAt);
    return {
      done: results.every((result) => result.done),
      doneAt: doneAts.includes(null) ? null : Math.max(...(doneAts as number[])),
      minFrames: Math.min(...results.map((result) => result.minFrames)),
      maxFrames: Math.max(...results.map((result) => result.maxFrames)),
      totalFrames: results.reduce((sum, result) => sum + result.totalFrames, 0),
      closed: results.reduce((sum, result) => sum + result.closed, 0),
    };
  }

  async expectEnd(): Promise<void> {
    await Promise.all(this.#active.map((client) => client.call('expectEnd')));
  }

  async waitEnded(timeoutMs: number): Promise<EndedResult> {
    const results = await Promise.all(this.#active.map((client) => client.call<EndedResult>('waitEnded', { timeoutMs }, timeoutMs + 5_000)));
    const lastAts = results.map((result) => result.lastAt).filter((at): at is number => at !== null);
    return {
      ended: results.reduce((sum, result) => sum + result.ended, 0),
      of: results.reduce((sum, result) => sum + result.of, 0),
      lastAt: lastAts.length === 0 ? null : Math.max(...lastAts),
    };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.call('closeAll', {}, 120_000)));
  }

  async kill(): Promise<void> {
    if (this.#owned) await Promise.all(this.#clients.map((client) => client.kill()));
  }
}
