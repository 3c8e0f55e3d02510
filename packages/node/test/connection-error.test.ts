import { describe, expect, it } from 'vitest';
import { isConnectionError } from '../src/adapter.js';

describe('isConnectionError', () => {
  it('recognises the errors that only mean the client left', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']) {
      expect(isConnectionError(Object.assign(new Error(code), { code }))).toBe(true);
    }
  });

  it('leaves every other error to the application', () => {
    expect(isConnectionError(new Error('boom'))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ERR_HTTP_HEADERS_SENT' }))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
    expect(isConnectionError('ECONNRESET')).toBe(false);
  });
});
