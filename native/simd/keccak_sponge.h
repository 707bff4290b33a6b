/*
 * A sponge over two independent Keccak-f[1600] states held in the layout of keccak_x2.h. It
 * serves liboqs's four-way SHAKE API (as two sponges) and the sampling of ML-DSA, and takes the
 * rate and the domain-separation byte as parameters so that tests can run it as SHA3-256,
 * SHA3-384, SHA3-512, SHAKE128 and SHAKE256.
 */
#ifndef QYN_SIMD_KECCAK_SPONGE_H
#define QYN_SIMD_KECCAK_SPONGE_H

#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#include "keccak_x2.h"

/* Rates in bytes, FIPS 202 section 6. */
#define QYN_SHAKE128_RATE 168
#define QYN_SHAKE256_RATE 136

/* Domain-separation bits plus the first padding bit, FIPS 202 section 6 and appendix B.2. */
#define QYN_SHAKE_DOMAIN 0x1F
#define QYN_SHA3_DOMAIN 0x06

typedef struct {
    v128_t state[QYN_KECCAK_LANES];
    /*
     * Position in the current block, in bytes. While absorbing it counts the bytes absorbed.
     * After finalization it counts the bytes squeezed, and equals the rate when the next read
     * needs a new permutation.
     */
    unsigned offset;
} qyn_sponge_x2;

/* Sets both states to zero and starts absorbing. */
void qyn_sponge_x2_reset(qyn_sponge_x2 *sponge);

/* Absorbs `length` bytes into each state, from in[0] and in[1] respectively. */
void qyn_sponge_x2_absorb(qyn_sponge_x2 *sponge, unsigned rate, const uint8_t *const in[2],
                          size_t length);

/* Pads both inputs with `domain` and the final bit, and switches to squeezing. */
void qyn_sponge_x2_finalize(qyn_sponge_x2 *sponge, unsigned rate, uint8_t domain);

/* Squeezes `length` bytes of each state into out[0] and out[1] respectively. */
void qyn_sponge_x2_squeeze(qyn_sponge_x2 *sponge, unsigned rate, uint8_t *const out[2],
                           size_t length);

/* Installs the four-way SHAKE callbacks in liboqs (OQS_SHA3_x4_set_callbacks). */
void qyn_sha3_x4_install(void);

#endif
