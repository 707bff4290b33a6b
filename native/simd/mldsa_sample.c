/*
 * Two-way ML-DSA sampling on the SIMD sponge.
 *
 * Constant time: the Keccak part is data-independent (see keccak_x2.c). Rejection sampling
 * branches on whether each candidate is accepted, as FIPS 204 and the reference code do: the
 * timing reveals how many candidates were rejected, and rejected candidates are discarded.
 * Accepted bounded coefficients are mapped to [-eta, eta] without branches or table lookups.
 * Sampling of A only handles public data.
 */
#include "mldsa_sample.h"

#include <string.h>

#include <oqs/common.h>

#include "keccak_sponge.h"

#define Q 8380417
/* Candidates of RejNTTPoly are 23-bit values taken from 3 bytes. */
#define UNIFORM_CANDIDATE_BYTES 3
#define UNIFORM_CANDIDATE_MASK 0x7FFFFF
/* Five SHAKE128 blocks give 280 candidates, enough for 256 coefficients in most cases. */
#define UNIFORM_FIRST_BLOCKS 5
/* The reference squeezes one block of 136 bytes for eta = 2 and two for eta = 4 at first. */
#define ETA2_FIRST_BLOCKS 1
#define ETA4_FIRST_BLOCKS 2

_Static_assert(QYN_SHAKE128_RATE % UNIFORM_CANDIDATE_BYTES == 0,
               "a SHAKE128 block must hold whole candidates, so no bytes carry over");

/* Starts two SHAKE streams, on seed || nonce0 and seed || nonce1. */
static void start_streams(qyn_sponge_x2 *sponge, unsigned rate, const uint8_t *seed,
                          size_t seed_length, uint16_t nonce0, uint16_t nonce1) {
    uint8_t input0[QYN_MLDSA_CRH_BYTES + 2];
    uint8_t input1[QYN_MLDSA_CRH_BYTES + 2];

    memcpy(input0, seed, seed_length);
    memcpy(input1, seed, seed_length);
    input0[seed_length] = (uint8_t)nonce0;
    input0[seed_length + 1] = (uint8_t)(nonce0 >> 8);
    input1[seed_length] = (uint8_t)nonce1;
    input1[seed_length + 1] = (uint8_t)(nonce1 >> 8);

    const uint8_t *const inputs[2] = {input0, input1};
    qyn_sponge_x2_reset(sponge);
    qyn_sponge_x2_absorb(sponge, rate, inputs, seed_length + 2);
    qyn_sponge_x2_finalize(sponge, rate, QYN_SHAKE_DOMAIN);

    OQS_MEM_cleanse(input0, sizeof input0);
    OQS_MEM_cleanse(input1, sizeof input1);
}

/* Appends the candidates in buffer that are below q to a[count ..] and returns the new count. */
static unsigned reject_uniform(int32_t a[QYN_MLDSA_N], unsigned count, const uint8_t *buffer,
                               unsigned length) {
    for (unsigned position = 0;
         count < QYN_MLDSA_N && position + UNIFORM_CANDIDATE_BYTES <= length;
         position += UNIFORM_CANDIDATE_BYTES) {
        uint32_t candidate = (uint32_t)buffer[position] | (uint32_t)buffer[position + 1] << 8 |
                             (uint32_t)buffer[position + 2] << 16;
        candidate &= UNIFORM_CANDIDATE_MASK;
        if (candidate < Q) {
            a[count++] = (int32_t)candidate;
        }
    }
    return count;
}

void qyn_mldsa_sample_uniform_x2(int32_t a0[QYN_MLDSA_N], int32_t a1[QYN_MLDSA_N],
                                 const uint8_t seed[QYN_MLDSA_SEED_BYTES], uint16_t nonce0,
                                 uint16_t nonce1) {
    uint8_t buffer0[UNIFORM_FIRST_BLOCKS * QYN_SHAKE128_RATE];
    uint8_t buffer1[UNIFORM_FIRST_BLOCKS * QYN_SHAKE128_RATE];
    uint8_t *const buffers[2] = {buffer0, buffer1};
    qyn_sponge_x2 sponge;

    start_streams(&sponge, QYN_SHAKE128_RATE, seed, QYN_MLDSA_SEED_BYTES, nonce0, nonce1);
    qyn_sponge_x2_squeeze(&sponge, QYN_SHAKE128_RATE, buffers, sizeof buffer0);
    unsigned count0 = reject_uniform(a0, 0, buffer0, sizeof buffer0);
    unsigned count1 = reject_uniform(a1, 0, buffer1, sizeof buffer1);

    while (count0 < QYN_MLDSA_N || count1 < QYN_MLDSA_N) {
        qyn_sponge_x2_squeeze(&sponge, QYN_SHAKE128_RATE, buffers, QYN_SHAKE128_RATE);
        count0 = reject_uniform(a0, count0, buffer0, QYN_SHAKE128_RATE);
        count1 = reject_uniform(a1, count1, buffer1, QYN_SHAKE128_RATE);
    }
}

/*
 * Maps a 4-bit candidate to a coefficient in [-eta, eta]: 2 - (t mod 5) for eta = 2, which
 * accepts t < 15, and 4 - t for eta = 4, which accepts t < 9. For t < 15, t mod 5 is
 * t - 5 * ((205 * t) >> 10).
 */
static inline int32_t bounded_coefficient(uint32_t candidate, unsigned eta) {
    if (eta == 2) {
        return 2 - (int32_t)(candidate - 5 * ((205 * candidate) >> 10));
    }
    return 4 - (int32_t)candidate;
}

/* Appends the accepted nibbles of buffer, low nibble first, to a[count ..]. Returns the count. */
static unsigned reject_bounded(int32_t a[QYN_MLDSA_N], unsigned count, const uint8_t *buffer,
                               unsigned length, unsigned eta) {
    uint32_t bound = eta == 2 ? 15 : 9;

    for (unsigned position = 0; count < QYN_MLDSA_N && position < length; position++) {
        uint32_t low = buffer[position] & 0x0F;
        uint32_t high = buffer[position] >> 4;
        if (low < bound) {
            a[count++] = bounded_coefficient(low, eta);
        }
        if (high < bound && count < QYN_MLDSA_N) {
            a[count++] = bounded_coefficient(high, eta);
        }
    }
    return count;
}

void qyn_mldsa_sample_eta_x2(int32_t a0[QYN_MLDSA_N], int32_t a1[QYN_MLDSA_N],
                             const uint8_t seed[QYN_MLDSA_CRH_BYTES], uint16_t nonce0,
                             uint16_t nonce1, unsigned eta) {
    uint8_t buffer0[ETA4_FIRST_BLOCKS * QYN_SHAKE256_RATE];
    uint8_t buffer1[ETA4_FIRST_BLOCKS * QYN_SHAKE256_RATE];
    uint8_t *const buffers[2] = {buffer0, buffer1};
    unsigned first = (eta == 2 ? ETA2_FIRST_BLOCKS : ETA4_FIRST_BLOCKS) * QYN_SHAKE256_RATE;
    qyn_sponge_x2 sponge;

    start_streams(&sponge, QYN_SHAKE256_RATE, seed, QYN_MLDSA_CRH_BYTES, nonce0, nonce1);
    qyn_sponge_x2_squeeze(&sponge, QYN_SHAKE256_RATE, buffers, first);
    unsigned count0 = reject_bounded(a0, 0, buffer0, first, eta);
    unsigned count1 = reject_bounded(a1, 0, buffer1, first, eta);

    while (count0 < QYN_MLDSA_N || count1 < QYN_MLDSA_N) {
        qyn_sponge_x2_squeeze(&sponge, QYN_SHAKE256_RATE, buffers, QYN_SHAKE256_RATE);
        count0 = reject_bounded(a0, count0, buffer0, QYN_SHAKE256_RATE, eta);
        count1 = reject_bounded(a1, count1, buffer1, QYN_SHAKE256_RATE, eta);
    }

    /* The stream determines the secret vectors s1 and s2. */
    OQS_MEM_cleanse(buffer0, sizeof buffer0);
    OQS_MEM_cleanse(buffer1, sizeof buffer1);
    OQS_MEM_cleanse(&sponge, sizeof sponge);
}

void qyn_mldsa_squeeze_x2(uint8_t *out0, uint8_t *out1, size_t length,
                          const uint8_t seed[QYN_MLDSA_CRH_BYTES], uint16_t nonce0,
                          uint16_t nonce1) {
    uint8_t *const outputs[2] = {out0, out1};
    qyn_sponge_x2 sponge;

    start_streams(&sponge, QYN_SHAKE256_RATE, seed, QYN_MLDSA_CRH_BYTES, nonce0, nonce1);
    qyn_sponge_x2_squeeze(&sponge, QYN_SHAKE256_RATE, outputs, length);
    OQS_MEM_cleanse(&sponge, sizeof sponge);
}
