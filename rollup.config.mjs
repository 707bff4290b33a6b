// Builds the Node ESM and CJS bundles, their type declarations and the CLI, and copies the
// WebAssembly module next to them so that the loader finds it without a bundler.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

const nodeExternal = [/^node:/, 'comlink', 'mongodb', 'bcryptjs', 'pino', 'cli-progress', 'commander'];

/** Copies the committed module beside the bundles written to `directory`. */
function copyWasm(directory) {
  return {
    name: 'copy-wasm',
    writeBundle() {
      const target = `${directory}/qynpqc.wasm`;
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync('wasm/qynpqc.wasm', target);
    },
  };
}

function ts() {
  return typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false });
}

export default [
  {
    input: { index: 'src/index.ts' },
    external: nodeExternal,
    plugins: [ts(), copyWasm('dist')],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs' },
    ],
  },
  {
    input: { cli: 'src/cli/main.ts' },
    external: nodeExternal,
    plugins: [ts()],
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/cli-[name]-[hash].js' },
  },
  {
    input: 'src/index.ts',
    external: nodeExternal,
    plugins: [dts()],
    output: { file: 'dist/index.d.ts', format: 'es' },
  },
];
