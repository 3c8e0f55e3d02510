import type { SseSink } from '../src/adapter.js';

/**
 * A sink that keeps what it is given in memory, with a switch that makes it stop accepting:
 * the stand-in for a client that does not read. Only used to test the core's own logic; the
 * adapters are tested over real sockets.
 */
export class MemorySink implements SseSink {
  readonly chunks: Uint8Array[] = [];
  status: number | undefined;
  headers: Record<string, string> | undefined;
  openCount = 0;
  closedWith: 'close' | 'abort' | undefined;
  /** When false, `write` keeps the chunk but reports that the buffer is full. */
  accepting = true;
  httpVersion: string | undefined;
  readonly #controller = new AbortController();
  #drain: (() => void) | undefined;
  #failWrites = false;

  constructor(options: { httpVersion?: string } = {}) {
    this.httpVersion = options.httpVersion;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  open(status: number, headers: Record<string, string>): void {
    this.openCount++;
    this.status = status;
    this.headers = headers;
  }

  write(chunk: Uint8Array): boolean {
    if (this.#failWrites) throw new Error('EPIPE: write after reset');
    this.chunks.push(chunk);
    return this.accepting;
  }

  onDrain(listener: () => void): void {
    this.#drain = listener;
  }

  close(): void | Promise<void> {
    this.closedWith ??= 'close';
  }

  abort(): void {
    this.closedWith ??= 'abort';
  }

  /** The client reads again. */
  drain(): void {
    this.accepting = true;
    this.#drain?.();
  }

  /** The client goes away. */
  disconnect(): void {
    this.#controller.abort();
  }

  failWrites(): void {
    this.#failWrites = true;
  }

  get text(): string {
    return new TextDecoder().decode(concat(this.chunks));
  }

  get byteLength(): number {
    return this.chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  }
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
