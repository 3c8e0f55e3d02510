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

/** Whether what `authorize` returned is a rejection. */
export function isRejection(value: unknown): value is Rejection {
  return value !== null && typeof value === 'object' && typeof (value as Rejection).status === 'number';
}
