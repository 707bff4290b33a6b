/** Loads the gzip-compressed Wycheproof files under test/vectors/wycheproof. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface WycheproofTest {
  tcId: number;
  comment?: string;
  flags?: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}

export interface WycheproofGroup {
  type: string;
  parameterSet?: string;
  tests: WycheproofTest[];
  [field: string]: unknown;
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadWycheproof(name: string): WycheproofFile {
  const url = new URL(`../vectors/wycheproof/${name}.json.gz`, import.meta.url);
  return JSON.parse(gunzipSync(readFileSync(url)).toString('utf8')) as WycheproofFile;
}

export function hex(value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new Error(`expected a hex string, got ${typeof value}`);
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Tallies how many vectors of one file ran, and which were not applicable and why. */
export class VectorTally {
  ran = 0;
  readonly notApplicable = new Map<string, number[]>();

  constructor(readonly file: string) {}

  skip(reason: string, tcId: number): void {
    const ids = this.notApplicable.get(reason) ?? [];
    ids.push(tcId);
    this.notApplicable.set(reason, ids);
  }

  report(): string {
    const skipped = [...this.notApplicable].map(([reason, ids]) => `${ids.length} not applicable (${reason})`);
    return [`${this.file}: ${this.ran} vectors ran`, ...skipped].join('; ');
  }
}
