/**
 * `pnpm bench:pool -- A.json B.json …`: pools the fan-out rounds of several runs (the JSON files a
 * run writes to results/). For each contender and client count: every round's server CPU per
 * delivery against raw's in the same round, the median of all rounds, and the median throughput
 * ratio. BENCHMARKS.md's "CPU per delivery over six rounds" is this, over two runs of three.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface FanoutSample {
  contender: string;
  clients: number;
  run: number;
  cpuMicrosPerDelivery: number;
  deliveriesPerSecond: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The pooled table (Markdown lines) of the fan-out samples of several runs, one array per run. */
export function poolFanoutRounds(runs: ReadonlyArray<readonly FanoutSample[]>): string[] {
  const samples = runs.flatMap((fanout, index) => fanout.map((sample) => ({ ...sample, file: index })));
  const roundOf = (sample: { file: number; clients: number; run: number }): string => `${sample.file}/${sample.clients}/${sample.run}`;
  const raw = new Map(samples.filter((sample) => sample.contender === 'raw').map((sample) => [roundOf(sample), sample]));
  const contenders = [...new Set(samples.map((sample) => sample.contender))].filter((name) => name !== 'raw');
  const counts = [...new Set(samples.map((sample) => sample.clients))].sort((a, b) => a - b);
  const lines = ['| contender | clients | CPU per delivery, each round | median | deliveries/s, median |', '|---|---:|---|---:|---:|'];
  for (const contender of contenders) {
    for (const clients of counts) {
      const rounds = samples.filter((sample) => sample.contender === contender && sample.clients === clients && raw.has(roundOf(sample)));
      if (rounds.length === 0) continue;
      const cpu = rounds.map((sample) => sample.cpuMicrosPerDelivery / raw.get(roundOf(sample))!.cpuMicrosPerDelivery);
      const throughput = rounds.map((sample) => sample.deliveriesPerSecond / raw.get(roundOf(sample))!.deliveriesPerSecond);
      lines.push(`| ${contender} | ${clients.toLocaleString('en-US')} | ${cpu.map((ratio) => ratio.toFixed(2)).join(' ')} | ${median(cpu).toFixed(2)}× | ${median(throughput).toFixed(2)}× |`);
    }
  }
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2).filter((arg) => arg !== '--');
  if (files.length === 0) {
    console.error('usage: pnpm bench:pool -- results/full-….json [more.json …]');
    process.exit(2);
  }
  const runs = files.map((file) => (JSON.parse(readFileSync(file, 'utf8')) as { fanout: FanoutSample[] }).fanout);
  for (const line of poolFanoutRounds(runs)) console.log(line);
}
