/*
 * The native arithmetic functions that mlkem-native calls in place of its C code when
 * MLK_USE_NATIVE_* is defined (contracts in mlkem/native/api.h). They forward to the SIMD
 * kernels of mlkem_ntt.c and mlkem_sample.c, which keep the coefficient order and
 * representatives of the C code.
 */
#ifndef QYN_SIMD_MLKEM_BACKEND_IMPL_H
#define QYN_SIMD_MLKEM_BACKEND_IMPL_H

#include <stdint.h>

#include "mlkem_ntt.h"
#include "mlkem_sample.h"

#define MLK_USE_NATIVE_NTT
#define MLK_USE_NATIVE_INTT
#define MLK_USE_NATIVE_POLY_REDUCE
#define MLK_USE_NATIVE_POLY_TOMONT
#define MLK_USE_NATIVE_POLY_MULCACHE_COMPUTE
#define MLK_USE_NATIVE_POLYVEC_BASEMUL_ACC_MONTGOMERY_CACHED
#define MLK_USE_NATIVE_REJ_UNIFORM

static MLK_INLINE int mlk_rej_uniform_native(int16_t *r, unsigned len, const uint8_t *buf,
                                             unsigned buflen) {
    return (int)qyn_mlkem_rej_uniform(r, len, buf, buflen);
}

static MLK_INLINE void mlk_ntt_native(int16_t p[MLKEM_N]) {
    qyn_mlkem_ntt(p);
}

static MLK_INLINE void mlk_intt_native(int16_t p[MLKEM_N]) {
    qyn_mlkem_invntt_tomont(p);
}

static MLK_INLINE void mlk_poly_reduce_native(int16_t p[MLKEM_N]) {
    qyn_mlkem_poly_reduce(p);
}

static MLK_INLINE void mlk_poly_tomont_native(int16_t p[MLKEM_N]) {
    qyn_mlkem_poly_tomont(p);
}

static MLK_INLINE void mlk_poly_mulcache_compute_native(int16_t cache[MLKEM_N / 2],
                                                        const int16_t mlk_poly[MLKEM_N]) {
    qyn_mlkem_poly_mulcache(cache, mlk_poly);
}

static MLK_INLINE void mlk_polyvec_basemul_acc_montgomery_cached_k2_native(
    int16_t r[MLKEM_N], const int16_t a[2 * MLKEM_N], const int16_t b[2 * MLKEM_N],
    const int16_t b_cache[2 * (MLKEM_N / 2)]) {
    qyn_mlkem_basemul_acc(r, a, b, b_cache, 2);
}

static MLK_INLINE void mlk_polyvec_basemul_acc_montgomery_cached_k3_native(
    int16_t r[MLKEM_N], const int16_t a[3 * MLKEM_N], const int16_t b[3 * MLKEM_N],
    const int16_t b_cache[3 * (MLKEM_N / 2)]) {
    qyn_mlkem_basemul_acc(r, a, b, b_cache, 3);
}

static MLK_INLINE void mlk_polyvec_basemul_acc_montgomery_cached_k4_native(
    int16_t r[MLKEM_N], const int16_t a[4 * MLKEM_N], const int16_t b[4 * MLKEM_N],
    const int16_t b_cache[4 * (MLKEM_N / 2)]) {
    qyn_mlkem_basemul_acc(r, a, b, b_cache, 4);
}

#endif
