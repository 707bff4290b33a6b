/**
 * Entry point of the browser build (dist/browser/index.js): the whole SDK, worker pool included,
 * with comlink bundled in, so a page can import it from a plain `<script type="module">`.
 * pool-worker.js and qynpqc.wasm must sit in the same folder.
 */
export * from '../index.js';
