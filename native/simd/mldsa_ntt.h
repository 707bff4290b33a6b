/*
 * ML-DSA arithmetic in Z_q[X]/(X^256 + 1), q = 8380417, on four int32 coefficients per v128.
 *
 * Each function computes exactly what the function of the same name in liboqs's ML-DSA
 * reference code (pqcrystals-dilithium-standard, ntt.c and poly.c) computes, down to the
 * representative of every coefficient, so that the SIMD module produces the same keys and
 * signatures as the baseline module.
 */
#ifndef QYN_SIMD_MLDSA_NTT_H
#define QYN_SIMD_MLDSA_NTT_H

#include <stdint.h>

#define QYN_MLDSA_N 256

/* Computes the twiddle-factor tables. It must run once before the functions below. */
void qyn_mldsa_ntt_init(void);

/* Forward NTT in place, output in bit-reversed order. Each coefficient grows by at most 8q. */
void qyn_mldsa_ntt(int32_t a[QYN_MLDSA_N]);

/* Inverse NTT in place, followed by multiplication with the Montgomery factor 2^32 / 256. */
void qyn_mldsa_invntt_tomont(int32_t a[QYN_MLDSA_N]);

/* c = a * b * 2^-32 mod q coefficient by coefficient, with Montgomery reduction. */
void qyn_mldsa_pointwise_montgomery(int32_t c[QYN_MLDSA_N], const int32_t a[QYN_MLDSA_N],
                                    const int32_t b[QYN_MLDSA_N]);

/*
 * t[i] = sum over j of a[i * columns + j] * v[j] * 2^-32, for i < rows: the matrix-vector
 * product in the NTT domain. The sum is formed from the same Montgomery products, without
 * reduction, as polyvec_matrix_pointwise_montgomery() in the reference code.
 */
void qyn_mldsa_matrix_pointwise_montgomery(int32_t *t, const int32_t *a, const int32_t *v,
                                           unsigned rows, unsigned columns);

#endif
