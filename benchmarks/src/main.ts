/** `pnpm bench`: runs the benchmark, prints the tables, and writes them with the raw samples to results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleBuilds } from './build-check.js';
import { parseOptions, USAGE } from './config.js';
import { renderMarkdown } from './report.js';
import { runBench } from './run.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const { config, outDir } = parseOptions(args, process.env);
const buildProblems = config.source ? [] : staleBuilds();
if (buildProblems.some((problem) => problem.endsWith('not built'))) {
  console.error(`bench: ${buildProblems.join('; ')}.\nRun \`pnpm bench\` from the repository root (it builds first), or \`pnpm build\`, or pass --source to load the TypeScript sources.`);
  process.exit(1);
}
if (buildProblems.length > 0) console.error(`bench: warning: ${buildProblems.join('; ')}: measuring the build as it is.`);
const dir = resolve(outDir ?? fileURLToPath(new URL('../results', import.meta.url)));
console.error(`bench: preset ${config.preset}, ${config.runs} run(s), contenders ${config.contenders.join(', ')}, scenarios ${config.scenarios.join(', ')}`);
if (config.profileDir !== undefined) mkdirSync(config.profileDir, { recursive: true });
if (config.callgrindDir !== undefined) mkdirSync(config.callgrindDir, { recursive: true });
const results = await runBench(config, (line) => console.error(line));
results.machine.buildWarnings = buildProblems;
const markdown = renderMarkdown(results);
mkdirSync(dir, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
writeFileSync(join(dir, `${config.preset}-${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(dir, `${config.preset}-${stamp}.md`), `${markdown}\n`);
console.log(markdown);
console.error(`bench: results in ${dir}`);
