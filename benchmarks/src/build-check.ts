import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const MEASURED_PACKAGES = ['@sse/core', '@sse/node', '@sse/express', '@sse/fastify', '@sse/koa', '@sse/hono', '@sse/redis'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The bench measures @sse as published, from `dist`: refuse a missing or stale build rather than
 * report numbers for code that is not the code in the tree.
 */
export function staleBuilds(): string[] {
  const require = createRequire(import.meta.url);
  const problems: string[] = [];
  for (const name of MEASURED_PACKAGES) {
    const root = dirname(require.resolve(`${name}/package.json`));
    let built: number;
    try {
      built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
    } catch {
      problems.push(`${name} is not built`);
      continue;
    }
    if (newestMtime(join(root, 'src')) > built) problems.push(`${name}'s dist is older than its src`);
  }
  return problems;
}
