import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../src/config.js';
import { parseCallgrindTotal, parseProcIo, readIo } from '../src/counts.js';
import { runBench } from '../src/run.js';

const hasValgrind = ((): boolean => {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('counts instead of the clock', () => {
  it('reads write calls and bytes from /proc/<pid>/io', () => {
    const text = 'rchar: 6976\nwchar: 123\nsyscr: 10\nsyscw: 4\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n';
    expect(parseProcIo(text)).toEqual({ writeSyscalls: 4, bytesWritten: 123 });
    expect(parseProcIo('rchar: 1\n')).toBeUndefined();
    if (process.platform === 'linux') {
      const dir = mkdtempSync(join(tmpdir(), 'bench-io-'));
      try {
        const fd = openSync(join(dir, 'f'), 'w');
        const before = readIo()!;
        for (let i = 0; i < 3; i++) writeSync(fd, '0123456789');
        const after = readIo()!;
        closeSync(fd);
        expect(after.writeSyscalls - before.writeSyscalls).toBeGreaterThanOrEqual(3);
        expect(after.bytesWritten - before.bytesWritten).toBeGreaterThanOrEqual(30);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('reads the instruction total of a callgrind dump', () => {
    expect(parseCallgrindTotal('# callgrind format\nversion: 1\nevents: Ir\n\nfn=main\n1 5\n\ntotals: 641255871\n')).toBe(641_255_871);
    expect(parseCallgrindTotal('events: Ir\nsummary: 42\n')).toBe(42);
    expect(parseCallgrindTotal('events: Ir\n')).toBeUndefined();
  });

  // Opt-in (BENCH_CALLGRIND_TEST=1, and valgrind installed): it keeps node under valgrind on a
  // whole core for about a minute, which in the parallel `npm test` starved the Redis fault tests
  // of a machine already loaded by another process (one timed out in a run with it).
  it.skipIf(!hasValgrind || process.env['BENCH_CALLGRIND_TEST'] !== '1')('--callgrind runs the servers and encoders under callgrind and counts instructions per delivery and per frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-callgrind-'));
    try {
      const config = structuredClone(PRESETS.smoke);
      config.contenders = ['sse-node'];
      config.scenarios = ['fanout', 'encode'];
      config.encode.encoders = ['sse'];
      config.callgrindDir = dir;
      config.fanout.timeoutMs *= 20;
      const results = await runBench(config);
      expect(results.fanout).toHaveLength(1);
      expect(results.encode).toHaveLength(1);
      for (const sample of results.encode) {
        expect(sample.error, sample.encoder).toBeUndefined();
        // A ~200 B JSON frame takes hundreds to thousands of instructions, never none.
        expect(sample.jsonInstructions, sample.encoder).toBeGreaterThan(100);
        expect(sample.textInstructions, sample.encoder).toBeGreaterThan(100);
      }
      for (const sample of results.fanout) {
        expect(sample.error, sample.contender).toBeUndefined();
        expect(sample.delivered, sample.contender).toBe(true);
        expect(sample.instructionsPerDelivery, sample.contender).toBeGreaterThan(0);
        expect(Number.isFinite(sample.instructionsPerDelivery), sample.contender).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
