/**
 * Work a server did in a measured window, by count rather than by the clock: the write system
 * calls and bytes the kernel saw (`/proc/self/io`), and, when the server runs under
 * `valgrind --tool=callgrind`, the instructions it executed in user space. Counts do not move
 * when another process takes a core; CPU time on this shared machine does, by ±30% per round.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface IoCounters {
  /** Write-like system calls (`write`, `writev`, …), `syscw` of `/proc/<pid>/io`. */
  writeSyscalls: number;
  /** Bytes those calls passed to the kernel, `wchar`. */
  bytesWritten: number;
}

/** Parses `/proc/<pid>/io` text; `undefined` when a field is missing. */
export function parseProcIo(text: string): IoCounters | undefined {
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(text);
    return match === null ? undefined : Number(match[1]);
  };
  const writeSyscalls = field('syscw');
  const bytesWritten = field('wchar');
  return writeSyscalls === undefined || bytesWritten === undefined ? undefined : { writeSyscalls, bytesWritten };
}

/** This process's counters, or `undefined` where `/proc/self/io` cannot be read (not Linux). */
export function readIo(): IoCounters | undefined {
  try {
    return parseProcIo(readFileSync('/proc/self/io', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The total of the first event (`Ir`, instructions) of a callgrind output file. */
export function parseCallgrindTotal(text: string): number | undefined {
  const match = /^(?:summary|totals):\s*(\d+)/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * How to start a child under callgrind: valgrind's command line before `node`, and the variable
 * that tells the child (`CallgrindWindow`) where its output goes, one file per process in `dir`.
 */
export function underCallgrind(dir: string, name: string): { wrapper: string[]; env: { BENCH_CALLGRIND_OUT: string } } {
  const outFile = join(dir, `${name}.%p.out`);
  return { wrapper: ['valgrind', '--tool=callgrind', '-q', `--callgrind-out-file=${outFile}`], env: { BENCH_CALLGRIND_OUT: outFile } };
}

function control(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('callgrind_control', [...args, String(process.pid)], (error, stdout) => {
      if (error !== null) reject(new Error(`callgrind_control ${args.join(' ')}: ${error.message}`));
      else if (!stdout.includes('OK')) reject(new Error(`callgrind_control ${args.join(' ')}: ${stdout.trim()}`));
      else resolve();
    });
  });
}

/**
 * Instruction counting in this process, when it runs under callgrind with the output file of
 * `callgrindPrefix` (`BENCH_CALLGRIND_OUT` names it): `zero` starts a window, `dump` ends it and
 * returns the instructions since, read from the dump callgrind wrote.
 */
export class CallgrindWindow {
  readonly #dir: string;
  readonly #prefix: string;

  constructor(outFile: string) {
    this.#dir = dirname(outFile);
    this.#prefix = `${basename(outFile).replace('%p', String(process.pid))}.`;
  }

  zero(): Promise<void> {
    return control(['--zero']);
  }

  async dump(): Promise<number> {
    await control(['--dump=window']);
    // Each dump is `<out file>.<n>`, n counting up from 1.
    const dumps = readdirSync(this.#dir)
      .filter((file) => file.startsWith(this.#prefix) && /^\d+$/.test(file.slice(this.#prefix.length)))
      .sort((a, b) => Number(a.slice(this.#prefix.length)) - Number(b.slice(this.#prefix.length)));
    const last = dumps.at(-1);
    if (last === undefined) throw new Error(`callgrind wrote no dump into ${this.#dir}`);
    const total = parseCallgrindTotal(readFileSync(join(this.#dir, last), 'utf8'));
    if (total === undefined) throw new Error(`no total in callgrind dump ${last}`);
    return total;
  }
}
