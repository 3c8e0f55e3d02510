// A sink with listen() is told about the stream itself, never asked for its signal (which it may
// then create only when read) nor given closures: drains and the client leaving reach the stream
// through its sinkDrained and sinkGone methods.
import { describe, expect, it } from 'vitest';
import { createEventStream, sinkDrained, sinkGone, type SinkListener } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';
import { parseChunks } from './parse.js';

class ListeningSink extends MemorySink {
  listener: SinkListener | undefined;
  calls: Array<'set' | 'unset'> = [];
  goneAtOpen = false;
  override get signal(): AbortSignal {
    throw new Error('the core read signal although the sink has listen');
  }
  override onDrain(): void {
    throw new Error('the core called onDrain although the sink has listen');
  }
  listen(listener: SinkListener | undefined): boolean {
    if (this.goneAtOpen) return true;
    this.calls.push(listener === undefined ? 'unset' : 'set');
    this.listener = listener;
    return false;
  }
}

describe('SseSink.listen', () => {
  it('the client leaving, told through sinkGone, closes the stream with reason client; the listener is removed', async () => {
    const sink = new ListeningSink();
    const stream = createEventStream(sink, { keepAlive: false });
    expect(sink.calls).toEqual(['set']);
    expect(sink.listener).toBe(stream);
    sink.listener![sinkGone]();
    expect(await stream.closed).toMatchObject({ reason: 'client' });
    expect(sink.calls).toEqual(['set', 'unset']);
  });

  it('a client gone before the stream opened (listen answers true) closes it at once', async () => {
    const sink = new ListeningSink();
    sink.goneAtOpen = true;
    const stream = createEventStream(sink, { keepAlive: false });
    expect(stream.isClosed).toBe(true);
    expect(await stream.closed).toMatchObject({ reason: 'client' });
  });

  it('a server-side close unregisters the listener', async () => {
    const sink = new ListeningSink();
    const stream = createEventStream(sink, { keepAlive: false });
    await stream.close();
    expect(sink.calls).toEqual(['set', 'unset']);
  });

  it('sinkDrained writes what was queued while the sink was full, in order, and the stream is writable again', async () => {
    const sink = new ListeningSink();
    const stream = createEventStream(sink, { keepAlive: false });
    sink.accepting = false;
    stream.send({ data: 'a' });
    stream.send({ data: 'b' });
    stream.send({ data: 'c' });
    expect(stream.writable).toBe(false);
    expect(parseChunks(sink.chunks).events.map((event) => event.data)).toEqual(['a']);
    const writable = stream.whenWritable();
    sink.accepting = true;
    sink.listener![sinkDrained]();
    expect(await writable).toBe(true);
    expect(parseChunks(sink.chunks).events.map((event) => event.data)).toEqual(['a', 'b', 'c']);
  });
});
