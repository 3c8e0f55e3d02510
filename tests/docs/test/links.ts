import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Link {
  /** The Markdown file the link is in, relative to the root. */
  file: string;
  line: number;
  target: string;
}

/** The Markdown files git tracks, relative to `root`. */
export function trackedMarkdown(root: string): string[] {
  return execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file !== '' && existsSync(join(root, file)));
}

/** Lines outside fenced code blocks, inline code spans blanked out unless `keepCode` (links in code are examples, not links). */
function proseLines(text: string, keepCode = false): Array<[number, string]> {
  const lines: Array<[number, string]> = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence === undefined) lines.push([index + 1, keepCode ? line : line.replace(/(`+)(?:(?!\1).)+?\1/g, (code) => ' '.repeat(code.length))]);
  });
  return lines;
}

/** Relative links in a Markdown text: inline `[text](target)` and `![alt](target)`, and reference definitions `[label]: target`. */
export function extractLinks(file: string, text: string): Link[] {
  const links: Link[] = [];
  for (const [line, prose] of proseLines(text)) {
    const targets = [
      ...[...prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]*)/g)].map((match) => match[1]!),
      ...[...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s+(<[^>]*>|\S+)/g)].map((match) => match[1]!),
    ];
    for (const raw of targets) {
      const target = raw.replace(/^<|>$/g, '');
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // https:, mailto:…
      links.push({ file, line, target });
    }
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  // HTML tags count only outside code spans: `EventStream<Events>` keeps its <Events>.
  const text = heading
    .split(/(`+[^`]*`+)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '')))
    .join('');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown text defines: its headings' slugs (repeats get -1, -2…) and explicit `<a id|name>`s. */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, line] of proseLines(text, true)) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      found.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(match[1]!);
  }
  return found;
}

/** What is wrong with a link, or `undefined` when its file (and heading, for a Markdown target) exists. */
export function checkLink(root: string, link: Link): string | undefined {
  const hash = link.target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? link.target : link.target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
  const resolved = path === '' ? join(root, link.file) : path.startsWith('/') ? join(root, path) : join(root, dirname(link.file), path);
  const where = `${link.file}:${link.line}: ${link.target}`;
  if (relative(root, resolved).startsWith('..')) return `${where} points outside the repository`;
  if (!existsSync(resolved)) return `${where}: no such file ${relative(root, resolved)}`;
  if (anchor === undefined || anchor === '' || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) return undefined;
  if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) return `${where}: ${relative(root, resolved)} has no heading #${anchor}`;
  return undefined;
}

/** Every broken relative link in the given Markdown files. */
export function brokenLinks(root: string, files: readonly string[]): string[] {
  return files.flatMap((file) => extractLinks(file, readFileSync(join(root, file), 'utf8'))).flatMap((link) => checkLink(root, link) ?? []);
}
