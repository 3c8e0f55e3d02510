import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../test-results/figures.json', import.meta.url));

/** Records a measured figure (printed, and kept in test-results/figures.json for the README). */
export function record(name: string, figures: Record<string, number | string>): void {
  mkdirSync(fileURLToPath(new URL('../test-results/', import.meta.url)), { recursive: true });
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  all[name] = figures;
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`[figures] ${name}: ${JSON.stringify(figures)}`);
}
