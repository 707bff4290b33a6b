// The browser build in headless Chromium: dist/browser/index.js loaded from a plain module
// script starts module Web Workers from dist/browser/pool-worker.js, and every value they return
// equals the in-thread core's for the same seeds. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPqc } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';
import { launchChromium, openPage, startStaticServer } from './harness.js';
import type { StaticServer } from './harness.js';

const BROWSER_BUILD = fileURLToPath(new URL('../../dist/browser', import.meta.url));
const PAGES = fileURLToPath(new URL('./pages', import.meta.url));

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const pattern = (length: number, start: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

interface PageResult {
  liboqsVersion: string;
  size: number;
  workersBeforeClose: number;
  workersAfterClose: number;
  kemPublicKey: string;
  kemSecretKey: string;
  ciphertext: string;
  sharedSecret: string;
  decapsulated: string;
  batchPublicKeys: string[];
  signaturePublicKey: string;
  signature: string;
  verified: boolean;
  tamperedVerified: boolean;
  resultsOwnTheirBuffers: boolean;
  error?: {
    name: string;
    code: string;
    message: string;
    isInvalidLengthError: boolean;
    isPqcError: boolean;
  };
}

let server: StaticServer;
let browser: Browser;
let pqc: PqcInstance;

beforeAll(async () => {
  for (const file of ['index.js', 'pool-worker.js', 'qynpqc.wasm']) {
    if (!existsSync(`${BROWSER_BUILD}/${file}`)) {
      throw new Error(
        `dist/browser/${file} is missing; run npm run build before the browser tests`,
      );
    }
  }
  [server, browser, pqc] = await Promise.all([
    startStaticServer({ '/': BROWSER_BUILD, '/pages/': PAGES }),
    launchChromium(),
    loadPqc(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('browser build', () => {
  it('runs the pool in module workers with the core results', async () => {
    const { page, errors } = await openPage(browser, `${server.url}/pages/pool.html`, server.url);
    const result = (await page.evaluate('window.poolResult')) as PageResult;
    await page.close();

    const kem = pqc.kem('ML-KEM-768');
    const kemPair = kem.keygen(pattern(64, 1));
    const encapsulation = kem.encapsulate(kemPair.publicKey, pattern(32, 2));
    const scheme = pqc.signature('ML-DSA-65');
    const signer = scheme.keygen(pattern(32, 3));
    const message = new TextEncoder().encode('signed in a browser worker');
    const context = new TextEncoder().encode('browser test');
    const signature = scheme.sign(message, signer.secretKey, {
      context,
      randomness: pattern(32, 4),
    });

    expect(errors).toEqual([]);
    expect(result.liboqsVersion).toBe(pqc.liboqsVersion);
    expect(result.size).toBe(2);
    expect(result.workersBeforeClose).toBe(2);
    expect(result.workersAfterClose).toBe(0);
    expect(result.kemPublicKey).toBe(toHex(kemPair.publicKey));
    expect(result.kemSecretKey).toBe(toHex(kemPair.secretKey));
    expect(result.ciphertext).toBe(toHex(encapsulation.ciphertext));
    expect(result.sharedSecret).toBe(toHex(encapsulation.sharedSecret));
    expect(result.decapsulated).toBe(toHex(encapsulation.sharedSecret));
    expect(result.batchPublicKeys).toEqual(
      [10, 20, 30].map((start) => toHex(kem.keygen(pattern(64, start)).publicKey)),
    );
    expect(result.signaturePublicKey).toBe(toHex(signer.publicKey));
    expect(result.signature).toBe(toHex(signature));
    expect(result.verified).toBe(true);
    expect(result.tamperedVerified).toBe(false);
    expect(result.resultsOwnTheirBuffers).toBe(true);
    expect(result.error).toEqual({
      name: 'InvalidLengthError',
      code: 'ERR_INVALID_LENGTH',
      message: 'ciphertext must be 1088 bytes for ML-KEM-768, got 10',
      isInvalidLengthError: true,
      isPqcError: true,
    });
  });
});
