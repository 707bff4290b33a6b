/**
 * The `_id` index fix for FerretDB's SQLite backend, applied to a writable copy of the pinned
 * module. No FerretDB source is committed here. The copy comes from the Go module cache
 * (`go mod download`), where files are read-only, and lives under .data/ for one build.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execute = promisify(execFile);

/** Module path of FerretDB, as required by tools/ferretdb/server/go.mod. */
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';

/** A line of the module that the patch replaces, or only checks when `replacement` is absent. */
interface SourceLine {
  /** File inside the module. */
  readonly file: string;
  /** The line as it is in the pinned version, indentation included. */
  readonly original: string;
  /** The line that takes its place. */
  readonly replacement?: string;
}

// NOTE: FerretDB v1.24.2's SQLite backend creates the `_id` index on the expression
// `_ferretdb_sjson->"_id"` (indexesCreate in registry.go) but filters on IDColumn,
// `_ferretdb_sjson->'$._id'`. Both extract the same value, yet SQLite uses an expression index
// only for a query expression written the same way, so stock v1.24.2 scans the whole table for
// every `{ _id }` lookup, update and delete (EXPLAIN QUERY PLAN shows SCAN). Spelling IDColumn
// like the index lets SQLite use it. Measured on 2 x86-64 cores with 10,000 documents of about
// 4.4 KB: updateOne by _id took 100 to 125 ms stock and 1.2 to 1.5 ms patched, and updateMany
// over all 10,000 documents took 336 s stock and 4 to 7 s patched. Only a query expression
// changes, so SQLite files written by a stock build open unchanged. Whether a later FerretDB
// release fixes this upstream is unchecked.
const ID_INDEX_FIX: readonly SourceLine[] = [
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    original: `\tIDColumn = DefaultColumn + "->'$._id'"`,
    replacement: '\tIDColumn = DefaultColumn + `->"_id"`',
  },
  // The replacement above is right only while indexesCreate quotes each field with %q and joins
  // the fields with `->`, as these two lines do.
  {
    file: 'internal/backends/sqlite/metadata/registry.go',
    original: '\t\t\t\tfields[j] = fmt.Sprintf("%q", f)',
  },
  {
    file: 'internal/backends/sqlite/metadata/registry.go',
    original: '\t\t\tcolumns[i] = fmt.Sprintf("%s->%s", DefaultColumn, strings.Join(fields, "->"))',
  },
];

/** Text that identifies the patch, for the build cache key. */
export const PATCH_FINGERPRINT = JSON.stringify(ID_INDEX_FIX);

/** The pinned FerretDB module in the Go module cache. */
export interface DownloadedModule {
  /** Version required by the server's go.mod, for example `v1.24.2`. */
  readonly version: string;
  /** Read-only source directory inside `go env GOMODCACHE`. */
  readonly directory: string;
}

/** Downloads the FerretDB version that `serverDirectory` requires, unless the cache has it. */
export async function downloadFerretDbModule(serverDirectory: string): Promise<DownloadedModule> {
  let stdout: string;
  try {
    ({ stdout } = await execute('go', ['mod', 'download', '-json', FERRETDB_MODULE], {
      cwd: serverDirectory,
      env: { ...process.env, GOWORK: 'off' },
    }));
  } catch (error) {
    const output = (error as { stdout?: string; stderr?: string }).stdout ?? '';
    throw new Error(
      `go mod download ${FERRETDB_MODULE} failed in ${serverDirectory}; check that Go is ` +
        `installed and the module proxy is reachable:\n${output}${String(error)}`,
      { cause: error },
    );
  }

  const result = JSON.parse(stdout) as { Version?: string; Dir?: string; Error?: string };
  if (result.Version === undefined || result.Dir === undefined) {
    throw new Error(
      `go mod download ${FERRETDB_MODULE} returned no module directory: ${result.Error ?? stdout}`,
    );
  }
  return { version: result.Version, directory: result.Dir };
}

/** Copies `source` to `destination` with writable files, since module cache files are read-only. */
export function copyWritable(source: string, destination: string): void {
  mkdirSync(destination, { recursive: true });

  for (const entry of readdirSync(source, { withFileTypes: true })) {
    const from = join(source, entry.name);
    const to = join(destination, entry.name);
    if (entry.isDirectory()) {
      copyWritable(from, to);
    } else if (entry.isFile()) {
      copyFileSync(from, to);
      chmodSync(to, 0o644);
    }
  }
}

/**
 * Applies the `_id` index fix to the module copy in `moduleDirectory`. Throws when a line the
 * fix replaces or depends on does not occur exactly once, which means the FerretDB version
 * changed and the fix needs a fresh look.
 */
export function applyIdIndexFix(moduleDirectory: string, version: string): void {
  const sources = new Map<string, string[]>();
  const changed = new Set<string>();

  for (const { file, original, replacement } of ID_INDEX_FIX) {
    const lines =
      sources.get(file) ?? readFileSync(join(moduleDirectory, file), 'utf8').split('\n');
    sources.set(file, lines);

    const count = lines.filter((line) => line === original).length;
    if (count !== 1) {
      throw new Error(
        `cannot apply the _id index fix to ${FERRETDB_MODULE}@${version}: expected the line ` +
          `${JSON.stringify(original)} once in ${file}, found it ${count} times. The FerretDB ` +
          'source changed. Check whether its SQLite backend still filters on an expression ' +
          'that differs from the _id index, then update tools/ferretdb/patch.ts.',
      );
    }

    if (replacement !== undefined) {
      lines[lines.indexOf(original)] = replacement;
      changed.add(file);
    }
  }

  for (const file of changed) {
    writeFileSync(join(moduleDirectory, file), (sources.get(file) ?? []).join('\n'));
  }
}
