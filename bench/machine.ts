/** Machine, Node version and commit that a benchmark run used. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, platform, arch, totalmem } from 'node:os';

/** Machine and software the results were measured on. */
export interface RunEnvironment {
  cpuModel: string;
  /** Logical CPUs reported by the operating system. */
  cores: number;
  availableParallelism: number;
  totalMemoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  /** `git rev-parse HEAD`, or `unknown` outside a git checkout. */
  commit: string;
  /**
   * Whether `git status --porcelain` listed changes outside bench/results/, so the code measured
   * may differ from the commit. The results of an earlier run do not count.
   */
  uncommittedChanges: boolean;
}

const BYTES_PER_GIB = 1024 ** 3;

function git(root: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Describes this machine and the commit checked out in `root`. */
export function describeEnvironment(root: string): RunEnvironment {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    availableParallelism: availableParallelism(),
    totalMemoryGiB: Math.round((totalmem() / BYTES_PER_GIB) * 10) / 10,
    platform: platform(),
    arch: arch(),
    node: process.version,
    commit: git(root, ['rev-parse', 'HEAD']) ?? 'unknown',
    uncommittedChanges:
      (git(root, ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results']) ??
        '') !== '',
  };
}
