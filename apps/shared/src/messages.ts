/** A chat message as users send it (`POST /messages`). */
export interface ChatInput {
  text: string;
  name: string;
}

/** A plain JSON answer, framework-neutral: each app writes it with its own response API. */
export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_TEXT_LENGTH = 500;
export const MAX_NAME_LENGTH = 40;
export const DEFAULT_NAME = 'guest';

export type ParsedMessage = { ok: true; input: ChatInput } | { ok: false; reply: JsonReply };

function failure(status: number, error: string): { ok: false; reply: JsonReply } {
  return { ok: false, reply: { status, headers: {}, body: { error } } };
}

/**
 * Validates a `POST /messages` request: a JSON object `{ "text": string, "name"?: string }`.
 * Returns the message, or the 400/413/415 answer with a message that says what to fix.
 * `body` is `undefined` when it was larger than {@link MAX_BODY_BYTES}.
 */
export function parseMessageRequest(contentType: string | undefined, body: string | undefined): ParsedMessage {
  // Only JSON: a cross-site HTML form cannot send it without a CORS preflight, so this also
  // keeps other sites from posting in a visitor's name.
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return failure(415, 'send the message as JSON, with Content-Type: application/json, e.g. {"text": "hello"}');
  }
  if (body === undefined) {
    const tooLarge = failure(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    tooLarge.reply.headers.connection = 'close';
    return tooLarge;
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return failure(400, `the body is not valid JSON (${(error as Error).message}); send e.g. {"text": "hello"}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return failure(400, 'the body must be a JSON object, e.g. {"text": "hello"}');
  }
  const { text, name } = value as Record<string, unknown>;
  if (text === undefined) return failure(400, 'text is required, e.g. {"text": "hello"}');
  if (typeof text !== 'string') return failure(400, 'text must be a string');
  const trimmedText = text.trim();
  if (trimmedText === '') return failure(400, 'text must not be empty');
  if ([...trimmedText].length > MAX_TEXT_LENGTH) return failure(400, `text must be at most ${MAX_TEXT_LENGTH} characters`);
  if (name !== undefined && typeof name !== 'string') return failure(400, 'name must be a string when given');
  const trimmedName = name?.trim() ?? '';
  if ([...trimmedName].length > MAX_NAME_LENGTH) return failure(400, `name must be at most ${MAX_NAME_LENGTH} characters`);
  return { ok: true, input: { text: trimmedText, name: trimmedName === '' ? DEFAULT_NAME : trimmedName } };
}

/**
 * Reads a request body as UTF-8 text, up to `limit` bytes. Returns `undefined` when it is
 * larger: reading stops there, and the answer should carry `Connection: close` so that the
 * unread rest is never parsed as a next request. Takes a Node request or a Fetch body alike.
 */
export async function readBodyText(
  body: AsyncIterable<Uint8Array> | null | undefined,
  limit: number = MAX_BODY_BYTES,
): Promise<string | undefined> {
  if (body == null) return '';
  // Driven by hand: leaving a `for await` early would destroy a Node request, and its socket
  // with it, before the 413 could be sent.
  const chunks = body[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done === true) break;
    size += next.value.byteLength;
    if (size > limit) return undefined;
    parts.push(next.value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
