import { checkOption } from './check-option.js';
import { SseError } from './errors.js';

/** A plain (non-stream) answer given before any event-stream header: 401, 403, 429, 503, 204… */
export interface Rejection {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RejectInit {
  /** Seconds the client should wait; sent as `Retry-After`. */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** A short text body. Defaults to the status text. Ignored for 204. */
  body?: string;
}

const STATUS_TEXT: Record<number, string> = {
  204: '',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Builds a rejection for `authorize` (or any guard): the client gets this status instead of a
 * stream. EventSource never reconnects after a non-200 answer; 204 is the polite way to say
 * "stop reconnecting".
 */
export function reject(status: number, init: RejectInit = {}): Rejection {
  if (!Number.isInteger(status) || status < 200 || status > 599 || status === 200) {
    throw new SseError('ERR_SSE_OPTION', `a rejection needs an HTTP status from 201 to 599 other than 200, got ${String(status)}`);
  }
  const headers: Record<string, string> = {};
  if (init.retryAfter !== undefined) headers['retry-after'] = String(checkOption.nonNegativeInteger('retryAfter (seconds)', init.retryAfter));
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = status === 204 ? '' : (init.body ?? STATUS_TEXT[status] ?? '');
  if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  return { status, headers, body };
}

/** Answers 204 No Content: the client's EventSource closes for good instead of reconnecting. */
export function stopReconnecting(): Rejection {
  return reject(204);
}

/**
 * A rejection written by hand instead of with {@link reject}: `{ status: 401 }`,
 * `{ status: 204 }`, `{ status: 429, retryAfter: 30, body: 'slow down' }`. It is read exactly as
 * `reject(status, { headers, body, retryAfter })` would be, with the same checks.
 */
export interface PlainRejection extends RejectInit {
  status: number;
}

/** Whether what `authorize` returned is meant as a rejection: an object with a numeric `status`. */
export function isRejection(value: unknown): value is PlainRejection {
  return value !== null && typeof value === 'object' && typeof (value as PlainRejection).status === 'number';
}

/**
 * Turns a rejection, from {@link reject} or written by hand, into the one shape adapters answer:
 * every field present, header names in lower case, `Retry-After` from `retryAfter`. Throws
 * `SseError` `ERR_SSE_OPTION` as `reject` does (status 200 or out of range, a bad `retryAfter`),
 * and for headers or a body that are not text.
 */
export function toRejection(value: PlainRejection): Rejection {
  const { status, headers, body, retryAfter } = value;
  if (headers !== undefined && (headers === null || typeof headers !== 'object' || Object.values(headers).some((v) => typeof v !== 'string'))) {
    throw new SseError('ERR_SSE_OPTION', `a rejection's headers must be an object of strings, got ${describe(headers)}`);
  }
  if (body !== undefined && typeof body !== 'string') throw new SseError('ERR_SSE_OPTION', `a rejection's body must be a string, got ${describe(body)}`);
  const init: RejectInit = {};
  if (headers !== undefined) init.headers = headers;
  if (body !== undefined) init.body = body;
  if (retryAfter !== undefined) init.retryAfter = retryAfter;
  return reject(status, init);
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
