import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { anchors, brokenLinks, extractLinks, slug, trackedMarkdown } from './links.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the repository’s Markdown', () => {
  const files = trackedMarkdown(root);

  it('is found through git', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'BENCHMARKS.md', 'CONTRIBUTING.md', 'apps/README.md', 'benchmarks/README.md']));
  });

  it('has no relative link to a missing file or heading', () => {
    expect(brokenLinks(root, files)).toEqual([]);
  });
});

describe('the link check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sse-docs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file, a missing heading and a missing in-page anchor, and nothing else', () => {
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'guide.md'), '# Guide\n\n## Several instances: Redis and `pnpm demo:cluster`\n\n## Setup\n\n## Setup\n');
    writeFileSync(
      join(dir, 'README.md'),
      [
        '# Top',
        '[ok](docs/guide.md) [ok](./docs/guide.md#several-instances-redis-and-pnpm-democluster) [ok](docs/guide.md#setup-1) [ok](docs/)',
        '[ok](#top) [ok](https://example.com/missing.md) [ok](mailto:a@b.c) ![ok](docs/guide.md "title")',
        '`[in code](nowhere.md)`',
        '```md',
        '[in a fence](nowhere.md)',
        '```',
        '[gone](docs/gone.md) [no heading](docs/guide.md#nope) [no anchor](#bottom)',
        '[ref]: docs/also-gone.md',
      ].join('\n'),
    );
    expect(brokenLinks(dir, ['README.md', 'docs/guide.md'])).toEqual([
      'README.md:8: docs/gone.md: no such file docs/gone.md',
      'README.md:8: docs/guide.md#nope: docs/guide.md has no heading #nope',
      'README.md:8: #bottom: README.md has no heading #bottom',
      'README.md:9: docs/also-gone.md: no such file docs/also-gone.md',
    ]);
  });

  it('makes anchors the way GitHub does', () => {
    expect(slug('Across two instances through Redis')).toBe('across-two-instances-through-redis');
    expect(slug('`runConformance(target)`')).toBe('runconformancetarget');
    expect(slug('`createEventStream<Events>(sink, options?): EventStream<Events>`')).toBe('createeventstreameventssink-options-eventstreamevents');
    expect(slug('Under <em>churn</em>')).toBe('under-churn');
    expect(slug('A [link](x.md) in a heading')).toBe('a-link-in-a-heading');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n<a id="custom"></a>\n')]).toEqual(['a', 'a-1', 'custom']);
    expect(extractLinks('x.md', '[a](b.md)')).toEqual([{ file: 'x.md', line: 1, target: 'b.md' }]);
  });
});
