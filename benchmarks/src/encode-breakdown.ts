/**
 * Where the encode scenario's JSON gap comes from: the naive template, `formatEvent`, the same
 * template built in pieces the way `formatEvent` builds a frame, and `JSON.stringify` alone, in
 * one process, interleaved round by round (order rotated), so that every variant sees the same
 * JIT state and the same machine load. Each frame is measured as UTF-8 length, which flattens the
 * string as a write would. Run from benchmarks/: `node --import tsx src/encode-breakdown.ts`.
 */
import { formatEvent } from '@sse/core';
import { jsonEvent } from './events.js';
import { median } from './stats.js';

const FRAMES_PER_ROUND = 200_000;
const WARMUP_ROUNDS = 5;
const ROUNDS = 45;
const events = Array.from({ length: 64 }, (_, i) => jsonEvent(i).data);
let sink = 0;

const VARIANTS: Record<string, (i: number) => string> = {
  'naive template': (i) => `id: ${i}\ndata: ${JSON.stringify(events[i & 63])}\n\n`,
  '@sse formatEvent': (i) => formatEvent({ id: String(i), data: events[i & 63] }),
  'template in pieces (out += …)': (i) => {
    let out = '';
    out += `id: ${String(i)}\n`;
    out += `data: ${JSON.stringify(events[i & 63])}\n`;
    return `${out}\n`;
  },
  'JSON.stringify alone': (i) => JSON.stringify(events[i & 63]),
};

const names = Object.keys(VARIANTS);
const nanos = new Map<string, number[]>(names.map((name) => [name, []]));
for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + round) % names.length]!;
    const encode = VARIANTS[name]!;
    const started = performance.now();
    for (let i = 0; i < FRAMES_PER_ROUND; i++) sink += Buffer.byteLength(encode(i)) & 1;
    if (round >= WARMUP_ROUNDS) nanos.get(name)!.push(((performance.now() - started) * 1e6) / FRAMES_PER_ROUND);
  }
}

const naive = nanos.get('naive template')!;
console.log(`${ROUNDS} interleaved rounds of ${FRAMES_PER_ROUND.toLocaleString('en-US')} frames; speed ratio = naive time / variant time, per round`);
console.log('| variant | ns per frame (median) | speed vs naive: median (min–max) | rounds at least as fast as naive |');
console.log('|---|---:|---:|---:|');
for (const name of names) {
  const times = nanos.get(name)!;
  const ratios = times.map((time, round) => naive[round]! / time).sort((a, b) => a - b);
  const faster = ratios.filter((ratio) => ratio >= 1).length;
  console.log(`| ${name} | ${median(times).toFixed(0)} | ${median(ratios).toFixed(2)}× (${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)}) | ${faster} of ${ROUNDS} |`);
}
if (sink < 0) console.log(sink);
