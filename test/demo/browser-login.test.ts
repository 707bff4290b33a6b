// The demo page in headless Chromium against the real server and FerretDB: account, key
// generation in workers, signature login with the KEM second factor, the password fallback
// switch, replay and expiry of challenges, and what ends up in the database.
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPairId, loadPqc } from '../../src/index.js';
import type { PqcInstance } from '../../src/index.js';
import { launchDemoBrowser } from './chromium.js';
import type { DemoBrowser, PageReport } from './chromium.js';
import { answerChallenge, decryptRecord, DemoClient, errorCode, readKeyRecord } from './client.js';
import type { ChallengeBody, SecretKeys, StoredRecord } from './client.js';
import { databaseSnapshot, startTestDemo } from './setup.js';
import type { TestDemo } from './setup.js';

/** The screenshot in the docs, rewritten only when UPDATE_SCREENSHOT=1. */
const SCREENSHOT = fileURLToPath(new URL('../../docs/demo-login.png', import.meta.url));
/** The screenshot of the latest run, under the git-ignored .data folder. */
const LATEST_SCREENSHOT = fileURLToPath(
  new URL('../../.data/screenshots/demo-login.png', import.meta.url),
);
/** The first eight bytes of every PNG file. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const EMAIL = 'Ada.Lovelace+pqc@example.company';
const NORMALISED_EMAIL = 'ada.lovelace+pqc@example.company';
const PASSWORD = 'correct horse battery';
const PASSPHRASE = 'key passphrase 42';
/** Just over the two minutes a challenge lives. */
const PAST_CHALLENGE_TTL_MS = 2 * 60 * 1000 + 1000;

const EXPECTED_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

let testDemo: TestDemo;
let browser: DemoBrowser;
let page: Page;
let report: PageReport;
let pqc: PqcInstance;
let mainDocumentCsp: string | undefined;
let record: StoredRecord;
let secretKeys: SecretKeys;

async function findUser(): Promise<Document> {
  const user = await testDemo.demo.db.collection('users').findOne({ email: NORMALISED_EMAIL });
  expect(user).not.toBeNull();
  return user as Document;
}

async function sessionStatus(): Promise<string> {
  return (await page.locator('#session-status').textContent()) ?? '';
}

async function signOut(): Promise<void> {
  await page.click('#logout');
  await page.waitForSelector('body[data-signed-in="false"]');
}

/** Clicks `button` and waits until the action it started has finished. */
async function clickAndWait(button: string): Promise<void> {
  await page.click(button);
  await page.waitForSelector(`${button}:not([data-busy])`, { timeout: 60_000 });
}

async function stepStates(listId: string): Promise<string[]> {
  return page
    .locator(`#${listId} li`)
    .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset['state'] ?? ''));
}

/** Clicks Generate while the page's POST /api/keys carries keys the server rejects as too short. */
async function generateWithRejectedRegistration(): Promise<void> {
  const url = `${testDemo.origin}/api/keys`;
  const rejectedKeys = JSON.stringify({ kemPublicKey: 'AAAA', signaturePublicKey: 'AAAA' });
  await page.route(url, (route) => route.continue({ postData: rejectedKeys }));
  try {
    await page.fill('#key-passphrase', PASSPHRASE);
    await clickAndWait('#generate');
  } finally {
    await page.unroute(url);
  }
}

async function signInWithSignature(passphrase: string): Promise<void> {
  await page.selectOption('#login-account', NORMALISED_EMAIL);
  await page.fill('#login-passphrase', passphrase);
  await clickAndWait('#signature-login');
}

beforeAll(async () => {
  [testDemo, pqc] = await Promise.all([startTestDemo(), loadPqc()]);
  browser = await launchDemoBrowser();
  browser.context.on('response', (response) => {
    if (response.url() === `${testDemo.origin}/`) {
      mainDocumentCsp = response.headers()['content-security-policy'];
    }
  });
  ({ page, report } = await browser.open(`${testDemo.origin}/`));
  await page.waitForSelector('body[data-ready="true"]');
});

afterAll(async () => {
  await browser?.close();
  await testDemo?.stop();
});

describe('demo page in Chromium', () => {
  it('serves page under strict CSP', () => {
    expect(mainDocumentCsp).toBe(EXPECTED_CSP);
    expect(report.cspViolations).toEqual([]);
    expect(report.errors).toEqual([]);
  });

  it('creates account and signs in', async () => {
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await clickAndWait('#create-account');
    await page.waitForSelector('body[data-signed-in="true"]');

    expect(await sessionStatus()).toContain(`Signed in as ${NORMALISED_EMAIL}`);
    const user = await findUser();
    expect(user['password']).toMatch(/^\$2[aby]\$/);
    expect(user['classicalFallback']).toBe(true);
    expect(user['pqcKeyId']).toBeUndefined();
  });

  it('registers no keys when saving fails', async () => {
    await page.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      (globalThis as unknown as { restorePut: () => void }).restorePut = () => {
        IDBObjectStore.prototype.put = put;
      };
      IDBObjectStore.prototype.put = () => {
        throw new DOMException('storage quota exceeded in the test', 'QuotaExceededError');
      };
    });
    try {
      await page.fill('#key-passphrase', PASSPHRASE);
      await clickAndWait('#generate');
    } finally {
      await page.evaluate(() => (globalThis as unknown as { restorePut: () => void }).restorePut());
    }

    expect((await findUser())['pqcKeyId']).toBeUndefined();
    expect(await testDemo.demo.db.collection('pqcKeys').countDocuments()).toBe(0);
    expect(await readKeyRecord(page, NORMALISED_EMAIL)).toBeNull();
    expect(await page.locator('#keys-error').textContent()).toContain(
      'storage quota exceeded in the test',
    );
    expect(await stepStates('keygen-steps')).toEqual([
      'done',
      'done',
      'done',
      'done',
      'failed',
      'pending',
    ]);
  });

  it('deletes saved keys when registration fails', async () => {
    await generateWithRejectedRegistration();

    expect(await page.locator('#keys-error').textContent()).toContain('ERR_INVALID_LENGTH');
    expect(await stepStates('keygen-steps')).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
      'failed',
    ]);
    expect(await readKeyRecord(page, NORMALISED_EMAIL)).toBeNull();
    expect((await findUser())['pqcKeyId']).toBeUndefined();
  });

  it('registers keys generated in workers', async () => {
    await page.fill('#key-passphrase', PASSPHRASE);
    await clickAndWait('#generate');

    expect(await stepStates('keygen-steps')).toEqual(Array(6).fill('done'));
    const times = await page.locator('#keygen-steps .time').allTextContents();
    for (const time of times) {
      expect(time).toMatch(/^\d+\.\d ms$/);
    }
    const stored = await readKeyRecord(page, NORMALISED_EMAIL);
    expect(stored).not.toBeNull();
    record = stored as StoredRecord;

    const user = await findUser();
    expect(user['pqcPublicKey']).toBe(Buffer.from(record.kemPublicKey).toString('base64'));
    expect(user['pqcSignaturePublicKey']).toBe(
      Buffer.from(record.signaturePublicKey).toString('base64'),
    );
    expect(user['pqcEnabled']).toBe(true);
    expect(user['pqcKeyId']).toBe(record.keyId);
    expect(user['pqcKeyId']).toBe(
      keyPairId(
        { algorithm: 'ML-KEM-768', publicKey: record.kemPublicKey },
        { algorithm: 'ML-DSA-65', publicKey: record.signaturePublicKey },
      ),
    );
    expect(await page.locator('#key-id').textContent()).toBe(record.keyId);

    const history = await testDemo.demo.db
      .collection('pqcKeys')
      .find({ userId: user['_id'] })
      .toArray();
    expect(history).toHaveLength(1);
    expect(history[0]?.['_id']).toBe(record.keyId);
    expect(history[0]?.['status']).toBe('current');
    const migrations = await testDemo.demo.db.collection('pqcMigrations').find({}).toArray();
    expect(migrations.map((entry) => entry['_id'])).toEqual(['001-add-pqc-fields']);
  });

  it('keeps old keys when rotation fails', async () => {
    await generateWithRejectedRegistration();

    expect(await page.locator('#keys-error').textContent()).toContain('ERR_INVALID_LENGTH');
    const stored = await readKeyRecord(page, NORMALISED_EMAIL);
    expect(stored?.keyId).toBe(record.keyId);
    expect(stored?.ciphertext).toEqual(record.ciphertext);
    expect(stored?.iv).toEqual(record.iv);
    expect((await findUser())['pqcKeyId']).toBe(record.keyId);
  });

  it('keeps secret keys in browser', async () => {
    expect(record.iterations).toBe(600_000);
    expect(record.ciphertext.length).toBe(2400 + 4032 + 16);
    secretKeys = await decryptRecord(record, PASSPHRASE);

    const message = new TextEncoder().encode('possession check');
    const signature = pqc.signature('ML-DSA-65').sign(message, secretKeys.signatureSecretKey);
    expect(pqc.signature('ML-DSA-65').verify(message, signature, record.signaturePublicKey)).toBe(
      true,
    );
    const { ciphertext, sharedSecret } = pqc.kem('ML-KEM-768').encapsulate(record.kemPublicKey);
    expect(pqc.kem('ML-KEM-768').decapsulate(ciphertext, secretKeys.kemSecretKey)).toEqual(
      sharedSecret,
    );

    const user = await findUser();
    for (const field of Object.keys(user)) {
      expect(field).not.toMatch(/secret|private/i);
    }
    const documentBytes = Buffer.from(BSON.serialize(user));
    for (const secret of [secretKeys.kemSecretKey, secretKeys.signatureSecretKey]) {
      expect(documentBytes.includes(Buffer.from(secret))).toBe(false);
      expect(documentBytes.includes(Buffer.from(Buffer.from(secret).toString('base64')))).toBe(
        false,
      );
    }
  });

  it('signs in by signature', async () => {
    await signOut();
    const answers: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/login/signature')) answers.push(request.postData() ?? '');
    });

    await signInWithSignature(PASSPHRASE);

    expect(await stepStates('login-steps')).toEqual(Array(5).fill('done'));
    expect(await sessionStatus()).toBe(`Signed in as ${NORMALISED_EMAIL}`);
    expect(await page.locator('#session-method').textContent()).toBe('ML-DSA-65 + ML-KEM-768');
    const cookie = (await browser.context.cookies()).find((entry) => entry.name === 'qyn_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    const user = await findUser();
    expect(user['lastLoginAt']).toBeInstanceOf(Date);
    const sessions = await testDemo.demo.db
      .collection('demoSessions')
      .find({ method: 'signature' })
      .toArray();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.['_id']).not.toBe(cookie?.value);

    await mkdir(dirname(LATEST_SCREENSHOT), { recursive: true });
    await rm(LATEST_SCREENSHOT, { force: true });
    await page.screenshot({ path: LATEST_SCREENSHOT, fullPage: true });
    console.info(`screenshot after signature login: ${LATEST_SCREENSHOT}`);
    if (process.env['UPDATE_SCREENSHOT'] === '1') {
      await copyFile(LATEST_SCREENSHOT, SCREENSHOT);
      console.info(`updated ${SCREENSHOT}`);
    }
    const png = await readFile(LATEST_SCREENSHOT);
    expect([...png.subarray(0, PNG_SIGNATURE.length)]).toEqual(PNG_SIGNATURE);

    // The page's own response, sent again, finds its challenge already consumed.
    expect(answers).toHaveLength(1);
    const beforeReplay = await databaseSnapshot(testDemo.demo.db);
    const replay = await new DemoClient(testDemo.origin).send(
      'POST',
      '/api/login/signature',
      answers[0],
    );
    expect(replay.status).toBe(401);
    expect(errorCode(replay)).toBe('ERR_CHALLENGE_NOT_FOUND');
    expect(replay.setCookie).toBeNull();
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(beforeReplay);
  });

  it('rejects wrong key passphrase', async () => {
    await signOut();
    await signInWithSignature('not the passphrase');

    expect(await stepStates('login-steps')).toEqual([
      'failed',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    expect(await page.locator('#login-error').textContent()).toContain('passphrase is wrong');
    expect(await sessionStatus()).toBe('Not signed in');
  });

  it('rejects password while fallback off', async () => {
    await signInWithSignature(PASSPHRASE);
    await page.uncheck('#classical-fallback');
    await page.waitForFunction(() =>
      document.getElementById('fallback-status')?.textContent?.includes('refused'),
    );
    expect((await findUser())['classicalFallback']).toBe(false);

    await signOut();
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await clickAndWait('#password-login');
    await page.waitForSelector('#account-error:not([hidden])');
    expect(await page.locator('#account-error').textContent()).toContain(
      'ERR_PASSWORD_LOGIN_DISABLED',
    );
    expect(await sessionStatus()).toBe('Not signed in');

    await signInWithSignature(PASSPHRASE);
    await page.check('#classical-fallback');
    await page.waitForFunction(() =>
      document.getElementById('fallback-status')?.textContent?.includes('allowed'),
    );
    expect((await findUser())['classicalFallback']).toBe(true);

    await signOut();
    await clickAndWait('#password-login');
    await page.waitForSelector('body[data-signed-in="true"]');
    expect(await page.locator('#session-method').textContent()).toBe('Password');
  });

  it('rejects expired challenge', async () => {
    const client = new DemoClient(testDemo.origin);
    const issued = await client.send('POST', '/api/login/challenge', { email: EMAIL });
    expect(issued.status).toBe(200);
    const answer = answerChallenge(pqc, issued.body as unknown as ChallengeBody, secretKeys);

    testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
    const beforeLate = await databaseSnapshot(testDemo.demo.db);
    const late = await client.send('POST', '/api/login/signature', answer);
    expect(late.status).toBe(401);
    expect(errorCode(late)).toBe('ERR_CHALLENGE_EXPIRED');
    // Rejecting an expired challenge writes nothing, so it stays expired until a sweep.
    const again = await client.send('POST', '/api/login/signature', answer);
    expect(again.status).toBe(401);
    expect(errorCode(again)).toBe('ERR_CHALLENGE_EXPIRED');
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(beforeLate);

    // Issuing a challenge sweeps the expired one.
    const fresh = await client.send('POST', '/api/login/challenge', { email: EMAIL });
    const afterSweep = await client.send('POST', '/api/login/signature', answer);
    expect(errorCode(afterSweep)).toBe('ERR_CHALLENGE_NOT_FOUND');
    const accepted = await client.send(
      'POST',
      '/api/login/signature',
      answerChallenge(pqc, fresh.body as unknown as ChallengeBody, secretKeys),
    );
    expect(accepted.status).toBe(200);
    expect(accepted.setCookie).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('rejects wrong signature, context, proof', async () => {
    const client = new DemoClient(testDemo.origin);
    const failuresBefore = (await findUser())['failedLoginAttempts'] as unknown;
    const cases: {
      name: string;
      code: string;
      change: (answer: Record<string, string>) => void;
      context?: Uint8Array;
    }[] = [
      {
        name: 'flipped signature bit',
        code: 'ERR_SIGNATURE_INVALID',
        change: (answer) => {
          const bytes = Buffer.from(answer['signature'] as string, 'base64');
          bytes[100] = (bytes[100] as number) ^ 1;
          answer['signature'] = bytes.toString('base64');
        },
      },
      {
        name: 'other context',
        code: 'ERR_SIGNATURE_INVALID',
        change: () => {},
        context: new TextEncoder().encode('qynauth-login-v2'),
      },
      {
        name: 'wrong KEM proof',
        code: 'ERR_KEM_PROOF_INVALID',
        change: (answer) => {
          answer['kemProof'] = Buffer.alloc(32, 7).toString('base64');
        },
      },
    ];

    for (const testCase of cases) {
      const issued = await client.send('POST', '/api/login/challenge', { email: EMAIL });
      const answer: Record<string, string> = answerChallenge(
        pqc,
        issued.body as unknown as ChallengeBody,
        secretKeys,
        testCase.context,
      );
      testCase.change(answer);

      const response = await client.send('POST', '/api/login/signature', answer);
      expect(response.status, testCase.name).toBe(401);
      expect(errorCode(response), testCase.name).toBe(testCase.code);
      expect(response.setCookie, testCase.name).toBeNull();
    }
    // Nobody can guess a signature, so wrong answers do not count toward the lockout.
    expect((await findUser())['failedLoginAttempts']).toBe(failuresBefore);
  });

  it('keeps one key pair across two tabs', async () => {
    await signOut();
    await signInWithSignature(PASSPHRASE);
    const second = await browser.open(`${testDemo.origin}/`);
    await second.page.waitForSelector('body[data-ready="true"]');
    const url = `${testDemo.origin}/api/keys`;
    let markHeld: () => void = () => {};
    const held = new Promise<void>((resolve) => (markHeld = resolve));
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    // The second tab's registration waits until the first tab has registered its keys.
    await second.page.route(url, async (route) => {
      markHeld();
      await released;
      await route.continue();
    });

    try {
      await second.page.fill('#key-passphrase', PASSPHRASE);
      await second.page.click('#generate');
      await held;
      await page.fill('#key-passphrase', PASSPHRASE);
      await clickAndWait('#generate');
      const winner = await readKeyRecord(page, NORMALISED_EMAIL);
      expect(winner?.keyId).not.toBe(record.keyId);
      release();
      await second.page.waitForSelector('#generate:not([data-busy])', { timeout: 60_000 });

      const error = (await second.page.locator('#keys-error').textContent()) ?? '';
      expect(error).toContain('another tab or device changed the keys');
      expect(error).toContain('ERR_STORE_CONFLICT');
      const stored = await readKeyRecord(page, NORMALISED_EMAIL);
      expect(stored?.keyId).toBe(winner?.keyId);
      const user = await findUser();
      expect(user['pqcKeyId']).toBe(winner?.keyId);
      expect(user['pqcPublicKey']).toBe(Buffer.from(stored!.kemPublicKey).toString('base64'));
      const history = await testDemo.demo.db
        .collection('pqcKeys')
        .find({ userId: user['_id'], status: 'current' })
        .toArray();
      expect(history.map((entry) => entry['_id'])).toEqual([winner?.keyId]);
      expect(await second.page.locator('#key-id').textContent()).toBe(winner?.keyId);

      record = stored as StoredRecord;
      secretKeys = await decryptRecord(record, PASSPHRASE);
    } finally {
      release();
      await second.page.close();
    }
  });

  it('wrong passphrases open no challenge', async () => {
    await signOut();
    const challenges = testDemo.demo.db.collection('loginChallenges');
    const before = await challenges.countDocuments({ email: NORMALISED_EMAIL });
    const requested: string[] = [];
    const onRequest = (request: { url(): string }): void => {
      if (request.url().endsWith('/api/login/challenge')) requested.push(request.url());
    };
    page.on('request', onRequest);

    try {
      for (let attempt = 0; attempt < 6; attempt += 1) {
        await signInWithSignature(`mistyped passphrase ${attempt}`);
        expect(await page.locator('#login-error').textContent(), `attempt ${attempt}`).toContain(
          'passphrase is wrong',
        );
      }
      expect(requested).toEqual([]);
      expect(await challenges.countDocuments({ email: NORMALISED_EMAIL })).toBe(before);

      await signInWithSignature(PASSPHRASE);
    } finally {
      page.off('request', onRequest);
    }

    expect(await stepStates('login-steps')).toEqual(Array(5).fill('done'));
    expect(await sessionStatus()).toBe(`Signed in as ${NORMALISED_EMAIL}`);
    expect(requested).toHaveLength(1);
  });

  it('logs no secrets', () => {
    const log = testDemo.logLines.join('\n');
    expect(log).toContain('session opened');
    for (const secret of [PASSWORD, PASSPHRASE]) {
      expect(log).not.toContain(secret);
    }
    for (const secret of [secretKeys.kemSecretKey, secretKeys.signatureSecretKey]) {
      expect(log).not.toContain(Buffer.from(secret).toString('base64').slice(0, 64));
    }
    expect(report.cspViolations).toEqual([]);
    expect(report.errors.filter((error) => !error.includes('status of 4'))).toEqual([]);
  });

  it('detects injected inline script', async () => {
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'document.title = "inline script ran";';
      document.body.append(script);
    });

    await expect.poll(() => report.cspViolations.length).toBeGreaterThan(0);
    expect(report.cspViolations.join('\n')).toContain('script-src');
    expect(await page.title()).not.toBe('inline script ran');
  });
});
