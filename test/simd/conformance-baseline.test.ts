// The liboqs KATs, the Wycheproof files and the other conformance suites of test/core, run
// against wasm/qynpqc.wasm, which test/core does not load where the runtime supports SIMD.
import { runCoreSuites } from './core-suites.js';

await runCoreSuites('baseline');
