/** The key-pair commands: keygen, encapsulate, decapsulate, sign and verify. */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { KEM_ALGORITHMS, SIGNATURE_ALGORITHMS } from '../core/types.js';
import type { KemAlgorithm, SignatureAlgorithm } from '../core/types.js';
import { isKemAlgorithm } from '../core/algorithms.js';
import type { MlKem } from '../core/kem.js';
import { loadPqc } from '../core/pqc.js';
import { InvalidLengthError } from '../errors.js';
import type { MlDsa } from '../core/signature.js';
import { CommandError } from './command-error.js';
import {
  decodeBase64,
  encodeBase64,
  nonEmptyPath,
  readBase64File,
  readFileBytes,
  readTextFile,
  writeTextFile,
  writeTextFiles,
} from './files.js';

const ALL = [...KEM_ALGORITHMS, ...SIGNATURE_ALGORITHMS];

/** Reads a public key file: PEM SubjectPublicKeyInfo, or base64 of the raw key. */
async function readPublicKey(algorithm: MlKem | MlDsa, path: string): Promise<Uint8Array> {
  const text = await readTextFile(path);
  return text.trimStart().startsWith('-----BEGIN')
    ? algorithm.importPublicKey(text, 'spki-pem')
    : decodeBase64(text, path);
}

/**
 * Reads a secret key file: PEM PKCS#8 in any of its forms, or base64 of the expanded key. A
 * base64 file of the seed's length throws `InvalidLengthError` that says to pass secret.key.
 */
async function readSecretKey(algorithm: MlKem | MlDsa, path: string): Promise<Uint8Array> {
  const text = await readTextFile(path);
  if (!text.trimStart().startsWith('-----BEGIN')) {
    const secretKey = decodeBase64(text, path);
    if (secretKey.length === algorithm.seedLength && secretKey.length !== algorithm.secretKeyLength) {
      secretKey.fill(0);
      throw seedInsteadOfSecretKeyError(algorithm, path);
    }
    return secretKey;
  }
  const imported = algorithm.importPrivateKey(text, 'pkcs8-pem');
  imported.seed?.fill(0);
  return imported.secretKey;
}

/** Returns the length error for a seed file passed where the expanded secret key belongs. */
function seedInsteadOfSecretKeyError(algorithm: MlKem | MlDsa, path: string): InvalidLengthError {
  const error = new InvalidLengthError(
    'secretKey',
    algorithm.name,
    algorithm.secretKeyLength,
    algorithm.seedLength,
  );
  error.message +=
    `: ${path} has the length of a ${algorithm.name} seed, as in seed.key from qynpqc keygen; ` +
    'pass the expanded secret key secret.key, or a PKCS#8 PEM file';
  return error;
}

function algorithmOption(defaultName: string, choices: readonly string[]): Option {
  return new Option('-a, --alg <name>', 'algorithm').choices(choices).default(defaultName);
}

function forceOption(): Option {
  return new Option('--force', 'replace output files that already exist instead of stopping');
}

/** Reads the context of `--context` or `--context-file`; throws `CommandError` when both are given. */
async function readContext(options: { context?: string; contextFile?: string }): Promise<Uint8Array | undefined> {
  if (options.context !== undefined && options.contextFile !== undefined) {
    throw new CommandError(
      'both --context and --context-file were given; pass only one of them, because a signature ' +
        'has a single context',
    );
  }
  if (options.contextFile !== undefined) return await readFileBytes(options.contextFile);
  if (options.context !== undefined) return new TextEncoder().encode(options.context);
  return undefined;
}

export function registerCoreCommands(program: Command): void {
  program
    .command('keygen')
    .description('generate a key pair and write it as base64 files: public.key, secret.key, seed.key')
    .addOption(algorithmOption('ML-KEM-768', ALL))
    .requiredOption(
      '-o, --out <dir>',
      'folder to write the key files to (created if missing)',
      nonEmptyPath('--out'),
    )
    .addOption(forceOption())
    .addOption(
      new Option('-f, --format <format>', 'base64 raw keys, or PEM (SPKI public.pem, PKCS#8 seed private.pem)')
        .choices(['base64', 'pem'])
        .default('base64'),
    )
    .action(async (options: { alg: string; out: string; format: 'base64' | 'pem'; force?: boolean }) => {
      const pqc = await loadPqc();
      const algorithm = isKemAlgorithm(options.alg)
        ? pqc.kem(options.alg)
        : pqc.signature(options.alg as SignatureAlgorithm);
      const keys = algorithm.keygen();
      const files: Array<[name: string, text: string, secret: boolean]> =
        options.format === 'pem'
          ? [
              ['public.pem', algorithm.exportPublicKey(keys.publicKey, 'spki-pem'), false],
              ['private.pem', algorithm.exportPrivateKey(keys, 'pkcs8-pem'), true],
            ]
          : [
              ['public.key', encodeBase64(keys.publicKey), false],
              ['secret.key', encodeBase64(keys.secretKey), true],
              ['seed.key', encodeBase64(keys.seed), true],
            ];
      keys.secretKey.fill(0);
      keys.seed.fill(0);

      await writeTextFiles(
        files.map(([name, text, secret]) => ({ path: join(options.out, name), text, secret })),
        { force: options.force === true },
      );
      const written = files.map(([name]) => name).join(', ');
      console.log(`wrote ${options.alg} key pair to ${options.out} (${written})`);
    });

  program
    .command('encapsulate')
    .description('encapsulate to a public key; writes ciphertext.key and shared-secret.key')
    .addOption(algorithmOption('ML-KEM-768', KEM_ALGORITHMS))
    .requiredOption('-p, --public-key <file>', 'public key file: base64 raw key or PEM')
    .requiredOption(
      '-o, --out <dir>',
      'folder to write ciphertext.key and shared-secret.key to',
      nonEmptyPath('--out'),
    )
    .addOption(forceOption())
    .action(async (options: { alg: KemAlgorithm; publicKey: string; out: string; force?: boolean }) => {
      const kem = (await loadPqc()).kem(options.alg);
      const { ciphertext, sharedSecret } = kem.encapsulate(await readPublicKey(kem, options.publicKey));
      const files = [
        { path: join(options.out, 'ciphertext.key'), text: encodeBase64(ciphertext), secret: false },
        { path: join(options.out, 'shared-secret.key'), text: encodeBase64(sharedSecret), secret: true },
      ];
      sharedSecret.fill(0);
      await writeTextFiles(files, { force: options.force === true });
      console.log(`wrote ciphertext.key and shared-secret.key to ${options.out}`);
    });

  program
    .command('decapsulate')
    .description('decapsulate a ciphertext; prints the base64 shared secret, or writes it with --out')
    .addOption(algorithmOption('ML-KEM-768', KEM_ALGORITHMS))
    .requiredOption('-s, --secret-key <file>', 'secret key file: base64 expanded key or PEM PKCS#8')
    .requiredOption('-c, --ciphertext <file>', 'base64 ciphertext file')
    .option(
      '-o, --out <file>',
      'file to write the base64 shared secret to, readable by the owner only',
      nonEmptyPath('--out'),
    )
    .addOption(forceOption())
    .action(
      async (options: {
        alg: KemAlgorithm;
        secretKey: string;
        ciphertext: string;
        out?: string;
        force?: boolean;
      }) => {
        const kem = (await loadPqc()).kem(options.alg);
        const secretKey = await readSecretKey(kem, options.secretKey);
        const sharedSecret = kem.decapsulate(await readBase64File(options.ciphertext), secretKey);
        secretKey.fill(0);
        const encoded = encodeBase64(sharedSecret);
        sharedSecret.fill(0);
        if (options.out === undefined) {
          console.log(encoded);
        } else {
          await writeTextFile(options.out, encoded, true, { force: options.force === true });
        }
      },
    );

  program
    .command('sign')
    .description('sign a file; writes the base64 signature')
    .addOption(algorithmOption('ML-DSA-65', SIGNATURE_ALGORITHMS))
    .requiredOption('-s, --secret-key <file>', 'secret key file: base64 expanded key or PEM PKCS#8')
    .requiredOption('-m, --message <file>', 'file to sign (any bytes)')
    .requiredOption('-o, --out <file>', 'file to write the base64 signature to', nonEmptyPath('--out'))
    .addOption(forceOption())
    .option('--context <text>', 'FIPS 204 context string, UTF-8, at most 255 bytes')
    .option('--context-file <file>', 'FIPS 204 context string as raw bytes from a file')
    .option('--deterministic', 'use the deterministic variant (rnd = 32 zero bytes)')
    .action(
      async (options: {
        alg: SignatureAlgorithm;
        secretKey: string;
        message: string;
        out: string;
        context?: string;
        contextFile?: string;
        deterministic?: boolean;
        force?: boolean;
      }) => {
        const context = await readContext(options);
        const dsa = (await loadPqc()).signature(options.alg);
        const secretKey = await readSecretKey(dsa, options.secretKey);
        const signature = dsa.sign(await readFileBytes(options.message), secretKey, {
          context,
          randomness: options.deterministic ? new Uint8Array(32) : undefined,
        });
        secretKey.fill(0);
        await writeTextFile(options.out, encodeBase64(signature), false, { force: options.force === true });
        console.log(`wrote ${options.alg} signature to ${options.out}`);
      },
    );

  program
    .command('verify')
    .description('verify a signature; prints "valid" (exit 0) or "invalid" (exit 1)')
    .addOption(algorithmOption('ML-DSA-65', SIGNATURE_ALGORITHMS))
    .requiredOption('-p, --public-key <file>', 'public key file: base64 raw key or PEM')
    .requiredOption('-m, --message <file>', 'file that was signed')
    .requiredOption('-S, --signature <file>', 'base64 signature file')
    .option('--context <text>', 'FIPS 204 context string, UTF-8, at most 255 bytes')
    .option('--context-file <file>', 'FIPS 204 context string as raw bytes from a file')
    .action(
      async (options: {
        alg: SignatureAlgorithm;
        publicKey: string;
        message: string;
        signature: string;
        context?: string;
        contextFile?: string;
      }) => {
        const context = await readContext(options);
        const dsa = (await loadPqc()).signature(options.alg);
        const valid = dsa.verify(
          await readFileBytes(options.message),
          await readBase64File(options.signature),
          await readPublicKey(dsa, options.publicKey),
          { context },
        );
        console.log(valid ? 'valid' : 'invalid');
        process.exitCode = valid ? 0 : 1;
      },
    );
}
