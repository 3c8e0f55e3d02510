import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { EventSource as UndiciEventSource } from 'undici';
import { EventSource as PackageEventSource } from 'eventsource';

/** How long a wait may take, by default, before it fails with what was received so far: a hang guard, not a timing check. */
export const WAIT_MS = 10_000;

/** How a body ended: `'end'` cleanly (the last chunk, or a FIN after a body without chunks), `'error'` when the connection broke. */
export type StreamOutcome = 'end' | 'error';

const TEXT_LIMIT = 1 << 20;

/** What a client parsed from the body, with `eventsource-parser`, as it arrived. */
export interface ReceivedEvents {
  /** Dispatched events, in order (`event` is `undefined` for `message`). */
  readonly events: EventSourceMessage[];
  /** Comment lines (keep-alives are `''`). */
  readonly comments: string[];
  /** `retry:` values. */
  readonly retries: number[];
  /** Lines the parser could not read. */
  readonly parseErrors: string[];
  /** Body bytes received (after any content decoding). */
  readonly bytes: number;
  /** The body as text, up to its first MiB (enough to look for injected lines). */
  readonly text: string;
}

/** Waits for a condition that changes as data arrives; rejects after `waitMs` (default {@link WAIT_MS}) with `describe()`. */
class Waitable {
  #listeners = new Set<() => void>();
  readonly #waitMs: number;

  constructor(waitMs: number = WAIT_MS) {
    this.#waitMs = waitMs;
  }

  protected notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  until(condition: () => boolean, what: string, describe: () => string = () => ''): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`gave up waiting for ${what} after ${this.#waitMs} ms; ${describe()}`));
      }, this.#waitMs);
      this.#listeners.add(check);
    });
  }
}

/** How a client reads: see {@link EventStreamRequestInit}. */
interface CollectorOptions {
  light?: boolean | undefined;
  timeoutMs?: number | undefined;
}

/** Feeds body bytes to `eventsource-parser`. */
class EventCollector extends Waitable implements ReceivedEvents {
  readonly events: EventSourceMessage[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  readonly parseErrors: string[] = [];
  bytes = 0;
  text = '';
  /** `'end'` once the body ended cleanly, `'error'` when the connection broke; `undefined` while it is open. */
  outcome: StreamOutcome | undefined;
  /** Settles once with {@link outcome}, when the body ends; never rejects. */
  readonly ended: Promise<StreamOutcome>;
  #settle!: (outcome: StreamOutcome) => void;
  readonly #light: boolean;
  readonly #decoder = new TextDecoder();
  readonly #parser = createParser({
    onEvent: (event) => this.events.push(event),
    onComment: (comment) => {
      if (!this.#light) this.comments.push(comment);
    },
    onRetry: (retry) => this.retries.push(retry),
    onError: (error) => this.parseErrors.push(error.message),
  });

  constructor(options: CollectorOptions = {}) {
    super(options.timeoutMs);
    this.#light = options.light ?? false;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
  }

  feed(bytes: Uint8Array): void {
    this.bytes += bytes.byteLength;
    const text = this.#decoder.decode(bytes, { stream: true });
    if (!this.#light && this.text.length < TEXT_LIMIT) this.text += text.slice(0, TEXT_LIMIT - this.text.length);
    this.#parser.feed(text);
    this.notify();
  }

  finish(outcome: StreamOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    this.#settle(outcome);
    this.notify();
  }

  /** Waits until `count` events arrived. */
  waitForEvents(count: number): Promise<EventSourceMessage[]> {
    return this.until(() => this.events.length >= count, `${count} events`, () => this.summary()).then(() => this.events);
  }

  /**
   * Resolves with the first event received so far, or to come, for which `predicate` holds.
   * Rejects as soon as the body ends without one, or when the wait times out, with what arrived.
   */
  waitForEvent(predicate: (event: EventSourceMessage) => boolean, what = 'a matching event'): Promise<EventSourceMessage> {
    let seen = 0;
    let found: EventSourceMessage | undefined;
    const scan = (): boolean => {
      for (; found === undefined && seen < this.events.length; seen++) if (predicate(this.events[seen]!)) found = this.events[seen];
      return found !== undefined || this.outcome !== undefined;
    };
    const describe = (): string => `${this.summary()}; event types: ${JSON.stringify(this.events.map((event) => event.event ?? 'message'))}`;
    return this.until(scan, what, describe).then(() => {
      if (found === undefined) throw new Error(`the body ended (${this.outcome}) without ${what}; ${describe()}`);
      return found;
    });
  }

  /** Waits until the body ended (cleanly or not) and tells how. */
  waitForEnd(): Promise<StreamOutcome> {
    return this.until(() => this.outcome !== undefined, 'the end of the body', () => this.summary()).then(() => this.outcome!);
  }

  summary(): string {
    return `got ${this.events.length} events, ${this.comments.length} comments, ${this.bytes} bytes, body ${this.outcome ?? 'still open'}`;
  }
}

function decoderFor(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

export interface EventStreamRequestInit {
  /** Defaults to `'GET'`. */
  method?: string;
  /** Sent as they are; `Accept: text/event-stream` is added unless given. */
  headers?: Record<string, string> | undefined;
  /** Sent as the `Last-Event-ID` header, as an `EventSource` does when it reconnects. Default: none. */
  lastEventId?: string | undefined;
  /** A request body (for POST streams). */
  body?: string;
  /**
   * For hundreds of connections in one process (load and churn tests): keeps the events, the
   * `retry` values and the byte count, but no body `text` and no comments. Default `false`.
   */
  light?: boolean | undefined;
  /** The hang guard of the response head and of every wait on this client, in ms. Default {@link WAIT_MS} (10 s). */
  timeoutMs?: number | undefined;
}

/** An HTTP/1.1 client that reads an event stream's raw bytes and parses them itself. */
export interface EventStreamClient extends ReceivedEvents {
  readonly status: number;
  /** Response headers, lower-case. */
  readonly headers: IncomingHttpHeaders;
  /** How the body ended, `undefined` while it is open. */
  readonly outcome: StreamOutcome | undefined;
  /** Settles with how the body ended (`'end'` or `'error'`), whoever ended it; never rejects. */
  readonly ended: Promise<StreamOutcome>;
  /** Waits until `count` events arrived in total; rejects after the timeout with what arrived. */
  waitForEvents(count: number): Promise<EventSourceMessage[]>;
  /** Resolves with the first event (already received or to come) that matches; rejects if the body ends without one. */
  waitForEvent(predicate: (event: EventSourceMessage) => boolean, what?: string): Promise<EventSourceMessage>;
  /** Waits until the body ended: `'end'` when it ended cleanly, `'error'` when the connection broke. */
  waitForEnd(): Promise<StreamOutcome>;
  /** Waits until `condition()` holds, re-checked as data arrives; rejects after the timeout. */
  until(condition: () => boolean, what: string): Promise<void>;
  /** Disconnects, as a browser tab that closes. */
  close(): void;
  /** Disconnects with a TCP reset (RST) instead of a FIN: the harshest way for a client to vanish. */
  reset(): void;
}

/**
 * Opens an event stream over `node:http` on a connection of its own, resolves once the status
 * and headers arrived (before any event), and parses the body with `eventsource-parser`. A
 * compressed body (`Content-Encoding: gzip`, `deflate`, `br`) is decoded as it streams, so a
 * test sees each event as soon as the server flushed it.
 */
export function requestEventStream(url: string, init: EventStreamRequestInit = {}): Promise<EventStreamClient> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...lowerCaseKeys(init.headers) };
  if (init.lastEventId !== undefined) headers['last-event-id'] = init.lastEventId;
  const waitMs = init.timeoutMs ?? WAIT_MS;
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response head from ${url} after ${waitMs} ms`));
    }, waitMs);
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      const collector = new EventCollector({ light: init.light, timeoutMs: waitMs });
      const decoder = decoderFor(res.headers['content-encoding']);
      const body = decoder === undefined ? res : res.pipe(decoder);
      body.on('data', (chunk: Buffer) => collector.feed(chunk));
      body.once('end', () => collector.finish('end'));
      body.once('error', () => collector.finish('error'));
      res.once('aborted', () => collector.finish('error'));
      res.once('error', () => collector.finish('error'));
      res.once('close', () => {
        if (!res.complete) collector.finish('error');
      });
      req.on('error', () => collector.finish('error'));
      resolve(
        Object.assign(collector, {
          status: res.statusCode ?? 0,
          headers: res.headers,
          close: () => {
            req.destroy();
          },
          reset: () => {
            if (res.socket !== null && !res.socket.destroyed) res.socket.resetAndDestroy();
            else req.destroy();
          },
        }),
      );
    });
    req.end(init.body);
  });
}

/**
 * {@link requestEventStream}, for a stream that must open: rejects (and disconnects) unless the
 * answer is `200` with `Content-Type: text/event-stream`, saying what came instead.
 */
export async function openEventStream(url: string, init: EventStreamRequestInit = {}): Promise<EventStreamClient> {
  const client = await requestEventStream(url, init);
  const type = client.headers['content-type'];
  if (client.status !== 200 || type?.startsWith('text/event-stream') !== true) {
    client.close();
    throw new Error(`expected an event stream from ${url}, got ${client.status} ${type ?? '(no content-type)'}`);
  }
  return client;
}

/** A Fetch `Response` whose body is read as an event stream: see {@link readEventStream}. */
export interface ResponseEventStreamClient extends ReceivedEvents {
  readonly status: number;
  readonly headers: Headers;
  /** How the body ended, `undefined` while it is open. */
  readonly outcome: StreamOutcome | undefined;
  /** Settles with how the body ended (`'end'` or `'error'`); never rejects. */
  readonly ended: Promise<StreamOutcome>;
  waitForEvents(count: number): Promise<EventSourceMessage[]>;
  waitForEvent(predicate: (event: EventSourceMessage) => boolean, what?: string): Promise<EventSourceMessage>;
  waitForEnd(): Promise<StreamOutcome>;
  until(condition: () => boolean, what: string): Promise<void>;
  /** Cancels the body, as a Fetch runtime does when its client goes away. */
  close(): Promise<void>;
}

/**
 * Reads a Fetch `Response` (from `app.request()`, a Fetch handler, or `fetch`) as an event
 * stream, without a socket: the body is parsed with `eventsource-parser` as it is pulled, with
 * the same fields and waits as {@link requestEventStream}'s client. For adapters on Bun, Deno or
 * Workers, tested in process.
 */
export function readEventStream(response: Response, options: Pick<EventStreamRequestInit, 'light' | 'timeoutMs'> = {}): ResponseEventStreamClient {
  const collector = new EventCollector({ light: options.light, timeoutMs: options.timeoutMs });
  const reader = response.body?.getReader();
  if (reader === undefined) collector.finish('end');
  else
    void (async () => {
      try {
        for (let read = await reader.read(); !read.done; read = await reader.read()) collector.feed(read.value);
        collector.finish('end');
      } catch {
        collector.finish('error');
      }
    })();
  return Object.assign(collector, {
    status: response.status,
    headers: response.headers,
    close: async () => {
      await reader?.cancel();
    },
  });
}

/** One HTTP response read straight off a TCP socket: the client that can stop reading. */
export class RawSocketClient extends EventCollector {
  /** The status line as sent, e.g. `'HTTP/1.1 200 OK'`. */
  statusLine = '';
  status = 0;
  /** Response headers, lower-case. */
  headers: Record<string, string> = {};
  /** The body's HTTP/1.1 chunks, de-chunked, each as it was framed by the server. */
  readonly chunks: Buffer[] = [];
  readonly #socket: Socket;
  #head: Buffer = Buffer.alloc(0);
  #headDone = false;
  #chunked = false;
  #pending: Buffer = Buffer.alloc(0);
  #pauseAfterHead: boolean;

  constructor(socket: Socket, pauseAfterHead: boolean, options: CollectorOptions = {}) {
    super(options);
    this.#socket = socket;
    this.#pauseAfterHead = pauseAfterHead;
    socket.on('data', this.#onData);
    socket.once('end', () => this.finish(this.#chunked ? 'error' : 'end'));
    socket.once('error', () => this.finish('error'));
    socket.once('close', () => this.finish('error'));
  }

  /** Waits for the status line and headers. */
  waitForHead(): Promise<void> {
    return this.until(() => this.#headDone || this.outcome !== undefined, 'the response head', () => this.summary()).then(() => {
      if (!this.#headDone) throw new Error('the connection closed before a response head arrived');
    });
  }

  /** Stops reading: the kernel buffers fill, then the server's writes report backpressure. */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** Sends a FIN and goes on reading (a half-open client once paused too). */
  end(): void {
    this.#socket.end();
  }

  /** Tears the connection down (an RST when unread data is pending). */
  close(): void {
    this.#socket.destroy();
  }

  readonly #onData = (data: Buffer): void => {
    if (!this.#headDone) {
      this.#head = Buffer.concat([this.#head, data]);
      const end = this.#head.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.#parseHead(this.#head.subarray(0, end).toString('latin1'));
      const rest = this.#head.subarray(end + 4);
      this.#head = Buffer.alloc(0);
      this.#headDone = true;
      if (this.#pauseAfterHead) this.#socket.pause();
      this.notify();
      if (rest.length > 0) this.#onBody(rest);
      return;
    }
    this.#onBody(data);
  };

  #parseHead(head: string): void {
    const [statusLine = '', ...lines] = head.split('\r\n');
    this.statusLine = statusLine;
    this.status = Number(statusLine.split(' ')[1]);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.#chunked = /\bchunked\b/i.test(this.headers['transfer-encoding'] ?? '');
  }

  #onBody(data: Buffer): void {
    if (!this.#chunked) {
      this.chunks.push(data);
      this.feed(data);
      return;
    }
    this.#pending = this.#pending.length === 0 ? data : Buffer.concat([this.#pending, data]);
    for (;;) {
      const lineEnd = this.#pending.indexOf('\r\n');
      if (lineEnd === -1) return;
      const size = Number.parseInt(this.#pending.subarray(0, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) {
        this.finish('error');
        return;
      }
      if (this.#pending.length < lineEnd + 2 + size + 2) return;
      if (size === 0) {
        this.#pending = Buffer.alloc(0);
        this.finish('end');
        return;
      }
      const chunk = Buffer.from(this.#pending.subarray(lineEnd + 2, lineEnd + 2 + size));
      this.#pending = this.#pending.subarray(lineEnd + 2 + size + 2);
      this.chunks.push(chunk);
      this.feed(chunk);
    }
  }
}

export interface RawSocketOptions {
  /** Extra request headers, written byte for byte (latin1) after `Host`, `Accept` and `Cache-Control`. */
  rawHeaders?: Record<string, string>;
  /**
   * The whole request as it goes on the wire, instead of the GET built from `url` and
   * `rawHeaders`: for malformed or oversized requests.
   */
  head?: string | Uint8Array;
  /** Stops reading as soon as the response head arrived. Default `false`. */
  pauseAfterHead?: boolean;
  /** Resolves once the response head arrived (default `true`), or as soon as the request is written (`false`). */
  waitForHead?: boolean;
  /** The hang guard of every wait on this client, in ms. Default {@link WAIT_MS} (10 s). */
  timeoutMs?: number;
}

/**
 * Sends a GET over a bare TCP socket and reads the response by hand. `rawHeaders` (or the whole
 * `head`) go on the wire byte for byte (latin1), so a test can send UTF-8 in `Last-Event-ID` as a
 * browser does, or bytes no HTTP client would send.
 */
export async function connectRawSocket(url: string, options: RawSocketOptions = {}): Promise<RawSocketClient> {
  const target = new URL(url);
  const socket = netConnect(Number(target.port), target.hostname);
  const client = new RawSocketClient(socket, options.pauseAfterHead ?? false, { timeoutMs: options.timeoutMs });
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Accept: text/event-stream',
    'Cache-Control: no-cache',
    ...Object.entries(options.rawHeaders ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  const head = options.head ?? `${lines.join('\r\n')}\r\n\r\n`;
  socket.write(typeof head === 'string' ? Buffer.from(head, 'latin1') : head);
  if (options.waitForHead ?? true) await client.waitForHead();
  return client;
}

/** A bare TCP exchange: {@link rawExchange}. */
export interface RawExchange {
  readonly socket: Socket;
  /** Everything received so far, as latin1 text (heads, bodies, several responses in a row). */
  received(): string;
}

/**
 * Connects, writes exactly `bytes` (several pipelined requests, a request with `Connection:
 * close`, an HTTP/1.0 request…) and keeps everything the server answers, without parsing: for
 * what happens to a connection rather than to one event stream. Resolves once the bytes are written.
 */
export function rawExchange(url: string, bytes: string | Uint8Array): Promise<RawExchange> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = netConnect(Number(target.port), target.hostname, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // a reset after the exchange is what some tests cause on purpose
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1') });
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
  });
}

/** An event stream read over cleartext HTTP/2 with `node:http2`. */
export class Http2EventStreamClient extends EventCollector {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  readonly #session: ClientHttp2Session;
  readonly #stream: ClientHttp2Stream;

  constructor(session: ClientHttp2Session, stream: ClientHttp2Stream) {
    super();
    this.#session = session;
    this.#stream = stream;
    stream.on('data', (chunk: Buffer) => this.feed(chunk));
    stream.once('end', () => this.finish('end'));
    stream.once('error', () => this.finish('error'));
    stream.once('close', () => this.finish(stream.rstCode === http2Constants.NGHTTP2_NO_ERROR ? 'end' : 'error'));
  }

  /** Stops reading: HTTP/2 flow control then stops the server's writes. */
  pause(): void {
    this.#stream.pause();
  }

  /** Cancels the request (RST_STREAM) and closes the connection, as a closing tab does. */
  close(): void {
    if (!this.#stream.closed) this.#stream.close(http2Constants.NGHTTP2_CANCEL);
    this.#session.close();
  }
}

/** Opens an event stream over cleartext HTTP/2 (prior knowledge), resolving once the response head arrived. */
export function requestHttp2EventStream(url: string, headers: Record<string, string> = {}): Promise<Http2EventStreamClient> {
  const target = new URL(url);
  const session = http2Connect(target.origin);
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      session.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timer = setTimeout(() => fail(new Error(`no HTTP/2 response head from ${url} after ${WAIT_MS} ms`)), WAIT_MS);
    session.once('error', fail);
    const stream = session.request({ ':path': `${target.pathname}${target.search}`, accept: 'text/event-stream', ...headers });
    const client = new Http2EventStreamClient(session, stream);
    stream.once('error', fail);
    stream.once('response', (responseHeaders) => {
      clearTimeout(timer);
      session.off('error', fail);
      stream.off('error', fail);
      session.on('error', () => client.finish('error'));
      client.status = Number(responseHeaders[':status']);
      client.headers = { ...responseHeaders };
      resolve(client);
    });
    stream.end();
  });
}

/** The two Node EventSource implementations the suite drives. */
export type EventSourceKind = 'undici' | 'eventsource';

export interface ReceivedMessage {
  type: string;
  data: string;
  lastEventId: string;
}

/** A real `EventSource` (undici's or the `eventsource` package's) with what it dispatched. */
export class EventSourceClient extends Waitable {
  readonly kind: EventSourceKind;
  readonly messages: ReceivedMessage[] = [];
  opens = 0;
  errors = 0;
  readonly #source: EventTarget & { readyState: number; close(): void };

  constructor(kind: EventSourceKind, url: string, eventTypes: readonly string[] = []) {
    super();
    this.kind = kind;
    const Source = kind === 'undici' ? UndiciEventSource : PackageEventSource;
    this.#source = new Source(url) as unknown as EventTarget & { readyState: number; close(): void };
    const onMessage = (event: Event): void => {
      const message = event as MessageEvent<string>;
      this.messages.push({ type: message.type, data: message.data, lastEventId: message.lastEventId });
      this.notify();
    };
    for (const type of new Set(['message', ...eventTypes])) this.#source.addEventListener(type, onMessage);
    this.#source.addEventListener('open', () => {
      this.opens++;
      this.notify();
    });
    this.#source.addEventListener('error', () => {
      this.errors++;
      this.notify();
    });
  }

  /** 0 connecting, 1 open, 2 closed for good. */
  get readyState(): number {
    return this.#source.readyState;
  }

  waitForMessages(count: number): Promise<ReceivedMessage[]> {
    return this.until(() => this.messages.length >= count, `${count} messages on ${this.kind} EventSource`, () => this.summary()).then(
      () => this.messages,
    );
  }

  summary(): string {
    return `got ${this.messages.length} messages, ${this.opens} opens, ${this.errors} errors, readyState ${this.readyState}`;
  }

  close(): void {
    this.#source.close();
  }
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/**
 * Sends `count` events one at a time through `send(n)` (n from 1) and waits for each to reach
 * the client before sending the next: proof that nothing (compression, a proxy, a buffer) holds
 * events back until later ones arrive. Resolves with what the client received.
 */
export async function expectEventsOneByOne(
  client: Pick<EventStreamClient, 'waitForEvents' | 'events'>,
  send: (n: number) => void,
  count = 3,
): Promise<EventSourceMessage[]> {
  const before = client.events.length;
  for (let n = 1; n <= count; n++) {
    send(n);
    await client.waitForEvents(before + n);
  }
  return client.events.slice(before);
}
