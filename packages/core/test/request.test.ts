import { describe, expect, it } from 'vitest';
import { decodeHeaderBytes, defaultHeaders, readLastEventId, requestFacts } from '../src/adapter.js';

const latin1 = (text: string) => String.fromCharCode(...new TextEncoder().encode(text));

describe('readLastEventId', () => {
  it('reads the header, undefined on a first connection', () => {
    expect(readLastEventId('42')).toBe('42');
    expect(readLastEventId(undefined)).toBeUndefined();
    expect(readLastEventId(null)).toBeUndefined();
    expect(readLastEventId('')).toBeUndefined();
    expect(readLastEventId(['7', '8'])).toBe('7');
  });

  it('decodes UTF-8 bytes that arrive as latin1 characters', () => {
    expect(readLastEventId(latin1('héllo-😀'))).toBe('héllo-😀');
    expect(decodeHeaderBytes('already decoded ✓')).toBe('already decoded ✓');
    expect(decodeHeaderBytes('\xff\xfe')).toBe('\ufffd\ufffd');
  });

  it('falls back to the lastEventId query parameter for polyfills', () => {
    expect(readLastEventId(undefined, '/sse?lastEventId=abc-1')).toBe('abc-1');
    expect(readLastEventId(undefined, new URL('http://x/sse?lastEventId=%F0%9F%98%80'))).toBe('😀');
    expect(readLastEventId('h', '/sse?lastEventId=q')).toBe('h');
    expect(readLastEventId(undefined, '/sse?after=q')).toBeUndefined();
    expect(readLastEventId(undefined, '/sse?x=1#lastEventId=2')).toBeUndefined();
  });

  it('ignores ids longer than the cap', () => {
    expect(readLastEventId('x'.repeat(1024))).toHaveLength(1024);
    expect(readLastEventId('x'.repeat(1025))).toBeUndefined();
    expect(readLastEventId('x'.repeat(20), undefined, { maxLength: 10 })).toBeUndefined();
  });
});

describe('defaultHeaders', () => {
  it('adds Connection only on HTTP/1.x', () => {
    expect(defaultHeaders('1.1').connection).toBe('keep-alive');
    expect(defaultHeaders('1.0').connection).toBe('keep-alive');
    expect(defaultHeaders('2.0')).not.toHaveProperty('connection');
    expect(defaultHeaders(undefined)['content-type']).toBe('text/event-stream; charset=utf-8');
  });
});

describe('requestFacts', () => {
  it('reads the same facts from a Fetch Headers and from a Node header record', () => {
    const fromFetch = requestFacts({
      method: 'post',
      url: 'http://x/sse?topic=a',
      headers: new Headers({ 'Last-Event-ID': 'e1', Accept: 'text/event-stream' }),
      clientAddress: '10.0.0.1',
    });
    const fromNode = requestFacts({
      method: 'POST',
      url: 'http://x/sse?topic=a',
      headers: { 'last-event-id': 'e1', accept: 'text/event-stream', host: 'x' },
      clientAddress: '10.0.0.1',
    });
    const expected = { method: 'POST', url: 'http://x/sse?topic=a', lastEventIdHeader: 'e1', accept: 'text/event-stream', clientAddress: '10.0.0.1' };
    expect(fromFetch).toEqual(expected);
    expect(fromNode).toEqual(expected);
  });

  it('defaults the method to GET and leaves absent headers absent', () => {
    expect(requestFacts({ headers: {} })).toEqual({ method: 'GET', url: undefined, lastEventIdHeader: undefined, accept: undefined, clientAddress: undefined });
    expect(requestFacts({ method: 'head', headers: new Headers() })).toMatchObject({ method: 'HEAD', lastEventIdHeader: null, accept: null });
    expect(requestFacts({ headers: { 'last-event-id': ['a', 'b'] } }).lastEventIdHeader).toEqual(['a', 'b']);
  });
});
