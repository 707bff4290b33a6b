// The demo's JSON API over plain HTTP against the real server and FerretDB: every kind of bad
// input gets a 4xx `{ error: { code, message } }` and leaves the database as it was, and the
// challenge, lockout and session rules hold.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPEN_CHALLENGES } from '../../demo/server/challenges.js';
import { loadPqc } from '../../src/index.js';
import type { KeyPair, PqcInstance } from '../../src/index.js';
import { answerChallenge, DemoClient, errorCode } from './client.js';
import type { ApiResponse, ChallengeBody, SecretKeys } from './client.js';
import { databaseSnapshot, startTestDemo } from './setup.js';
import type { TestDemo } from './setup.js';

const EMAIL = 'grace@example.org';
const PASSWORD = 'hopper-compiler-1952';
/** Just over the two minutes a challenge lives. */
const PAST_CHALLENGE_TTL_MS = 2 * 60 * 1000 + 1000;
/** A body just over the server's 64 KiB cap. */
const OVERSIZED_BODY = JSON.stringify({ email: EMAIL, padding: 'x'.repeat(70 * 1024) });

let testDemo: TestDemo;
let pqc: PqcInstance;
let client: DemoClient;
let kemKeys: KeyPair;
let signatureKeys: KeyPair;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function secretKeysOf(kem: KeyPair, signature: KeyPair): SecretKeys {
  return { kemSecretKey: kem.secretKey, signatureSecretKey: signature.secretKey };
}

async function issueChallenge(): Promise<ChallengeBody> {
  const response = await new DemoClient(testDemo.origin).send('POST', '/api/login/challenge', {
    email: EMAIL,
  });
  expect(response.status).toBe(200);
  return response.body as unknown as ChallengeBody;
}

/** Signs in to `email` by signature with the given key pairs and returns the signed-in client. */
async function signInBySignature(
  email: string,
  kem: KeyPair,
  signature: KeyPair,
): Promise<DemoClient> {
  const signedIn = new DemoClient(testDemo.origin);
  const issued = await signedIn.send('POST', '/api/login/challenge', { email });
  expect(issued.status, `challenge for ${email}`).toBe(200);
  const answer = answerChallenge(
    pqc,
    issued.body as unknown as ChallengeBody,
    secretKeysOf(kem, signature),
  );
  const login = await signedIn.send('POST', '/api/login/signature', answer);
  expect(login.status, `signature login of ${email}`).toBe(200);
  return signedIn;
}

function expectError(response: ApiResponse, status: number, code: string, label: string): void {
  expect(response.status, label).toBe(status);
  expect(errorCode(response), label).toBe(code);
  const message = (response.body['error'] as { message?: unknown } | undefined)?.message;
  expect(typeof message, label).toBe('string');
  expect((message as string).length, label).toBeGreaterThan(10);
}

/** Sends a raw request path, which fetch would normalise. */
function getRawPath(path: string): Promise<number> {
  const { hostname, port } = new URL(testDemo.origin);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

/** A response read off a raw socket: status code and body text. */
interface RawResponse {
  status: number;
  body: string;
}

/**
 * Writes `text` to a plain TCP connection to the test server and reads the response until the
 * server closes the connection. Sends bytes that fetch and node:http would refuse to send.
 */
function sendRawRequest(text: string): Promise<RawResponse> {
  const { hostname, port } = new URL(testDemo.origin);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error('no response within 5 seconds')));
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const statusLine = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
      const separator = raw.indexOf('\r\n\r\n');
      resolve({
        status: statusLine === null ? 0 : Number(statusLine[1]),
        body: separator === -1 ? '' : raw.slice(separator + 4),
      });
    });
  });
}

/** Returns the log lines whose message is `message`, parsed. */
function logEntries(message: string): Record<string, unknown>[] {
  return testDemo.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry['msg'] === message);
}

beforeAll(async () => {
  [testDemo, pqc] = await Promise.all([startTestDemo(), loadPqc()]);
  kemKeys = pqc.kem('ML-KEM-768').keygen();
  signatureKeys = pqc.signature('ML-DSA-65').keygen();

  client = new DemoClient(testDemo.origin);
  const created = await client.send('POST', '/api/accounts', { email: EMAIL, password: PASSWORD });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await testDemo?.stop();
});

describe('demo API input checks', () => {
  it('rejects disabling fallback without keys', async () => {
    const before = await databaseSnapshot(testDemo.demo.db);

    const response = await client.send('PUT', '/api/account/classical-fallback', {
      enabled: false,
    });

    expectError(response, 409, 'ERR_NO_PQC_KEYS', 'fallback off without keys');
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('registers valid keys over HTTP', async () => {
    const response = await client.send('POST', '/api/keys', {
      kemPublicKey: base64(kemKeys.publicKey),
      signaturePublicKey: base64(signatureKeys.publicKey),
    });

    expect(response.status).toBe(200);
    const user = await testDemo.demo.db.collection('users').findOne({ email: EMAIL });
    expect(user?.['pqcPublicKey']).toBe(base64(kemKeys.publicKey));
    expect(user?.['pqcSignaturePublicKey']).toBe(base64(signatureKeys.publicKey));
    expect(user?.['pqcKeyId']).toBe((response.body['user'] as { pqcKeyId: string }).pqcKeyId);
  });

  it('rejects bad input and writes nothing', async () => {
    const validKem = base64(kemKeys.publicKey);
    const validSignature = base64(signatureKeys.publicKey);
    const outOfRange = Uint8Array.from(kemKeys.publicKey);
    outOfRange[0] = 0xff;
    outOfRange[1] = 0xff;
    const challengeId = 'A'.repeat(43);
    const signature = base64(new Uint8Array(3309));
    const kemProof = base64(new Uint8Array(32));
    const anonymous = new DemoClient(testDemo.origin);
    const forged = new DemoClient(testDemo.origin);
    forged.cookie = `qyn_session=${'A'.repeat(43)}`;

    const cases: {
      label: string;
      as?: DemoClient;
      method?: string;
      path: string;
      body: unknown;
      headers?: Record<string, string>;
      status: number;
      code: string;
    }[] = [
      {
        label: 'truncated JSON',
        path: '/api/accounts',
        body: '{"email":',
        status: 400,
        code: 'ERR_INVALID_JSON',
      },
      {
        label: 'JSON array',
        path: '/api/accounts',
        body: '[]',
        status: 400,
        code: 'ERR_INVALID_JSON',
      },
      {
        label: 'form encoding',
        path: '/api/accounts',
        body: 'email=a%40b.org',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'ERR_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        label: 'missing password',
        path: '/api/accounts',
        body: { email: 'new@example.org' },
        status: 400,
        code: 'ERR_MISSING_FIELD',
      },
      {
        label: 'numeric email',
        path: '/api/accounts',
        body: { email: 42, password: PASSWORD },
        status: 400,
        code: 'ERR_INVALID_FIELD',
      },
      {
        label: 'short password',
        path: '/api/accounts',
        body: { email: 'new@example.org', password: 'short' },
        status: 400,
        code: 'ERR_INVALID_PASSWORD',
      },
      {
        label: 'password over 72 bytes',
        path: '/api/accounts',
        body: { email: 'new@example.org', password: 'é'.repeat(37) },
        status: 400,
        code: 'ERR_INVALID_PASSWORD',
      },
      {
        label: 'four-emoji password',
        path: '/api/accounts',
        body: { email: 'new@example.org', password: '\u{1F600}'.repeat(4) },
        status: 400,
        code: 'ERR_INVALID_PASSWORD',
      },
      ...[
        ['lone surrogate', 'new\ud800@example.org'],
        ['U+FFFD', 'new\ufffd@example.org'],
        ['control character', 'new\u0007@example.org'],
        ['zero-width space', 'new\u200b@example.org'],
        ['right-to-left override', 'new\u202e@example.org'],
      ].map(([name, email]) => ({
        label: `email with ${name}`,
        path: '/api/accounts',
        body: `{"email":${JSON.stringify(email)},"password":${JSON.stringify(PASSWORD)}}`,
        status: 400,
        code: 'ERR_INVALID_EMAIL',
      })),
      {
        label: 'email without domain dot',
        path: '/api/accounts',
        body: { email: 'root@localhost', password: PASSWORD },
        status: 400,
        code: 'ERR_STORE_VALIDATION',
      },
      {
        label: 'taken email',
        path: '/api/accounts',
        body: { email: ' GRACE@example.org ', password: PASSWORD },
        status: 409,
        code: 'ERR_STORE_CONFLICT',
      },
      {
        label: 'oversized sign-up',
        path: '/api/accounts',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'oversized challenge',
        path: '/api/login/challenge',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'oversized keys',
        path: '/api/keys',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'truncated JSON at password login',
        path: '/api/login/password',
        body: '{"email":',
        status: 400,
        code: 'ERR_INVALID_JSON',
      },
      {
        label: 'JSON null at password login',
        path: '/api/login/password',
        body: 'null',
        status: 400,
        code: 'ERR_INVALID_JSON',
      },
      {
        label: 'password login without password',
        path: '/api/login/password',
        body: { email: EMAIL },
        status: 400,
        code: 'ERR_MISSING_FIELD',
      },
      {
        label: 'password login without email',
        path: '/api/login/password',
        body: { password: PASSWORD },
        status: 400,
        code: 'ERR_MISSING_FIELD',
      },
      {
        label: 'numeric password at login',
        path: '/api/login/password',
        body: { email: EMAIL, password: 12345678 },
        status: 400,
        code: 'ERR_INVALID_FIELD',
      },
      {
        label: 'email array at password login',
        path: '/api/login/password',
        body: { email: [EMAIL], password: PASSWORD },
        status: 400,
        code: 'ERR_INVALID_FIELD',
      },
      {
        label: 'oversized password login',
        path: '/api/login/password',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'oversized signature login',
        path: '/api/login/signature',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'oversized fallback change',
        method: 'PUT',
        path: '/api/account/classical-fallback',
        body: OVERSIZED_BODY,
        status: 413,
        code: 'ERR_BODY_TOO_LARGE',
      },
      {
        label: 'keys without session',
        as: anonymous,
        path: '/api/keys',
        body: { kemPublicKey: validKem, signaturePublicKey: validSignature },
        status: 401,
        code: 'ERR_NOT_SIGNED_IN',
      },
      {
        label: 'keys with forged session',
        as: forged,
        path: '/api/keys',
        body: { kemPublicKey: validKem, signaturePublicKey: validSignature },
        status: 401,
        code: 'ERR_NOT_SIGNED_IN',
      },
      {
        label: 'non-base64 key',
        path: '/api/keys',
        body: { kemPublicKey: '@@@@', signaturePublicKey: validSignature },
        status: 400,
        code: 'ERR_INVALID_BASE64',
      },
      {
        label: 'unpadded base64 key',
        path: '/api/keys',
        body: {
          kemPublicKey: validKem,
          signaturePublicKey: validSignature.replace(/=+$/, ''),
        },
        status: 400,
        code: 'ERR_INVALID_BASE64',
      },
      {
        label: 'base64url key',
        path: '/api/keys',
        body: {
          kemPublicKey: validKem.replace(/\+/g, '-').replace(/\//g, '_'),
          signaturePublicKey: validSignature,
        },
        status: 400,
        code: 'ERR_INVALID_BASE64',
      },
      {
        label: 'short KEM key',
        path: '/api/keys',
        body: {
          kemPublicKey: base64(kemKeys.publicKey.subarray(1)),
          signaturePublicKey: validSignature,
        },
        status: 400,
        code: 'ERR_INVALID_LENGTH',
      },
      {
        label: 'long signature key',
        path: '/api/keys',
        body: {
          kemPublicKey: validKem,
          signaturePublicKey: base64(new Uint8Array([...signatureKeys.publicKey, 0])),
        },
        status: 400,
        code: 'ERR_INVALID_LENGTH',
      },
      {
        label: 'numeric replacesKeyId',
        path: '/api/keys',
        body: { kemPublicKey: validKem, signaturePublicKey: validSignature, replacesKeyId: 7 },
        status: 400,
        code: 'ERR_INVALID_FIELD',
      },
      {
        label: 'KEM key over the modulus',
        path: '/api/keys',
        body: { kemPublicKey: base64(outOfRange), signaturePublicKey: validSignature },
        status: 400,
        code: 'ERR_INVALID_PUBLIC_KEY',
      },
      {
        label: 'challenge for unknown email',
        path: '/api/login/challenge',
        body: { email: 'nobody@example.org' },
        status: 404,
        code: 'ERR_NO_PQC_KEYS',
      },
      {
        label: 'challenge id with bad characters',
        path: '/api/login/signature',
        body: { challengeId: `${'A'.repeat(42)}=`, signature, kemProof },
        status: 400,
        code: 'ERR_INVALID_ID',
      },
      {
        label: 'short signature',
        path: '/api/login/signature',
        body: { challengeId, signature: base64(new Uint8Array(3308)), kemProof },
        status: 400,
        code: 'ERR_INVALID_LENGTH',
      },
      {
        label: 'malformed KEM proof',
        path: '/api/login/signature',
        body: { challengeId, signature, kemProof: 'not base64!' },
        status: 400,
        code: 'ERR_INVALID_BASE64',
      },
      {
        label: 'unknown challenge',
        path: '/api/login/signature',
        body: { challengeId, signature, kemProof },
        status: 401,
        code: 'ERR_CHALLENGE_NOT_FOUND',
      },
      {
        label: 'fallback as string',
        method: 'PUT',
        path: '/api/account/classical-fallback',
        body: { enabled: 'no' },
        status: 400,
        code: 'ERR_INVALID_FIELD',
      },
      {
        label: 'fallback without session',
        as: anonymous,
        method: 'PUT',
        path: '/api/account/classical-fallback',
        body: { enabled: false },
        status: 401,
        code: 'ERR_NOT_SIGNED_IN',
      },
      {
        label: 'unknown endpoint',
        method: 'GET',
        path: '/api/users',
        body: undefined,
        status: 404,
        code: 'ERR_NOT_FOUND',
      },
      {
        label: 'wrong method',
        method: 'DELETE',
        path: '/api/keys',
        body: undefined,
        status: 405,
        code: 'ERR_METHOD_NOT_ALLOWED',
      },
    ];

    // The unpadded case relies on a 1952-byte key, whose base64 form ends in one '='.
    expect(validSignature.endsWith('=')).toBe(true);
    const before = await databaseSnapshot(testDemo.demo.db);
    for (const testCase of cases) {
      const sender = testCase.as ?? client;
      const response = await sender.send(
        testCase.method ?? 'POST',
        testCase.path,
        testCase.body,
        testCase.headers,
      );

      expectError(response, testCase.status, testCase.code, testCase.label);
      expect(response.setCookie, testCase.label).toBeNull();
    }
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('rejects degenerate public keys', async () => {
    const email = 'degenerate@example.org';
    const owner = new DemoClient(testDemo.origin);
    expect((await owner.send('POST', '/api/accounts', { email, password: PASSWORD })).status).toBe(
      201,
    );
    const kem = pqc.kem('ML-KEM-768').keygen().publicKey;
    const signature = pqc.signature('ML-DSA-65').keygen().publicKey;
    // ML-KEM-768: 1152 bytes of t̂, then ρ. ML-DSA-65: ρ, then 1920 bytes of t1.
    const zeroKem = Uint8Array.from(kem);
    zeroKem.fill(0, 0, kem.length - 32);
    const zeroSignature = Uint8Array.from(signature);
    zeroSignature.fill(0, 32);
    const before = await databaseSnapshot(testDemo.demo.db);

    for (const [label, field, body] of [
      ['zero t̂', 'kemPublicKey', { kemPublicKey: zeroKem, signaturePublicKey: signature }],
      ['zero t1', 'signaturePublicKey', { kemPublicKey: kem, signaturePublicKey: zeroSignature }],
    ] as const) {
      const response = await owner.send('POST', '/api/keys', {
        kemPublicKey: base64(body.kemPublicKey),
        signaturePublicKey: base64(body.signaturePublicKey),
      });

      expectError(response, 400, 'ERR_INVALID_PUBLIC_KEY', label);
      const message = (response.body['error'] as { message: string }).message;
      expect(message.startsWith(`${field} is invalid`), label).toBe(true);
    }
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('rejects invalid UTF-8 body', async () => {
    const before = await databaseSnapshot(testDemo.demo.db);
    const prefix = Buffer.from('{"email":"new');
    const suffix = Buffer.from(`@example.org","password":"${PASSWORD}"}`);

    const response = await fetch(`${testDemo.origin}/api/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([prefix, Buffer.from([0xc3, 0x28]), suffix]),
    });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    expect(body.error?.code).toBe('ERR_INVALID_JSON');
    expect(body.error?.message).toContain('UTF-8');
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('answers 405 on static paths', async () => {
    for (const [method, path] of [
      ['OPTIONS', '/'],
      ['PUT', '/index.html'],
      ['POST', '/'],
    ] as const) {
      const response = await new DemoClient(testDemo.origin).send(method, path);

      expectError(response, 405, 'ERR_METHOD_NOT_ALLOWED', `${method} ${path}`);
      expect(response.headers.get('allow'), `${method} ${path}`).toBe('GET, HEAD');
    }
    const missing = await new DemoClient(testDemo.origin).send('POST', '/no-such-file.html');
    expectError(missing, 404, 'ERR_NOT_FOUND', 'POST to a missing file');
    const api = await new DemoClient(testDemo.origin).send('DELETE', '/api/keys');
    expect(api.headers.get('allow')).toBe('POST');
  });

  it('rejects compressed request bodies', async () => {
    const before = await databaseSnapshot(testDemo.demo.db);

    const response = await new DemoClient(testDemo.origin).send(
      'POST',
      '/api/accounts',
      { email: 'gzip@example.org', password: PASSWORD },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    );

    expectError(response, 415, 'ERR_UNSUPPORTED_CONTENT_ENCODING', 'gzip body');
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('hides the holder of a taken key', async () => {
    const holder = await testDemo.demo.db.collection('users').findOne({ email: EMAIL });
    const holderId = (holder?.['_id'] as { toHexString(): string }).toHexString();
    const copier = new DemoClient(testDemo.origin);
    const created = await copier.send('POST', '/api/accounts', {
      email: 'copier@example.org',
      password: PASSWORD,
    });
    expect(created.status).toBe(201);

    const response = await copier.send('POST', '/api/keys', {
      kemPublicKey: holder?.['pqcPublicKey'],
      signaturePublicKey: holder?.['pqcSignaturePublicKey'],
    });

    expectError(response, 409, 'ERR_STORE_CONFLICT', 'key pair of another user');
    const message = (response.body['error'] as { message: string }).message;
    expect(message).toContain('another account');
    expect(message).not.toContain(holderId);
  });

  it('rejects oversized chunked body', async () => {
    const { hostname, port } = new URL(testDemo.origin);
    const before = await databaseSnapshot(testDemo.demo.db);

    // Without Content-Length the server can only stop once the streamed body passes the cap.
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        {
          hostname,
          port,
          path: '/api/login/password',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({
              status: incoming.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      request.on('error', reject);
      for (let index = 0; index < 10; index += 1) {
        request.write(OVERSIZED_BODY.slice(index * 8192, (index + 1) * 8192));
      }
      request.end();
    });

    expect(response.status).toBe(413);
    const body = JSON.parse(response.body) as { error?: { code?: unknown } };
    expect(body.error?.code).toBe('ERR_BODY_TOO_LARGE');
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
  });

  it('serves no file outside the page', async () => {
    for (const path of [
      '/../package.json',
      '/sdk/..%2f..%2fpackage.json',
      '/%2e%2e/src/index.ts',
      '/index.ts',
    ]) {
      expect(await getRawPath(path), path).toBe(404);
    }
  });

  it('rejects unparsable request target', async () => {
    const response = await sendRawRequest(
      'GET //% HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );

    expect(response.status).toBe(400);
    const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    expect(body.error?.code).toBe('ERR_INVALID_URL');
    expect(body.error?.message).toContain('//%');
    const rejected = logEntries('request rejected').filter(
      (entry) => entry['code'] === 'ERR_INVALID_URL',
    );
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.['status']).toBe(400);
    const session = await fetch(`${testDemo.origin}/api/session`);
    expect(session.status).toBe(200);
  });

  it('rejects malformed HTTP with JSON', async () => {
    const response = await sendRawRequest('GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n');

    expect(response.status).toBe(400);
    const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    expect(body.error?.code).toBe('ERR_MALFORMED_REQUEST');
    expect(typeof body.error?.message).toBe('string');
    const logged = logEntries('malformed HTTP request rejected');
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged[0]?.['code']).toMatch(/^HPE_/);
    expect(logged[0]?.['total']).toBe(1);
    const session = await fetch(`${testDemo.origin}/api/session`);
    expect(session.status).toBe(200);
  });

  it('logs client aborts without errors', async () => {
    const { hostname, port } = new URL(testDemo.origin);
    const aborted = Array.from(
      { length: 50 },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port) });
          socket.on('error', reject);
          socket.on('connect', () => {
            socket.write(
              'POST /api/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
                'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
              () => setTimeout(() => socket.destroy(), 20),
            );
          });
          socket.on('close', () => resolve());
        }),
    );
    await Promise.all(aborted);
    await expect
      .poll(() => logEntries('client aborted the request').length, { timeout: 5000 })
      .toBeGreaterThanOrEqual(50);

    const entries = testDemo.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const failures = entries.filter((entry) => String(entry['msg']).startsWith('request failed'));
    expect(failures).toEqual([]);
    for (const entry of logEntries('client aborted the request')) {
      expect(entry['level']).toBe(20);
      expect(entry['err']).toBeUndefined();
    }
    expect((await fetch(`${testDemo.origin}/api/session`)).status).toBe(200);
  });

  it('rate-limits rejection log lines', async () => {
    const before = logEntries('request rejected').filter(
      (entry) => entry['code'] === 'ERR_NOT_FOUND',
    ).length;
    for (let index = 0; index < 30; index += 1) {
      expect(await getRawPath(`/api/no-such-endpoint-${index}`)).toBe(404);
    }
    const burst = logEntries('request rejected').filter(
      (entry) => entry['code'] === 'ERR_NOT_FOUND',
    );
    expect(burst.length - before).toBeLessThanOrEqual(2);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const longPath = `/${'a'.repeat(15_000)}`;
    expect(await getRawPath(longPath)).toBe(404);

    const logged = logEntries('request rejected').filter(
      (entry) => entry['code'] === 'ERR_NOT_FOUND',
    );
    const last = logged[logged.length - 1] as Record<string, unknown>;
    expect(last['pathLength']).toBe(longPath.length);
    expect((last['path'] as string).length).toBeLessThanOrEqual(201);
    expect(last['suppressed']).toBeGreaterThan(0);
    // Each line stands for itself and the lines suppressed before it.
    const represented = logged.reduce((sum, entry) => sum + 1 + Number(entry['suppressed']), 0);
    expect(last['total']).toBe(represented);
    for (const line of testDemo.logLines) {
      expect(line.length).toBeLessThan(2000);
    }
  });

  it('sends the CSP with API responses', async () => {
    const response = await fetch(`${testDemo.origin}/api/session`);

    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('accepts one of concurrent responses', async () => {
    for (let round = 0; round < 5; round += 1) {
      const challenge = await issueChallenge();
      const answer = answerChallenge(pqc, challenge, secretKeysOf(kemKeys, signatureKeys));

      const responses = await Promise.all(
        [0, 1, 2].map(() =>
          new DemoClient(testDemo.origin).send('POST', '/api/login/signature', answer),
        ),
      );

      const statuses = responses.map((response) => response.status).sort();
      expect(statuses, `round ${round}`).toEqual([200, 401, 401]);
      expect(
        responses.map(errorCode).filter((code) => code !== undefined),
        `round ${round}`,
      ).toEqual(['ERR_CHALLENGE_NOT_FOUND', 'ERR_CHALLENGE_NOT_FOUND']);

      const before = await databaseSnapshot(testDemo.demo.db);
      const replay = await new DemoClient(testDemo.origin).send(
        'POST',
        '/api/login/signature',
        answer,
      );
      expectError(replay, 401, 'ERR_CHALLENGE_NOT_FOUND', `replay in round ${round}`);
      expect(await databaseSnapshot(testDemo.demo.db), `round ${round}`).toBe(before);
    }
  });

  it('sweeps expired challenges on issue', async () => {
    await issueChallenge();
    await issueChallenge();
    testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);

    const fresh = await issueChallenge();

    const stored = await testDemo.demo.db.collection('loginChallenges').find().toArray();
    expect(stored.map((document) => document['_id'])).toEqual([fresh.challengeId]);
    expect(await testDemo.demo.db.collection('loginChallengeClaims').countDocuments()).toBe(0);
  });

  it('rejects expired challenge without writes', async () => {
    const challenge = await issueChallenge();
    const answer = answerChallenge(pqc, challenge, secretKeysOf(kemKeys, signatureKeys));
    testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
    const before = await databaseSnapshot(testDemo.demo.db);

    for (const attempt of ['first', 'second']) {
      const response = await new DemoClient(testDemo.origin).send(
        'POST',
        '/api/login/signature',
        answer,
      );
      expectError(response, 401, 'ERR_CHALLENGE_EXPIRED', `${attempt} late response`);
      expect(response.setCookie, `${attempt} late response`).toBeNull();
    }
    expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
    const stored = await testDemo.demo.db
      .collection<{ _id: string }>('loginChallenges')
      .findOne({ _id: challenge.challengeId });
    expect(stored).not.toBeNull();
  });

  it('rejects response after key rotation', async () => {
    const challenge = await issueChallenge();
    const oldKeys = secretKeysOf(kemKeys, signatureKeys);
    const [oldKemKeys, oldSignatureKeys] = [kemKeys, signatureKeys];
    kemKeys = pqc.kem('ML-KEM-768').keygen();
    signatureKeys = pqc.signature('ML-DSA-65').keygen();
    const signedIn = await signInBySignature(EMAIL, oldKemKeys, oldSignatureKeys);
    const user = await testDemo.demo.db.collection('users').findOne({ email: EMAIL });
    const rotated = await signedIn.send('POST', '/api/keys', {
      kemPublicKey: base64(kemKeys.publicKey),
      signaturePublicKey: base64(signatureKeys.publicKey),
      replacesKeyId: user?.['pqcKeyId'],
    });
    expect(rotated.status).toBe(200);

    const response = await new DemoClient(testDemo.origin).send(
      'POST',
      '/api/login/signature',
      answerChallenge(pqc, challenge, oldKeys),
    );

    expectError(response, 401, 'ERR_KEYS_CHANGED', 'old keys after rotation');
  });

  it('caps open challenges per user', async () => {
    // Every earlier challenge expires, so none of them counts.
    testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
    const peer = await testDemo.startPeer();
    try {
      const origins = [testDemo.origin, peer.url.replace(/\/$/, '')];
      const issued: ChallengeBody[] = [];
      for (let index = 0; index < MAX_OPEN_CHALLENGES; index += 1) {
        const response = await new DemoClient(origins[index % 2] as string).send(
          'POST',
          '/api/login/challenge',
          { email: EMAIL },
        );
        expect(response.status, `challenge ${index}`).toBe(200);
        issued.push(response.body as unknown as ChallengeBody);
      }

      const before = await databaseSnapshot(testDemo.demo.db);
      for (const origin of origins) {
        const rejected = await new DemoClient(origin).send('POST', '/api/login/challenge', {
          email: EMAIL,
        });
        expectError(rejected, 429, 'ERR_TOO_MANY_CHALLENGES', `over the cap at ${origin}`);
        const message = (rejected.body['error'] as { message: string }).message;
        expect(message).toContain(`${MAX_OPEN_CHALLENGES} login challenges are open`);
        expect(message).toContain(`retry after ${issued[0]?.expiresAt}`);
        const retryAfter = Number(rejected.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(120);
      }
      expect(await databaseSnapshot(testDemo.demo.db)).toBe(before);
      // One rejection at each server, and each server limits and counts its own log lines.
      const logged = logEntries('request rejected').filter(
        (entry) => entry['code'] === 'ERR_TOO_MANY_CHALLENGES',
      );
      expect(logged).toHaveLength(2);
      expect(logged.map((entry) => entry['total'])).toEqual([1, 1]);

      // A login with one of the challenges frees its place.
      const login = await new DemoClient(testDemo.origin).send(
        'POST',
        '/api/login/signature',
        answerChallenge(pqc, issued[0] as ChallengeBody, secretKeysOf(kemKeys, signatureKeys)),
      );
      expect(login.status).toBe(200);
      await issueChallenge();
      const full = await new DemoClient(testDemo.origin).send('POST', '/api/login/challenge', {
        email: EMAIL,
      });
      expectError(full, 429, 'ERR_TOO_MANY_CHALLENGES', 'full again');

      // Expiry frees every place.
      testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
      await issueChallenge();
    } finally {
      await peer.close();
    }
  });

  it('caps parallel challenges across servers', async () => {
    testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
    const peer = await testDemo.startPeer();
    try {
      const origins = [testDemo.origin, peer.url.replace(/\/$/, '')];

      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, index) =>
          new DemoClient(origins[index % 2] as string).send('POST', '/api/login/challenge', {
            email: EMAIL,
          }),
        ),
      );

      const accepted = responses.filter((response) => response.status === 200);
      const rejected = responses.filter((response) => response.status === 429);
      expect(accepted).toHaveLength(MAX_OPEN_CHALLENGES);
      expect(rejected).toHaveLength(30 - MAX_OPEN_CHALLENGES);
      for (const response of rejected) {
        expect(errorCode(response)).toBe('ERR_TOO_MANY_CHALLENGES');
      }
      const open = await testDemo.demo.db
        .collection('loginChallenges')
        .countDocuments({ email: EMAIL, expiresAt: { $gt: new Date(Date.now()) } });
      expect(open).toBe(MAX_OPEN_CHALLENGES);
      expect(await testDemo.demo.db.collection('loginChallengeSlots').countDocuments()).toBe(
        MAX_OPEN_CHALLENGES,
      );
    } finally {
      await peer.close();
      // Later tests issue challenges for the same user, so let these expire.
      testDemo.advanceClock(PAST_CHALLENGE_TTL_MS);
    }
  });

  it('indexes challenge expiry', async () => {
    const { db } = testDemo.demo;
    const challengeKeys = (await db.collection('loginChallenges').listIndexes().toArray()).map(
      (index) => JSON.stringify(index['key']),
    );
    const claimKeys = (await db.collection('loginChallengeClaims').listIndexes().toArray()).map(
      (index) => JSON.stringify(index['key']),
    );

    expect(challengeKeys).toContain('{"email":1,"expiresAt":1}');
    expect(challengeKeys).toContain('{"expiresAt":1}');
    expect(claimKeys).toContain('{"expiresAt":1}');
  });

  it('logout clears the session', async () => {
    const signedIn = new DemoClient(testDemo.origin);
    const login = await signedIn.send('POST', '/api/login/password', {
      email: EMAIL,
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
    expect(login.setCookie).toMatch(
      /^qyn_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    const sessionsBefore = await testDemo.demo.db.collection('demoSessions').countDocuments();

    const logout = await signedIn.send('POST', '/api/logout', {});

    expect(logout.status).toBe(200);
    expect(logout.setCookie).toMatch(/Max-Age=0/);
    expect(await testDemo.demo.db.collection('demoSessions').countDocuments()).toBe(
      sessionsBefore - 1,
    );
    const session = await signedIn.send('GET', '/api/session');
    expect(session.body['session']).toBeNull();
  });

  it('password session cannot take over', async () => {
    const email = 'owner@example.org';
    const { db } = testDemo.demo;
    const owner = new DemoClient(testDemo.origin);
    const created = await owner.send('POST', '/api/accounts', { email, password: PASSWORD });
    expect(created.status).toBe(201);
    const ownerKem = pqc.kem('ML-KEM-768').keygen();
    const ownerSignature = pqc.signature('ML-DSA-65').keygen();
    // A new account gets its first keys in the password session that created it.
    const registered = await owner.send('POST', '/api/keys', {
      kemPublicKey: base64(ownerKem.publicKey),
      signaturePublicKey: base64(ownerSignature.publicKey),
    });
    expect(registered.status).toBe(200);
    const ownerKeyId = (registered.body['user'] as { pqcKeyId: string }).pqcKeyId;

    const attacker = new DemoClient(testDemo.origin);
    const attackerLogin = await attacker.send('POST', '/api/login/password', {
      email,
      password: PASSWORD,
    });
    expect(attackerLogin.status).toBe(200);
    const signedIn = await signInBySignature(email, ownerKem, ownerSignature);

    const attackerKeys = {
      kemPublicKey: base64(pqc.kem('ML-KEM-768').keygen().publicKey),
      signaturePublicKey: base64(pqc.signature('ML-DSA-65').keygen().publicKey),
    };
    const before = await databaseSnapshot(db);
    const replaced = await attacker.send('POST', '/api/keys', attackerKeys);
    expectError(replaced, 403, 'ERR_SIGNATURE_SESSION_REQUIRED', 'rotation by password session');
    for (const enabled of [false, true]) {
      const changed = await attacker.send('PUT', '/api/account/classical-fallback', { enabled });
      expectError(
        changed,
        403,
        'ERR_SIGNATURE_SESSION_REQUIRED',
        `fallback ${String(enabled)} by password session`,
      );
    }
    expect(await databaseSnapshot(db)).toBe(before);

    const turnedOff = await signedIn.send('PUT', '/api/account/classical-fallback', {
      enabled: false,
    });
    expect(turnedOff.status).toBe(200);
    const sessions = await db.collection('demoSessions').find({ email }).toArray();
    expect(sessions.map((session) => session['method'])).toEqual(['signature']);
    expect((await attacker.send('GET', '/api/session')).body['session']).toBeNull();
    const lateKeys = await attacker.send('POST', '/api/keys', attackerKeys);
    expectError(lateKeys, 401, 'ERR_NOT_SIGNED_IN', 'keys after fallback off');
    const lateFallback = await attacker.send('PUT', '/api/account/classical-fallback', {
      enabled: true,
    });
    expectError(lateFallback, 401, 'ERR_NOT_SIGNED_IN', 'fallback on after fallback off');
    const passwordAgain = await attacker.send('POST', '/api/login/password', {
      email,
      password: PASSWORD,
    });
    expectError(passwordAgain, 403, 'ERR_PASSWORD_LOGIN_DISABLED', 'password after fallback off');

    const user = await db.collection('users').findOne({ email });
    expect(user?.['classicalFallback']).toBe(false);
    expect(user?.['pqcKeyId']).toBe(ownerKeyId);
    const ownerSession = await signedIn.send('GET', '/api/session');
    expect((ownerSession.body['session'] as { method?: unknown } | null)?.method).toBe(
      'signature',
    );
  });

  it('key rotation closes other sessions', async () => {
    const email = 'rotator@example.org';
    const { db } = testDemo.demo;
    const owner = new DemoClient(testDemo.origin);
    expect((await owner.send('POST', '/api/accounts', { email, password: PASSWORD })).status).toBe(
      201,
    );
    const kem = pqc.kem('ML-KEM-768').keygen();
    const signature = pqc.signature('ML-DSA-65').keygen();
    const first = await owner.send('POST', '/api/keys', {
      kemPublicKey: base64(kem.publicKey),
      signaturePublicKey: base64(signature.publicKey),
    });
    expect(first.status).toBe(200);
    const otherTab = await signInBySignature(email, kem, signature);
    const rotating = await signInBySignature(email, kem, signature);

    const firstKeyId = (first.body['user'] as { pqcKeyId: string }).pqcKeyId;
    const nextKeys = () => ({
      kemPublicKey: base64(pqc.kem('ML-KEM-768').keygen().publicKey),
      signaturePublicKey: base64(pqc.signature('ML-DSA-65').keygen().publicKey),
    });
    const before = await databaseSnapshot(db);
    const withoutExpected = await rotating.send('POST', '/api/keys', nextKeys());
    expectError(withoutExpected, 409, 'ERR_STORE_CONFLICT', 'rotation without replacesKeyId');
    const stale = await rotating.send('POST', '/api/keys', {
      ...nextKeys(),
      replacesKeyId: 'A'.repeat(43),
    });
    expectError(stale, 409, 'ERR_STORE_CONFLICT', 'rotation with a stale replacesKeyId');
    const message = (stale.body['error'] as { message: string }).message;
    expect(message).toContain('another tab or device');
    expect(message).toContain(firstKeyId);
    expect(await databaseSnapshot(db)).toBe(before);

    const rotated = await rotating.send('POST', '/api/keys', {
      ...nextKeys(),
      replacesKeyId: firstKeyId,
    });

    expect(rotated.status).toBe(200);
    expect(await db.collection('demoSessions').countDocuments({ email })).toBe(1);
    expect((await owner.send('GET', '/api/session')).body['session']).toBeNull();
    expect((await otherTab.send('GET', '/api/session')).body['session']).toBeNull();
    expect((await rotating.send('GET', '/api/session')).body['session']).not.toBeNull();
  });

  it('wrong answers do not lock account', async () => {
    const users = testDemo.demo.db.collection('users');
    const before = await users.findOne({ email: EMAIL });
    expect(before).not.toBeNull();

    for (let attempt = 0; attempt < 10; attempt += 1) {
      const challenge = await issueChallenge();
      const answer = answerChallenge(pqc, challenge, secretKeysOf(kemKeys, signatureKeys));
      const wrongSignature = attempt % 2 === 0;
      if (wrongSignature) {
        answer.signature = base64(new Uint8Array(3309));
      } else {
        answer.kemProof = base64(new Uint8Array(32));
      }

      const response = await new DemoClient(testDemo.origin).send(
        'POST',
        '/api/login/signature',
        answer,
      );

      const code = wrongSignature ? 'ERR_SIGNATURE_INVALID' : 'ERR_KEM_PROOF_INVALID';
      expectError(response, 401, code, `wrong answer ${attempt}`);
      expect(response.setCookie, `wrong answer ${attempt}`).toBeNull();
      const claimed = await testDemo.demo.db
        .collection<{ _id: string }>('loginChallenges')
        .findOne({ _id: challenge.challengeId });
      expect(claimed, `challenge of wrong answer ${attempt}`).toBeNull();
    }

    const after = await users.findOne({ email: EMAIL });
    expect(after?.['failedLoginAttempts']).toBe(before?.['failedLoginAttempts']);
    expect(after?.['lockUntil']).toEqual(before?.['lockUntil']);
    expect(after).toEqual(before);
    const logged = logEntries('signature login attempt').filter(
      (entry) => entry['result'] === 'rejected',
    );
    expect(logged.length).toBeGreaterThanOrEqual(1);
    await signInBySignature(EMAIL, kemKeys, signatureKeys);
  });

  it('locks account after five failures', async () => {
    const attacker = new DemoClient(testDemo.origin);
    const results: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      results.push(
        (
          await attacker.send('POST', '/api/login/password', {
            email: EMAIL,
            password: 'wrong password',
          })
        ).status,
      );
    }
    expect(results).toEqual([401, 401, 401, 401, 423]);

    const correct = await attacker.send('POST', '/api/login/password', {
      email: EMAIL,
      password: PASSWORD,
    });
    expectError(correct, 423, 'ERR_ACCOUNT_LOCKED', 'correct password while locked');
    const challenge = await attacker.send('POST', '/api/login/challenge', { email: EMAIL });
    expectError(challenge, 423, 'ERR_ACCOUNT_LOCKED', 'challenge while locked');

    const user = await testDemo.demo.db.collection('users').findOne({ email: EMAIL });
    expect(user?.['failedLoginAttempts']).toBe(5);
    expect((user?.['lockUntil'] as Date).getTime()).toBeGreaterThan(Date.now() + 29 * 60 * 1000);
  });
});
