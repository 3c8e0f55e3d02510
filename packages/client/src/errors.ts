/**
 * Why a client stopped for good with an error:
 * - `ERR_SSE_CLIENT_STATUS`: the server answered a status that is not retried (401, 403, 404…);
 * - `ERR_SSE_CLIENT_CONTENT_TYPE`: a 200 that is not `text/event-stream`;
 * - `ERR_SSE_CLIENT_RETRIES`: `maxRetries` consecutive attempts failed;
 * - `ERR_SSE_CLIENT_REQUEST`: the `headers`, `body` or `url` function threw, or the request could not be built.
 */
export type SseClientErrorCode = 'ERR_SSE_CLIENT_STATUS' | 'ERR_SSE_CLIENT_CONTENT_TYPE' | 'ERR_SSE_CLIENT_RETRIES' | 'ERR_SSE_CLIENT_REQUEST';

/** What an `@sse/client` rejects with: the async iterator throws it, and `CloseInfo.error` holds it. */
export class SseClientError extends Error {
  readonly code: SseClientErrorCode;
  /** The status of the response that ended the client, if one did. */
  readonly status: number | undefined;
  /** That response's body as text (the server's explanation), `''` when it had none. */
  readonly body: string | undefined;

  constructor(code: SseClientErrorCode, message: string, details: { status?: number | undefined; body?: string | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SseClientError';
    this.code = code;
    this.status = details.status;
    this.body = details.body;
  }
}
