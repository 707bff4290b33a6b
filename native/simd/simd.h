/*
 * Entry point of the WebAssembly SIMD kernels, compiled into wasm/qynpqc-simd.wasm only.
 *
 * The four-way SHAKE callbacks are installed at run time by qyn_simd_install(). The ML-KEM
 * arithmetic enters through mlkem-native's native backend (mlkem_backend.h), and the ML-DSA
 * kernels replace liboqs functions at link time (see mldsa_wrap.c).
 */
#ifndef QYN_SIMD_H
#define QYN_SIMD_H

/* Computes the kernels' tables and installs the run-time callbacks. Call it after OQS_init(). */
void qyn_simd_install(void);

#endif
