/** Reads the gzip-compressed Wycheproof files under test/vectors/wycheproof for the key tests. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One test group; the key fields depend on the file type. */
export interface VectorGroup {
  publicKey?: string | null;
  publicKeyDer?: string | null;
  privateSeed?: string | null;
  privateKey?: string | null;
  privateKeyPkcs8?: string | null;
  parameterSet?: string;
  tests: Array<{ tcId: number | string; flags?: string[] | string; [field: string]: unknown }>;
}

/** A parsed Wycheproof file. */
export interface VectorFile {
  algorithm: string;
  testGroups: VectorGroup[];
}

/** Parses `test/vectors/wycheproof/<name>.json.gz`. */
export function readVectorFile(name: string): VectorFile {
  const url = new URL(`../vectors/wycheproof/${name}.json.gz`, import.meta.url);
  return JSON.parse(gunzipSync(readFileSync(url)).toString('utf8')) as VectorFile;
}

/** Decodes a hex string from a vector. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Encodes bytes as lowercase hex, for readable assertion failures. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
