// A sink with onGone is listened to through it, never through its signal (which it may then
// create only when read): the client leaving still closes the stream with reason 'client'.
import { describe, expect, it } from 'vitest';
import { createEventStream } from '../src/adapter.js';
import { MemorySink } from './memory-sink.js';

class GoneSink extends MemorySink {
  listener: (() => void) | undefined;
  calls: Array<'set' | 'unset'> = [];
  goneAtOpen = false;
  override get signal(): AbortSignal {
    throw new Error('the core read signal although the sink has onGone');
  }
  onGone(listener: (() => void) | undefined): boolean {
    if (this.goneAtOpen) return true;
    this.calls.push(listener === undefined ? 'unset' : 'set');
    this.listener = listener;
    return false;
  }
}

describe('SseSink.onGone', () => {
  it('the client leaving, told through onGone, closes the stream with reason client; the listener is removed', async () => {
    const sink = new GoneSink();
    const stream = createEventStream(sink, { keepAlive: false });
    expect(sink.calls).toEqual(['set']);
    sink.listener!();
    expect(await stream.closed).toMatchObject({ reason: 'client' });
    expect(sink.calls).toEqual(['set', 'unset']);
  });

  it('a client gone before the stream opened (onGone answers true) closes it at once', async () => {
    const sink = new GoneSink();
    sink.goneAtOpen = true;
    const stream = createEventStream(sink, { keepAlive: false });
    expect(stream.isClosed).toBe(true);
    expect(await stream.closed).toMatchObject({ reason: 'client' });
  });

  it('a server-side close unregisters the listener', async () => {
    const sink = new GoneSink();
    const stream = createEventStream(sink, { keepAlive: false });
    await stream.close();
    expect(sink.calls).toEqual(['set', 'unset']);
  });
});
