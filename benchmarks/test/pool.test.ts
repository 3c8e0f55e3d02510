// bench:pool: each round's ratio is taken against raw of the same run and round, then the median.
import { describe, expect, it } from 'vitest';
import { poolFanoutRounds, type FanoutSample } from '../src/pool.js';

const sample = (contender: string, run: number, cpu: number, rate: number): FanoutSample => ({ contender, clients: 1000, run, cpuMicrosPerDelivery: cpu, deliveriesPerSecond: rate });

describe('poolFanoutRounds', () => {
  it('divides by the raw sample of the same run and round, never another, and takes the median over every round', () => {
    const first = [sample('raw', 0, 10, 100), sample('sse-node', 0, 5, 200), sample('raw', 1, 20, 100), sample('sse-node', 1, 18, 100)];
    const second = [sample('raw', 0, 40, 50), sample('sse-node', 0, 30, 100)];
    expect(poolFanoutRounds([first, second])).toEqual([
      '| contender | clients | CPU per delivery, each round | median | deliveries/s, median |',
      '|---|---:|---|---:|---:|',
      '| sse-node | 1,000 | 0.50 0.90 0.75 | 0.75× | 2.00× |',
    ]);
  });
});
