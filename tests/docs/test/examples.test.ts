// The code in the Markdown is code: every ```ts block typechecks against the workspace's packages,
// and every one that starts a server is run as written and answers a real request. A block that
// is not a whole program (it continues an earlier one, or shows a shape) says so with a
// `<!-- fragment: why -->` line above it, and is skipped. ```js blocks are browser snippets:
// checked for syntax only.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { startRedisServer, type RedisServer } from '@sse/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleFileName, examplesOf, extractExamples, firstRoute, importedPackages, installedPackages, needsNodeTypes, startsServer, type Example } from './examples.js';
import { trackedMarkdown } from './links.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const docs = fileURLToPath(new URL('../', import.meta.url));
// Inside this package, so that the examples' imports resolve to its dependencies (the workspace's packages).
const workdir = join(docs, 'test-results', 'examples');
const hook = pathToFileURL(fileURLToPath(new URL('./support/listen-on-free-port.ts', import.meta.url))).href;

/** The documentation: every tracked Markdown file but the changesets and changelogs (history, not instructions). */
const files = trackedMarkdown(root).filter((file) => !file.startsWith('.changeset/') && !/(^|\/)CHANGELOG\.md$/.test(file));
const examples = examplesOf(root, files);
const whole = examples.filter((example) => example.fragment === undefined);
const servers = whole.filter(startsServer);
const where = (example: Example): string => `${example.file}:${example.line}`;

describe('the examples in the Markdown', () => {
  beforeAll(() => {
    rmSync(workdir, { recursive: true, force: true });
    mkdirSync(workdir, { recursive: true });
    for (const example of whole) {
      // `export {}` makes each block a module of its own (its names do not clash with another block's).
      writeFileSync(join(workdir, exampleFileName(example)), example.lang === 'ts' ? `${example.code}\nexport {};\n` : `${example.code}\n`);
    }
    writeFileSync(
      join(workdir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../../tsconfig.base.json',
        compilerOptions: { types: ['node'], allowJs: true, checkJs: false, noEmit: true },
        include: ['*.ts', '*.js'],
      }),
    );
  });

  it('are found in the READMEs, CONTRIBUTING.md and SINK.md', () => {
    const found = new Set(examples.map((example) => example.file));
    expect([...found]).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'packages/core/README.md', 'packages/core/SINK.md', 'packages/express/README.md', 'packages/hono/README.md', 'packages/koa/README.md', 'packages/node/README.md', 'packages/redis/README.md']));
    expect(servers.map((example) => example.file)).toEqual(expect.arrayContaining(['packages/express/README.md', 'packages/hono/README.md', 'packages/koa/README.md', 'packages/node/README.md', 'packages/redis/README.md']));
  });

  it('start a server, each of the root README’s (one per framework)', () => {
    const rootExamples = examples.filter((example) => example.file === 'README.md' && example.lang === 'ts');
    expect(rootExamples.length).toBeGreaterThanOrEqual(4);
    expect(rootExamples.filter((example) => !startsServer(example)).map(where)).toEqual([]);
  });

  it('say why when they are fragments', () => {
    expect(examples.filter((example) => example.fragment === '').map(where)).toEqual([]);
  });

  it('typecheck against the workspace packages (the whole ones)', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', join(workdir, 'tsconfig.json'), '--pretty', 'false'], { cwd: docs, maxBuffer: 16 << 20 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    );
    const byFile = new Map(whole.map((example) => [exampleFileName(example), example]));
    // Each error, at its line in the Markdown file: `README.md:30:5: error TS2304: Cannot find name 'x'.`
    const errors = stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const match = /([^/\\(]+)\((\d+),(\d+)\): (.*)$/.exec(line);
        const example = match === null ? undefined : byFile.get(match[1]!);
        return example === undefined ? line : `${example.file}:${example.line + Number(match![2]) - 1}:${match![3]}: ${match![4]}`;
      });
    expect(errors).toEqual([]);
  });

  describe('that start a server', () => {
    let redis: RedisServer | undefined;
    beforeAll(async () => {
      if (servers.some((example) => example.code.includes('REDIS_URL'))) redis = await startRedisServer();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it.each(servers.map((example) => ({ at: where(example), example })))('$at runs as written and streams on its first route', async ({ example }) => {
      const answer = await runServer(example, redis === undefined ? {} : { REDIS_URL: redis.url });
      expect(answer, answer.output).toMatchObject({ status: 200, contentType: expect.stringMatching(/^text\/event-stream/) });
      expect(answer.firstBytes.length, answer.output).toBeGreaterThan(0);
    });
  });

  it('name in their README’s install lines every package they import, with the @types packages they need', () => {
    const missing = files.flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      const installed = new Set(installedPackages(text));
      if (installed.size === 0) return []; // no install line: CONTRIBUTING.md, SINK.md
      return extractExamples(file, text)
        .filter((example) => example.lang === 'ts' && example.fragment === undefined)
        .flatMap((example) => {
          const packages = importedPackages(example.code);
          const needed = [...packages, ...packages.filter((name) => !shipsTypes(name)).map(typesPackage), ...(needsNodeTypes(example.code) ? ['@types/node'] : [])];
          return needed.filter((name) => !installed.has(name)).map((name) => `${where(example)}: the install lines do not install ${name}`);
        });
    });
    expect(missing).toEqual([]);
  });
});

describe('the example extraction', () => {
  it('reads ts and js blocks, their first line, and the fragment marker above them', () => {
    const text = ['# T', '```ts', 'a();', '```', '<!-- fragment: continues the one above -->', '', '```js', 'b();', '```', '```sh', 'npm install -D x@1 @types/y@2 # z', '```'].join('\n');
    expect(extractExamples('x.md', text)).toEqual([
      { file: 'x.md', line: 3, lang: 'ts', code: 'a();' },
      { file: 'x.md', line: 8, lang: 'js', code: 'b();', fragment: 'continues the one above' },
    ]);
    expect(installedPackages(text)).toEqual(['x', '@types/y']);
    expect(importedPackages("import a from 'express';\nimport type { B } from '@sse/redis/testing';\nimport 'node:http';\nimport c from './c.js';")).toEqual(['express', '@sse/redis']);
    expect(typesPackage('@hono/node-server')).toBe('@types/hono__node-server');
  });
});

/** Whether an installed package ships its own types (else a TypeScript user needs its `@types/…`). */
function shipsTypes(name: string): boolean {
  const dir = join(docs, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) return true; // not a dependency of this package: the typecheck says so
  const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
  return /"(types|typings)"\s*:/.test(manifest) || existsSync(join(dir, 'index.d.ts'));
}

function typesPackage(name: string): string {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
}

interface ServerAnswer {
  status: number;
  contentType: string | null;
  firstBytes: string;
  /** What the example printed, for a failure message. */
  output: string;
}

/** Runs an example as a process of its own, makes one request to its first route, and stops it. */
async function runServer(example: Example, env: Record<string, string>): Promise<ServerAnswer> {
  const child = spawn(process.execPath, ['--conditions=@sse/source', '--import', 'tsx', '--import', hook, join(workdir, exampleFileName(example))], {
    cwd: docs,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`${where(example)} did not listen within 60 s (a hang guard):\n${output}`)), 60_000);
      child.on('message', (message: { listening?: number }) => {
        clearTimeout(guard);
        if (typeof message.listening === 'number') resolve(message.listening);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(guard);
        reject(new Error(`${where(example)} exited (${code ?? signal}) before it listened:\n${output}`));
      });
    });
    const response = await fetch(`http://127.0.0.1:${port}${firstRoute(example)}`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(20_000) });
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return { status: response.status, contentType: response.headers.get('content-type'), firstBytes: new TextDecoder().decode(value), output };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}
