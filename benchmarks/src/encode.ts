/** An encode measurement in its own process: frames per second of one encoder on both events. */
import { CallgrindWindow } from './counts.js';
import { findEncoder } from './encoders.js';
import { jsonEvent, MULTILINE_TEXT } from './events.js';
import { serveRpc } from './rpc.js';

export interface EncodeResult {
  json: number;
  text: number;
  /** Frame sizes, to show every encoder produced a whole event. */
  jsonBytes: number;
  textBytes: number;
  /** Instructions per frame, when this process runs under callgrind (`--callgrind`); else `NaN`. */
  jsonInstructions: number;
  textInstructions: number;
}

const callgrindOut = process.env['BENCH_CALLGRIND_OUT'];
const callgrind = callgrindOut === undefined ? undefined : new CallgrindWindow(callgrindOut);

/**
 * Instructions per frame over `frames` frames, after as many unmeasured ones to warm the JIT
 * (100,000 in a measuring run: the cost of callgrind's zero and dump is then noise).
 */
async function instructionsPerFrame(encode: (id: string, data: unknown) => unknown, isAsync: boolean, data: (i: number) => unknown, frames: number): Promise<number> {
  if (callgrind === undefined) return Number.NaN;
  const ids = Array.from({ length: 1024 }, (_, i) => String(i));
  const loop = async (): Promise<void> => {
    for (let i = 0; i < frames; i++) {
      const frame = isAsync ? await encode(ids[i & 1023]!, data(i)) : encode(ids[i & 1023]!, data(i));
      sink += size(frame) & 1;
    }
  };
  await loop();
  await callgrind.zero();
  await loop();
  return (await callgrind.dump()) / frames;
}

const BATCH = 256;
let sink = 0;

function size(frame: unknown): number {
  if (typeof frame === 'string') return Buffer.byteLength(frame);
  if (frame instanceof Uint8Array) return frame.byteLength;
  return 0;
}

async function framesPerSecond(encode: (id: string, data: unknown) => unknown, isAsync: boolean, data: (i: number) => unknown, ms: number): Promise<number> {
  const run = async (duration: number): Promise<number> => {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < duration) {
      for (let i = 0; i < BATCH; i++) {
        const frame = isAsync ? await encode(String(count + i), data(count + i)) : encode(String(count + i), data(count + i));
        sink += size(frame) & 1;
      }
      count += BATCH;
      elapsed = performance.now() - start;
    }
    return (count / elapsed) * 1000;
  };
  await run(ms / 3); // warm-up: let the JIT settle
  return run(ms);
}

serveRpc({
  measure: async ({ encoder, durationMs, countedFrames }: { encoder: string; durationMs: number; countedFrames: number }): Promise<EncodeResult> => {
    const info = findEncoder(encoder);
    const encode = await info.load();
    const events = Array.from({ length: 64 }, (_, i) => jsonEvent(i).data);
    const json = (i: number): unknown => events[i & 63];
    const text = (): unknown => MULTILINE_TEXT;
    let jsonBytes = 0;
    let textBytes = 0;
    if (info.async !== true) {
      jsonBytes = size(encode('1', json(1)));
      textBytes = size(encode('1', text()));
    }
    const result = {
      json: await framesPerSecond(encode, info.async === true, json, durationMs),
      text: await framesPerSecond(encode, info.async === true, text, durationMs),
      jsonBytes,
      textBytes,
      jsonInstructions: await instructionsPerFrame(encode, info.async === true, json, countedFrames),
      textInstructions: await instructionsPerFrame(encode, info.async === true, text, countedFrames),
    };
    if (sink < 0) console.log(sink);
    return result;
  },
});
