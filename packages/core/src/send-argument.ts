import { SseFormatError } from './errors.js';
import { formatEvent, type Serializer } from './format.js';

const FIELD_KEYS = new Set(['data', 'event', 'id', 'retry']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Reads the argument of `send`/`broadcast`: a plain object is event fields (unknown keys are
 * refused, since they usually mean an object meant as data), anything else is `data`.
 */
export function toEventFields(value: unknown): Record<string, unknown> {
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (!FIELD_KEYS.has(key)) {
        throw new SseFormatError(
          'message',
          `send() got an object with key "${key}": a plain object is read as event fields { event, data, id, retry }; to send an object as data, wrap it: send({ data: value })`,
        );
      }
    }
    return value;
  }
  if (value === undefined) {
    throw new SseFormatError('data', 'send() needs data or event fields, got undefined');
  }
  return { data: value };
}

/** Encodes the argument of `send` (event fields or bare data) into one frame. */
export function formatSendArgument(value: unknown, serialize: Serializer): string {
  return formatEvent(toEventFields(value), { serialize });
}
