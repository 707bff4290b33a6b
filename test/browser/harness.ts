// Headless-Chromium harness: a static file server on 127.0.0.1 and a Chromium launched through
// playwright-core from Debian's /usr/bin/chromium (Playwright's own browser download is never
// used). The pool tests use it, and demos can reuse it the same way.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

/** Chromium binary of the Debian package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless run that contacts no host of its own accord. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css; charset=utf-8',
};

/** A running static server. */
export interface StaticServer {
  /** Base URL, for example `http://127.0.0.1:43127`, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves files on 127.0.0.1 at a free port. `mounts` maps URL prefixes (ending in `/`) to
 * folders; the longest matching prefix wins. Paths that leave their folder get 404.
 */
export async function startStaticServer(mounts: Record<string, string>): Promise<StaticServer> {
  const entries = Object.entries(mounts)
    .map(([prefix, folder]) => [prefix, resolve(folder)] as const)
    .sort((a, b) => b[0].length - a[0].length);

  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const mount = entries.find(([prefix]) => path.startsWith(prefix));
    const file =
      mount === undefined ? undefined : resolve(mount[1], `.${sep}${path.slice(mount[0].length)}`);
    if (
      mount === undefined ||
      file === undefined ||
      !(file === mount[1] || file.startsWith(mount[1] + sep))
    ) {
      response.writeHead(404).end();
      return;
    }

    stat(file).then(
      (info) => {
        if (!info.isFile()) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'content-length': info.size,
          'cache-control': 'no-store',
        });
        createReadStream(file).pipe(response);
      },
      () => response.writeHead(404).end(),
    );
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.closeAllConnections();
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
      }),
  };
}

/** Launches headless Chromium from {@link CHROMIUM_PATH}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * Opens `url` in a new page that may load only from `allowedOrigin`; every other request is
 * aborted. Console errors and uncaught page errors are collected into `errors`.
 */
export async function openPage(
  browser: Browser,
  url: string,
  allowedOrigin: string,
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.route('**/*', (route) =>
    route.request().url().startsWith(`${allowedOrigin}/`) ? route.continue() : route.abort(),
  );
  await page.goto(url);
  return { page, errors };
}
