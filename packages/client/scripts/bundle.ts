// The size of @sse/client as a browser downloads it, and the copy the sample apps' page loads.
//
//   pnpm -F @sse/client bundle          prints min+gzip and rewrites apps/shared/public/sse-client.js
//
// Both come from one esbuild bundle of src/index.ts with every package left external: what it
// imports at run time must be nothing (test/bundle.test.ts checks it and that the copy is fresh).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
/** The page's copy: served by every sample app as `/sse-client.js`. */
export const PAGE_COPY = fileURLToPath(new URL('../../../apps/shared/public/sse-client.js', import.meta.url));

const HEADER = '// @sse/client, bundled for the sample apps\' page by `pnpm -F @sse/client bundle`: do not edit (packages/client/src is the source).\n';

export interface Bundle {
  /** The readable ESM bundle (the page's copy, without its header). */
  code: string;
  /** Minified. */
  minified: string;
  /** The modules it imports at run time (must be none). */
  imports: string[];
  /** The source files it is made of. */
  inputs: string[];
}

export async function bundle(): Promise<Bundle> {
  const common: BuildOptions = { entryPoints: [entry], bundle: true, format: 'esm', target: 'es2022', packages: 'external', write: false, metafile: true, legalComments: 'none' };
  const [readable, minified] = await Promise.all([build(common), build({ ...common, minify: true })]);
  const output = Object.values(readable.metafile!.outputs)[0]!;
  return {
    code: readable.outputFiles![0]!.text,
    minified: minified.outputFiles![0]!.text,
    imports: output.imports.map((item) => item.path),
    inputs: Object.keys(readable.metafile!.inputs),
  };
}

export const pageCopy = (code: string): string => HEADER + code;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, minified, imports } = await bundle();
  if (imports.length > 0) throw new Error(`@sse/client must import nothing at run time, but imports ${imports.join(', ')}`);
  const gzip = gzipSync(minified, { level: 9 }).byteLength;
  writeFileSync(PAGE_COPY, pageCopy(code));
  console.log(`@sse/client: ${minified.length} B minified, ${gzip} B min+gzip (esbuild, es2022, gzip -9); page copy written to apps/shared/public/sse-client.js`);
}
