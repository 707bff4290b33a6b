// Builds the demo page into dist/demo: app.js from demo/page/*.ts, plus index.html, style.css
// and favicon.svg copied as they are. The SDK is not bundled: the page imports the browser build
// (dist/browser, served by the demo server at /sdk/) as ./sdk/index.js, so run the main build
// (npm run build) first.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import typescript from '@rollup/plugin-typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGE_SOURCES = join(ROOT, 'demo', 'page');

const STATIC_FILES = ['index.html', 'style.css', 'favicon.svg'];

/** Resolves the page's import of src/pool/browser.js to the served SDK build, left external. */
function sdkFromBrowserBuild() {
  return {
    name: 'sdk-from-browser-build',
    resolveId(source) {
      if (source.endsWith('/src/pool/browser.js')) {
        return { id: './sdk/index.js', external: true };
      }
      return null;
    },
  };
}

/** Copies the page's HTML, CSS and icon next to app.js. */
function copyStaticFiles(outputDirectory) {
  return {
    name: 'copy-static-files',
    writeBundle() {
      mkdirSync(outputDirectory, { recursive: true });
      for (const name of STATIC_FILES) {
        copyFileSync(join(PAGE_SOURCES, name), join(outputDirectory, name));
      }
    },
  };
}

/** Returns the rollup options that build the page into `outputDirectory`, from any working directory. */
export function createDemoPageConfig(outputDirectory) {
  return {
    input: { app: join(PAGE_SOURCES, 'main.ts') },
    plugins: [
      sdkFromBrowserBuild(),
      typescript({
        tsconfig: join(ROOT, 'tsconfig.json'),
        declaration: false,
        declarationMap: false,
        outDir: outputDirectory,
        // The SDK's own declaration files (comlink's Node adapter) join the imported sources.
        include: [join(PAGE_SOURCES, '**/*.ts'), join(ROOT, 'src', '**/*.d.ts')],
      }),
      copyStaticFiles(outputDirectory),
    ],
    output: { dir: outputDirectory, format: 'es', entryFileNames: '[name].js' },
  };
}

export default createDemoPageConfig(join(ROOT, 'dist', 'demo'));
