/**
 * Index creation that is safe to rerun: an index that exists with the wanted key and options is
 * kept, one with the wanted name or key but other options (for example a `{ unique, sparse }`
 * index, which indexes explicit nulls and so rejects the second one) is dropped and built again.
 */
import { MongoServerError } from 'mongodb';
import type { Collection, Document } from 'mongodb';
import type { StoreLogger } from '../logger.js';

/** MongoDB's error code when a collection does not exist (NamespaceNotFound). */
const NAMESPACE_NOT_FOUND = 26;
/** MongoDB's error code when an index does not exist (IndexNotFound). */
const INDEX_NOT_FOUND = 27;

/** An index to build: its key pattern, name and the options the store uses. */
export interface IndexSpec {
  name: string;
  key: Record<string, 1 | -1>;
  unique?: boolean;
  partialFilterExpression?: Document;
}

function sameOptions(existing: Document, wanted: IndexSpec): boolean {
  return (
    JSON.stringify(existing.key) === JSON.stringify(wanted.key) &&
    existing.name === wanted.name &&
    (existing.unique === true) === (wanted.unique === true) &&
    existing.sparse !== true &&
    JSON.stringify(existing.partialFilterExpression ?? null) ===
      JSON.stringify(wanted.partialFilterExpression ?? null)
  );
}

async function listIndexes(collection: Collection<Document>): Promise<Document[]> {
  try {
    return await collection.listIndexes().toArray();
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

/**
 * Builds the indexes of `specs` on `collection`, replacing same-named or same-key indexes with
 * other options. Resolves with the names of the indexes built or rebuilt by this call.
 */
export async function ensureIndexes(
  collection: Collection<Document>,
  specs: readonly IndexSpec[],
  logger: StoreLogger,
): Promise<string[]> {
  const existing = await listIndexes(collection);
  const built: string[] = [];

  for (const spec of specs) {
    const matches = existing.filter(
      (index) => index.name === spec.name || JSON.stringify(index.key) === JSON.stringify(spec.key),
    );
    if (matches.length === 1 && sameOptions(matches[0]!, spec)) continue;

    for (const index of matches) {
      logger.info(
        { collection: collection.collectionName, index: index.name, replacedBy: spec },
        'dropping an index whose options differ from the wanted ones',
      );
      await dropIndex(collection, String(index.name));
    }

    const options: Document = { name: spec.name };
    if (spec.unique === true) options.unique = true;
    if (spec.partialFilterExpression !== undefined) {
      options.partialFilterExpression = spec.partialFilterExpression;
    }
    await collection.createIndex(spec.key, options);
    built.push(spec.name);
  }
  return built;
}

/** Drops the index `name` of `collection`; an index or collection that is gone counts as done. */
export async function dropIndex(collection: Collection<Document>, name: string): Promise<boolean> {
  try {
    await collection.dropIndex(name);
    return true;
  } catch (error) {
    if (
      error instanceof MongoServerError &&
      (error.code === INDEX_NOT_FOUND || error.code === NAMESPACE_NOT_FOUND)
    ) {
      return false;
    }
    throw error;
  }
}
