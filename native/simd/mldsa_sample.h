/*
 * ML-DSA sampling of two polynomials at once on the two-way SHAKE sponge. Each function fills
 * the two polynomials exactly as two calls of the corresponding function of liboqs's ML-DSA
 * reference code (pqcrystals-dilithium-standard, poly.c) would.
 */
#ifndef QYN_SIMD_MLDSA_SAMPLE_H
#define QYN_SIMD_MLDSA_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "mldsa_ntt.h"

/* Length of rho, the seed of the matrix A, in bytes. */
#define QYN_MLDSA_SEED_BYTES 32
/* Length of rho' and rho'', the seeds of the secret vectors and of the mask y, in bytes. */
#define QYN_MLDSA_CRH_BYTES 64

/*
 * RejNTTPoly (FIPS 204, algorithm 30) for two entries of A: a0 from SHAKE128(rho || nonce0)
 * and a1 from SHAKE128(rho || nonce1), with the nonce as two little-endian bytes. Like
 * poly_uniform().
 */
void qyn_mldsa_sample_uniform_x2(int32_t a0[QYN_MLDSA_N], int32_t a1[QYN_MLDSA_N],
                                 const uint8_t seed[QYN_MLDSA_SEED_BYTES], uint16_t nonce0,
                                 uint16_t nonce1);

/*
 * RejBoundedPoly (FIPS 204, algorithm 31) with coefficients in [-eta, eta], eta 2 or 4, from
 * SHAKE256(seed || nonce). Like poly_uniform_eta().
 */
void qyn_mldsa_sample_eta_x2(int32_t a0[QYN_MLDSA_N], int32_t a1[QYN_MLDSA_N],
                             const uint8_t seed[QYN_MLDSA_CRH_BYTES], uint16_t nonce0,
                             uint16_t nonce1, unsigned eta);

/*
 * The first `length` bytes of SHAKE256(seed || nonce0) and SHAKE256(seed || nonce1), the
 * stream that ExpandMask (FIPS 204, algorithm 34) unpacks. poly_uniform_gamma1() squeezes the
 * same bytes before it calls polyz_unpack().
 */
void qyn_mldsa_squeeze_x2(uint8_t *out0, uint8_t *out1, size_t length,
                          const uint8_t seed[QYN_MLDSA_CRH_BYTES], uint16_t nonce0,
                          uint16_t nonce1);

#endif
