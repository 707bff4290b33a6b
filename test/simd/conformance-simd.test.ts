// The liboqs KATs, the Wycheproof files and the other conformance suites of test/core, run
// against wasm/qynpqc-simd.wasm.
import { runCoreSuites } from './core-suites.js';

await runCoreSuites('simd');
