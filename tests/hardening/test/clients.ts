import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A lightweight EventSource-like client over node:http, for hundreds of connections at once. */
export interface StreamClient {
  request: ClientRequest;
  response: Promise<IncomingMessage>;
  events: EventSourceMessage[];
  /** Resolves with how the body ended: `'end'` (clean) or `'error'` (reset, aborted). */
  ended: Promise<'end' | 'error'>;
  destroy(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): StreamClient {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const req = request(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } });
  let settle!: (how: 'end' | 'error') => void;
  const ended = new Promise<'end' | 'error'>((resolve) => (settle = resolve));
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (text: string) => parser.feed(text));
      res.once('end', () => settle('end'));
      res.once('aborted', () => settle('error'));
      res.once('error', () => settle('error'));
      resolve(res);
    });
    req.once('error', (error) => {
      settle('error');
      reject(error);
    });
  });
  response.catch(() => undefined);
  req.end();
  return { request: req, response, events, ended, destroy: () => req.destroy() };
}

/** A raw socket: sends exactly the bytes given, reads only when asked. */
export function rawRequest(url: string, head: Buffer | string): Promise<{ socket: Socket; received: () => string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      socket.write(head);
      resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1') });
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
  });
}

/** Runs `task` for each index with at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++);
  });
  await Promise.all(workers);
}

export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
