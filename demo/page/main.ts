/**
 * The demo page: account, key generation in Web Workers, signature login and the password
 * fallback switch. The SDK comes from its browser build, served by the demo server at /sdk/.
 */
import { createPqcPool, keyPairId } from '../../src/pool/browser.js';
import type { PqcPool } from '../../src/pool/browser.js';
import * as api from './api.js';
import type { UserView } from './api.js';
import {
  listKeyRecords,
  loadKeyRecord,
  openKeys,
  PBKDF2_ITERATIONS,
  restoreKeyRecord,
  saveKeyRecord,
  sealKeys,
} from './keystore.js';
import type { KeyRecord } from './keystore.js';
import { StepList } from './steps.js';

const KEM_ALGORITHM = 'ML-KEM-768';
const SIGNATURE_ALGORITHM = 'ML-DSA-65';
/** FIPS 204 context string of login signatures; the server verifies with the same one. */
const LOGIN_CONTEXT = new TextEncoder().encode('qynauth-login-v1');
/** Workers in the pool: one per key pair generated at the same time is enough here. */
const POOL_SIZE = 2;
/** Shortest passphrase the page accepts for encrypting keys, in characters. */
const MIN_PASSPHRASE_LENGTH = 8;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) {
    throw new Error(`the page has no element #${id}`);
  }
  return found as T;
}

const ui = {
  sessionStatus: element<HTMLSpanElement>('session-status'),
  sessionMethod: element<HTMLSpanElement>('session-method'),
  logout: element<HTMLButtonElement>('logout'),
  accountForm: element<HTMLFormElement>('account-form'),
  email: element<HTMLInputElement>('email'),
  password: element<HTMLInputElement>('password'),
  passwordLogin: element<HTMLButtonElement>('password-login'),
  accountError: element<HTMLParagraphElement>('account-error'),
  keysForm: element<HTMLFormElement>('keys-form'),
  keyPassphrase: element<HTMLInputElement>('key-passphrase'),
  generate: element<HTMLButtonElement>('generate'),
  keygenSteps: new StepList(element<HTMLOListElement>('keygen-steps')),
  keyId: element<HTMLElement>('key-id'),
  keysError: element<HTMLParagraphElement>('keys-error'),
  loginForm: element<HTMLFormElement>('login-form'),
  loginAccount: element<HTMLSelectElement>('login-account'),
  loginPassphrase: element<HTMLInputElement>('login-passphrase'),
  signatureLogin: element<HTMLButtonElement>('signature-login'),
  loginSteps: new StepList(element<HTMLOListElement>('login-steps')),
  loginError: element<HTMLParagraphElement>('login-error'),
  classicalFallback: element<HTMLInputElement>('classical-fallback'),
  fallbackStatus: element<HTMLParagraphElement>('fallback-status'),
  settingsError: element<HTMLParagraphElement>('settings-error'),
  factPqc: element<HTMLElement>('fact-pqc'),
  factGenerated: element<HTMLElement>('fact-generated'),
  factExpires: element<HTMLElement>('fact-expires'),
  factLastLogin: element<HTMLElement>('fact-last-login'),
};

/** Formats an ISO 8601 time from the server in UTC, or a dash when there is none. */
function formatTime(value: string | null): string {
  if (value === null) {
    return '–';
  }
  const text = new Date(value).toLocaleString('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  });
  return `${text} UTC`;
}

function renderFacts(user: UserView | null): void {
  ui.factPqc.textContent =
    user === null
      ? '–'
      : user.pqcEnabled
        ? `enabled (${KEM_ALGORITHM}, ${SIGNATURE_ALGORITHM})`
        : 'no keys registered';
  ui.factGenerated.textContent = formatTime(user?.pqcKeyGeneratedAt ?? null);
  ui.factExpires.textContent = formatTime(user?.pqcKeyExpiresAt ?? null);
  ui.factLastLogin.textContent = formatTime(user?.lastLoginAt ?? null);
}

let poolPromise: Promise<PqcPool> | undefined;
/** Whether a session is open and whether this browser stores keys; they enable the controls. */
const state = { signedIn: false, hasKeyRecords: false };

/** Enables the controls that the current state allows, except buttons whose action runs. */
function updateControls(): void {
  const allow = (control: HTMLButtonElement | HTMLInputElement, allowed: boolean): void => {
    control.disabled = !allowed || control.dataset['busy'] === 'true';
  };
  allow(ui.generate, state.signedIn);
  allow(ui.classicalFallback, state.signedIn);
  allow(ui.signatureLogin, state.hasKeyRecords);
}

/** Starts the worker pool on first use; later calls share it. */
function getPool(): Promise<PqcPool> {
  poolPromise ??= createPqcPool({ size: POOL_SIZE });
  poolPromise.catch(() => {
    poolPromise = undefined;
  });
  return poolPromise;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function showError(target: HTMLElement, error: unknown): void {
  const message = errorMessage(error);
  const code = error instanceof api.ApiError ? ` (${error.code})` : '';
  target.textContent = `${message}${code}`;
  target.hidden = false;
}

function clearError(target: HTMLElement): void {
  target.textContent = '';
  target.hidden = true;
}

/**
 * Disables `button` and marks it `data-busy` while `action` runs, and reports its error in
 * `errorTarget`.
 */
async function guarded(
  button: HTMLButtonElement,
  errorTarget: HTMLElement,
  action: () => Promise<void>,
): Promise<void> {
  clearError(errorTarget);
  button.disabled = true;
  button.dataset['busy'] = 'true';
  try {
    await action();
  } catch (error) {
    showError(errorTarget, error);
  } finally {
    button.disabled = false;
    delete button.dataset['busy'];
    updateControls();
  }
}

function renderUser(user: UserView | null, method?: 'signature' | 'password'): void {
  document.body.dataset['signedIn'] = String(user !== null);
  ui.logout.hidden = user === null;
  state.signedIn = user !== null;
  updateControls();
  renderFacts(user);

  if (user === null) {
    ui.sessionStatus.textContent = 'Not signed in';
    ui.sessionMethod.hidden = true;
    ui.sessionMethod.dataset['method'] = '';
    ui.fallbackStatus.textContent = 'Sign in to change this setting.';
    return;
  }

  ui.sessionStatus.textContent = `Signed in as ${user.email}`;
  ui.sessionMethod.hidden = false;
  ui.sessionMethod.dataset['method'] = method ?? '';
  ui.sessionMethod.textContent =
    method === 'signature' ? `${SIGNATURE_ALGORITHM} + ${KEM_ALGORITHM}` : 'Password';
  ui.classicalFallback.checked = user.classicalFallback;
  ui.keyId.textContent = user.pqcKeyId ?? 'none registered';
  ui.fallbackStatus.textContent = user.classicalFallback
    ? 'Password login is allowed for this account.'
    : `Password login is refused; only ${SIGNATURE_ALGORITHM} login works.`;
}

async function refreshAccounts(selected?: string): Promise<void> {
  const records = await listKeyRecords();
  const options = records.map((record) => {
    const option = document.createElement('option');
    option.value = record.email;
    option.textContent = `${record.email} · ${record.keyId.slice(0, 10)}…`;
    return option;
  });

  if (options.length === 0) {
    const placeholder = document.createElement('option');
    placeholder.value = '';
    placeholder.textContent = 'No keys stored in this browser yet';
    options.push(placeholder);
  }
  ui.loginAccount.replaceChildren(...options);
  state.hasKeyRecords = records.length > 0;
  updateControls();
  if (selected !== undefined) {
    ui.loginAccount.value = selected;
  }
}

/** Returns the error for a registration that the server rejected because the keys changed. */
function keysChangedError(expected: string | null, current: string | null): api.ApiError {
  return new api.ApiError(
    409,
    'ERR_STORE_CONFLICT',
    `another tab or device changed the keys of this account while these were generated ` +
      `(expected key id ${expected ?? 'none'}, the server now has ${current ?? 'none'}). ` +
      'The new keys were discarded; generate keys again to replace the current ones.',
  );
}

/**
 * Registers the public keys of the saved `record` in place of the key id `replacesKeyId`. When
 * that fails and the server does not report this key id, puts back `previous`, the record that
 * `record` replaced, or deletes `record`, unless another tab saved newer keys meanwhile.
 */
async function registerSavedKeys(
  record: KeyRecord,
  previous: KeyRecord | undefined,
  replacesKeyId: string | null,
): Promise<UserView> {
  try {
    return await api.registerKeys(record.kemPublicKey, record.signaturePublicKey, replacesKeyId);
  } catch (error) {
    // A network error can come after the server stored the keys, and then only the response
    // was lost.
    const session = await api.getSession().catch(() => undefined);
    if (session?.user != null && session.user.pqcKeyId === record.keyId) {
      return session.user;
    }
    try {
      await restoreKeyRecord(record, previous);
    } catch (rollbackError) {
      throw new Error(
        `registering the keys failed (${errorMessage(error)}), and removing the new keys from ` +
          `IndexedDB failed too (${errorMessage(rollbackError)}). Generate keys again.`,
        { cause: error },
      );
    }
    const current = session?.user?.pqcKeyId ?? null;
    if (
      error instanceof api.ApiError &&
      error.code === 'ERR_STORE_CONFLICT' &&
      session?.user != null &&
      current !== replacesKeyId
    ) {
      renderUser(session.user, session.session?.method);
      await refreshAccounts(record.email);
      throw keysChangedError(replacesKeyId, current);
    }
    throw error;
  }
}

async function generateKeys(): Promise<void> {
  const passphrase = ui.keyPassphrase.value;
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new Error(`the key passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  const { user } = await api.getSession();
  if (user === null) {
    throw new Error('sign in first: keys are registered for the signed-in account');
  }

  const steps = ui.keygenSteps;
  steps.reset([
    'Start the worker pool',
    `Generate the ${KEM_ALGORITHM} key pair in a worker`,
    `Generate the ${SIGNATURE_ALGORITHM} key pair in a worker`,
    `Encrypt the secret keys (PBKDF2-SHA-256, ${PBKDF2_ITERATIONS.toLocaleString('en')} iterations, AES-256-GCM)`,
    'Save the encrypted keys in IndexedDB',
    'Register the public keys with the server',
  ]);

  const pool = await steps.run(0, getPool, () => `${POOL_SIZE} workers`);
  const kemKeys = await steps.run(
    1,
    () => pool.kem(KEM_ALGORITHM).keygen(),
    (keys) => `public key ${keys.publicKey.length} bytes`,
  );
  const signatureKeys = await steps.run(
    2,
    () => pool.signature(SIGNATURE_ALGORITHM).keygen(),
    (keys) => `public key ${keys.publicKey.length} bytes`,
  );

  try {
    const keyId = keyPairId(
      { algorithm: KEM_ALGORITHM, publicKey: kemKeys.publicKey },
      { algorithm: SIGNATURE_ALGORITHM, publicKey: signatureKeys.publicKey },
    );
    const record = await steps.run(3, () =>
      sealKeys(
        {
          email: user.email,
          keyId,
          kemPublicKey: kemKeys.publicKey,
          signaturePublicKey: signatureKeys.publicKey,
          kemSecretKey: kemKeys.secretKey,
          signatureSecretKey: signatureKeys.secretKey,
        },
        passphrase,
      ),
    );

    // Save before registering, so the server never stores public keys whose secret keys are lost.
    const previous = await loadKeyRecord(user.email);
    await steps.run(4, () => saveKeyRecord(record));
    const registered = await steps.run(
      5,
      () => registerSavedKeys(record, previous, user.pqcKeyId),
      (view) => `key id ${view.pqcKeyId ?? '?'}`,
    );
    if (registered.pqcKeyId !== keyId) {
      // The server now stores these public keys, so the saved record stays.
      throw new Error(
        `the server stored key id ${String(registered.pqcKeyId)}, but the page computed ${keyId}`,
      );
    }

    renderUser(registered, (await api.getSession()).session?.method);
    await refreshAccounts(user.email);
  } finally {
    kemKeys.secretKey.fill(0);
    kemKeys.seed.fill(0);
    signatureKeys.secretKey.fill(0);
    signatureKeys.seed.fill(0);
  }
}

async function computeKemProof(sharedSecret: Uint8Array, challengeId: string): Promise<Uint8Array> {
  // The pool returns results in fresh ArrayBuffers, never SharedArrayBuffers.
  const keyBytes = sharedSecret as Uint8Array<ArrayBuffer>;
  const key = await crypto.subtle.importKey(
    'raw',
    keyBytes,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(
    await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(challengeId)),
  );
}

async function signatureLogin(): Promise<void> {
  const email = ui.loginAccount.value;
  const record = await loadKeyRecord(email);
  if (record === undefined) {
    throw new Error(
      `no keys for ${email === '' ? 'that account' : email} are stored in this browser; generate them first`,
    );
  }

  const steps = ui.loginSteps;
  steps.reset([
    'Decrypt the secret keys with the passphrase',
    'Request a one-time challenge',
    `Sign the challenge with ${SIGNATURE_ALGORITHM} in a worker`,
    `Decapsulate the ${KEM_ALGORITHM} ciphertext and compute HMAC-SHA-256`,
    'Server verifies the signature and the KEM proof',
  ]);

  // Decrypt before requesting the challenge, so a mistyped passphrase opens no challenge and
  // cannot use up the five a user may have open.
  const keys = await steps.run(0, () => openKeys(record, ui.loginPassphrase.value));
  try {
    const pool = await getPool();
    const challenge = await steps.run(
      1,
      () => api.requestChallenge(email),
      (value) => `expires ${new Date(value.expiresAt).toLocaleTimeString('en-GB')}`,
    );
    const signature = await steps.run(
      2,
      () =>
        pool
          .signature(SIGNATURE_ALGORITHM)
          .sign(challenge.challenge, keys.signatureSecretKey, { context: LOGIN_CONTEXT }),
      (value) => `${value.length} bytes`,
    );
    const kemProof = await steps.run(3, async () => {
      const sharedSecret = await pool
        .kem(KEM_ALGORITHM)
        .decapsulate(challenge.kemCiphertext, keys.kemSecretKey);
      try {
        return await computeKemProof(sharedSecret, challenge.challengeId);
      } finally {
        sharedSecret.fill(0);
      }
    });
    const user = await steps.run(
      4,
      () => api.loginWithSignature(challenge.challengeId, signature, kemProof),
      () => 'session opened',
    );
    renderUser(user, 'signature');
  } finally {
    keys.kemSecretKey.fill(0);
    keys.signatureSecretKey.fill(0);
  }
}

function wire(): void {
  ui.accountForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(element('create-account'), ui.accountError, async () => {
      renderUser(await api.createAccount(ui.email.value, ui.password.value), 'password');
    });
  });
  ui.passwordLogin.addEventListener('click', () => {
    void guarded(ui.passwordLogin, ui.accountError, async () => {
      renderUser(await api.loginWithPassword(ui.email.value, ui.password.value), 'password');
    });
  });
  ui.logout.addEventListener('click', () => {
    void guarded(ui.logout, ui.accountError, async () => {
      await api.logout();
      renderUser(null);
    });
  });
  ui.keysForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(ui.generate, ui.keysError, generateKeys);
  });
  ui.loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(ui.signatureLogin, ui.loginError, signatureLogin);
  });
  ui.classicalFallback.addEventListener('change', () => {
    const requested = ui.classicalFallback.checked;
    clearError(ui.settingsError);
    api.setClassicalFallback(requested).then(
      (user) =>
        renderUser(
          user,
          ui.sessionMethod.dataset['method'] === 'signature' ? 'signature' : 'password',
        ),
      (error: unknown) => {
        ui.classicalFallback.checked = !requested;
        showError(ui.settingsError, error);
      },
    );
  });
}

async function start(): Promise<void> {
  wire();
  await refreshAccounts();
  const { session, user } = await api.getSession();
  renderUser(user, session?.method);
  document.body.dataset['ready'] = 'true';
}

start().catch((error: unknown) => showError(ui.accountError, error));
