/** Checks of request fields. Each failure is an {@link HttpError} naming the field and the fix. */
import { HttpError, MAX_BODY_BYTES } from './http.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Returns `body[field]` if it is a non-empty string of at most `maxLength` characters. */
export function requireString(
  body: Record<string, unknown>,
  field: string,
  maxLength: number,
): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    throw new HttpError(
      400,
      'ERR_MISSING_FIELD',
      `${field} is missing; send it as a non-empty string`,
    );
  }
  if (typeof value !== 'string') {
    throw new HttpError(400, 'ERR_INVALID_FIELD', `${field} must be a string, got ${typeof value}`);
  }
  if (value.length > maxLength) {
    throw new HttpError(
      400,
      'ERR_FIELD_TOO_LONG',
      `${field} must be at most ${maxLength} characters, got ${value.length}`,
    );
  }
  return value;
}

/**
 * Returns `body[field]` as a string of at most `maxLength` characters, or null when the field is
 * absent or null.
 */
export function optionalString(
  body: Record<string, unknown>,
  field: string,
  maxLength: number,
): string | null {
  if (body[field] === undefined || body[field] === null) {
    return null;
  }
  return requireString(body, field, maxLength);
}

/** Returns `body[field]` if it is a boolean. */
export function requireBoolean(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined) {
    throw new HttpError(400, 'ERR_MISSING_FIELD', `${field} is missing; send true or false`);
  }
  if (typeof value !== 'boolean') {
    throw new HttpError(
      400,
      'ERR_INVALID_FIELD',
      `${field} must be true or false, got ${typeof value}`,
    );
  }
  return value;
}

/**
 * Decodes `body[field]` as standard base64 (RFC 4648, section 4, with padding) and checks that it
 * has `length` bytes. Rejects other alphabets, missing padding and whitespace, which Node's
 * lenient decoder would otherwise skip.
 */
export function requireBase64(
  body: Record<string, unknown>,
  field: string,
  length: number,
): Uint8Array {
  const text = requireString(body, field, MAX_BODY_BYTES);
  if (!BASE64.test(text)) {
    throw new HttpError(
      400,
      'ERR_INVALID_BASE64',
      `${field} is not valid base64; send standard base64 (A-Z, a-z, 0-9, +, /) with = padding`,
    );
  }

  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (bytes.length !== length) {
    throw new HttpError(
      400,
      'ERR_INVALID_LENGTH',
      `${field} must be ${length} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/** Returns `body[field]` if it is a base64url string of exactly `length` characters. */
export function requireBase64Url(
  body: Record<string, unknown>,
  field: string,
  length: number,
): string {
  const text = requireString(body, field, length);
  if (text.length !== length || !BASE64URL.test(text)) {
    throw new HttpError(
      400,
      'ERR_INVALID_ID',
      `${field} must be ${length} base64url characters (A-Z, a-z, 0-9, -, _)`,
    );
  }
  return text;
}

/** Encodes bytes as standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
