/**
 * The page's static files, read into memory at start: the rollup output of demo/page (page
 * directory) under `/` and the SDK's browser build (dist/browser) under `/sdk/`. Only files
 * present at start are served, so no request path ever reaches the file system.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** A file ready to send. */
export interface StaticFile {
  contentType: string;
  body: Buffer;
}

async function addDirectory(
  files: Map<string, StaticFile>,
  directory: string,
  urlPrefix: string,
): Promise<void> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    throw new Error(
      `cannot read ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'}); build the page ` +
        'first with npm run build && npx rollup -c demo/rollup.config.mjs',
      { cause: error },
    );
  }

  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType !== undefined) {
      files.set(`${urlPrefix}${name}`, {
        contentType,
        body: await readFile(join(directory, name)),
      });
    }
  }
}

/**
 * Loads the files of `pageDirectory` and `sdkDirectory` and returns them keyed by URL path.
 * `/` maps to index.html. Throws if either directory cannot be read or index.html is missing.
 */
export async function loadStaticFiles(
  pageDirectory: string,
  sdkDirectory: string,
): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  await addDirectory(files, pageDirectory, '/');
  await addDirectory(files, sdkDirectory, '/sdk/');

  const index = files.get('/index.html');
  if (index === undefined) {
    throw new Error(
      `${pageDirectory} has no index.html; rebuild the page with rollup -c demo/rollup.config.mjs`,
    );
  }
  files.set('/', index);
  return files;
}
