/**
 * The clients: plain TCP sockets speaking just enough HTTP/1.1, one process for all of them so
 * that they never share a core's time with the server's event loop. They count frames (a blank
 * line, LF LF, ends each event) instead of parsing, and read each event's broadcast time only in
 * the latency run. A frame without a `data` line (the comment @sse writes at open, a keep-alive,
 * a `retry`) fires no event and is not counted.
 */
import { connect, type Socket } from 'node:net';
import { EVENTS_PATH } from './contenders/listen.js';
import { nowMicros } from './events.js';
import { serveRpc } from './rpc.js';
import { percentile } from './stats.js';

const LF = 10;
const TIME_MARKER = '{"t":';
/** Connections opened at once; the rest wait, so the server's accept queue never overflows. */
const CONNECT_CONCURRENCY = 256;

interface Connection {
  socket: Socket;
  head: Buffer | null;
  frames: number;
  /** The last byte seen was a LF that did not end a frame. */
  pendingLF: boolean;
  /** The frame being read has a `data` line (only such a frame fires an event). */
  frameHasData: boolean;
  /** The last byte seen was a LF: the next chunk starts a line. */
  atLineStart: boolean;
  /** Unparsed end of the previous chunk, in the latency run. */
  tail: string;
  complete: boolean;
  closed: boolean;
  stalled: boolean;
  /** The stream ended: the last chunk (`0\r\n\r\n`) came, or the socket closed. */
  ended: boolean;
  /** The last bytes seen, while watching for the end of the stream. */
  endTail: string;
}

export interface ConnectResult {
  connected: number;
  failures: string[];
}

export interface WaitResult {
  /** Every open connection got every expected event. */
  done: boolean;
  /** When the last connection got its last event, µs on the shared monotonic clock. */
  doneAt: number | null;
  /** Frames per connection over the connections that were open at the start. */
  minFrames: number;
  maxFrames: number;
  totalFrames: number;
  /** Connections that closed during the run. */
  closed: number;
  latency?: { p50: number; p99: number; samples: number };
}

export interface EndedResult {
  /** Connections whose stream ended (last chunk, or the socket closed), of `of`. */
  ended: number;
  of: number;
  /** When the last one ended, µs on the shared monotonic clock. */
  lastAt: number | null;
}

export interface StalledResult {
  /** Frames the stalled connections received once they read again. */
  frames: number;
  /** They were closed by the server (they saw the end of the stream, or a reset). */
  ended: boolean;
}

let connections: Connection[] = [];
let expected = Number.POSITIVE_INFINITY;
let completeCount = 0;
let closedDuringRun = 0;
let doneAt: number | null = null;
let latencySamples: Float64Array | null = null;
let latencyCount = 0;
let onProgress: (() => void) | undefined;
/** Set by `expectEnd`: connections look for the last chunk of a chunked body. */
let watchingEnd = false;
let endedCount = 0;
let lastEndAt: number | null = null;
const LAST_CHUNK = '\r\n0\r\n\r\n';

function markEnded(connection: Connection): void {
  if (connection.ended) return;
  connection.ended = true;
  if (!watchingEnd) return;
  endedCount++;
  lastEndAt = nowMicros();
  onProgress?.();
}

const D = 0x64; // 'd', as in `data:`
const COLON = 0x3a;

/** Whether the line starting at `at` is a `data` line (chunk-size lines of HTTP/1.1 never hold a colon). */
function isDataLine(chunk: Buffer, at: number): boolean {
  return chunk[at] === D && (at + 4 >= chunk.length || chunk[at + 4] === COLON);
}

function countFrames(connection: Connection, chunk: Buffer): number {
  let frames = 0;
  let pendingLF = connection.pendingLF;
  let hasData = connection.frameHasData || (connection.atLineStart && chunk.length > 0 && isDataLine(chunk, 0));
  let from = 0;
  for (;;) {
    const index = chunk.indexOf(LF, from);
    if (index === -1) {
      if (from < chunk.length) pendingLF = false;
      break;
    }
    if (pendingLF && index === from) {
      if (hasData) frames++;
      hasData = false;
      pendingLF = false;
    } else {
      pendingLF = true;
    }
    from = index + 1;
    if (from < chunk.length && !hasData && isDataLine(chunk, from)) hasData = true;
  }
  connection.pendingLF = pendingLF;
  connection.frameHasData = hasData;
  connection.atLineStart = chunk.length > 0 && chunk[chunk.length - 1] === LF;
  return frames;
}

function recordLatencies(connection: Connection, chunk: Buffer, receivedAt: number): void {
  const text = connection.tail + chunk.toString('latin1');
  let from = 0;
  for (;;) {
    const marker = text.indexOf(TIME_MARKER, from);
    if (marker === -1) {
      connection.tail = text.slice(Math.max(from, text.length - TIME_MARKER.length + 1));
      return;
    }
    let end = marker + TIME_MARKER.length;
    let sentAt = 0;
    for (; end < text.length; end++) {
      const code = text.charCodeAt(end);
      if (code < 48 || code > 57) break;
      sentAt = sentAt * 10 + (code - 48);
    }
    if (end === text.length) {
      connection.tail = text.slice(marker);
      return;
    }
    if (latencySamples !== null && latencyCount < latencySamples.length) latencySamples[latencyCount++] = receivedAt - sentAt;
    from = end;
  }
}

function onBody(connection: Connection, chunk: Buffer): void {
  if (watchingEnd && !connection.ended) {
    const tail = connection.endTail + chunk.toString('latin1', Math.max(0, chunk.length - LAST_CHUNK.length));
    connection.endTail = tail.slice(-LAST_CHUNK.length);
    if (connection.endTail === LAST_CHUNK) markEnded(connection);
  }
  if (latencySamples !== null) recordLatencies(connection, chunk, nowMicros());
  connection.frames += countFrames(connection, chunk);
  if (!connection.complete && connection.frames >= expected) {
    connection.complete = true;
    completeCount++;
    if (completeCount === openAtStart) doneAt = nowMicros();
    onProgress?.();
  }
}

let openAtStart = 0;

function open(port: number, stalled: boolean, path: string, localAddress: string | undefined): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) });
    const connection: Connection = {
      socket, head: Buffer.alloc(0), frames: 0, pendingLF: false, frameHasData: false, atLineStart: true, tail: '', complete: false, closed: false, stalled,
      ended: false, endTail: '',
    };
    socket.on('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (connection.head === null) {
        onBody(connection, chunk);
        return;
      }
      const head = Buffer.concat([connection.head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        connection.head = head;
        return;
      }
      const headers = head.subarray(0, end).toString('latin1');
      connection.head = null;
      if (!/^HTTP\/1\.1 200 /.test(headers) || !/^content-type: *text\/event-stream/im.test(headers)) {
        socket.destroy();
        reject(new Error(`not an event stream: ${headers.split('\r\n').slice(0, 3).join(' | ')}`));
        return;
      }
      if (stalled) socket.pause();
      resolve(connection);
      if (end + 4 < head.length) onBody(connection, head.subarray(end + 4));
    });
    socket.on('error', (error) => reject(error));
    socket.on('close', () => {
      connection.closed = true;
      markEnded(connection);
      if (!connection.complete && connection.head === null) closedDuringRun++;
      reject(new Error('closed before the response head'));
      onProgress?.();
    });
  });
}

function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  if (condition()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onProgress = undefined;
      resolve(false);
    }, timeoutMs);
    onProgress = () => {
      if (!condition()) return;
      clearTimeout(timer);
      onProgress = undefined;
      resolve(true);
    };
  });
}

serveRpc({
  /**
   * Opens `count` connections spread over `ports`; the first `stalled` of them never read after the
   * head. `path` (default `/events`) may hold `{i}`, the connection's index plus `firstIndex`
   * (`/events?topic=t{i}`); `localAddresses` spreads the connections over these source
   * addresses (127.0.0.x), so that many connections to one port do not run out of source ports.
   */
  connect: async ({ ports, count, stalled = 0, path = EVENTS_PATH, firstIndex = 0, localAddresses = [] }: {
    ports: number[]; count: number; stalled?: number; path?: string; firstIndex?: number; localAddresses?: string[];
  }): Promise<ConnectResult> => {
    const failures: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const index = next++;
        try {
          const local = localAddresses.length === 0 ? undefined : localAddresses[index % localAddresses.length];
          connections.push(await open(ports[index % ports.length]!, index < stalled, path.replaceAll('{i}', String(firstIndex + index)), local));
        } catch (error) {
          if (failures.length < 5) failures.push(String(error));
          else failures.length++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, worker));
    return { connected: connections.length, failures: failures.filter((failure) => failure !== undefined) };
  },
  /** Resets the counters: the next `events` frames on every reading connection are the run. */
  expect: ({ events, latency = false }: { events: number; latency?: boolean }) => {
    expected = events;
    completeCount = 0;
    closedDuringRun = 0;
    doneAt = null;
    const reading = connections.filter((connection) => !connection.stalled && !connection.closed);
    openAtStart = reading.length;
    for (const connection of connections) {
      connection.frames = 0;
      connection.complete = connection.stalled;
      connection.tail = '';
    }
    latencySamples = latency ? new Float64Array(events * reading.length) : null;
    latencyCount = 0;
  },
  /** Waits until every reading connection has the expected frames, or the time is up. */
  wait: async ({ timeoutMs, settleMs = 0 }: { timeoutMs: number; settleMs?: number }): Promise<WaitResult> => {
    const done = await waitFor(() => completeCount === openAtStart || completeCount + closedDuringRun >= openAtStart, timeoutMs);
    // A short pause catches frames beyond the expected count (duplicates, stray keep-alives).
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    const reading = connections.filter((connection) => !connection.stalled);
    const frames = reading.map((connection) => connection.frames);
    const result: WaitResult = {
      done: done && completeCount === openAtStart,
      doneAt,
      minFrames: frames.length === 0 ? 0 : Math.min(...frames),
      maxFrames: frames.length === 0 ? 0 : Math.max(...frames),
      totalFrames: frames.reduce((sum, count) => sum + count, 0),
      closed: closedDuringRun,
    };
    if (latencySamples !== null) {
      const sorted = latencySamples.subarray(0, latencyCount).sort();
      result.latency = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: latencyCount };
      latencySamples = null;
    }
    return result;
  },
  /** Lets the stalled connections read again and counts what they get in `windowMs` of quiet. */
  resumeStalled: async ({ quietMs, timeoutMs }: { quietMs: number; timeoutMs: number }): Promise<StalledResult> => {
    const stalled = connections.filter((connection) => connection.stalled);
    for (const connection of stalled) {
      connection.frames = 0;
      connection.socket.resume();
    }
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    for (;;) {
      const frames = stalled.reduce((sum, connection) => sum + connection.frames, 0);
      const ended = stalled.every((connection) => connection.closed);
      if (ended || frames === last || Date.now() > deadline) return { frames, ended };
      last = frames;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
  },
  /** From now on, counts connections whose stream ends (the server closing them all). */
  expectEnd: () => {
    watchingEnd = true;
    endedCount = 0;
    lastEndAt = null;
    for (const connection of connections) {
      // Every body so far ended with a whole chunk (its CRLF): the last chunk may come alone.
      connection.endTail = '\r\n';
      if (connection.ended) endedCount++;
    }
  },
  /** Waits until every connection's stream ended, or the time is up. */
  waitEnded: async ({ timeoutMs }: { timeoutMs: number }): Promise<EndedResult> => {
    await waitFor(() => endedCount >= connections.length, timeoutMs);
    watchingEnd = false;
    return { ended: endedCount, of: connections.length, lastAt: lastEndAt };
  },
  /** Closes every connection and waits until they are all gone. */
  closeAll: async () => {
    const closing = connections.map(
      (connection) => new Promise<void>((resolve) => (connection.closed ? resolve() : connection.socket.once('close', () => resolve()))),
    );
    for (const connection of connections) connection.socket.destroy();
    await Promise.all(closing);
    connections = [];
    openAtStart = 0;
  },
});
