// Runs the qynpqc command on real key files. Needs `npm run build` first.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execute = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/qynpqc.js', import.meta.url));
let folder: string;

async function qynpqc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [CLI, ...args]);
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
