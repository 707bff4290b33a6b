/** Reading and writing the base64 key files the CLI works on. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidEncodingError } from '../errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes strict base64 (whitespace allowed between characters) from `text`. */
export function decodeBase64(text: string, source: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new InvalidEncodingError(
      `${source} is not valid base64; expected the output of "qynpqc keygen" or another base64 file`,
    );
  }
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Reads a base64 file and decodes it. */
export async function readBase64File(path: string): Promise<Uint8Array> {
  return decodeBase64(await readFile(path, 'utf8'), path);
}

/** Writes `text` to `path`, creating its folder; `secret` files are readable by the owner only. */
export async function writeTextFile(path: string, text: string, secret: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text.endsWith('\n') ? text : `${text}\n`, { mode: secret ? 0o600 : 0o644 });
}
