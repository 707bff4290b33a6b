/*
 * mlkem-native arithmetic backend for WebAssembly SIMD: the metadata that mlkem/common.h
 * includes. The functions themselves are in mlkem_backend_impl.h, which mlkem/arith_backend.h
 * includes as MLK_ARITH_BACKEND_IMPL.
 */
#ifndef QYN_SIMD_MLKEM_BACKEND_H
#define QYN_SIMD_MLKEM_BACKEND_H

#define MLK_ARITH_BACKEND_NAME WASM_SIMD128
#define MLK_ARITH_BACKEND_IMPL "mlkem_backend_impl.h"

#endif
