import { describe, expect, it, vi } from 'vitest';
import { CONTENDERS } from '../src/contenders/index.js';
import { ENCODERS } from '../src/encoders.js';
import { PRESETS, parseOptions } from '../src/config.js';
import { renderMarkdown } from '../src/report.js';
import { runBench, type BenchResults } from '../src/run.js';

// One tiny round of every scenario for every contender, end to end over loopback: the harness
// works and every contender delivered every event. Nothing here measures speed. The Redis
// contender needs redis-server, as @sse/redis's own tests do (`npm test` installs it).
describe('the benchmark harness', () => {
  let results: BenchResults;

  it('runs every scenario for every contender', async () => {
    results = await runBench(PRESETS.smoke);
    expect(results.skipped).toEqual([]);
    expect(results.fanout).toHaveLength(CONTENDERS.length * PRESETS.smoke.fanout.clients.length);
    expect(results.slow).toHaveLength(CONTENDERS.filter((contender) => contender.fanoutOnly !== true).length);
    expect(results.encode).toHaveLength(ENCODERS.length);
  }, 600_000); // a hang guard: every scenario for every contender, on a possibly busy machine

  it('delivered every event to every fan-out client, with a latency sample for each', () => {
    for (const sample of results.fanout) {
      expect(sample, sample.contender).toMatchObject({ delivered: true, latencySamples: sample.clients * PRESETS.smoke.fanout.latencyEvents });
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample.deliveriesPerSecond, sample.contender).toBeGreaterThan(0);
      expect(sample.cpuMicrosPerDelivery, sample.contender).toBeGreaterThan(0);
    }
  });

  it('ran the Redis contender as two instances, every client of both getting every event, and read Redis\'s CPU', () => {
    const [sample] = results.fanout.filter((s) => s.contender === 'sse-redis');
    // `delivered` (above) covers the clients of both instances: they are spread over both in turn.
    expect(sample).toMatchObject({ instances: 2, delivered: true });
    expect(sample!.redisCpuMicrosPerDelivery).toBeGreaterThan(0);
    expect(results.fanout.filter((s) => s.contender !== 'sse-redis').every((s) => Number.isNaN(s.redisCpuMicrosPerDelivery))).toBe(true);
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

  it('renders the tables with every contender, the Redis one in a section of its own', () => {
    const markdown = renderMarkdown(results);
    for (const contender of CONTENDERS) expect(markdown).toContain(`| ${contender.label} |`);
    expect(markdown).not.toContain('Failed measurements');
    const [main, redis] = markdown.split('### Across two instances through Redis');
    expect(main).not.toContain('@sse/redis');
    expect(redis).toContain('| 20 | @sse/node × 2 + @sse/redis |');
  });
});

describe('without redis-server', () => {
  it('skips the Redis contender with the reason, and runs the rest', async () => {
    vi.stubEnv('REDIS_SERVER', '/nonexistent/redis-server');
    try {
      const results = await runBench({ ...PRESETS.smoke, contenders: ['raw', 'sse-redis'], scenarios: ['fanout'] });
      expect(results.skipped).toEqual([{ contender: 'sse-redis', reason: expect.stringMatching(/apt-get install redis-server/) }]);
      expect(results.config.contenders).toEqual(['raw']);
      expect(results.fanout.map((sample) => [sample.contender, sample.delivered])).toEqual([['raw', true]]);
      expect(renderMarkdown(results)).toMatch(/Skipped @sse\/node × 2 \+ @sse\/redis: redis-server could not be started: .*apt-get install redis-server/);
    } finally {
      vi.unstubAllEnvs();
    }
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
