/**
 * The encode benchmark's contenders: each turns an event (id + JSON object, or id + multi-line
 * text) into what goes on the wire. Only one is loaded per process.
 */
export type Encode = (id: string, data: unknown) => unknown;

export interface EncoderInfo {
  name: string;
  label: string;
  /** Builds the encode function (async: imports its library). */
  load(): Promise<Encode | ((id: string, data: unknown) => Promise<unknown>)>;
  async?: boolean;
}

/** `data: ` lines for a string, as a naive hand-written encoder splits it (LF only). */
function naiveData(data: unknown): string {
  return typeof data === 'string' ? data.split('\n').join('\ndata: ') : JSON.stringify(data);
}

export const ENCODERS: readonly EncoderInfo[] = [
  {
    name: 'naive',
    label: 'naive template string',
    load: async () => (id, data) => `id: ${id}\ndata: ${naiveData(data)}\n\n`,
  },
  {
    name: 'sse',
    label: '@sse formatEvent',
    load: async () => {
      const { formatEvent } = await import('@sse/core');
      return (id, data) => formatEvent({ id, data });
    },
  },
  {
    name: 'naive-bytes',
    label: 'naive template string → UTF-8 bytes',
    load: async () => {
      // TextEncoder, as the core must use (no Buffer outside Node); Buffer.from is faster on Node 20.
      const encoder = new TextEncoder();
      return (id, data) => encoder.encode(`id: ${id}\ndata: ${naiveData(data)}\n\n`);
    },
  },
  {
    name: 'sse-bytes',
    label: '@sse formatEvent → UTF-8 bytes',
    load: async () => {
      const { formatEvent } = await import('@sse/core');
      // What a channel does once per broadcast (the core's frame encoder is a TextEncoder).
      const encoder = new TextEncoder();
      return (id, data) => encoder.encode(formatEvent({ id, data }));
    },
  },
  {
    name: 'better-sse',
    label: 'better-sse 0.16 EventBuffer',
    load: async () => {
      const { createEventBuffer } = await import('better-sse');
      const buffer = createEventBuffer();
      return (id, data) => {
        const frame = buffer.push(data, 'message', id).read();
        buffer.clear();
        return frame;
      };
    },
  },
  {
    name: 'hono',
    label: 'Hono writeSSE (into its stream)',
    async: true,
    load: async () => {
      const { SSEStreamingApi } = await import('hono/streaming');
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const api = new SSEStreamingApi(writable, readable);
      // Drain the response body as @hono/node-server would, so writes never wait on a full stream.
      const reader = api.responseReadable.getReader();
      // Runs beside the encoder for as long as the stream is open; read() rejects only if the stream errors, which nothing here does.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return (id, data) => api.writeSSE({ id, data: typeof data === 'string' ? data : JSON.stringify(data) });
    },
  },
];

export const ENCODE_BASELINE = 'naive';

export function findEncoder(name: string): EncoderInfo {
  const found = ENCODERS.find((encoder) => encoder.name === name);
  if (found === undefined) throw new Error(`unknown encoder "${name}"; known: ${ENCODERS.map((encoder) => encoder.name).join(', ')}`);
  return found;
}
