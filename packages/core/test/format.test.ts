import { describe, expect, it } from 'vitest';
import { formatComment, formatEvent, serializeJson, SseError, SseFormatError } from '../src/index.js';
import { parseText } from './parse.js';

describe('formatEvent', () => {
  it('writes a string as is and anything else as JSON', () => {
    expect(formatEvent({ data: 'hello' })).toBe('data: hello\n\n');
    expect(formatEvent({ data: { a: 1 } })).toBe('data: {"a":1}\n\n');
    expect(formatEvent({ data: [1, 'two'] })).toBe('data: [1,"two"]\n\n');
    expect(formatEvent({ data: 42 })).toBe('data: 42\n\n');
    expect(formatEvent({ data: null })).toBe('data: null\n\n');
  });

  it('uses a replaceable serializer', () => {
    const frame = formatEvent({ data: { a: 1 } }, { serialize: (value) => `<${Object.keys(value as object).join()}>` });
    expect(frame).toBe('data: <a>\n\n');
  });

  it('writes every field, event and id before data', () => {
    expect(formatEvent({ event: 'tick', id: '7', retry: 500, data: 'x' })).toBe('event: tick\nid: 7\nretry: 500\ndata: x\n\n');
    expect(formatEvent({ id: 12, data: 'x' })).toBe('id: 12\ndata: x\n\n');
  });

  it('splits data on CR, LF and CRLF so no raw CR reaches the wire', () => {
    for (const text of ['a\nb', 'a\r\nb', 'a\rb']) {
      const frame = formatEvent({ data: text });
      expect(frame).toBe('data: a\ndata: b\n\n');
      expect(parseText(frame).events[0]!.data).toBe('a\nb');
    }
  });

  it('keeps a leading space, a trailing line break and blank lines', () => {
    expect(parseText(formatEvent({ data: ' x' })).events[0]!.data).toBe(' x');
    expect(formatEvent({ data: 'a\n' })).toBe('data: a\ndata: \n\n');
    expect(parseText(formatEvent({ data: 'a\n' })).events[0]!.data).toBe('a\n');
    expect(parseText(formatEvent({ data: '\n\n' })).events[0]!.data).toBe('\n\n');
  });

  it('still fires for an empty string', () => {
    expect(formatEvent({ data: '' })).toBe('data:\n\n');
    expect(parseText('data:\n\n').events).toEqual([{ data: '', event: undefined, id: undefined }]);
  });

  it('fires a named event sent without data, with empty data', () => {
    expect(formatEvent({ event: 'refresh' })).toBe('event: refresh\ndata:\n\n');
    expect(parseText(formatEvent({ event: 'refresh' })).events[0]).toMatchObject({ event: 'refresh', data: '' });
  });

  it('writes an id-only or retry-only frame that fires nothing', () => {
    const parsed = parseText(formatEvent({ id: 'a' }) + formatEvent({ retry: 1000 }));
    expect(parsed.events).toEqual([]);
    expect(parsed.retries).toEqual([1000]);
  });

  it('accepts a colon in an event name and an empty id (which resets the last event id)', () => {
    expect(formatEvent({ event: 'a:b', data: '1' })).toBe('event: a:b\ndata: 1\n\n');
    expect(formatEvent({ id: '', data: '1' })).toBe('id:\ndata: 1\n\n');
  });

  it.each([
    ['event with LF', { event: 'a\nb', data: 'x' }, 'event'],
    ['event with CR', { event: 'a\rdata: evil', data: 'x' }, 'event'],
    ['id with LF', { id: '1\ndata: evil', data: 'x' }, 'id'],
    ['id with CR', { id: '1\r', data: 'x' }, 'id'],
    ['id with NUL', { id: 'a\0b', data: 'x' }, 'id'],
    ['non-ASCII id', { id: 'é', data: 'x' }, 'id'],
    ['id with DEL', { id: 'a\u007f', data: 'x' }, 'id'],
    ['NaN id', { id: Number.NaN, data: 'x' }, 'id'],
    ['negative retry', { retry: -1 }, 'retry'],
    ['fractional retry', { retry: 1.5 }, 'retry'],
    ['NaN retry', { retry: Number.NaN }, 'retry'],
    ['infinite retry', { retry: Number.POSITIVE_INFINITY }, 'retry'],
    ['string retry', { retry: '100' as unknown as number }, 'retry'],
    ['no field at all', {}, 'message'],
  ])('rejects %s with SseFormatError', (_name, fields, field) => {
    let error: unknown;
    try {
      formatEvent(fields);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SseFormatError);
    expect(error).toBeInstanceOf(SseError);
    expect((error as SseFormatError).code).toBe('ERR_SSE_FORMAT');
    expect((error as SseFormatError).field).toBe(field);
  });

  it('accepts retry 0 and any non-negative integer', () => {
    expect(formatEvent({ retry: 0 })).toBe('retry: 0\n\n');
  });

  it('rejects data JSON cannot represent, and a serializer that breaks its contract', () => {
    expect(() => formatEvent({ data: 1n })).toThrow(SseFormatError);
    expect(() => formatEvent({ data: () => 1 })).toThrow(SseFormatError);
    expect(() => formatEvent({ data: { a: 1 } }, { serialize: () => 5 as unknown as string })).toThrow(SseFormatError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializeJson(cyclic)).toThrow(/cannot be serialized/);
  });
});

describe('formatComment', () => {
  it('writes comment lines that clients ignore', () => {
    expect(formatComment('hi')).toBe(': hi\n\n');
    expect(formatComment()).toBe(':\n\n');
    expect(formatComment('a\r\nb\rc')).toBe(': a\n: b\n: c\n\n');
    const parsed = parseText(formatComment('a\ndata: evil'));
    expect(parsed.events).toEqual([]);
    expect(parsed.comments).toEqual(['a', 'data: evil']);
  });

  it('rejects a non-string', () => {
    expect(() => formatComment(1 as unknown as string)).toThrow(SseFormatError);
  });
});
