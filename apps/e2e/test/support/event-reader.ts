import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface ReceivedEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * A Node client for one event stream: fetch plus `eventsource-parser`, keeping every event so
 * that a test can wait for the one it needs.
 */
export class EventReader {
  readonly events: ReceivedEvent[] = [];
  /** The last `retry` the server sent. */
  retry: number | undefined;
  /** Resolves when the body ends: `'clean'` or `'error'` (cut). */
  readonly ended: Promise<'clean' | 'error'>;
  readonly #controller: AbortController;
  #wake: () => void = () => {};

  private constructor(readonly response: Response, controller: AbortController) {
    this.#controller = controller;
    const parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.events.push({ event: message.event ?? 'message', data: message.data, id: message.id });
        this.#wake();
      },
      onRetry: (ms) => {
        this.retry = ms;
      },
    });
    this.ended = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
        return 'clean' as const;
      } catch {
        return 'error' as const;
      } finally {
        this.#wake();
      }
    })();
  }

  /** Opens the stream; the response must be a 200 event stream. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<EventReader> {
    const controller = new AbortController();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    if (response.status !== 200 || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      controller.abort();
      throw new Error(`expected an event stream from ${url}, got ${response.status} ${response.headers.get('content-type')}`);
    }
    return new EventReader(response, controller);
  }

  /** Waits until an event matches (checking those already received first) and returns it. */
  async waitFor(predicate: (event: ReceivedEvent) => boolean, timeoutMs = 20_000): Promise<ReceivedEvent> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    let ended = false;
    void this.ended.then(() => (ended = true)); // `ended` never rejects: it resolves 'clean' or 'error'
    for (;;) {
      for (; seen < this.events.length; seen++) {
        const event = this.events[seen]!;
        if (predicate(event)) return event;
      }
      if (ended) throw new Error(`the stream ended without the event; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#controller.abort();
  }
}
