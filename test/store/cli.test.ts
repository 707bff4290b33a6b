// Runs the database commands of qynpqc against the test server, the way an operator would:
// migrations, backup and restore, validation, enrollment, rotation and the user import.
// Needs `npm run build` first.
import { execFile } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/core/pqc.js';
import type { PqcInstance } from '../../src/core/pqc.js';
import { startStoreEnvironment } from './setup.js';
import type { StoreTestEnvironment } from './setup.js';

const execute = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/qynpqc.js', import.meta.url));
const DATABASE = 'qynpqc_test_cli';
const BCRYPT_HASH = `$2a$10$${'N'.repeat(53)}`;

let environment: StoreTestEnvironment;
let db: Db;
let folder: string;
let pqc: PqcInstance;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function qynpqc(...args: string[]): Promise<Run> {
  return qynpqcAtLevel('warn', ...args);
}

async function qynpqcAtLevel(logLevel: string, ...args: string[]): Promise<Run> {
  return qynpqcIn(DATABASE, logLevel, ...args);
}

async function qynpqcIn(database: string, logLevel: string, ...args: string[]): Promise<Run> {
  const env = { ...process.env, MONGODB_URI: environment.server.uri };
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      [CLI, ...args, '--db', database, '--log-level', logLevel],
      { env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** A run of qynpqc that was stopped with SIGKILL unless it exited within the time limit. */
interface TimedRun extends Run {
  killed: boolean;
  elapsedMs: number;
}

/** Runs qynpqc with exactly `args` and kills it after `timeoutMs`, as a hung process needs. */
async function qynpqcWithin(timeoutMs: number, ...args: string[]): Promise<TimedRun> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args], {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    return { code: 0, stdout, stderr, killed: false, elapsedMs: Date.now() - started };
  } catch (error) {
    const failure = error as Run & { killed: boolean };
    return { ...failure, killed: failure.killed, elapsedMs: Date.now() - started };
  }
}

async function seedPortalUsers(): Promise<void> {
  const now = new Date();
  await db.collection('users').insertMany([
    { email: 'ada@example.com', password: BCRYPT_HASH, failedLoginAttempts: 0, lockUntil: null, lastLoginAt: null, createdAt: now, updatedAt: now, pqcKeyId: null },
    { email: 'bob+tag@example.company', password: BCRYPT_HASH, createdAt: now, updatedAt: now, qynAuthUserId: null },
    { email: 'carol@example.info', password: BCRYPT_HASH, createdAt: now, updatedAt: now },
  ]);
}

beforeAll(async () => {
  environment = await startStoreEnvironment();
  db = await environment.database('cli');
  folder = mkdtempSync(join(tmpdir(), 'qynpqc-store-cli-'));
  pqc = await loadPqc();
  await seedPortalUsers();
});

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await environment?.close();
});

describe('qynpqc database commands', () => {
  it('migrates up once and reports status', async () => {
    expect((await qynpqc('migrate', 'status')).stdout).toContain('pending  001-add-pqc-fields');

    const first = await qynpqc('migrate', 'up', '--backup', join(folder, 'before.jsonl'));
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('applied 001-add-pqc-fields');

    const second = await qynpqc('migrate', 'up');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing to apply');
    expect((await qynpqc('migrate', 'status')).stdout).toMatch(/^applied {2}001-add-pqc-fields/m);
  });

  it('validates against the backup taken before', async () => {
    const run = await qynpqc('validate', '--against', join(folder, 'before.jsonl'));

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('3 users checked, 0 rule violations');
    expect(run.stdout).toContain('users.pqcEnabled appeared');
    expect(run.stdout).toContain('0 differences elsewhere');
  });

  it('fails validation when a non-PQC field is lost', async () => {
    await db.collection('users').updateOne({ email: 'carol@example.info' }, { $unset: { password: '' } });
    const run = await qynpqc('validate', '--against', join(folder, 'before.jsonl'));
    await db.collection('users').updateOne({ email: 'carol@example.info' }, { $set: { password: BCRYPT_HASH } });

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/DIFFERS: .*password/);
  });

  it('rejects enroll without --out', async () => {
    const run = await qynpqc('enroll', '--email', 'ada@example.com');

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--out DIR');
    expect(run.stderr).toContain('[ERR_STORE_VALIDATION]');
    expect((await db.collection('users').findOne({ email: 'ada@example.com' }))?.pqcKeyId).toBeUndefined();
  });

  it('enrolls one user and writes importable key files', async () => {
    const out = join(folder, 'ada');
    const run = await qynpqc('enroll', '--email', 'ADA@example.com ', '--out', out);
    expect(run.code).toBe(0);

    const user = await db.collection('users').findOne({ email: 'ada@example.com' });
    const keyId = readFileSync(join(out, 'key-id'), 'utf8').trim();
    expect(user?.pqcKeyId).toBe(keyId);
    expect(statSync(join(out, 'kem-private.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(out, 'signature-private.pem')).mode & 0o777).toBe(0o600);

    const kem = pqc.kem('ML-KEM-768').importPrivateKey(readFileSync(join(out, 'kem-private.pem'), 'utf8'), 'pkcs8-pem');
    expect(Buffer.from(kem.publicKey).toString('base64')).toBe(user?.pqcPublicKey);
    const dsa = pqc.signature('ML-DSA-65');
    const signer = dsa.importPrivateKey(readFileSync(join(out, 'signature-private.pem'), 'utf8'), 'pkcs8-pem');
    const message = new TextEncoder().encode('login challenge');
    const signature = dsa.sign(message, signer.secretKey);
    expect(dsa.verify(message, signature, Buffer.from(user?.pqcSignaturePublicKey as string, 'base64'))).toBe(true);
  });

  it('rejects a second enrollment and rotates instead', async () => {
    const before = await db.collection('users').findOne({ email: 'ada@example.com' });
    const again = await qynpqc('enroll', '--email', 'ada@example.com', '--out', join(folder, 'ada-again'));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('[ERR_STORE_CONFLICT]');

    const rotated = await qynpqc('rotate', '--email', 'ada@example.com', '--out', join(folder, 'ada-rotated'));
    expect(rotated.code).toBe(0);
    const after = await db.collection('users').findOne({ email: 'ada@example.com' });
    expect(after?.pqcKeyId).not.toBe(before?.pqcKeyId);
    const retired = await db.collection('pqcKeys').findOne({ _id: before?.pqcKeyId });
    expect(retired?.status).toBe('retired');
  });

  it('enrolls every user without keys', async () => {
    const out = join(folder, 'bulk');
    const run = await qynpqc('enroll', '--all-missing', '--workers', '1', '--out', out);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('enrolled 2 of 2 users without keys');
    const withoutKeys = await db.collection('users').countDocuments({ pqcKeyId: { $not: { $type: 'string' } } });
    expect(withoutKeys).toBe(0);
    const bob = await db.collection('users').findOne({ email: 'bob+tag@example.company' });
    const keyId = readFileSync(join(out, bob?._id.toHexString() as string, 'key-id'), 'utf8').trim();
    expect(keyId).toBe(bob?.pqcKeyId);

    const rerun = await qynpqc('enroll', '--all-missing', '--workers', '1', '--discard-secret-keys');
    expect(rerun.stdout).toContain('enrolled 0 of 0 users without keys');
  });

  it('backs up and restores into an empty database only', async () => {
    const file = join(folder, 'enrolled.jsonl');
    expect((await qynpqc('backup', '--out', file)).code).toBe(0);

    const refused = await qynpqc('restore', '--in', file);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\[ERR_STORE_CONFLICT\]|\[ERR_STORE_VALIDATION\]/);
    expect(refused.stderr).toContain('or pass --replace to overwrite them');

    const before = await db.collection('users').find({}, { sort: { email: 1 } }).toArray();
    const replaced = await qynpqc('restore', '--in', file, '--replace');
    expect(replaced.code).toBe(0);
    const after = await db.collection('users').find({}, { sort: { email: 1 } }).toArray();
    expect(after).toEqual(before);
  });

  it('imports the former QynAuth users and reports each record', async () => {
    const file = join(folder, 'qynauth.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'qa-1', email: 'carol@example.info', passwordHash: BCRYPT_HASH },
        { id: 'qa-2', email: 'dave@example.org', passwordHash: BCRYPT_HASH, createdAt: '2025-01-02T03:04:05Z' },
        { id: 'qa-3', email: 'not an email', passwordHash: BCRYPT_HASH },
      ]),
    );

    const run = await qynpqc('import-users', file, '--report', join(folder, 'report.json'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('3 records');
    expect(run.stdout).toContain('1 created');
    expect(run.stdout).toContain('1 linked');
    expect(run.stdout).toContain('1 invalid');

    const report = JSON.parse(readFileSync(join(folder, 'report.json'), 'utf8')) as { outcomes: unknown[] };
    expect(report.outcomes).toHaveLength(3);
    expect((await db.collection('users').findOne({ email: 'carol@example.info' }))?.qynAuthUserId).toBe('qa-1');
    const dave = await db.collection('users').findOne({ email: 'dave@example.org' });
    expect(dave?.createdAt).toBeInstanceOf(Date);
  });

  it('reverts the migration and keeps the enrolled keys for the next up', async () => {
    const enrolled = await db.collection('users').find({}, { sort: { email: 1 } }).toArray();

    const down = await qynpqc('migrate', 'down');
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('reverted 001-add-pqc-fields');
    expect(await db.collection('users').countDocuments({ pqcKeyId: { $exists: true } })).toBe(0);

    expect((await qynpqc('migrate', 'up')).code).toBe(0);
    const restored = await db.collection('users').find({}, { sort: { email: 1 } }).toArray();
    expect(restored.map((user) => user.pqcKeyId)).toEqual(enrolled.map((user) => user.pqcKeyId));
    expect(restored.map((user) => user.pqcKeyGeneratedAt)).toEqual(enrolled.map((user) => user.pqcKeyGeneratedAt));
  });

  it('names the server and the fix when it cannot connect', async () => {
    const run: Run = await execute(process.execPath, [
      CLI,
      'migrate',
      'status',
      '--uri',
      'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300',
    ]).then(
      (output) => ({ code: 0, ...output }),
      (error: Run) => error,
    );

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no MongoDB server answered at mongodb://127.0.0.1:1/');
    expect(run.stderr).toContain('check --uri or MONGODB_URI');
    expect(run.stderr).toContain('[ERR_DATABASE]');
  });
});

describe('qynpqc enroll failures', () => {
  it('changes nothing when the key files cannot be written', async () => {
    await db.collection('users').insertOne({ email: 'erin@example.com', password: BCRYPT_HASH, createdAt: new Date() });
    const notAFolder = join(folder, 'erin-file');
    writeFileSync(notAFolder, 'a file where the output folder should be');

    const run = await qynpqc('enroll', '--email', 'erin@example.com', '--out', notAFolder);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`could not write the key files to ${notAFolder}`);
    expect(run.stderr).toContain('nothing was changed in the database');
    expect(run.stderr).toContain('Pass --out with a folder you can write to');
    const user = await db.collection('users').findOne({ email: 'erin@example.com' });
    expect(user?.pqcKeyId).toBeUndefined();
    expect(user?.pqcEnabled).not.toBe(true);
    expect(await db.collection('pqcKeys').countDocuments({ userId: user?._id })).toBe(0);
  });

  it('removes the key files when the database write fails', async () => {
    if (environment.server.external) return;
    const { insertedId } = await db
      .collection('users')
      .insertOne({ email: 'fred@example.com', password: BCRYPT_HASH, createdAt: new Date() });
    const out = join(folder, 'fred');
    // The user's write lease is held, so the command waits between writing its files and updating
    // the user; the server is stopped meanwhile.
    const leaseKey = `user:${insertedId.toHexString()}`;
    await db.collection('pqcLeases').insertOne({
      _id: `${leaseKey}:1` as never,
      key: leaseKey,
      generation: 1,
      owner: 'cli-test',
      acquiredAt: new Date(),
      expiresAt: new Date(Date.now() + 120_000),
    });

    const running = qynpqc(
      'enroll',
      '--email',
      'fred@example.com',
      '--out',
      out,
      '--uri',
      `${environment.server.uri}&serverSelectionTimeoutMS=1000`,
    );
    const deadline = Date.now() + 30_000;
    while (!(readdirSync(folder).includes('fred') && readdirSync(out).length >= 5)) {
      if (Date.now() > deadline) throw new Error('enroll wrote no key files within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(readdirSync(out).every((name) => name.endsWith('.tmp'))).toBe(true);
    await environment.server.kill();
    const run = await running;
    await environment.server.restart();

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('enroll of fred@example.com failed while writing to the database');
    expect(run.stderr).toContain('the key files were removed');
    expect(run.stderr).toContain('qynpqc rotate --email fred@example.com');
    expect(run.stderr).toContain('[ERR_DATABASE]');
    expect(readdirSync(out)).toEqual([]);
    const user = await db.collection('users').findOne({ _id: insertedId });
    expect(user?.pqcKeyId).toBeUndefined();
    expect(user?.pqcEnabled).not.toBe(true);
  });
});

describe('qynpqc enroll --all-missing with staged files', () => {
  it('settles key files a failed run staged', async () => {
    const settleDb = await environment.database('cli_settle');
    const run = (...args: string[]): Promise<Run> => qynpqcIn(settleDb.databaseName, 'warn', ...args);
    const out = join(folder, 'settle');
    const enrolledOut = join(folder, 'gina-keys');
    expect((await run('migrate', 'up')).code).toBe(0);
    await settleDb.collection('users').insertMany([
      { email: 'gina@example.com', password: BCRYPT_HASH, createdAt: new Date() },
      { email: 'hank@example.com', password: BCRYPT_HASH, createdAt: new Date() },
    ]);
    expect((await run('enroll', '--email', 'gina@example.com', '--out', enrolledOut)).code).toBe(0);
    const gina = await settleDb.collection('users').findOne({ email: 'gina@example.com' });
    const hank = await settleDb.collection('users').findOne({ email: 'hank@example.com' });
    const ginaFolder = join(out, gina!._id.toHexString());
    const hankFolder = join(out, hank!._id.toHexString());
    mkdirSync(ginaFolder, { recursive: true });
    mkdirSync(hankFolder, { recursive: true });
    // What a run killed after its database write leaves: gina's write landed, hank's did not.
    for (const name of readdirSync(enrolledOut)) {
      writeFileSync(join(ginaFolder, `.${name}.4242.0badc0de.tmp`), readFileSync(join(enrolledOut, name)));
    }
    writeFileSync(join(ginaFolder, '.key-id.4242.feedf00d.tmp'), 'a-key-id-that-lost-a-race\n');
    writeFileSync(join(ginaFolder, '.kem-private.pem.4242.feedf00d.tmp'), 'stale secret key\n');
    writeFileSync(join(hankFolder, '.key-id.4242.0badc0de.tmp'), 'a-key-id-never-stored\n');
    writeFileSync(join(hankFolder, '.kem-private.pem.4242.0badc0de.tmp'), 'stale secret key\n');

    const bulk = await run('enroll', '--all-missing', '--workers', '1', '--out', out);

    expect(bulk.code).toBe(0);
    expect(bulk.stdout).toContain('enrolled 1 of 1 users without keys');
    expect(readdirSync(ginaFolder).sort()).toEqual(readdirSync(enrolledOut).sort());
    expect(readFileSync(join(ginaFolder, 'key-id'), 'utf8').trim()).toBe(gina?.pqcKeyId);
    expect(readFileSync(join(ginaFolder, 'kem-private.pem'))).toEqual(
      readFileSync(join(enrolledOut, 'kem-private.pem')),
    );
    const hankAfter = await settleDb.collection('users').findOne({ _id: hank!._id });
    expect(typeof hankAfter?.pqcKeyId).toBe('string');
    expect(readdirSync(hankFolder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(join(hankFolder, 'key-id'), 'utf8').trim()).toBe(hankAfter?.pqcKeyId);
    expect(statSync(join(hankFolder, 'kem-private.pem')).mode & 0o777).toBe(0o600);
  });
});

describe('qynpqc enroll with existing key files', () => {
  it('rejects them without --force and replaces them with it', async () => {
    const filesDb = await environment.database('cli_files');
    const run = (...args: string[]): Promise<Run> => qynpqcIn(filesDb.databaseName, 'warn', ...args);
    expect((await run('migrate', 'up')).code).toBe(0);
    await filesDb.collection('users').insertOne({ email: 'ida@example.com', password: BCRYPT_HASH, createdAt: new Date() });
    const out = join(folder, 'ida-existing');
    mkdirSync(out);
    writeFileSync(join(out, 'kem-private.pem'), 'old secret key\n', { mode: 0o644 });
    const target = join(folder, 'ida-symlink-target.txt');
    writeFileSync(target, 'not a key\n', { mode: 0o644 });
    symlinkSync(target, join(out, 'signature-private.pem'));

    const refused = await run('enroll', '--email', 'ida@example.com', '--out', out);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${join(out, 'kem-private.pem')} already exists`);
    expect(refused.stderr).toContain('no keys were stored for ida@example.com');
    expect(refused.stderr).toContain('pass --force');
    expect((await filesDb.collection('users').findOne({ email: 'ida@example.com' }))?.pqcKeyId).toBeUndefined();
    expect(readFileSync(join(out, 'kem-private.pem'), 'utf8')).toBe('old secret key\n');
    expect(readdirSync(out).sort()).toEqual(['kem-private.pem', 'signature-private.pem']);

    const forced = await run('enroll', '--email', 'ida@example.com', '--out', out, '--force');

    expect(forced.code).toBe(0);
    const ida = await filesDb.collection('users').findOne({ email: 'ida@example.com' });
    expect(readFileSync(join(out, 'key-id'), 'utf8').trim()).toBe(ida?.pqcKeyId);
    expect(statSync(join(out, 'kem-private.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'kem-private.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(lstatSync(join(out, 'signature-private.pem')).isSymbolicLink()).toBe(false);
    expect(statSync(join(out, 'signature-private.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(target, 'utf8')).toBe('not a key\n');

    const rotated = await run('rotate', '--email', 'ida@example.com', '--out', out);
    expect(rotated.code).toBe(2);
    expect(rotated.stderr).toContain('already exists');
    expect((await filesDb.collection('users').findOne({ email: 'ida@example.com' }))?.pqcKeyId).toBe(ida?.pqcKeyId);
  });

  it('enroll --all-missing keeps existing key files', async () => {
    const filesDb = await environment.database('cli_files_bulk');
    const run = (...args: string[]): Promise<Run> => qynpqcIn(filesDb.databaseName, 'warn', ...args);
    expect((await run('migrate', 'up')).code).toBe(0);
    const { insertedId } = await filesDb
      .collection('users')
      .insertOne({ email: 'jon@example.com', password: BCRYPT_HASH, createdAt: new Date() });
    const jon = await filesDb.collection('users').findOne({ _id: insertedId });
    const out = join(folder, 'bulk-existing');
    const jonFolder = join(out, jon!._id.toHexString());
    mkdirSync(jonFolder, { recursive: true });
    writeFileSync(join(jonFolder, 'kem-private.pem'), 'old secret key\n', { mode: 0o644 });

    const refused = await run('enroll', '--all-missing', '--workers', '1', '--out', out);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${join(jonFolder, 'kem-private.pem')} already exists`);
    expect((await filesDb.collection('users').findOne({ _id: jon!._id }))?.pqcKeyId).toBeUndefined();
    expect(readdirSync(jonFolder)).toEqual(['kem-private.pem']);
    expect(readFileSync(join(jonFolder, 'kem-private.pem'), 'utf8')).toBe('old secret key\n');

    const forced = await run('enroll', '--all-missing', '--workers', '1', '--out', out, '--force');

    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('enrolled 1 of 1 users without keys');
    expect(statSync(join(jonFolder, 'kem-private.pem')).mode & 0o777).toBe(0o600);
    const keyId = readFileSync(join(jonFolder, 'key-id'), 'utf8').trim();
    expect((await filesDb.collection('users').findOne({ _id: jon!._id }))?.pqcKeyId).toBe(keyId);
  });

  it('rejects an empty --out', async () => {
    for (const args of [
      ['enroll', '--email', 'ada@example.com', '--out', ''],
      ['enroll', '--all-missing', '--out', ''],
      ['backup', '--out', ''],
    ]) {
      const run = await qynpqc(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain('--out must name a path, got ""');
    }
  });
});

describe('qynpqc validate with restore leftovers', () => {
  it('reports a staging collection', async () => {
    const leftovers = await environment.database('cli_leftovers');
    await leftovers.collection('restore_0badf00d_users').insertOne({ email: 'x@example.com', password: BCRYPT_HASH });

    const run = await qynpqcIn('qynpqc_test_cli_leftovers', 'warn', 'validate');

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('LEFTOVER: restore_0badf00d_users (1 documents) is the staging copy of users');
  });
});

describe('qynpqc option and error messages', () => {
  it('rejects counts that are not positive integers', async () => {
    const cases: Array<[string, string[], string]> = [
      ['--workers', ['enroll', '--all-missing', '--discard-secret-keys', '--workers', '0'], '"0"'],
      ['--workers', ['enroll', '--all-missing', '--discard-secret-keys', '--workers', 'four'], '"four"'],
      ['--batch-size', ['enroll', '--all-missing', '--discard-secret-keys', '--batch-size', '2.5'], '"2.5"'],
      ['--max-violations', ['validate', '--max-violations', '-1'], '"-1"'],
      ['--max-violations', ['validate', '--max-violations', 'many'], '"many"'],
      ['--steps', ['migrate', 'down', '--steps', '0'], '"0"'],
    ];
    await db.collection('users').insertOne({ email: 'gina@example.com', password: BCRYPT_HASH, createdAt: new Date() });

    for (const [option, args, value] of cases) {
      const run = await qynpqc(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(`${option} must be a positive integer, got ${value}; pass a whole number`);
      expect(run.stderr, args.join(' ')).toContain('[ERR_STORE_VALIDATION]');
    }
    expect((await db.collection('users').findOne({ email: 'gina@example.com' }))?.pqcKeyId).toBeUndefined();
    expect(await db.collection('pqcMigrations').countDocuments()).toBe(1);
  });

  it('explains an invalid --uri without its credentials', async () => {
    const cases: Array<[uri: string, reason: string]> = [
      ['not a uri', 'Invalid scheme'],
      ['mongodb://admin:s3cret-password@127.0.0.1:not-a-port/portal_dev', 'Unable to parse host'],
      ['mongodb://admin:s3cret-password@127.0.0.1:27017/portal_dev?tls=maybe', 'tls/ssl must be'],
    ];

    for (const [uri, reason] of cases) {
      const run = await qynpqc('validate', '--uri', uri);
      const lines = run.stderr.trim().split('\n');
      expect(run.code, uri).toBe(2);
      expect(lines, uri).toHaveLength(1);
      expect(lines[0], uri).toContain(`qynpqc: --uri is not a valid MongoDB connection string: ${reason}`);
      expect(lines[0], uri).toContain('of the form mongodb://HOST:PORT/DB');
      expect(lines[0], uri).not.toContain('s3cret-password');
      expect(lines[0], uri).not.toContain('failed unexpectedly');
    }
  });

  it('rejects invalid database names and exits', async () => {
    const uri = environment.server.uri;
    const withPath = uri.replace(/\/(\?|$)/, '/bad.name$1');
    expect(withPath).toContain('/bad.name');
    const out = join(folder, 'bad-database-keys');
    const cases: Array<[label: string, args: string[], value: string]> = [
      ['--db', ['migrate', 'status', '--uri', uri, '--db', 'bad.name'], '--db "bad.name"'],
      ['path', ['migrate', 'status', '--uri', withPath], 'the database name in --uri "bad.name"'],
      ['enroll', ['enroll', '--email', 'ada@example.com', '--out', out, '--uri', uri, '--db', 'bad.name'], '--db "bad.name"'],
      ['space', ['validate', '--uri', uri, '--db', 'bad name'], '--db "bad name"'],
      ['length', ['validate', '--uri', uri, '--db', 'd'.repeat(64)], `--db "${'d'.repeat(64)}"`],
    ];

    for (const [label, args, value] of cases) {
      const run = await qynpqcWithin(10_000, ...args);

      expect(run.killed, `${label} still running after 10 s`).toBe(false);
      expect(run.code, label).toBe(2);
      expect(run.elapsedMs, label).toBeLessThan(5_000);
      expect(run.stderr, label).toContain(`qynpqc: ${value} is not a valid database name`);
      expect(run.stderr, label).toContain('fewer than 64 bytes');
      expect(run.stderr, label).toContain('pass a name such as portal_dev');
      expect(run.stderr, label).not.toContain('failed unexpectedly');
    }
    expect(readdirSync(folder)).not.toContain('bad-database-keys');
  });

  it('exits when the server rejects the name', async () => {
    // FerretDB accepts fewer characters in database names than MongoDB, so it rejects this name
    // at the first command after the connection is open. A MongoDB server accepts it.
    const run = await qynpqcWithin(15_000, 'migrate', 'status', '--uri', environment.server.uri, '--db', 'caf\u00e9');

    expect(run.killed, 'still running after 15 s').toBe(false);
    if (environment.server.external) {
      expect(run.code).toBe(0);
      return;
    }
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Invalid namespace specified 'caf\u00e9.pqcMigrations'");
  });

  it('reports an unexpected error in one line', async () => {
    const directory = join(folder, 'not-a-snapshot');
    mkdirSync(directory);

    const run = await qynpqc('validate', '--against', directory);

    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`qynpqc: could not read ${directory}: it is a folder, not a file`);

    const loop = join(folder, 'symlink-loop');
    symlinkSync(loop, loop);
    const unexpected = await qynpqc('validate', '--against', loop);
    expect(unexpected.code).toBe(2);
    const unexpectedLines = unexpected.stderr.trim().split('\n');
    expect(unexpectedLines).toHaveLength(1);
    expect(unexpectedLines[0]).toContain('qynpqc: validate failed unexpectedly: Error: ELOOP');
    expect(unexpectedLines[0]).toContain('rerun with --log-level debug for details');

    const debug = await qynpqcAtLevel('debug', 'validate', '--against', directory);
    expect(debug.code).toBe(2);
    const failure = debug.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; err?: { stack?: string } })
      .find((entry) => entry.msg === 'command failed');
    expect(failure?.err?.stack).toContain('EISDIR');
  });
});
