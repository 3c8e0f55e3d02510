import { SseFormatError } from './errors.js';

/** Turns a non-string `data` value into text. Must return a string. */
export type Serializer = (data: unknown) => string;

/** The fields of one event, as defined by the WHATWG event stream format. */
export interface EventFields<Data = unknown> {
  /** The payload. A string is written as is; anything else goes through the serializer. */
  data?: Data | undefined;
  /** The event type; the client dispatches it under this name. Defaults to `message`. */
  event?: string | undefined;
  /** The id the client echoes back in `Last-Event-ID` when it reconnects. Printable ASCII only. */
  id?: string | number | undefined;
  /** The reconnection delay the client should use, in milliseconds. */
  retry?: number | undefined;
}

export interface FormatOptions {
  /** How non-string `data` becomes text. Defaults to {@link serializeJson}. */
  serialize?: Serializer;
}

/** The default serializer: `JSON.stringify`, with a typed error for values JSON cannot represent. */
export const serializeJson: Serializer = (data) => {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (cause) {
    throw new SseFormatError('data', `data cannot be serialized to JSON: ${String(cause)}`, { cause });
  }
  if (text === undefined) {
    throw new SseFormatError(
      'data',
      `data of type ${typeof data} has no JSON form; send a string, a number, an array or a plain object`,
    );
  }
  return text;
};

const LINE_BREAKS = /\r\n|\r|\n/g;

/** Serializes `data` (a string is kept as is) and checks the serializer kept its contract. */
export function dataToText(data: unknown, serialize: Serializer = serializeJson): string {
  if (typeof data === 'string') return data;
  const text = serialize(data);
  if (typeof text !== 'string') {
    throw new SseFormatError('data', `the serializer returned ${typeof text}, not a string`);
  }
  return text;
}

/**
 * Writes text as `data:` lines. CR, LF and CRLF all split lines, so a raw CR never reaches the
 * wire (the client receives every line break as LF). The empty string still fires an event.
 * https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function formatData(text: string): string {
  if (text === '') return 'data:\n';
  // Plain string searches beat the regular expression by far on long texts; CR is rare.
  if (!text.includes('\r')) {
    return text.includes('\n') ? `data: ${text.replaceAll('\n', '\ndata: ')}\n` : `data: ${text}\n`;
  }
  return `data: ${text.replace(LINE_BREAKS, '\ndata: ')}\n`;
}

/** Checks an event name: a CR or LF would end the field early and inject another. */
export function checkEventName(event: string): string {
  if (typeof event !== 'string') {
    throw new SseFormatError('event', `event must be a string, got ${typeof event}`);
  }
  if (event.includes('\n') || event.includes('\r')) {
    throw new SseFormatError('event', `event ${JSON.stringify(event)} contains a line break; event names must be a single line`);
  }
  return event;
}

/**
 * Checks an id. Only printable ASCII (0x20 to 0x7E) is accepted: CR/LF would inject fields, the
 * client ignores an id containing NUL, and non-ASCII ids make Node clients fail on reconnect
 * because `Last-Event-ID` must be a byte string.
 */
export function checkId(id: string | number): string {
  let text: string;
  if (typeof id === 'number') {
    if (!Number.isFinite(id)) throw new SseFormatError('id', `id must be a finite number, got ${id}`);
    text = String(id);
  } else if (typeof id === 'string') {
    text = id;
  } else {
    throw new SseFormatError('id', `id must be a string or a number, got ${typeof id}`);
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new SseFormatError(
        'id',
        `id ${JSON.stringify(text)} has character U+${code.toString(16).padStart(4, '0').toUpperCase()} at ${i}; ids must be printable ASCII (no line breaks, no NUL)`,
      );
    }
  }
  return text;
}

/** Checks a retry delay: the client only accepts ASCII digits, so a non-negative integer. */
export function checkRetry(retry: number): number {
  if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
    throw new SseFormatError('retry', `retry must be a non-negative integer of milliseconds, got ${String(retry)}`);
  }
  return retry;
}

/**
 * Encodes one event as spec-exact text, ending with the blank line that dispatches it.
 * Throws {@link SseFormatError} (and returns nothing) when a field could inject another field
 * or event. An `event` without `data` is sent with empty data so that it still fires; a frame
 * with only `id` and/or `retry` updates the client without firing an event, as the spec says.
 */
export function formatEvent(fields: EventFields, options?: FormatOptions): string {
  if (fields === null || typeof fields !== 'object') {
    throw new SseFormatError('message', `formatEvent takes an object of fields, got ${fields === null ? 'null' : typeof fields}`);
  }
  const { data, event, id, retry } = fields;
  const serialize = options?.serialize ?? serializeJson;
  if (event === undefined && retry === undefined && id !== undefined && data !== undefined && typeof data !== 'string' && serialize === serializeJson) {
    // The common event, an id and a value: one template, no pieces (the same checks, the same bytes).
    const text = checkId(id);
    return text === '' ? `id:\ndata: ${serializeJson(data)}\n\n` : `id: ${text}\ndata: ${serializeJson(data)}\n\n`;
  }
  let out = '';
  if (event !== undefined) out += event === '' ? 'event:\n' : `event: ${checkEventName(event)}\n`;
  if (id !== undefined) {
    const text = checkId(id);
    out += text === '' ? 'id:\n' : `id: ${text}\n`;
  }
  if (retry !== undefined) out += `retry: ${checkRetry(retry)}\n`;
  if (data !== undefined) {
    // JSON.stringify never writes a raw line break: its output is always one data line.
    out +=
      typeof data !== 'string' && serialize === serializeJson
        ? `data: ${serializeJson(data)}\n`
        : formatData(dataToText(data, serialize));
  } else if (event !== undefined) out += 'data:\n';
  if (out === '') {
    throw new SseFormatError('message', 'an event needs at least one of data, event, id or retry');
  }
  return `${out}\n`;
}

/**
 * Encodes a comment: lines starting with a colon, ignored by clients. Useful as a keep-alive or
 * for debugging with `curl -N`. A multi-line text becomes several comment lines.
 */
export function formatComment(text = ''): string {
  if (typeof text !== 'string') {
    throw new SseFormatError('comment', `comment must be a string, got ${typeof text}`);
  }
  if (text === '') return ':\n\n';
  return `: ${text.replace(LINE_BREAKS, '\n: ')}\n\n`;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of an encoded frame. Lone surrogates become U+FFFD, as in any UTF-8 encoder. */
export function encodeFrame(frame: string): Uint8Array {
  return encoder.encode(frame);
}
