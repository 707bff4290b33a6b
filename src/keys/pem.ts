/**
 * PEM armour (RFC 7468) for `PUBLIC KEY` and `PRIVATE KEY` blocks. The encoder writes 64-character
 * lines and a final newline, as OpenSSL does. The decoder accepts one block with the expected
 * label, LF or CRLF line ends, surrounding whitespace and body lines of any length. It rejects text
 * outside the block, encapsulated headers, blank or space-containing body lines and non-canonical
 * base64.
 */
import { InvalidArgumentError, InvalidEncodingError } from '../errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';

/** PEM labels of the two key structures. */
export type PemLabel = 'PUBLIC KEY' | 'PRIVATE KEY';

/** Characters per body line, as RFC 7468 prescribes for generators. */
const LINE_LENGTH = 64;
const BEGIN_PATTERN = /^-----BEGIN ([^-]*)-----$/;
const END_PATTERN = /^-----END ([^-]*)-----$/;

/** Wraps `der` in a PEM block labelled `label`. */
export function encodePem(label: PemLabel, der: Uint8Array): string {
  const body = encodeBase64(der);

  const lines = [`-----BEGIN ${label}-----`];
  for (let offset = 0; offset < body.length; offset += LINE_LENGTH) {
    lines.push(body.slice(offset, offset + LINE_LENGTH));
  }
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
}

function labelHint(found: string, expected: PemLabel): string {
  if (found === 'ENCRYPTED PRIVATE KEY') {
    return '; decrypt it first (for example with openssl pkcs8), then import the PRIVATE KEY';
  }
  if (found === 'PRIVATE KEY' && expected === 'PUBLIC KEY') {
    return '; import it with importPrivateKey, which returns the public key too';
  }
  if (found === 'PUBLIC KEY' && expected === 'PRIVATE KEY') {
    return '; a public key cannot be imported as a private key';
  }
  return '';
}

/** Returns the DER inside the single PEM block of `text`, whose label must be `label`. */
export function decodePem(text: unknown, label: PemLabel): Uint8Array {
  if (typeof text !== 'string') {
    throw new InvalidArgumentError(`PEM input must be a string, got ${typeof text}`);
  }
  const fail = (problem: string): never => {
    throw new InvalidEncodingError(`invalid ${label} PEM: ${problem}`);
  };

  const lines = text.trim().split(/\r?\n/);
  const header = lines[0] ?? '';
  const footer = lines[lines.length - 1] ?? '';

  const begin = BEGIN_PATTERN.exec(header);
  if (begin === null) {
    fail(`the first line must be '-----BEGIN ${label}-----'; remove any text before it`);
  }
  if (begin![1] !== label) {
    fail(`the label is '${begin![1]}', expected '${label}'${labelHint(begin![1]!, label)}`);
  }
  const end = lines.length > 1 ? END_PATTERN.exec(footer) : null;
  if (end === null) {
    fail(`the last line must be '-----END ${label}-----'; remove any text after it`);
  }
  if (end![1] !== label) {
    fail(`the END label '${end![1]}' does not match the BEGIN label '${label}'`);
  }

  const body = lines.slice(1, -1);
  for (const [index, line] of body.entries()) {
    const lineNumber = index + 2;
    if (line.startsWith('-----')) {
      fail(`line ${lineNumber} starts another PEM block; pass one block at a time`);
    }
    if (line.includes(':')) {
      fail(`line ${lineNumber} is an encapsulated header, which key PEM files do not have`);
    }
    if (line.length === 0 || /\s/.test(line)) {
      fail(`line ${lineNumber} is blank or contains whitespace`);
    }
  }
  if (body.length === 0) {
    fail('the block has no base64 body');
  }

  return decodeBase64(body.join(''), `${label} PEM body`);
}
