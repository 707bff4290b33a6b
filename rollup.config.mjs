// Builds the Node ESM and CJS bundles, their type declarations and the CLI, and copies the
// WebAssembly module next to them so that the loader finds it without a bundler.
import { copyFileSync, mkdirSync } from 'node:fs';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const nodeExternal = [/^node:/, /^@noble\/hashes/, 'comlink', 'mongodb', 'bcryptjs', 'pino', 'cli-progress', 'commander'];

/** Copies the committed modules, baseline and SIMD, beside the bundles written to `directory`. */
function copyWasm(directory) {
  return {
    name: 'copy-wasm',
    writeBundle() {
      mkdirSync(directory, { recursive: true });
      for (const file of ['qynpqc.wasm', 'qynpqc-simd.wasm']) {
        copyFileSync(`wasm/${file}`, `${directory}/${file}`);
      }
    },
  };
}

function ts() {
  return typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false });
}

// Worker pool: the Node worker script next to dist/index.js, and a self-contained browser build
// (SDK, worker script and module side by side in dist/browser) that a plain
// <script type="module"> can load without a bundler or dev server.
const poolNodeExternal = [/^node:/, /^comlink(\/|$)/, /^@noble\/hashes/];

function browserTs() {
  return typescript({
    tsconfig: './tsconfig.json',
    declaration: false,
    declarationMap: false,
    outDir: 'dist/browser',
  });
}

const poolEntries = [
  {
    input: { 'pool-worker': 'src/pool/worker-node.ts' },
    external: poolNodeExternal,
    plugins: [ts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js' },
  },
  {
    input: { index: 'src/pool/browser.ts' },
    external: [/^node:/],
    plugins: [nodeResolve({ browser: true }), browserTs(), copyWasm('dist/browser')],
    output: { dir: 'dist/browser', format: 'es', entryFileNames: '[name].js' },
  },
  {
    input: { 'pool-worker': 'src/pool/worker-browser.ts' },
    external: [/^node:/],
    plugins: [nodeResolve({ browser: true }), browserTs()],
    output: { dir: 'dist/browser', format: 'es', entryFileNames: '[name].js' },
  },
];

export default [
  {
    input: { index: 'src/index.ts', store: 'src/store/index.ts' },
    external: nodeExternal,
    // comlink's Node adapter ships only as an ES module, which require() cannot load on Node 20,
    // so both bundles carry a copy of it; comlink itself stays an external dependency.
    plugins: [nodeResolve({ resolveOnly: ['comlink'] }), ts(), copyWasm('dist')],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs' },
    ],
  },
  {
    input: { cli: 'src/cli/main.ts' },
    external: nodeExternal,
    plugins: [nodeResolve({ resolveOnly: ['comlink'] }), ts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/cli-[name]-[hash].js' },
  },
  {
    input: 'src/index.ts',
    external: nodeExternal,
    plugins: [dts()],
    output: { file: 'dist/index.d.ts', format: 'es' },
  },
  {
    input: 'src/store/index.ts',
    external: nodeExternal,
    plugins: [dts()],
    output: { file: 'dist/store.d.ts', format: 'es' },
  },
  ...poolEntries,
];
