// Shared set-up of the demo tests: the page built by rollup into a temporary folder, and the
// demo server started on a free loopback port with its own FerretDB, a movable clock and a log
// kept in memory.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BSON } from 'mongodb';
import type { Db } from 'mongodb';
import { pino } from 'pino';
import { rollup } from 'rollup';
import type { RollupLog } from 'rollup';
import { startDemo } from '../../demo/server/start.js';
import type { RunningDemo } from '../../demo/server/start.js';
// @ts-expect-error the rollup config is plain JavaScript without declarations
import { createDemoPageConfig } from '../../demo/rollup.config.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SDK_DIRECTORY = join(ROOT, 'dist', 'browser');

/**
 * Builds the page into a new temporary folder and returns it. Fails on any rollup warning about
 * the page sources, which includes their TypeScript errors; errors in the SDK's own sources are
 * left to `npm run typecheck`.
 */
export async function buildPage(): Promise<string> {
  if (!existsSync(join(SDK_DIRECTORY, 'index.js'))) {
    throw new Error(`${SDK_DIRECTORY}/index.js is missing; run npm run build first`);
  }
  const directory = await mkdtemp(join(tmpdir(), 'qynpqc-demo-page-'));
  const config = createDemoPageConfig(directory) as {
    output: { dir: string; format: 'es'; entryFileNames: string };
  };

  const warnings: string[] = [];
  try {
    await writeBundle(config, warnings);
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  if (warnings.length > 0) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`the page build reported warnings:\n${warnings.join('\n')}`);
  }
  return directory;
}

async function writeBundle(
  config: { output: { dir: string; format: 'es'; entryFileNames: string } },
  warnings: string[],
): Promise<void> {
  const bundle = await rollup({
    ...config,
    onwarn: (warning: RollupLog) => {
      const file = warning.loc?.file ?? warning.id ?? '';
      if (warning.plugin !== 'typescript' || file.includes(join('demo', 'page'))) {
        warnings.push(warning.message);
      }
    },
  });
  await bundle.write(config.output);
  await bundle.close();
}

/** Milliseconds between timed sweeps in the tests, longer than any test file runs. */
const TEST_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/** Serialises every document of every collection, to compare the database before and after. */
export async function databaseSnapshot(db: Db): Promise<string> {
  const names = (await db.listCollections().toArray()).map((entry) => entry.name).sort();
  const parts: string[] = [];
  for (const name of names) {
    const documents = await db.collection(name).find().sort({ _id: 1 }).toArray();
    parts.push(`${name}:${Buffer.from(BSON.serialize({ documents })).toString('base64')}`);
  }
  return parts.join('\n');
}

/** A demo server for one test file. */
export interface TestDemo {
  demo: RunningDemo;
  /** Base URL without the trailing slash. */
  origin: string;
  /** Every log line the server wrote, as JSON text. */
  logLines: string[];
  /** Moves the server's clock forward by `milliseconds`. */
  advanceClock(milliseconds: number): void;
  /**
   * Starts a second demo server on the same database and clock, as a deployment with several
   * instances would run. The caller closes it.
   */
  startPeer(): Promise<RunningDemo>;
  /** Stops the server and FerretDB and deletes the temporary folders. */
  stop(): Promise<void>;
}

/** Builds the page and starts the demo with FerretDB in a temporary folder. */
export async function startTestDemo(): Promise<TestDemo> {
  const pageDirectory = await buildPage();
  const dataDirectory = await mkdtemp(join(tmpdir(), 'qynpqc-demo-data-'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      callback();
    },
  });

  let offset = 0;
  const removeFolders = async (): Promise<void> => {
    await rm(pageDirectory, { recursive: true, force: true });
    await rm(dataDirectory, { recursive: true, force: true });
  };
  const options = {
    logger: pino({ level: 'debug' }, sink),
    port: 0,
    databaseName: `demo_test_${process.pid}_${Date.now()}`,
    now: () => Date.now() + offset,
    // A timed sweep between two snapshots would change the database under a test. Challenges
    // are still swept whenever one is issued.
    sweepIntervalMs: TEST_SWEEP_INTERVAL_MS,
    pageDirectory,
    sdkDirectory: SDK_DIRECTORY,
  };
  const demo = await startDemo({
    ...options,
    dataDirectory,
    mongodbUri: process.env['MONGODB_URI'] || undefined,
  }).catch(async (error: unknown) => {
    await removeFolders();
    throw error;
  });

  return {
    demo,
    origin: demo.url.replace(/\/$/, ''),
    logLines,
    advanceClock(milliseconds) {
      offset += milliseconds;
    },
    startPeer() {
      return startDemo({ ...options, mongodbUri: demo.mongodbUri });
    },
    async stop() {
      await demo.db.dropDatabase().catch(() => undefined);
      await demo.close();
      await removeFolders();
    },
  };
}
