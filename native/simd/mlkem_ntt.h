/*
 * ML-KEM arithmetic in Z_q[X]/(X^256 + 1), q = 3329, on eight int16 coefficients per v128.
 *
 * Each function computes exactly what the C code of the same name in mlkem-native (the ML-KEM
 * implementation in liboqs 0.13.0, mlkem/poly.c and mlkem/poly_k.c) computes, down to the
 * representative of every coefficient. mlkem_backend_impl.h plugs them into mlkem-native's
 * native arithmetic backend.
 */
#ifndef QYN_SIMD_MLKEM_NTT_H
#define QYN_SIMD_MLKEM_NTT_H

#include <stdint.h>

#define QYN_MLKEM_N 256

/* Computes the twiddle-factor tables. It must run once before the functions below. */
void qyn_mlkem_ntt_init(void);

/* Forward NTT in place (mlk_poly_ntt): output in bit-reversed order, |coefficient| < 8q. */
void qyn_mlkem_ntt(int16_t r[QYN_MLKEM_N]);

/* Inverse NTT in place with the factor 2^16 / 128 (mlk_poly_invntt_tomont): |coefficient| < q. */
void qyn_mlkem_invntt_tomont(int16_t r[QYN_MLKEM_N]);

/* Reduces every coefficient to [0, q) (mlk_poly_reduce). */
void qyn_mlkem_poly_reduce(int16_t r[QYN_MLKEM_N]);

/* Multiplies every coefficient by 2^16 mod q (mlk_poly_tomont). */
void qyn_mlkem_poly_tomont(int16_t r[QYN_MLKEM_N]);

/* cache[i] = a[2i + 1] * (+-zeta) * 2^-16 for the basemul of pair i (mlk_poly_mulcache_compute). */
void qyn_mlkem_poly_mulcache(int16_t cache[QYN_MLKEM_N / 2], const int16_t a[QYN_MLKEM_N]);

/*
 * r = sum over k of a[k] * b[k] in the NTT domain, times 2^-16, for vectors of `rank`
 * polynomials stored one after another (mlk_polyvec_basemul_acc_montgomery_cached).
 */
void qyn_mlkem_basemul_acc(int16_t r[QYN_MLKEM_N], const int16_t *a, const int16_t *b,
                           const int16_t *b_cache, unsigned rank);

#endif
