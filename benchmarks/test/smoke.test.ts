import { describe, expect, it, vi } from 'vitest';
import { CONTENDERS, DEFAULT_CONTENDERS, findContender } from '../src/contenders/index.js';
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
    expect(results.fanout).toHaveLength(DEFAULT_CONTENDERS.length * PRESETS.smoke.fanout.clients.length);
    expect(results.slow).toHaveLength(DEFAULT_CONTENDERS.filter((contender) => contender.fanoutOnly !== true).length);
    expect(results.block.map((sample) => sample.contender).sort()).toEqual([...PRESETS.smoke.block.contenders!].sort());
    expect(results.topics).toHaveLength(4);
    expect(results.scale).toHaveLength(1 + PRESETS.smoke.scale.contenders.length);
    expect(results.encode).toHaveLength(ENCODERS.length);
  }, 600_000); // a hang guard: every scenario for every contender, on a possibly busy machine

  it('delivered every event to every fan-out client, with a latency sample for each', () => {
    for (const sample of results.fanout) {
      expect(sample, sample.contender).toMatchObject({ delivered: true, latencySamples: sample.clients * PRESETS.smoke.fanout.latencyEvents });
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample.deliveriesPerSecond, sample.contender).toBeGreaterThan(0);
      expect(sample.cpuMicrosPerDelivery, sample.contender).toBeGreaterThan(0);
      if (process.platform === 'linux') {
        // Every delivery's frame (~200 B) reached the kernel in the window; without callgrind, no instructions are counted.
        expect(sample.writeSyscallsPerDelivery, sample.contender).toBeGreaterThan(0);
        expect(sample.bytesPerDelivery, sample.contender).toBeGreaterThan(150);
      }
      expect(sample.instructionsPerDelivery, sample.contender).toBeNaN();
      expect(sample.loopDelayMaxMs, sample.contender).toBeGreaterThanOrEqual(sample.loopDelayP99Ms);
    }
  });

  it('asked every @sse contender which write path each of its responses took, and no other contender', () => {
    for (const sample of results.fanout.filter((s) => s.contender !== 'sse-redis')) {
      if (findContender(sample.contender).kind !== 'sse') {
        expect(sample.writePaths, sample.contender).toBeNull();
        continue;
      }
      // One count per connected response, whatever the path (`unknown` before @sse/node exports sinkWritePath).
      const counts = Object.values(sample.writePaths ?? {});
      expect(counts.reduce((sum, n) => sum + n, 0), sample.contender).toBe(sample.clients);
    }
  });

  it('delivered the one event to every client of the block scenario while measuring the loop and the pings', () => {
    for (const sample of results.block) {
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample.delivered, sample.contender).toBe(true);
      expect(sample.deliverMs, sample.contender).toBeGreaterThan(0);
      expect(Number.isFinite(sample.loopDelayMaxMs) && Number.isFinite(sample.longestPingGapMs), sample.contender).toBe(true);
    }
  });

  it('delivered every topic event, one topic per client and one topic for all, on the hub and on raw', () => {
    expect(results.topics.map((sample) => `${sample.contender} ${sample.mode}`).sort()).toEqual(['raw-topics many', 'raw-topics one', 'sse-topics many', 'sse-topics one']);
    for (const sample of results.topics) {
      expect(sample.error, `${sample.contender} ${sample.mode}`).toBeUndefined();
      expect(sample.delivered, `${sample.contender} ${sample.mode}`).toBe(true);
      expect(sample.cpuMicrosPerDelivery, `${sample.contender} ${sample.mode}`).toBeGreaterThan(0);
    }
  });

  it('held the scale connections over several source addresses, reached them all, and saw every stream end on closeAll', () => {
    expect(results.scale.map((sample) => [sample.contender, sample.clients])).toEqual(
      expect.arrayContaining([['sse-node', PRESETS.smoke.scale.clients], ...PRESETS.smoke.scale.contenders.map((name) => [name, PRESETS.smoke.scale.compareClients])]),
    );
    for (const sample of results.scale) {
      expect(sample.error, sample.contender).toBeUndefined();
      expect(sample).toMatchObject({ delivered: true, ended: sample.clients });
      expect(sample.drainMs, sample.contender).toBeGreaterThan(0);
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
    for (const heading of ['### One event to 200 clients', '### Topics: fan-out through a topic hub', '### Scale: idle connections in one process', '### What runs']) expect(markdown).toContain(heading);
    expect(markdown).toMatch(/\| @sse\/node \|[^\n]*\| (unknown \(no sinkWritePath in this build\)|socket|response|none) 20\/20 \|/);
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

  it('has a scale preset of its own, with its counts as options', () => {
    const { config } = parseOptions(['--scale', '--scale-clients=30000', '--client-processes=2'], { BENCH_SCALE_COMPARE: '500' });
    expect(config).toMatchObject({ preset: 'scale', scenarios: ['scale'], scale: { clients: 30_000, compareClients: 500, clientProcesses: 2 } });
    expect(parseOptions([], {}).config.scenarios).not.toContain('scale');
    expect(parseOptions(['--block-clients=300', '--topic-clients=400'], {}).config).toMatchObject({ block: { clients: 300 }, topics: { clients: 400 } });
  });

  it('refuses unknown contenders and options with the list of known ones', () => {
    expect(() => parseOptions(['--only=nope'], {})).toThrow(/unknown contender "nope"; known: raw, floor, floor-uncorked, sse-node/);
    expect(() => parseOptions(['--fast'], {})).toThrow(/unknown option "fast"/);
  });
});
