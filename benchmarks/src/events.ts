import type { BenchEvent } from './contenders/types.js';

/** Now, in µs, on the machine-wide monotonic clock that every process of the bench shares. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A ~200-byte JSON event, the shape of a typical live update. `t` comes first so clients find it fast. */
export function jsonEvent(seq: number, t = nowMicros()): BenchEvent {
  return {
    id: String(seq),
    data: {
      t,
      seq,
      type: 'trade',
      symbol: 'ACME',
      price: 1234.56 + (seq % 100) / 100,
      size: 300 + (seq % 17),
      venue: 'XNAS',
      conditions: ['regular', 'odd-lot'],
      note: 'settlement T+1; reported by the benchmark feed',
    },
  };
}

const KILOBYTE_FILLER = 'x'.repeat(1024 - 70);

/** A ~1 KB JSON event, for the slow-consumer run. */
export function kilobyteEvent(seq: number): BenchEvent {
  return { id: String(seq), data: { t: nowMicros(), seq, filler: KILOBYTE_FILLER } };
}

/** A 4 KB multi-line text: 64 lines of 63 characters, as a log tail or a rendered fragment would be. */
export const MULTILINE_TEXT = Array.from({ length: 64 }, (_, line) => `${String(line).padStart(2, '0')} ${'lorem ipsum dolor sit amet '.repeat(3).slice(0, 59)}`).join('\n');
