import { describe, expect, it } from 'vitest';
import { CONTENDERS } from '../src/contenders/index.js';
import { ENCODERS } from '../src/encoders.js';
import { PRESETS, parseOptions } from '../src/config.js';
import { renderMarkdown } from '../src/report.js';
import { runBench, type BenchResults } from '../src/run.js';

// One tiny round of every scenario for every contender, end to end over loopback: the harness
// works and every contender delivered every event. Nothing here measures speed.
describe('the benchmark harness', () => {
  let results: BenchResults;

  it('runs every scenario for every contender', async () => {
    results = await runBench(PRESETS.smoke);
    expect(results.fanout).toHaveLength(CONTENDERS.length * PRESETS.smoke.fanout.clients.length);
    expect(results.slow).toHaveLength(CONTENDERS.length);
    expect(results.encode).toHaveLength(ENCODERS.length);
  }, 120_000);

  it('delivered every event to every fan-out client, with a latency sample for each', () => {
    for (const sample of results.fanout) {
      expect(sample, sample.contender).toMatchObject({ delivered: true, latencySamples: sample.clients * PRESETS.smoke.fanout.latencyEvents });
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample.deliveriesPerSecond, sample.contender).toBeGreaterThan(0);
      expect(sample.cpuMicrosPerDelivery, sample.contender).toBeGreaterThan(0);
    }
  });

  it('kept the reading clients whole next to a stalled one, and learned what became of the stalled one', () => {
    for (const sample of results.slow) {
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample.healthyDelivered, sample.contender).toBe(true);
      // Cut off or kept, the stalled client got whole events only, never more than were sent.
      expect(sample.stalledFrames, sample.contender).toBeLessThanOrEqual(sample.events);
      if (sample.stalledKept) expect(sample.stalledFrames, sample.contender).toBe(sample.events);
    }
  });

  it('encoded whole frames with every encoder', () => {
    for (const sample of results.encode) {
      expect(sample.error, sample.encoder).toBeUndefined();
      expect(sample.json, sample.encoder).toBeGreaterThan(0);
      expect(sample.text, sample.encoder).toBeGreaterThan(0);
    }
  });

  it('renders the tables with every contender', () => {
    const markdown = renderMarkdown(results);
    for (const contender of CONTENDERS) expect(markdown).toContain(`| ${contender.label} |`);
    expect(markdown).not.toContain('Failed measurements');
  });
});

describe('options', () => {
  it('reads flags and their environment equivalents, flags first', () => {
    const { config } = parseOptions(['--quick', '--runs=2', '--only=raw,sse-node'], { BENCH_RUNS: '7', BENCH_CLIENTS: '10,20' });
    expect(config).toMatchObject({ preset: 'quick', runs: 2, contenders: ['raw', 'sse-node'], fanout: { clients: [10, 20] } });
  });

  it('refuses unknown contenders and options with the list of known ones', () => {
    expect(() => parseOptions(['--only=nope'], {})).toThrow(/unknown contender "nope"; known: raw, sse-node/);
    expect(() => parseOptions(['--fast'], {})).toThrow(/unknown option "fast"/);
  });
});
