/**
 * HTTP plumbing of the demo server: JSON bodies with a size cap, JSON error responses of the
 * form `{ error: { code, message } }`, and the session cookie.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the server reads, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Strict UTF-8 decoder: invalid bytes raise a TypeError instead of becoming U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Name of the cookie that carries the session id. */
export const SESSION_COOKIE = 'qyn_session';

/** An error that the server turns into a 4xx JSON response. */
export class HttpError extends Error {
  /** HTTP status code, for example 400. */
  readonly status: number;
  /** Stable machine-readable code, for example `ERR_INVALID_BASE64`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
  }
}

/** Headers sent with every response, so that no page or API response can be framed or sniffed. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Writes `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** Writes the error response `{ error: { code, message } }`. */
export function sendError(response: ServerResponse, error: HttpError): void {
  sendJson(response, error.status, { error: { code: error.code, message: error.message } });
}

/**
 * Reads the request body as a JSON object. Rejects with 415 unless the content type is
 * `application/json` without a Content-Encoding other than identity, 413 once the body passes {@link MAX_BODY_BYTES} (the rest is not read),
 * and 400 for invalid JSON or a value that is not an object.
 */
export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new HttpError(
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
      `request body must be application/json, got ${contentType === '' ? 'no content type' : JSON.stringify(contentType)}`,
    );
  }

  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== '') {
    throw new HttpError(
      415,
      'ERR_UNSUPPORTED_CONTENT_ENCODING',
      `request body must not be compressed, got Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}; send it as identity`,
    );
  }

  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) {
    throw tooLarge(declared);
  }

  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    received += buffer.length;
    if (received > MAX_BODY_BYTES) {
      throw tooLarge(received);
    }
    chunks.push(buffer);
  }

  let text: string;
  try {
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(
      400,
      'ERR_INVALID_JSON',
      'request body is not valid UTF-8; send JSON encoded as UTF-8',
    );
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'ERR_INVALID_JSON',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'ERR_INVALID_JSON', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function tooLarge(bytes: number): HttpError {
  return new HttpError(
    413,
    'ERR_BODY_TOO_LARGE',
    `request body is larger than ${MAX_BODY_BYTES} bytes (at least ${bytes}); send less data`,
  );
}

/** Returns the value of cookie `name`, or undefined when the request does not carry it. */
export function readCookie(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) {
    return undefined;
  }
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}

/**
 * Returns a Set-Cookie value for the session id: HttpOnly so page scripts cannot read it and
 * SameSite=Strict so other sites cannot send it. An empty id with `maxAgeSeconds` 0 clears it.
 */
export function sessionCookie(sessionId: string, maxAgeSeconds: number): string {
  // NOTE: no Secure attribute, because the demo serves plain HTTP on 127.0.0.1. Behind TLS,
  // add Secure (and the __Host- name prefix).
  return `${SESSION_COOKIE}=${sessionId}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}
