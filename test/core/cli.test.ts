// Runs the qynpqc command on real key files. Needs `npm run build` first.
import { execFile } from 'node:child_process';
import {
  existsSync,
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execute = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/qynpqc.js', import.meta.url));
let folder: string;

async function qynpqc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return qynpqcIn(process.cwd(), ...args);
}

async function qynpqcIn(
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'qynpqc-cli-'));
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('qynpqc', () => {
  it('round-trips ML-KEM-768 through key files', async () => {
    expect((await qynpqc('keygen', '--alg', 'ML-KEM-768', '--out', join(folder, 'kem'))).code).toBe(0);
    expect(statSync(join(folder, 'kem', 'secret.key')).mode & 0o777).toBe(0o600);
    const encapsulated = await qynpqc(
      'encapsulate', '--public-key', join(folder, 'kem', 'public.key'), '--out', join(folder, 'enc'),
    );
    expect(encapsulated.code).toBe(0);
    const decapsulated = await qynpqc(
      'decapsulate', '--secret-key', join(folder, 'kem', 'secret.key'),
      '--ciphertext', join(folder, 'enc', 'ciphertext.key'),
    );
    expect(decapsulated.code).toBe(0);
    expect(decapsulated.stdout.trim()).toBe(readFileSync(join(folder, 'enc', 'shared-secret.key'), 'utf8').trim());
  });

  it('signs and verifies ML-DSA-65 with a context', async () => {
    await qynpqc('keygen', '--alg', 'ML-DSA-65', '--out', join(folder, 'dsa'));
    writeFileSync(join(folder, 'message.txt'), 'transfer 10 units');
    const signed = await qynpqc(
      'sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', join(folder, 'message.txt'),
      '-o', join(folder, 'message.sig'), '--context', 'payments',
    );
    expect(signed.code).toBe(0);
    const verify = (...extra: string[]) =>
      qynpqc('verify', '-p', join(folder, 'dsa', 'public.key'), '-m', join(folder, 'message.txt'),
        '-S', join(folder, 'message.sig'), ...extra);
    expect(await verify('--context', 'payments')).toMatchObject({ code: 0, stdout: 'valid\n' });
    expect(await verify()).toMatchObject({ code: 1, stdout: 'invalid\n' });
  });

  it('rejects --context with --context-file', async () => {
    writeFileSync(join(folder, 'context.bin'), 'payments');
    writeFileSync(join(folder, 'context-message.txt'), 'transfer 10 units');
    const both = ['--context', 'other', '--context-file', join(folder, 'context.bin')];
    const signature = join(folder, 'context-message.sig');

    const signed = await qynpqc(
      'sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', join(folder, 'context-message.txt'),
      '-o', signature, ...both,
    );
    expect(signed.code).toBe(2);
    expect(signed.stderr).toContain('both --context and --context-file were given; pass only one');
    expect(existsSync(signature)).toBe(false);

    expect(
      (await qynpqc(
        'sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', join(folder, 'context-message.txt'),
        '-o', signature, '--context-file', join(folder, 'context.bin'),
      )).code,
    ).toBe(0);
    const verified = await qynpqc(
      'verify', '-p', join(folder, 'dsa', 'public.key'), '-m', join(folder, 'context-message.txt'),
      '-S', signature, ...both,
    );
    expect(verified.code).toBe(2);
    expect(verified.stdout).toBe('');
    expect(verified.stderr).toContain('both --context and --context-file were given; pass only one');
  });

  it('explains bad input and exits non-zero', async () => {
    writeFileSync(join(folder, 'not-base64.key'), 'this is not base64!');
    const broken = await qynpqc('encapsulate', '-p', join(folder, 'not-base64.key'), '-o', folder);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('is not valid base64');
    const wrongKey = await qynpqc('encapsulate', '-p', join(folder, 'dsa', 'public.key'), '-o', folder);
    expect(wrongKey.stderr).toContain('publicKey must be 1184 bytes for ML-KEM-768, got 1952');
    const missing = await qynpqc('decapsulate', '-s', join(folder, 'nope.key'), '-c', join(folder, 'nope'));
    expect(missing.stderr).toContain('file not found');
    const help = await qynpqc('sign', '--help');
    expect(help.stdout).toContain('--context <text>');
  });
});

describe('qynpqc error messages', () => {
  it('explains file system errors in one line', async () => {
    const file = join(folder, 'a-file');
    writeFileSync(file, 'a file where a folder should be');
    const existingFolder = join(folder, 'a-folder');
    mkdirSync(existingFolder);
    const cases: Array<[args: string[], message: string]> = [
      [['keygen', '--out', file], `could not create the folder ${file}: ${file} is a file; pass a folder path`],
      [
        ['keygen', '--out', join(file, 'keys')],
        `could not create the folder ${join(file, 'keys')}: a folder in the path is a file`,
      ],
      [
        ['sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', existingFolder, '-o', join(folder, 'folder.sig')],
        `could not read ${existingFolder}: it is a folder, not a file; pass the path of a file`,
      ],
      [
        ['sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', join(folder, 'message.txt'), '-o', existingFolder, '--force'],
        `could not replace ${existingFolder}: it is a folder, not a file`,
      ],
    ];

    for (const [args, message] of cases) {
      const run = await qynpqc(...args);
      const lines = run.stderr.trim().split('\n');
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toContain(`qynpqc: ${message}`);
      expect(lines[0], args.join(' ')).not.toContain('failed unexpectedly');
    }
    expect(readdirSync(existingFolder)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('explains permission denied', async () => {
    const readOnly = join(folder, 'read-only');
    mkdirSync(readOnly, { mode: 0o500 });

    const run = await qynpqc('keygen', '--out', join(readOnly, 'keys'));

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`qynpqc: permission denied: could not create the folder ${join(readOnly, 'keys')}`);
    expect(run.stderr).toContain('check the permissions');
  });

  it('names a seed passed as secret key', async () => {
    const kemSeed = await qynpqc(
      'decapsulate', '-s', join(folder, 'kem', 'seed.key'), '-c', join(folder, 'enc', 'ciphertext.key'),
    );
    expect(kemSeed.code).toBe(2);
    expect(kemSeed.stderr).toContain('secretKey must be 2400 bytes for ML-KEM-768, got 64');
    expect(kemSeed.stderr).toContain(`${join(folder, 'kem', 'seed.key')} has the length of a ML-KEM-768 seed`);
    expect(kemSeed.stderr).toContain('pass the expanded secret key secret.key');
    expect(kemSeed.stderr).toContain('[ERR_INVALID_LENGTH]');

    const dsaSeed = await qynpqc(
      'sign', '--alg', 'ML-DSA-65', '-s', join(folder, 'dsa', 'seed.key'), '-m', join(folder, 'message.txt'),
      '-o', join(folder, 'seed.sig'),
    );
    expect(dsaSeed.code).toBe(2);
    expect(dsaSeed.stderr).toContain('secretKey must be 4032 bytes for ML-DSA-65, got 32');
    expect(dsaSeed.stderr).toContain('has the length of a ML-DSA-65 seed');
    expect(existsSync(join(folder, 'seed.sig'))).toBe(false);

    const wrongLength = join(folder, 'short.key');
    writeFileSync(wrongLength, Buffer.alloc(65).toString('base64'));
    const short = await qynpqc(
      'decapsulate', '-s', wrongLength, '-c', join(folder, 'enc', 'ciphertext.key'),
    );
    expect(short.stderr).toContain('secretKey must be 2400 bytes for ML-KEM-768, got 65');
    expect(short.stderr).not.toContain('seed');
  });
});

describe('qynpqc PEM keys', () => {
  it('writes SPKI and PKCS#8 seed PEM files that the other commands read', async () => {
    const out = join(folder, 'pem');
    expect((await qynpqc('keygen', '--alg', 'ML-DSA-65', '--format', 'pem', '--out', out)).code).toBe(0);
    const publicPem = readFileSync(join(out, 'public.pem'), 'utf8');
    const privatePem = readFileSync(join(out, 'private.pem'), 'utf8');
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(join(out, 'private.pem')).mode & 0o777).toBe(0o600);

    writeFileSync(join(folder, 'pem-message.txt'), 'signed with a PEM key');
    const signed = await qynpqc(
      'sign', '-s', join(out, 'private.pem'), '-m', join(folder, 'pem-message.txt'), '-o', join(folder, 'pem.sig'),
    );
    expect(signed.code).toBe(0);
    const verified = await qynpqc(
      'verify', '-p', join(out, 'public.pem'), '-m', join(folder, 'pem-message.txt'), '-S', join(folder, 'pem.sig'),
    );
    expect(verified).toMatchObject({ code: 0, stdout: 'valid\n' });
  });

  it('round-trips ML-KEM-768 PEM keys', async () => {
    const out = join(folder, 'kem-pem');
    await qynpqc('keygen', '--alg', 'ML-KEM-768', '--format', 'pem', '--out', out);
    await qynpqc('encapsulate', '-p', join(out, 'public.pem'), '-o', join(folder, 'kem-pem-enc'));
    const decapsulated = await qynpqc(
      'decapsulate', '-s', join(out, 'private.pem'), '-c', join(folder, 'kem-pem-enc', 'ciphertext.key'),
    );
    expect(decapsulated.code).toBe(0);
    expect(decapsulated.stdout.trim()).toBe(
      readFileSync(join(folder, 'kem-pem-enc', 'shared-secret.key'), 'utf8').trim(),
    );
  });
});

/** Creates `path` with `text` and mode 0644, the way an earlier run or another tool leaves it. */
function plantFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o644 });
  expect(statSync(path).mode & 0o777).toBe(0o644);
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('qynpqc output files', () => {
  it('keygen rejects existing 0644 secret keys', async () => {
    const out = join(folder, 'existing-keys');
    mkdirSync(out);
    plantFile(join(out, 'secret.key'), 'old secret key\n');
    plantFile(join(out, 'seed.key'), 'old seed\n');

    const refused = await qynpqc('keygen', '--out', out);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${join(out, 'secret.key')} already exists`);
    expect(refused.stderr).toContain('pass --force to replace it, or pick another --out');
    expect(readFileSync(join(out, 'secret.key'), 'utf8')).toBe('old secret key\n');
    expect(readFileSync(join(out, 'seed.key'), 'utf8')).toBe('old seed\n');
    expect(existsSync(join(out, 'public.key'))).toBe(false);
  });

  it('keygen --force replaces them with mode 0600', async () => {
    const out = join(folder, 'forced-keys');
    mkdirSync(out);
    plantFile(join(out, 'secret.key'), 'old secret key\n');
    plantFile(join(out, 'seed.key'), 'old seed\n');

    const forced = await qynpqc('keygen', '--out', out, '--force');

    expect(forced.code).toBe(0);
    expect(mode(join(out, 'secret.key'))).toBe(0o600);
    expect(mode(join(out, 'seed.key'))).toBe(0o600);
    expect(readFileSync(join(out, 'secret.key'), 'utf8')).not.toContain('old');
    expect(readFileSync(join(out, 'seed.key'), 'utf8')).not.toContain('old');
    expect(readdirSync(out).sort()).toEqual(['public.key', 'secret.key', 'seed.key']);
  });

  it('keygen keeps the keys of an earlier run', async () => {
    for (const format of ['base64', 'pem']) {
      const out = join(folder, `second-${format}`);
      expect((await qynpqc('keygen', '--format', format, '--out', out)).code).toBe(0);
      const before = Object.fromEntries(
        readdirSync(out).map((name) => [name, readFileSync(join(out, name), 'utf8')]),
      );

      const second = await qynpqc('keygen', '--format', format, '--out', out);

      expect(second.code, format).toBe(2);
      expect(second.stderr, format).toContain('already exists');
      for (const [name, text] of Object.entries(before)) {
        expect(readFileSync(join(out, name), 'utf8'), `${format} ${name}`).toBe(text);
      }
    }
  });

  it('keygen does not follow a symlinked secret key', async () => {
    const out = join(folder, 'symlinked-keys');
    mkdirSync(out);
    const target = join(folder, 'symlink-target.txt');
    writeFileSync(target, 'not a key\n', { mode: 0o644 });
    symlinkSync(target, join(out, 'secret.key'));

    const refused = await qynpqc('keygen', '--out', out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${join(out, 'secret.key')} already exists`);
    expect(readFileSync(target, 'utf8')).toBe('not a key\n');

    const forced = await qynpqc('keygen', '--out', out, '--force');
    expect(forced.code).toBe(0);
    expect(lstatSync(join(out, 'secret.key')).isSymbolicLink()).toBe(false);
    expect(mode(join(out, 'secret.key'))).toBe(0o600);
    expect(readFileSync(target, 'utf8')).toBe('not a key\n');
    expect(mode(target)).toBe(0o644);
  });

  it('decapsulate --out rejects an existing shared secret file', async () => {
    const keys = join(folder, 'decapsulate-keys');
    const encapsulated = join(folder, 'decapsulate-enc');
    expect((await qynpqc('keygen', '--out', keys)).code).toBe(0);
    expect((await qynpqc('encapsulate', '-p', join(keys, 'public.key'), '-o', encapsulated)).code).toBe(0);
    const out = join(folder, 'ss.txt');
    plantFile(out, 'old shared secret\n');
    const decapsulate = (...extra: string[]) =>
      qynpqc('decapsulate', '-s', join(keys, 'secret.key'), '-c', join(encapsulated, 'ciphertext.key'), ...extra);

    const refused = await decapsulate('--out', out);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${out} already exists; pass --force`);
    expect(readFileSync(out, 'utf8')).toBe('old shared secret\n');
    expect(mode(out)).toBe(0o644);

    const forced = await decapsulate('--out', out, '--force');
    expect(forced.code).toBe(0);
    expect(mode(out)).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(encapsulated, 'shared-secret.key'), 'utf8'));
  });

  it('encapsulate and sign reject existing outputs', async () => {
    const keys = join(folder, 'outputs-keys');
    expect((await qynpqc('keygen', '--alg', 'ML-DSA-65', '--out', keys)).code).toBe(0);
    const kemKeys = join(folder, 'outputs-kem-keys');
    expect((await qynpqc('keygen', '--out', kemKeys)).code).toBe(0);
    const encapsulated = join(folder, 'outputs-enc');
    mkdirSync(encapsulated);
    plantFile(join(encapsulated, 'shared-secret.key'), 'old shared secret\n');
    const signature = join(folder, 'outputs.sig');
    plantFile(signature, 'old signature\n');
    writeFileSync(join(folder, 'outputs-message.txt'), 'message');

    const encapsulate = await qynpqc('encapsulate', '-p', join(kemKeys, 'public.key'), '-o', encapsulated);
    expect(encapsulate.code).toBe(2);
    expect(encapsulate.stderr).toContain(`${join(encapsulated, 'shared-secret.key')} already exists`);
    expect(existsSync(join(encapsulated, 'ciphertext.key'))).toBe(false);
    expect(readFileSync(join(encapsulated, 'shared-secret.key'), 'utf8')).toBe('old shared secret\n');

    const sign = await qynpqc(
      'sign', '-s', join(keys, 'secret.key'), '-m', join(folder, 'outputs-message.txt'), '-o', signature,
    );
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain(`${signature} already exists`);
    expect(readFileSync(signature, 'utf8')).toBe('old signature\n');

    const forced = await qynpqc(
      'encapsulate', '-p', join(kemKeys, 'public.key'), '-o', encapsulated, '--force',
    );
    expect(forced.code).toBe(0);
    expect(mode(join(encapsulated, 'shared-secret.key'))).toBe(0o600);
  });

  it('rejects an empty --out', async () => {
    const cwd = join(folder, 'empty-out-cwd');
    mkdirSync(cwd);
    writeFileSync(join(folder, 'empty-out-message.txt'), 'message');
    const cases = [
      ['keygen', '--out', ''],
      ['encapsulate', '-p', join(folder, 'kem', 'public.key'), '--out', ''],
      ['sign', '-s', join(folder, 'dsa', 'secret.key'), '-m', join(folder, 'empty-out-message.txt'), '--out', ''],
    ];

    for (const args of cases) {
      const run = await qynpqcIn(cwd, ...args);
      expect(run.code, args[0]).toBe(2);
      expect(run.stderr, args[0]).toContain('--out must name a path, got ""');
    }
    expect(readdirSync(cwd)).toEqual([]);
  });
});
