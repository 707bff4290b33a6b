// Several processes migrating one database at the same moment, and a process killed while it
// holds the migration lock. The child script is fixtures/migrate-child.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COLLECTIONS } from '../../src/store/schema.js';
import { SEED_EMAIL } from './fixtures/migration-users.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));
/** Milliseconds between spawning the children and their common start, to cover tsx start-up. */
const START_DELAY_MS = 5_000;

let environment: StoreTestEnvironment;

beforeAll(async () => {
  environment = await startStoreEnvironment();
});

afterAll(async () => {
  await environment?.close();
});

interface ChildLine {
  event: string;
  [field: string]: unknown;
}

interface Child {
  process: ChildProcess;
  lines: ChildLine[];
  /** Resolves with the exit code once the process exited. */
  exited: Promise<number | null>;
  /** Resolves once a line with `event` was printed. */
  printed(event: string): Promise<ChildLine>;
}

function startChild(environmentVariables: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, MONGODB_URI: environment.server.uri, ...environmentVariables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: ChildLine[] = [];
  const waiters: { event: string; resolve: (line: ChildLine) => void }[] = [];
  let buffered = '';
  let stderr = '';

  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    for (const text of complete.filter((line) => line.trim() !== '')) {
      const line = JSON.parse(text) as ChildLine;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.event === line.event)) waiter.resolve(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      if (code !== 0 && code !== 2 && stderr !== '') console.error(stderr);
      resolve(code);
    });
  });

  return {
    process: child,
    lines,
    exited,
    printed: (event) => {
      const found = lines.find((line) => line.event === event);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ event, resolve }));
    },
  };
}

function final(child: Child): ChildLine {
  const line = child.lines.find((entry) => entry.event === 'result' || entry.event === 'error');
  if (line === undefined) throw new Error(`child ${child.process.pid} printed no result`);
  return line;
}

describe('concurrent migration processes', () => {
  it('apply each migration exactly once', async () => {
    const database = await environment.database('processes_concurrent');
    const startAt = String(Date.now() + START_DELAY_MS);
    const patient = Array.from({ length: 3 }, () =>
      startChild({
        MIGRATE_DB: database.databaseName,
        MIGRATE_START_AT: startAt,
        MIGRATE_WAIT_MS: '60000',
      }),
    );
    const impatient = Array.from({ length: 2 }, () =>
      startChild({
        MIGRATE_DB: database.databaseName,
        MIGRATE_START_AT: startAt,
        MIGRATE_WAIT_MS: '50',
      }),
    );
    const children = [...patient, ...impatient];

    const codes = await Promise.all(children.map((child) => child.exited));

    const results = children.map(final);
    const winners = results.filter(
      (line) => line.event === 'result' && (line.steps as string[]).length > 0,
    );
    expect(winners).toHaveLength(1);
    expect(winners[0]!.steps).toEqual([
      '000-seed-user',
      '001-add-pqc-fields',
      '002-append-consent',
    ]);
    for (const [index, child] of patient.entries()) {
      expect(codes[index], `patient child ${index}`).toBe(0);
      expect(final(child).event).toBe('result');
    }
    const locked = impatient.map(final).filter((line) => line.event === 'error');
    expect(locked.length).toBeGreaterThanOrEqual(1);
    for (const line of locked) {
      expect(line.code).toBe('ERR_MIGRATION_LOCKED');
      expect(line.message).toContain(`migrations are locked by ${String(winners[0]!.owner)}`);
    }

    const changelog = await database
      .collection(COLLECTIONS.migrations)
      .find({})
      .sort({ _id: 1 })
      .toArray();
    expect(changelog.map((entry) => entry._id)).toEqual([
      '000-seed-user',
      '001-add-pqc-fields',
      '002-append-consent',
    ]);
    const seeds = await database
      .collection(COLLECTIONS.users)
      .find({ email: SEED_EMAIL })
      .toArray();
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.consentRecords).toHaveLength(1);
    expect(seeds[0]!.pqcEnabled).toBe(false);
  }, 120_000);
});

describe('killed migration process', () => {
  it('lock expires and the next run takes over', async () => {
    const database = await environment.database('processes_killed');
    const ttlMs = 2_000;
    const hanging = startChild({
      MIGRATE_DB: database.databaseName,
      MIGRATE_MODE: 'hang',
      MIGRATE_TTL_MS: String(ttlMs),
    });
    await hanging.printed('started');
    await new Promise((resolve) => setTimeout(resolve, ttlMs));
    const killedAt = Date.now();
    hanging.process.kill('SIGKILL');
    expect(await hanging.exited).toBeNull();

    const next = startChild({
      MIGRATE_DB: database.databaseName,
      MIGRATE_MODE: 'finish',
      MIGRATE_TTL_MS: String(ttlMs),
      MIGRATE_WAIT_MS: '30000',
    });
    expect(await next.exited).toBe(0);

    const result = final(next);
    expect(result.steps).toEqual(['001-slow-append']);
    const takeover = next.lines.find(
      (line) => line.event === 'log' && String(line.message).includes('took over'),
    );
    const fields = takeover?.fields as { previousOwner: string; expiredAt: string } | undefined;
    expect(fields?.previousOwner).toContain(`:${hanging.process.pid}:`);
    const expiredAt = Date.parse(fields!.expiredAt);
    expect(expiredAt).toBeGreaterThan(killedAt - ttlMs);
    expect(result.at as number).toBeGreaterThanOrEqual(expiredAt);

    const changelog = await database
      .collection(COLLECTIONS.migrations)
      .find({})
      .sort({ _id: 1 })
      .toArray();
    expect(changelog.map((entry) => entry._id)).toEqual(['000-seed-user', '001-slow-append']);
    const seeds = await database
      .collection(COLLECTIONS.users)
      .find({ email: SEED_EMAIL })
      .toArray();
    expect(seeds).toHaveLength(1);
    expect(seeds[0]!.consentRecords).toHaveLength(1);
  }, 120_000);
});
