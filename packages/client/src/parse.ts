/**
 * The event stream interpretation of the WHATWG HTML standard, over chunks of bytes as they come.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** One dispatched event, as the standard's "dispatch the event" step hands it over. */
export interface ParsedEvent {
  /** The event type: `message` when the stream named none. */
  type: string;
  /** The data lines joined by LF, without the last LF. */
  data: string;
  /** The last event id in force when the event was dispatched (`''`: none). */
  lastEventId: string;
}

export interface ParserCallbacks {
  onEvent(event: ParsedEvent): void;
  /** A `retry` field of ASCII digits only: the new reconnection time, in ms. */
  onRetry(ms: number): void;
  /** The last event id buffer changed (also by a frame that dispatches no event). */
  onId?(id: string): void;
}

export interface EventStreamParser {
  /** Feeds the next bytes of the body, cut anywhere (inside a UTF-8 sequence or a CRLF too). */
  push(chunk: Uint8Array): void;
  /** The body ended: an incomplete last event is dropped, as the standard says. */
  end(): void;
}

const DIGITS = /^[0-9]+$/;

/**
 * A parser for one connection. The UTF-8 decoder drops one BOM at the start of the stream only,
 * and its streaming mode keeps a code point cut between chunks whole.
 */
export function createEventStreamParser(callbacks: ParserCallbacks, lastEventId = ''): EventStreamParser {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  // A CR ended the previous chunk: a LF that starts this one belongs to it (CRLF).
  let skipLf = false;
  let data = '';
  let hasData = false;
  let type = '';
  let id = lastEventId;

  function dispatch(): void {
    // The last event id is set even when no event fires (a frame of `id` only).
    if (!hasData) {
      type = '';
      return;
    }
    const event: ParsedEvent = { type: type === '' ? 'message' : type, data, lastEventId: id };
    data = '';
    hasData = false;
    type = '';
    callbacks.onEvent(event);
  }

  function line(text: string): void {
    if (text === '') return dispatch();
    if (text.charCodeAt(0) === 0x3a) return; // a comment
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        data = hasData ? `${data}\n${value}` : value;
        hasData = true;
        break;
      case 'event':
        type = value;
        break;
      case 'id':
        // An id with NUL is ignored: it could never be sent back in Last-Event-ID.
        if (!value.includes('\0')) {
          id = value;
          callbacks.onId?.(id);
        }
        break;
      case 'retry':
        if (DIGITS.test(value)) callbacks.onRetry(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  function feed(text: string): void {
    let start = 0;
    if (skipLf && text.length > 0) {
      if (text.charCodeAt(0) === 0x0a) start = 1;
      skipLf = false;
    }
    const input = pending + text.slice(start);
    let from = 0;
    // `pending` holds no line break: scan only what is new.
    for (let i = pending.length; i < input.length; i++) {
      const code = input.charCodeAt(i);
      if (code !== 0x0a && code !== 0x0d) continue;
      line(input.slice(from, i));
      if (code === 0x0d) {
        if (i + 1 === input.length) skipLf = true;
        else if (input.charCodeAt(i + 1) === 0x0a) i++;
      }
      from = i + 1;
    }
    pending = input.slice(from);
  }

  return {
    push(chunk) {
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      feed(decoder.decode());
      // What follows the last line break is an incomplete line; with it, the event being built.
      pending = '';
      data = '';
      hasData = false;
      type = '';
    },
  };
}
