/**
 * A strict DER (ITU-T X.690) encoder and decoder for the few types that SubjectPublicKeyInfo and
 * OneAsymmetricKey use: SEQUENCE, INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER and
 * context-specific tags. The decoder accepts only the distinguished encoding: definite lengths in
 * their shortest form, single-byte tags, minimal INTEGER and OBJECT IDENTIFIER contents, and no
 * bytes after the outermost element. Anything else raises `InvalidEncodingError`.
 */
import { InvalidEncodingError } from '../errors.js';

/** Tag bytes (class, constructed bit and number in one byte) of the types the keys use. */
export const DerTag = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  SEQUENCE: 0x30,
  /** `[0] IMPLICIT` over a primitive type, such as the ML-KEM and ML-DSA `seed`. */
  CONTEXT_0_PRIMITIVE: 0x80,
  /** `[1] IMPLICIT` over a primitive type, such as the OneAsymmetricKey `publicKey`. */
  CONTEXT_1_PRIMITIVE: 0x81,
  /** `[0] IMPLICIT` over a constructed type, such as the OneAsymmetricKey `attributes`. */
  CONTEXT_0_CONSTRUCTED: 0xa0,
} as const;

/** Most length bytes the decoder accepts (elements below 16 MiB); keys are far smaller. */
const MAX_LENGTH_BYTES = 3;
/** Bit 7 of a length byte selects the long form; bits 0..6 count the length bytes. */
const LONG_FORM = 0x80;
/** Low five bits of a tag byte that announce a multi-byte tag number. */
const HIGH_TAG_NUMBER = 0x1f;

/** Returns the concatenation of `parts`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

function encodeLength(length: number): Uint8Array {
  if (length < LONG_FORM) {
    return Uint8Array.of(length);
  }

  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
    bytes.unshift(rest % 256);
  }
  return Uint8Array.of(LONG_FORM | bytes.length, ...bytes);
}

/** Encodes one element: tag, definite length in its shortest form, then `content`. */
export function encodeElement(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), encodeLength(content.length), content);
}

/** Encodes a SEQUENCE of already-encoded elements. */
export function encodeSequence(...elements: Uint8Array[]): Uint8Array {
  return encodeElement(DerTag.SEQUENCE, concatBytes(...elements));
}

/** Encodes a non-negative INTEGER below 128, which is all the version fields need. */
export function encodeSmallInteger(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 127) {
    throw new RangeError(`encodeSmallInteger supports 0..127, got ${value}`);
  }
  return encodeElement(DerTag.INTEGER, Uint8Array.of(value));
}

/** Encodes an OCTET STRING. */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  return encodeElement(DerTag.OCTET_STRING, bytes);
}

/** Encodes `bytes` as the content of a BIT STRING with no unused bits, under `tag`. */
export function encodeBitString(bytes: Uint8Array, tag: number = DerTag.BIT_STRING): Uint8Array {
  return encodeElement(tag, concatBytes(Uint8Array.of(0), bytes));
}

/** Encodes a dotted object identifier such as `2.16.840.1.101.3.4.3.18`. */
export function encodeObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [first, second] = arcs;
  if (arcs.length < 2 || first === undefined || second === undefined || first > 2) {
    throw new RangeError(`not a valid object identifier: ${dotted}`);
  }

  const content: number[] = [];
  for (const arc of [first * 40 + second, ...arcs.slice(2)]) {
    if (!Number.isSafeInteger(arc) || arc < 0) {
      throw new RangeError(`not a valid object identifier: ${dotted}`);
    }
    const groups = [arc % 128];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) {
      groups.unshift((rest % 128) | 0x80);
    }
    content.push(...groups);
  }
  return encodeElement(DerTag.OBJECT_IDENTIFIER, Uint8Array.from(content));
}

/** One decoded element. */
export interface DerElement {
  /** Tag byte. */
  readonly tag: number;
  /** Content bytes, a view into the input. */
  readonly content: Uint8Array;
  /** Offset of the tag byte in the outermost input, for error messages. */
  readonly offset: number;
  /** Offset of the first content byte in the outermost input. */
  readonly contentOffset: number;
}

/** Returns a short human name of a tag byte for messages, such as `OCTET STRING (0x04)`. */
export function describeTag(tag: number): string {
  const names: Record<number, string> = {
    [DerTag.INTEGER]: 'INTEGER',
    [DerTag.BIT_STRING]: 'BIT STRING',
    [DerTag.OCTET_STRING]: 'OCTET STRING',
    [DerTag.NULL]: 'NULL',
    [DerTag.OBJECT_IDENTIFIER]: 'OBJECT IDENTIFIER',
    [DerTag.SEQUENCE]: 'SEQUENCE',
    [DerTag.CONTEXT_0_PRIMITIVE]: '[0]',
    [DerTag.CONTEXT_1_PRIMITIVE]: '[1]',
    [DerTag.CONTEXT_0_CONSTRUCTED]: '[0] constructed',
  };
  const hex = `0x${tag.toString(16).padStart(2, '0')}`;
  const name = names[tag];
  return name === undefined ? `tag ${hex}` : `${name} (${hex})`;
}

/**
 * Reads consecutive DER elements from a byte range. `structure` names the enclosing structure
 * (for example `SubjectPublicKeyInfo`) in every error message.
 */
export class DerReader {
  private position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly structure: string,
    private readonly baseOffset = 0,
  ) {}

  /** Returns a reader over the content of `element`. */
  static inside(element: DerElement, structure: string): DerReader {
    return new DerReader(element.content, structure, element.contentOffset);
  }

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  /** Returns the tag of the next element without reading it, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.bytes[this.position];
  }

  /** Reads the next element of any tag. */
  read(field: string): DerElement {
    const offset = this.baseOffset + this.position;
    if (this.done) {
      this.fail(`${field} is missing (input ends at byte ${offset})`);
    }

    const tag = this.bytes[this.position]!;
    if ((tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) {
      this.fail(`${field} at byte ${offset} has a multi-byte tag, which no key structure uses`);
    }
    this.position += 1;

    const length = this.readLength(field);
    const remaining = this.bytes.length - this.position;
    if (length > remaining) {
      this.fail(
        `${field} at byte ${offset} declares ${length} content bytes but only ${remaining} ` +
          `remain (truncated input)`,
      );
    }

    const contentOffset = this.baseOffset + this.position;
    const content = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return { tag, content, offset, contentOffset };
  }

  /** Reads the next element; throws unless its tag is `tag`. */
  readExpected(tag: number, field: string): DerElement {
    const next = this.peekTag();
    if (next !== undefined && next !== tag) {
      const offset = this.baseOffset + this.position;
      this.fail(
        `${field} at byte ${offset} must be ${describeTag(tag)}, found ${describeTag(next)}`,
      );
    }
    return this.read(field);
  }

  /** Throws if any byte is left unread. */
  finish(after: string): void {
    if (!this.done) {
      const count = this.bytes.length - this.position;
      this.fail(
        `${count} unexpected byte(s) after ${after} at byte ${this.baseOffset + this.position}`,
      );
    }
  }

  /** Throws `InvalidEncodingError` with the structure name and `problem`. */
  fail(problem: string): never {
    throw new InvalidEncodingError(`invalid ${this.structure} DER: ${problem}`);
  }

  private readLength(field: string): number {
    const offset = this.baseOffset + this.position;
    if (this.done) {
      this.fail(`${field} at byte ${offset - 1} has no length byte (truncated input)`);
    }

    const first = this.bytes[this.position]!;
    this.position += 1;
    if (first < LONG_FORM) {
      return first;
    }
    if (first === LONG_FORM) {
      this.fail(`${field} at byte ${offset} uses an indefinite length, which DER forbids`);
    }

    const count = first & ~LONG_FORM;
    if (count > MAX_LENGTH_BYTES) {
      this.fail(`${field} at byte ${offset} has a ${count}-byte length, longer than any key needs`);
    }
    if (count > this.bytes.length - this.position) {
      this.fail(`${field} at byte ${offset} has a truncated ${count}-byte length`);
    }
    const leadingByte = this.bytes[this.position]!;
    let length = 0;
    for (let index = 0; index < count; index++) {
      length = length * 256 + this.bytes[this.position + index]!;
    }
    this.position += count;

    if (leadingByte === 0 || length < LONG_FORM) {
      this.fail(
        `${field} at byte ${offset} encodes its length ${length} in more bytes than needed`,
      );
    }
    return length;
  }
}

/** Decodes a non-negative INTEGER that fits in 31 bits, rejecting non-minimal encodings. */
export function decodeSmallInteger(element: DerElement, field: string, structure: string): number {
  const { content } = element;
  const invalid = (problem: string): never => {
    throw new InvalidEncodingError(
      `invalid ${structure} DER: ${field} at byte ${element.offset} ${problem}`,
    );
  };

  if (content.length === 0) invalid('is an INTEGER with no content bytes');
  if (content.length > 1 && content[0] === 0 && content[1]! < 0x80) {
    invalid('is an INTEGER with a redundant leading zero byte');
  }
  if (content[0]! >= 0x80) invalid('is a negative INTEGER');
  if (content.length > 4) invalid('is an INTEGER too large for this field');

  let value = 0;
  for (const byte of content) {
    value = value * 256 + byte;
  }
  return value;
}

/** Decodes an OBJECT IDENTIFIER into dotted form, rejecting non-minimal sub-identifiers. */
export function decodeObjectIdentifier(
  element: DerElement,
  field: string,
  structure: string,
): string {
  const { content } = element;
  const invalid = (problem: string): never => {
    throw new InvalidEncodingError(
      `invalid ${structure} DER: ${field} at byte ${element.offset} ${problem}`,
    );
  };

  if (content.length === 0) invalid('is an OBJECT IDENTIFIER with no content bytes');
  if (content[content.length - 1]! & 0x80) invalid('ends inside a sub-identifier');

  const values: number[] = [];
  let value = 0;
  let startOfGroup = true;
  for (const byte of content) {
    if (startOfGroup && byte === 0x80) invalid('has a sub-identifier with a leading 0x80 byte');
    value = value * 128 + (byte & 0x7f);
    if (!Number.isSafeInteger(value)) invalid('has a sub-identifier that is too large');
    startOfGroup = (byte & 0x80) === 0;
    if (startOfGroup) {
      values.push(value);
      value = 0;
    }
  }

  // X.690 packs the first two arcs as 40 * first + second, and only the arc 2 allows second >= 40.
  const head = values[0]!;
  let first = 2;
  if (head < 40) {
    first = 0;
  } else if (head < 80) {
    first = 1;
  }
  return [first, head - first * 40, ...values.slice(1)].join('.');
}

/** Returns the bits of a BIT STRING element whose unused-bit count must be 0. */
export function decodeWholeBitString(
  element: DerElement,
  field: string,
  structure: string,
): Uint8Array {
  const { content } = element;
  if (content.length === 0) {
    throw new InvalidEncodingError(
      `invalid ${structure} DER: ${field} at byte ${element.offset} is a BIT STRING with no ` +
        `content bytes`,
    );
  }
  if (content[0] !== 0) {
    throw new InvalidEncodingError(
      `invalid ${structure} DER: ${field} at byte ${element.offset} declares ${content[0]} ` +
        `unused bits; a key is a whole number of bytes, so it must be 0`,
    );
  }
  return content.subarray(1);
}
