/**
 * Every `code` an `SseError` thrown by the @sse packages can carry. What each one means and what to
 * do about it is listed in the README of `@sse/core` ("Errors").
 */
export type SseErrorCode =
  | 'ERR_SSE_ABORTED'
  | 'ERR_SSE_ALREADY_SUBSCRIBED'
  | 'ERR_SSE_AUTHORIZE_RESULT'
  | 'ERR_SSE_CHANNEL_CLOSED'
  | 'ERR_SSE_CLIENT_GONE'
  | 'ERR_SSE_CLOSED'
  | 'ERR_SSE_DUPLICATE_CORE'
  | 'ERR_SSE_EVENT_TOO_LARGE'
  | 'ERR_SSE_FILTER_NOT_SHAREABLE'
  | 'ERR_SSE_FORMAT'
  | 'ERR_SSE_HEADERS_SENT'
  | 'ERR_SSE_INTERNAL'
  | 'ERR_SSE_OPTION'
  | 'ERR_SSE_REDIS'
  | 'ERR_SSE_REDIS_CLOSED'
  | 'ERR_SSE_REDIS_CLUSTER_FAILOVER'
  | 'ERR_SSE_REDIS_CLUSTER_START'
  | 'ERR_SSE_REDIS_CLUSTER_STATE'
  | 'ERR_SSE_REDIS_ID'
  | 'ERR_SSE_REDIS_SERVER_NOT_FOUND'
  | 'ERR_SSE_REDIS_SERVER_PORT'
  | 'ERR_SSE_REDIS_SERVER_RUNNING'
  | 'ERR_SSE_REDIS_SERVER_START'
  | 'ERR_SSE_REDIS_SERVER_STOPPED'
  | 'ERR_SSE_REDIS_UNAVAILABLE'
  | 'ERR_SSE_RESPONSE_STREAMING'
  | 'ERR_SSE_TOO_MANY_TOPICS'
  | 'ERR_SSE_TOPIC';

/** Base class of every error this library throws; `code` is stable and safe to switch on. */
export class SseError extends Error {
  readonly code: SseErrorCode;

  constructor(code: SseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Which part of an event was rejected by the encoder. */
export type SseFormatField = 'data' | 'event' | 'id' | 'retry' | 'comment' | 'message';

/**
 * Thrown by the encoder when a field cannot be written without changing the meaning of the
 * stream (a CR or LF in `event` or `id` would let the value inject fields or events). Nothing
 * is written when it is thrown.
 */
export class SseFormatError extends SseError {
  readonly field: SseFormatField;

  constructor(field: SseFormatField, message: string, options?: { cause?: unknown }) {
    super('ERR_SSE_FORMAT', message, options);
    this.field = field;
  }
}

/**
 * Thrown when a stream is opened on a response that something else already started: an
 * earlier middleware sent headers or a body. `state` names what was found.
 */
export class SseHeadersSentError extends SseError {
  readonly state: string;

  constructor(state: string, hint = 'open the event stream before anything writes to the response') {
    super(
      'ERR_SSE_HEADERS_SENT',
      `cannot open an event stream: the response was already started (${state}); ${hint}`,
    );
    this.state = state;
  }
}
