/**
 * Algorithm identifiers and byte lengths that the key encodings need: the object identifiers
 * NIST assigned under csor(3) nistAlgorithm(4) (kems(4) for ML-KEM, sigAlgs(3) for ML-DSA), and
 * the FIPS 203 / FIPS 204 key and seed sizes from the core's parameter tables.
 */
import { InvalidArgumentError, UnknownAlgorithmError } from '../errors.js';
import {
  ALL_ALGORITHMS,
  isKemAlgorithm,
  KEM_PARAMETERS,
  ML_DSA_SEED_LENGTH,
  ML_KEM_SEED_LENGTH,
  SIGNATURE_PARAMETERS,
} from '../core/algorithms.js';
import type { KemAlgorithm, SignatureAlgorithm } from '../core/types.js';

/** Name of any parameter set whose keys this module encodes. */
export type KeyAlgorithm = KemAlgorithm | SignatureAlgorithm;

/** Object identifier of ML-KEM-512 (id-alg-ml-kem-512). */
export const ML_KEM_512_OID = '2.16.840.1.101.3.4.4.1';
/** Object identifier of ML-KEM-768 (id-alg-ml-kem-768). */
export const ML_KEM_768_OID = '2.16.840.1.101.3.4.4.2';
/** Object identifier of ML-KEM-1024 (id-alg-ml-kem-1024). */
export const ML_KEM_1024_OID = '2.16.840.1.101.3.4.4.3';
/** Object identifier of ML-DSA-44 (id-ml-dsa-44). */
export const ML_DSA_44_OID = '2.16.840.1.101.3.4.3.17';
/** Object identifier of ML-DSA-65 (id-ml-dsa-65). */
export const ML_DSA_65_OID = '2.16.840.1.101.3.4.3.18';
/** Object identifier of ML-DSA-87 (id-ml-dsa-87). */
export const ML_DSA_87_OID = '2.16.840.1.101.3.4.3.19';

/** Everything the encoders need to know about one parameter set. */
export interface KeyAlgorithmInfo {
  /** Parameter set name, for example `ML-KEM-768`. */
  readonly name: KeyAlgorithm;
  /** Algorithm family. */
  readonly family: 'ML-KEM' | 'ML-DSA';
  /** Dotted object identifier used in AlgorithmIdentifier. */
  readonly oid: string;
  /** Length of the raw public key in bytes. */
  readonly publicKeyLength: number;
  /** Length of the expanded secret key in bytes. */
  readonly secretKeyLength: number;
  /** Length of the key-generation seed in bytes: 64 for ML-KEM, 32 for ML-DSA. */
  readonly seedLength: number;
  /** Module rank k of the parameter set (rows of the matrix A for ML-DSA). */
  readonly k: number;
  /** Columns l of the ML-DSA matrix A; 0 for ML-KEM. */
  readonly l: number;
}

const OIDS: Readonly<Record<KeyAlgorithm, string>> = {
  'ML-KEM-512': ML_KEM_512_OID,
  'ML-KEM-768': ML_KEM_768_OID,
  'ML-KEM-1024': ML_KEM_1024_OID,
  'ML-DSA-44': ML_DSA_44_OID,
  'ML-DSA-65': ML_DSA_65_OID,
  'ML-DSA-87': ML_DSA_87_OID,
};

/** Columns l of the ML-DSA matrix A (FIPS 204, table 1). */
const ML_DSA_COLUMNS: Readonly<Record<SignatureAlgorithm, number>> = {
  'ML-DSA-44': 4,
  'ML-DSA-65': 5,
  'ML-DSA-87': 7,
};

/** Rows k of the ML-DSA matrix A (FIPS 204, table 1). */
const ML_DSA_ROWS: Readonly<Record<SignatureAlgorithm, number>> = {
  'ML-DSA-44': 4,
  'ML-DSA-65': 6,
  'ML-DSA-87': 8,
};

function describe(name: KeyAlgorithm): KeyAlgorithmInfo {
  if (isKemAlgorithm(name)) {
    const parameters = KEM_PARAMETERS[name];
    return {
      name,
      family: 'ML-KEM',
      oid: OIDS[name],
      publicKeyLength: parameters.publicKeyLength,
      secretKeyLength: parameters.secretKeyLength,
      seedLength: ML_KEM_SEED_LENGTH,
      k: parameters.k,
      l: 0,
    };
  }

  const parameters = SIGNATURE_PARAMETERS[name];
  return {
    name,
    family: 'ML-DSA',
    oid: OIDS[name],
    publicKeyLength: parameters.publicKeyLength,
    secretKeyLength: parameters.secretKeyLength,
    seedLength: ML_DSA_SEED_LENGTH,
    k: ML_DSA_ROWS[name],
    l: ML_DSA_COLUMNS[name],
  };
}

const KEM_NAMES = Object.keys(KEM_PARAMETERS).join(', ');
const SIGNATURE_NAMES = Object.keys(SIGNATURE_PARAMETERS).join(', ');

const INFOS: ReadonlyMap<string, KeyAlgorithmInfo> = new Map(
  (Object.keys(OIDS) as KeyAlgorithm[]).map((name) => [name, Object.freeze(describe(name))]),
);

const BY_OID: ReadonlyMap<string, KeyAlgorithmInfo> = new Map(
  [...INFOS.values()].map((info) => [info.oid, info]),
);

/** Returns the description of `name`; throws `UnknownAlgorithmError` for any other value. */
export function resolveKeyAlgorithm(name: unknown): KeyAlgorithmInfo {
  const info = typeof name === 'string' ? INFOS.get(name) : undefined;
  if (info === undefined) {
    throw new UnknownAlgorithmError(name, ALL_ALGORITHMS);
  }
  return info;
}

/** Returns the parameter set with object identifier `oid`, or undefined for a foreign one. */
export function algorithmForOid(oid: string): KeyAlgorithmInfo | undefined {
  return BY_OID.get(oid);
}

/** Throws unless `name` is an ML-KEM parameter set; `parameter` names the argument. */
export function requireKemAlgorithm(name: unknown, parameter: string): KeyAlgorithmInfo {
  const info = resolveKeyAlgorithm(name);
  if (info.family !== 'ML-KEM') {
    throw new InvalidArgumentError(
      `${parameter} must be an ML-KEM parameter set (${KEM_NAMES}), got ${info.name}`,
    );
  }
  return info;
}

/** Throws unless `name` is an ML-DSA parameter set; `parameter` names the argument. */
export function requireSignatureAlgorithm(name: unknown, parameter: string): KeyAlgorithmInfo {
  const info = resolveKeyAlgorithm(name);
  if (info.family !== 'ML-DSA') {
    throw new InvalidArgumentError(
      `${parameter} must be an ML-DSA parameter set (${SIGNATURE_NAMES}), got ${info.name}`,
    );
  }
  return info;
}
