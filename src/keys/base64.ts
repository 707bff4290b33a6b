/**
 * Strict base64 and base64url (RFC 4648) without `Buffer` or `atob`, so the same code runs in
 * Node and in browsers. Decoding accepts only the canonical form: the alphabet of the variant,
 * padding exactly where base64 requires it and base64url forbids it, no whitespace, and zero bits
 * in the unused low bits of the last character.
 */
import { InvalidEncodingError } from '../errors.js';

const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function buildLookup(alphabet: string): Int16Array {
  const lookup = new Int16Array(128).fill(-1);
  for (let index = 0; index < alphabet.length; index++) {
    lookup[alphabet.charCodeAt(index)] = index;
  }
  return lookup;
}

const STANDARD_LOOKUP = buildLookup(STANDARD_ALPHABET);
const URL_LOOKUP = buildLookup(URL_ALPHABET);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let output = '';
  for (let index = 0; index < bytes.length; index += 3) {
    const b0 = bytes[index]!;
    const b1 = bytes[index + 1];
    const b2 = bytes[index + 2];
    output += alphabet[b0 >> 2];
    output += alphabet[((b0 & 0x03) << 4) | ((b1 ?? 0) >> 4)];
    if (b1 !== undefined) {
      output += alphabet[((b1 & 0x0f) << 2) | ((b2 ?? 0) >> 6)];
    } else if (pad) {
      output += '=';
    }
    if (b2 !== undefined) {
      output += alphabet[b2 & 0x3f];
    } else if (pad) {
      output += '=';
    }
  }
  return output;
}

/** Encodes `bytes` as padded base64 (RFC 4648, section 4). */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD_ALPHABET, true);
}

/** Encodes `bytes` as base64url without padding (RFC 4648, section 5), as JOSE uses it. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_ALPHABET, false);
}

function decode(
  text: string,
  lookup: Int16Array,
  padded: boolean,
  variant: string,
  label: string,
  offset: number,
): Uint8Array {
  const fail = (problem: string): never => {
    throw new InvalidEncodingError(`invalid ${label}: ${problem}`);
  };

  // Reported before the length checks, because a stray newline otherwise reads as bad padding.
  const whitespace = /\s/.exec(text);
  if (whitespace !== null) {
    const code = whitespace[0].charCodeAt(0);
    fail(
      `whitespace (code ${code}) at position ${offset + whitespace.index}; remove spaces and ` +
        `line breaks, because the ${variant} text must be one unbroken string`,
    );
  }

  let body = text;
  if (padded) {
    if (text.length % 4 !== 0) {
      fail(`length ${text.length} is not a multiple of 4; padding with '=' is required`);
    }
    const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    body = text.slice(0, text.length - padding);
  }
  if (body.length % 4 === 1) {
    fail(`length ${body.length} without padding is impossible for ${variant} data`);
  }

  const values = new Uint8Array(body.length);
  for (let index = 0; index < body.length; index++) {
    const code = body.charCodeAt(index);
    const value = code < 128 ? lookup[code]! : -1;
    if (value < 0) {
      const printable = code >= 0x21 && code <= 0x7e ? `'${body[index]}'` : `code ${code}`;
      const position = offset + index;
      fail(`character ${printable} at position ${position} is not in the ${variant} alphabet`);
    }
    values[index] = value;
  }

  const tail = body.length % 4;
  const output = new Uint8Array((body.length >> 2) * 3 + (tail === 0 ? 0 : tail - 1));
  let written = 0;
  for (let index = 0; index < body.length; index += 4) {
    const v0 = values[index]!;
    const v1 = values[index + 1]!;
    const v2 = values[index + 2];
    const v3 = values[index + 3];
    output[written++] = (v0 << 2) | (v1 >> 4);
    if (v2 !== undefined) output[written++] = ((v1 & 0x0f) << 4) | (v2 >> 2);
    if (v3 !== undefined) output[written++] = ((v2! & 0x03) << 6) | v3;
  }

  // The last character of a 2- or 3-character group carries 4 or 2 bits that must be zero.
  const last = values[body.length - 1];
  let unusedBits = 0;
  if (tail === 2) {
    unusedBits = 0x0f;
  } else if (tail === 3) {
    unusedBits = 0x03;
  }
  if (last !== undefined && (last & unusedBits) !== 0) {
    fail('the last character has non-zero unused bits (non-canonical encoding)');
  }
  return output;
}

/**
 * Decodes canonical padded base64; throws `InvalidEncodingError` naming `label` otherwise.
 * `offset` is added to the positions in messages, for text cut out of a longer input.
 */
export function decodeBase64(text: string, label = 'base64', offset = 0): Uint8Array {
  return decode(text, STANDARD_LOOKUP, true, 'base64', label, offset);
}

/** Decodes canonical unpadded base64url; throws `InvalidEncodingError` naming `label` otherwise. */
export function decodeBase64Url(text: string, label = 'base64url'): Uint8Array {
  return decode(text, URL_LOOKUP, false, 'base64url', label, 0);
}
