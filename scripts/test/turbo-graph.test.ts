import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

interface DryTask {
  taskId: string;
  hash: string;
  dependencies: string[];
}

/** The tasks turbo would run, with their hashes, without running anything. */
async function dryRun(task: string): Promise<Map<string, DryTask>> {
  const { stdout } = await run(join(root, 'node_modules', '.bin', 'turbo'), ['run', task, '--dry=json'], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const { tasks } = JSON.parse(stdout) as { tasks: DryTask[] };
  return new Map(tasks.map((entry) => [entry.taskId, entry]));
}

const published = readdirSync(join(root, 'packages'))
  .map((dir) => JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; private?: boolean })
  .filter((pkg) => pkg.private !== true)
  .map((pkg) => pkg.name);

describe('the turbo task graph', () => {
  it("changes @sse/express's typecheck hash when a file of @sse/core changes, so a cached typecheck cannot hide a break", async () => {
    // An untracked file in @sse/core stands for an edit: turbo hashes untracked files too.
    const probe = join(root, 'packages', 'core', 'turbo-graph-test.probe');
    const before = await dryRun('typecheck');
    writeFileSync(probe, 'an edit\n');
    let after: Map<string, DryTask>;
    try {
      after = await dryRun('typecheck');
    } finally {
      rmSync(probe, { force: true });
    }
    expect(after.get('@sse/core#transit')?.hash).not.toBe(before.get('@sse/core#transit')?.hash);
    expect(after.get('@sse/express#typecheck')?.hash).not.toBe(before.get('@sse/express#typecheck')?.hash);
  });

  it('schedules no build for the tests, except the builds the package check packs: every published package', async () => {
    const tasks = await dryRun('test');
    const builds = [...tasks.keys()].filter((id) => id.endsWith('#build'));
    expect(builds.sort()).toEqual(published.map((name) => `${name}#build`).sort());
    expect(tasks.get('@sse-tests/package-check#test')?.dependencies.sort()).toEqual(published.map((name) => `${name}#build`).sort());
    for (const [id, task] of tasks) {
      if (id.endsWith('#test') && id !== '@sse-tests/package-check#test') expect(task.dependencies, id).toEqual([]);
    }
  });
});
