/*
 * Link-time replacements for functions of liboqs's ML-DSA reference code.
 *
 * The SIMD module is linked with -Wl,--wrap=SYMBOL for each function below, so every call that
 * crosses object files inside liboqs (sign.c to polyvec.c, polyvec.c to poly.c, poly.c to
 * ntt.c) reaches __wrap_SYMBOL instead. This replaces the NTTs, the pointwise product and the
 * sampling loops without patching liboqs. The wrapped originals are no longer referenced, so
 * the linker drops them. test/simd checks that their names are gone from the module.
 *
 * The sampling wrappers draw two polynomials per two-way SHAKE sponge. The matrix A always has
 * an even number of entries. For the secret vectors and the mask, an odd polynomial out goes
 * to the original single-polynomial function.
 *
 * Constant time: the wrappers only pick kernels and nonces by the parameter set and by loop
 * counters, never by key, seed or message data. What the kernels do with secret data is
 * stated at the top of mldsa_ntt.c and mldsa_sample.c.
 */
#include <stdint.h>

#include <oqs/common.h>

#include "mldsa_ntt.h"
#include "mldsa_sample.h"

/* The reference code's polynomial type: 256 coefficients, nothing else. */
typedef struct {
    int32_t coeffs[QYN_MLDSA_N];
} mldsa_poly;

/* Bytes of SHAKE256 output that poly_uniform_gamma1() unpacks: five blocks of 136. */
#define GAMMA1_STREAM_BYTES (5 * 136)

/*
 * Defines the wrappers for one parameter set. PREFIX is the set's symbol prefix, K and L the
 * matrix dimensions and ETA the bound of the secret coefficients (FIPS 204, table 1).
 */
#define DEFINE_MLDSA_WRAPPERS(PREFIX, K, L, ETA)                                                  \
    void PREFIX##poly_uniform_eta(mldsa_poly *a, const uint8_t *seed, uint16_t nonce);            \
    void PREFIX##poly_uniform_gamma1(mldsa_poly *a, const uint8_t *seed, uint16_t nonce);         \
    void PREFIX##polyz_unpack(mldsa_poly *r, const uint8_t *a);                                   \
                                                                                                  \
    void __wrap_##PREFIX##ntt(int32_t a[QYN_MLDSA_N]) {                                           \
        qyn_mldsa_ntt(a);                                                                         \
    }                                                                                             \
                                                                                                  \
    void __wrap_##PREFIX##invntt_tomont(int32_t a[QYN_MLDSA_N]) {                                 \
        qyn_mldsa_invntt_tomont(a);                                                               \
    }                                                                                             \
                                                                                                  \
    void __wrap_##PREFIX##poly_pointwise_montgomery(mldsa_poly *c, const mldsa_poly *a,           \
                                                    const mldsa_poly *b) {                        \
        qyn_mldsa_pointwise_montgomery(c->coeffs, a->coeffs, b->coeffs);                          \
    }                                                                                             \
                                                                                                  \
    void __wrap_##PREFIX##polyvec_matrix_pointwise_montgomery(                                    \
        mldsa_poly t[K], const mldsa_poly matrix[K * L], const mldsa_poly v[L]) {                 \
        qyn_mldsa_matrix_pointwise_montgomery(t[0].coeffs, matrix[0].coeffs, v[0].coeffs, K, L);  \
    }                                                                                             \
                                                                                                  \
    /* Entry (i, j) of A, at index i * L + j of the K * L polynomials, has nonce 256 i + j. */    \
    void __wrap_##PREFIX##polyvec_matrix_expand(mldsa_poly matrix[K * L],                         \
                                                const uint8_t rho[QYN_MLDSA_SEED_BYTES]) {        \
        _Static_assert((K) * (L) % 2 == 0, "the matrix is sampled two entries at a time");        \
        uint16_t nonces[(K) * (L)];                                                               \
        for (unsigned i = 0; i < (K); i++) {                                                      \
            for (unsigned j = 0; j < (L); j++) {                                                  \
                nonces[i * (L) + j] = (uint16_t)((i << 8) + j);                                   \
            }                                                                                     \
        }                                                                                         \
        for (unsigned entry = 0; entry < (K) * (L); entry += 2) {                                 \
            qyn_mldsa_sample_uniform_x2(matrix[entry].coeffs, matrix[entry + 1].coeffs, rho,      \
                                        nonces[entry], nonces[entry + 1]);                        \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    static void PREFIX##sample_eta(mldsa_poly *polys, unsigned count,                             \
                                   const uint8_t seed[QYN_MLDSA_CRH_BYTES], uint16_t nonce) {     \
        unsigned i = 0;                                                                           \
        for (; i + 1 < count; i += 2) {                                                           \
            qyn_mldsa_sample_eta_x2(polys[i].coeffs, polys[i + 1].coeffs, seed,                   \
                                    (uint16_t)(nonce + i), (uint16_t)(nonce + i + 1), ETA);       \
        }                                                                                         \
        if (i < count) {                                                                          \
            PREFIX##poly_uniform_eta(&polys[i], seed, (uint16_t)(nonce + i));                     \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    void __wrap_##PREFIX##polyvecl_uniform_eta(mldsa_poly v[L],                                   \
                                               const uint8_t seed[QYN_MLDSA_CRH_BYTES],           \
                                               uint16_t nonce) {                                  \
        PREFIX##sample_eta(v, L, seed, nonce);                                                    \
    }                                                                                             \
                                                                                                  \
    void __wrap_##PREFIX##polyveck_uniform_eta(mldsa_poly v[K],                                   \
                                               const uint8_t seed[QYN_MLDSA_CRH_BYTES],           \
                                               uint16_t nonce) {                                  \
        PREFIX##sample_eta(v, K, seed, nonce);                                                    \
    }                                                                                             \
                                                                                                  \
    /* Polynomial i of the mask y has nonce L * nonce + i. */                                     \
    void __wrap_##PREFIX##polyvecl_uniform_gamma1(mldsa_poly v[L],                                \
                                                  const uint8_t seed[QYN_MLDSA_CRH_BYTES],        \
                                                  uint16_t nonce) {                               \
        uint8_t stream0[GAMMA1_STREAM_BYTES];                                                     \
        uint8_t stream1[GAMMA1_STREAM_BYTES];                                                     \
        unsigned i = 0;                                                                           \
        for (; i + 1 < (L); i += 2) {                                                             \
            qyn_mldsa_squeeze_x2(stream0, stream1, sizeof stream0, seed,                          \
                                 (uint16_t)((L) * nonce + i), (uint16_t)((L) * nonce + i + 1));   \
            PREFIX##polyz_unpack(&v[i], stream0);                                                 \
            PREFIX##polyz_unpack(&v[i + 1], stream1);                                             \
        }                                                                                         \
        if (i < (L)) {                                                                            \
            PREFIX##poly_uniform_gamma1(&v[i], seed, (uint16_t)((L) * nonce + i));                \
        }                                                                                         \
        OQS_MEM_cleanse(stream0, sizeof stream0);                                                 \
        OQS_MEM_cleanse(stream1, sizeof stream1);                                                 \
    }

DEFINE_MLDSA_WRAPPERS(pqcrystals_ml_dsa_44_ref_, 4, 4, 2)
DEFINE_MLDSA_WRAPPERS(pqcrystals_ml_dsa_65_ref_, 6, 5, 4)
DEFINE_MLDSA_WRAPPERS(pqcrystals_ml_dsa_87_ref_, 8, 7, 2)
