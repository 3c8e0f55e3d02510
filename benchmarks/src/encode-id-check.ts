/**
 * What `formatEvent`'s gap to the naive template is made of, by count: instructions per frame
 * under `valgrind --tool=callgrind` for the ~200 B JSON event, each variant in its own process
 * (its own JIT), 100,000 frames counted after as many unmeasured, as the encode scenario counts;
 * the median of three runs, as one run in a few lands on a different JIT path.
 * The variants are the naive template, `formatEvent`, the template with the core's serializer
 * (its try/catch and result check) but no id check, and the template with that serializer and an
 * id check written four ways. Run from benchmarks/: `node --import tsx src/encode-id-check.ts`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatEvent, serializeJson } from '@sse/core';
import { CallgrindWindow, underCallgrind } from './counts.js';
import { jsonEvent } from './events.js';
import { median } from './stats.js';

const FRAMES = 100_000;
const RUNS = 3;

function badId(id: string): never {
  throw new Error(`id ${JSON.stringify(id)} is not printable ASCII`);
}

const OUT_OF_RANGE = /[^\x20-\x7e]/;

const VARIANTS: Record<string, (id: string, data: unknown) => string> = {
  'naive template': (id, data) => `id: ${id}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
  '@sse formatEvent': (id, data) => formatEvent({ id, data }),
  'template + serializeJson, no id check': (id, data) => `id: ${id}\ndata: ${serializeJson(data)}\n\n`,
  '… + id check: a charCodeAt loop (as formatEvent)': (id, data) => {
    for (let i = 0; i < id.length; i++) {
      const code = id.charCodeAt(i);
      if (code < 0x20 || code > 0x7e) badId(id);
    }
    return `id: ${id}\ndata: ${serializeJson(data)}\n\n`;
  },
  '… + id check: one unsigned compare per char': (id, data) => {
    for (let i = 0; i < id.length; i++) if ((id.charCodeAt(i) - 0x20) >>> 0 > 0x5e) badId(id);
    return `id: ${id}\ndata: ${serializeJson(data)}\n\n`;
  },
  '… + id check: branch-free, one test after the loop': (id, data) => {
    let bad = 0;
    for (let i = 0; i < id.length; i++) {
      const code = id.charCodeAt(i);
      bad |= (code - 0x20) | (0x7e - code);
    }
    if (bad < 0) badId(id);
    return `id: ${id}\ndata: ${serializeJson(data)}\n\n`;
  },
  '… + id check: a regular expression': (id, data) => {
    if (OUT_OF_RANGE.test(id)) badId(id);
    return `id: ${id}\ndata: ${serializeJson(data)}\n\n`;
  },
};

/** In a child under callgrind: count one variant, print the instructions per frame. */
async function count(name: string): Promise<void> {
  const encode = VARIANTS[name];
  const out = process.env['BENCH_CALLGRIND_OUT'];
  if (encode === undefined || out === undefined) throw new Error(`usage: BENCH_CALLGRIND_OUT=… encode-id-check.ts --count <variant>`);
  const window = new CallgrindWindow(out);
  // As the encode scenario: ids '0' to '1023', 64 prepared events (their building is not counted).
  const ids = Array.from({ length: 1024 }, (_, i) => String(i));
  const events = Array.from({ length: 64 }, (_, i) => jsonEvent(i).data);
  let sink = 0;
  const loop = (): void => {
    for (let i = 0; i < FRAMES; i++) sink += Buffer.byteLength(encode(ids[i & 1023]!, events[i & 63])) & 1;
  };
  loop();
  await window.zero();
  loop();
  const perFrame = (await window.dump()) / FRAMES;
  process.stdout.write(`${JSON.stringify({ perFrame, sink })}\n`);
}

function countInChild(name: string, dir: string, run: number): Promise<number> {
  const { wrapper, env } = underCallgrind(dir, `id-check-${run}-${Object.keys(VARIANTS).indexOf(name)}`);
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    execFile(wrapper[0]!, [...wrapper.slice(1), process.execPath, ...process.execArgv, script, '--count', name], { env: { ...process.env, ...env }, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error !== null) reject(new Error(`${name}: ${error.message}`));
      else resolve((JSON.parse(stdout.trim().split('\n').at(-1)!) as { perFrame: number }).perFrame);
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-id-check-'));
  try {
    const names = Object.keys(VARIANTS);
    const counts = new Map<string, number[]>(names.map((name) => [name, []]));
    // Two children at a time (the machine has two cores); each count is the child's own.
    for (let run = 0; run < RUNS; run++) {
      for (let i = 0; i < names.length; i += 2) {
        const pair = names.slice(i, i + 2);
        const results = await Promise.all(pair.map((name) => countInChild(name, dir, run)));
        pair.forEach((name, k) => counts.get(name)!.push(results[k]!));
      }
    }
    const naive = median(counts.get('naive template')!);
    console.log(`Instructions per frame, ~200 B JSON event, ${FRAMES.toLocaleString('en-US')} frames counted per run, median of ${RUNS} runs`);
    console.log('| variant | instructions per frame | runs | vs naive |');
    console.log('|---|---:|---|---:|');
    for (const name of names) {
      const runs = counts.get(name)!;
      console.log(`| ${name} | ${median(runs).toFixed(0)} | ${runs.map((each) => each.toFixed(0)).join(', ')} | ${(median(runs) / naive).toFixed(3)}× |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--count');
await (at === -1 ? main() : count(process.argv[at + 1]!));
