// The client's parser against the @sse encoder (whatever formatEvent writes, cut anywhere, comes
// back as it was sent) and against the fixed rules of the WHATWG event stream interpretation.
import { formatComment, formatEvent, SseFormatError } from '@sse/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventStreamParser, type ParsedEvent } from '../src/parse.js';

/** Cases per property: 100,000 in CI (`CI` set), 2,000 for a quick local run; `SSE_FUZZ_RUNS` overrides. */
const RUNS = Number(process.env.SSE_FUZZ_RUNS ?? (process.env.CI ? 100_000 : 2_000));
/** A hang guard, not a budget: the run is sized by its count of cases. */
const HANG_GUARD = { timeout: 15 * 60_000 };

const encoder = new TextEncoder();

interface Parsed {
  events: ParsedEvent[];
  retries: number[];
  ids: string[];
}

function parseChunks(chunks: Array<Uint8Array | string>, lastEventId?: string): Parsed {
  const out: Parsed = { events: [], retries: [], ids: [] };
  const parser = createEventStreamParser(
    { onEvent: (event) => out.events.push(event), onRetry: (ms) => out.retries.push(ms), onId: (id) => out.ids.push(id) },
    lastEventId,
  );
  for (const chunk of chunks) parser.push(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
  parser.end();
  return out;
}

/** Splits bytes at arbitrary places, inside UTF-8 sequences and CRLFs too. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** What a client receives for a string: line breaks become LF, lone surrogates U+FFFD, a U+FEFF inside a field kept. */
const fieldDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const normalise = (text: string): string => fieldDecoder.decode(encoder.encode(text.replace(/\r\n|\r/g, '\n')));

const nasty = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('\r', '\n', '\r\n', '\0', ' ', ':', 'a', 'é', '\ufeff', '\ud83d', '\ude00', '😀', 'data: x', 'event: y', 'id: z', 'retry: 1') }),
);

const frame = fc.oneof(
  { weight: 4, arbitrary: fc.record({ data: nasty, event: fc.option(nasty, { nil: undefined }), id: fc.option(nasty, { nil: undefined }), retry: fc.option(fc.nat(), { nil: undefined }) }, { requiredKeys: ['data'] }) },
  { weight: 1, arbitrary: fc.record({ id: nasty }) },
  { weight: 1, arbitrary: fc.record({ comment: nasty }) },
);

describe('parser: round trip through the @sse encoder', () => {
  it('gives back every event formatEvent wrote, with its id in force, at any chunk boundaries, after a BOM or not', HANG_GUARD, () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (frames, cuts, bom) => {
        let wire = bom ? '\ufeff' : '';
        const expected: Array<{ type: string; data: string; lastEventId: string }> = [];
        const retries: number[] = [];
        let id = '';
        for (const item of frames) {
          if ('comment' in item) {
            wire += formatComment(item.comment);
            continue;
          }
          let text: string;
          try {
            text = formatEvent(item);
          } catch (error) {
            if (!(error instanceof SseFormatError)) throw error;
            continue; // refused fields wrote nothing
          }
          wire += text;
          if (item.id !== undefined) id = item.id;
          if ('retry' in item && item.retry !== undefined) retries.push(item.retry);
          if ('data' in item) expected.push({ type: item.event === undefined || normalise(item.event) === '' ? 'message' : normalise(item.event), data: normalise(item.data), lastEventId: id });
        }
        const parsed = parseChunks(split(encoder.encode(wire), cuts));
        expect(parsed.events).toEqual(expected);
        expect(parsed.retries).toEqual(retries);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('parser: the WHATWG rules', () => {
  const types = (parsed: Parsed): string[] => parsed.events.map((event) => `${event.type}:${event.data}`);

  it('drops one BOM at the start of the stream only, even cut inside it', () => {
    const bom = encoder.encode('\ufeffdata: a\n\n\ufeffdata: b\n\n');
    expect(types(parseChunks([bom.subarray(0, 1), bom.subarray(1, 2), bom.subarray(2)]))).toEqual(['message:a']);
    // The second BOM starts a line: its field is "\ufeffdata", which is unknown, so no event.
    expect(types(parseChunks(['data: x\n\n\ufeffdata: y\n\n']))).toEqual(['message:x']);
    // A second BOM at the start is kept: it is part of the first field's name.
    expect(types(parseChunks(['\ufeff\ufeffdata: y\n\n']))).toEqual([]);
  });

  it('ends lines with CR, LF or CRLF, a CRLF cut between chunks counting once', () => {
    expect(types(parseChunks(['data: a\rdata: b\r\r', 'data: c\r\ndata: d\r\n\r\n', 'data: e\ndata: f\n\n']))).toEqual(['message:a\nb', 'message:c\nd', 'message:e\nf']);
    // A lone CR at the end of a chunk: whether LF follows is known only with the next chunk.
    expect(types(parseChunks(['data: a\r', '\ndata: b\r', '\r']))).toEqual(['message:a\nb']);
    expect(types(parseChunks(['data: a\r', '\r', 'data: b\n\n']))).toEqual(['message:a', 'message:b']);
    expect(types(parseChunks(['data: a\r', '', '\n', '\n']))).toEqual(['message:a']);
  });

  it('takes retry only when it is ASCII digits', () => {
    expect(parseChunks(['retry: 1500\n', 'retry: 15x\n', 'retry: -1\n', 'retry: 1.5\n', 'retry:\n', 'retry: ٣\n', 'retry:20\n\n']).retries).toEqual([1500, 20]);
  });

  it('ignores an id with NUL, keeps an id across events, and a bare id line resets it', () => {
    const parsed = parseChunks(['id: 1\ndata: a\n\n', 'data: b\n\n', 'id: x\0y\ndata: c\n\n', 'id\ndata: d\n\n', 'id: 9\n\n', 'data: e\n\n']);
    expect(parsed.events.map((event) => [event.data, event.lastEventId])).toEqual([['a', '1'], ['b', '1'], ['c', '1'], ['d', ''], ['e', '9']]);
    // The id persists from a previous connection: the parser starts from it.
    expect(parseChunks(['data: f\n\n'], '42').events[0]?.lastEventId).toBe('42');
  });

  it('dispatches nothing for empty data, and an event type applies to one event only', () => {
    expect(types(parseChunks(['event: x\n\n', 'data: a\n\n', '\n\n', 'event: y\nid: 3\n\n', 'data\n\n']))).toEqual(['message:a', 'message:']);
  });

  it('reads a field without a colon, data without a space, two spaces as one leading space, and ignores comments and unknown fields', () => {
    expect(types(parseChunks(['data\ndata:x\ndata:  y\n: a comment\nfoo: bar\n:\n\n']))).toEqual(['message:\nx\n y']);
    expect(types(parseChunks(['event:ping\ndata:1\n\n']))).toEqual(['ping:1']);
  });

  it('drops an incomplete last event when the body ends', () => {
    expect(types(parseChunks(['data: a\n\ndata: b\n']))).toEqual(['message:a']);
    expect(types(parseChunks(['data: a\n\ndata: b']))).toEqual(['message:a']);
  });

  it('keeps a code point cut between chunks whole', () => {
    const bytes = encoder.encode('data: 😀é\n\n');
    expect(types(parseChunks([...bytes].map((byte) => Uint8Array.of(byte))))).toEqual(['message:😀é']);
  });
});
