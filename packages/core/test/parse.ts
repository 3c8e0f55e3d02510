// A pure parser of bytes for the encoder's unit tests, not a client: no socket, no request.
// The repository's SSE client is @sse/conformance's, which depends on @sse/core; the core's own
// tests cannot take it as a dependency without a cycle, and need nothing more than this.
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface Parsed {
  events: EventSourceMessage[];
  retries: number[];
  comments: string[];
  errors: string[];
}

/** Parses a byte stream the way a client does, fed in the given pieces. */
export function parseChunks(chunks: readonly Uint8Array[]): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [], errors: [] };
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onRetry: (retry) => parsed.retries.push(retry),
    onComment: (comment) => parsed.comments.push(comment),
    onError: (error) => parsed.errors.push(error.message),
  });
  const decoder = new TextDecoder();
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return parsed;
}

export function parseText(text: string): Parsed {
  return parseChunks([new TextEncoder().encode(text)]);
}
