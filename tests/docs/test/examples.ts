import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A TypeScript or JavaScript code block of a Markdown file. */
export interface Example {
  /** The Markdown file, relative to the root. */
  file: string;
  /** The line of the block's first line of code. */
  line: number;
  lang: 'ts' | 'js';
  code: string;
  /** Why the block is not a whole program, from a `<!-- fragment: why -->` line just above it; `''` for a marker without a reason. */
  fragment?: string;
}

const LANGS: Record<string, Example['lang']> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

/**
 * The ```ts and ```js blocks of a Markdown text, with the fragment marker of each. A block is a
 * fragment when the last non-blank line before its fence is `<!-- fragment: why -->`.
 */
export function extractExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  const lines = text.split('\n');
  let open: { fence: string; lang: string | undefined; start: number; fragment: string | undefined } | undefined;
  let previous = '';
  lines.forEach((line, index) => {
    const match = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (open === undefined) {
      if (match !== null) {
        const fragment = /^\s*<!--\s*fragment\b:?\s*(.*?)\s*-->\s*$/.exec(previous)?.[1];
        open = { fence: match[1]!, lang: match[2], start: index + 1, fragment };
      } else if (line.trim() !== '') previous = line;
      return;
    }
    if (match !== null && match[1]!.startsWith(open.fence) && match[2] === '') {
      const lang = LANGS[open.lang ?? ''];
      if (lang !== undefined) {
        const example: Example = { file, line: open.start + 1, lang, code: lines.slice(open.start, index).join('\n') };
        if (open.fragment !== undefined) example.fragment = open.fragment;
        examples.push(example);
      }
      open = undefined;
      previous = line;
    }
  });
  return examples;
}

/** Every example of the given Markdown files. */
export function examplesOf(root: string, files: readonly string[]): Example[] {
  return files.flatMap((file) => extractExamples(file, readFileSync(join(root, file), 'utf8')));
}

/** A file name for an example: its Markdown file and line, e.g. `packages_core_README_md_L31.ts`. */
export function exampleFileName(example: Example): string {
  return `${example.file.replace(/[^A-Za-z0-9]/g, '_')}_L${example.line}.${example.lang}`;
}

/** Whether a whole example starts a server (it calls `listen(` or `serve(`): those are run, not only typechecked. */
export function startsServer(example: Example): boolean {
  return example.lang === 'ts' && example.fragment === undefined && /\.listen\(|\bserve\(/.test(example.code);
}

/** The path of the first route an example declares (`app.get('/news', …)`), or `/` for a server that streams on every path. */
export function firstRoute(example: Example): string {
  return /\.(?:get|all)\(\s*['"`](\/[^'"`]*)['"`]/.exec(example.code)?.[1] ?? '/';
}

/** The packages an example imports (`express`, `@sse/redis` for `@sse/redis/testing`), without `node:` modules and relative paths. */
export function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/^\s*import\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
  const names = specifiers
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .map((specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
  return [...new Set(names)];
}

/** Whether an example needs Node's types: it imports a `node:` module or reads `process`. */
export function needsNodeTypes(code: string): boolean {
  return /['"]node:/.test(code) || /\bprocess\./.test(code);
}

/** The package names the `npm install` lines of a Markdown text's shell blocks install (`-D`, versions and comments aside). */
export function installedPackages(text: string): string[] {
  const names: string[] = [];
  let inShell = false;
  for (const line of text.split('\n')) {
    const fence = /^\s*```\s*([\w-]*)/.exec(line);
    if (fence !== null) {
      inShell = !inShell && ['sh', 'bash', 'shell', 'console'].includes(fence[1]!);
      continue;
    }
    if (!inShell) continue;
    for (const command of line.replace(/#.*$/, '').split(/&&|;/)) {
      const words = command.trim().split(/\s+/);
      if (words[0] !== 'npm' || !['install', 'i', 'add'].includes(words[1] ?? '')) continue;
      for (const word of words.slice(2)) {
        if (word.startsWith('-')) continue;
        names.push(word.replace(/(.)@[^/]*$/, '$1')); // express@5 -> express, @types/node@20 -> @types/node
      }
    }
  }
  return names;
}
