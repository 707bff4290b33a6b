/*
 * liboqs's four-way SHAKE API (struct OQS_SHA3_x4_callbacks, oqs/sha3x4_ops.h) on the SIMD
 * sponge. ML-KEM samples its matrix and its noise through this API, which liboqs itself runs
 * the four states one after another.
 *
 * Constant time: see keccak_sponge.c. These wrappers only allocate, copy and release contexts.
 */
#include <stdlib.h>
#include <string.h>

#include <oqs/common.h>
#include <oqs/sha3x4_ops.h>

#include "keccak_sponge.h"

/* Four states as two pairs: states 0 and 1 in pairs[0], states 2 and 3 in pairs[1]. */
typedef struct {
    qyn_sponge_x2 pairs[2];
} sponge_x4;

static void reset(sponge_x4 *sponge) {
    qyn_sponge_x2_reset(&sponge->pairs[0]);
    qyn_sponge_x2_reset(&sponge->pairs[1]);
}

static void absorb(sponge_x4 *sponge, unsigned rate, const uint8_t *in0, const uint8_t *in1,
                   const uint8_t *in2, const uint8_t *in3, size_t inlen) {
    const uint8_t *const low[2] = {in0, in1};
    const uint8_t *const high[2] = {in2, in3};
    qyn_sponge_x2_absorb(&sponge->pairs[0], rate, low, inlen);
    qyn_sponge_x2_absorb(&sponge->pairs[1], rate, high, inlen);
}

static void finalize(sponge_x4 *sponge, unsigned rate) {
    qyn_sponge_x2_finalize(&sponge->pairs[0], rate, QYN_SHAKE_DOMAIN);
    qyn_sponge_x2_finalize(&sponge->pairs[1], rate, QYN_SHAKE_DOMAIN);
}

static void squeeze(sponge_x4 *sponge, unsigned rate, uint8_t *out0, uint8_t *out1,
                    uint8_t *out2, uint8_t *out3, size_t outlen) {
    uint8_t *const low[2] = {out0, out1};
    uint8_t *const high[2] = {out2, out3};
    qyn_sponge_x2_squeeze(&sponge->pairs[0], rate, low, outlen);
    qyn_sponge_x2_squeeze(&sponge->pairs[1], rate, high, outlen);
}

static sponge_x4 *allocate_sponge(void) {
    sponge_x4 *sponge = aligned_alloc(16, sizeof(sponge_x4));
    OQS_EXIT_IF_NULLPTR(sponge, "SIMD SHA3x4");
    reset(sponge);
    return sponge;
}

static void release_sponge(void *sponge) {
    if (sponge != NULL) {
        OQS_MEM_cleanse(sponge, sizeof(sponge_x4));
        free(sponge);
    }
}

/* One-shot four-way SHAKE with a sponge on the stack, cleared before returning. */
static void shake_x4(unsigned rate, uint8_t *out0, uint8_t *out1, uint8_t *out2, uint8_t *out3,
                     size_t outlen, const uint8_t *in0, const uint8_t *in1, const uint8_t *in2,
                     const uint8_t *in3, size_t inlen) {
    sponge_x4 sponge;

    reset(&sponge);
    absorb(&sponge, rate, in0, in1, in2, in3, inlen);
    finalize(&sponge, rate);
    squeeze(&sponge, rate, out0, out1, out2, out3, outlen);
    OQS_MEM_cleanse(&sponge, sizeof sponge);
}

/*
 * The SHAKE128 and SHAKE256 context types are distinct structs with the same single member, so
 * each rate gets its own set of small wrappers.
 */
#define DEFINE_SHAKE_X4(NAME, RATE)                                                               \
    static void NAME##_x4(uint8_t *out0, uint8_t *out1, uint8_t *out2, uint8_t *out3,             \
                          size_t outlen, const uint8_t *in0, const uint8_t *in1,                  \
                          const uint8_t *in2, const uint8_t *in3, size_t inlen) {                 \
        shake_x4(RATE, out0, out1, out2, out3, outlen, in0, in1, in2, in3, inlen);                \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_init(OQS_SHA3_##NAME##_x4_inc_ctx *state) {                         \
        state->ctx = allocate_sponge();                                                           \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_absorb(OQS_SHA3_##NAME##_x4_inc_ctx *state, const uint8_t *in0,     \
                                     const uint8_t *in1, const uint8_t *in2, const uint8_t *in3,  \
                                     size_t inlen) {                                              \
        absorb(state->ctx, RATE, in0, in1, in2, in3, inlen);                                      \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_finalize(OQS_SHA3_##NAME##_x4_inc_ctx *state) {                     \
        finalize(state->ctx, RATE);                                                               \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_squeeze(uint8_t *out0, uint8_t *out1, uint8_t *out2,                \
                                      uint8_t *out3, size_t outlen,                               \
                                      OQS_SHA3_##NAME##_x4_inc_ctx *state) {                      \
        squeeze(state->ctx, RATE, out0, out1, out2, out3, outlen);                                \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_ctx_release(OQS_SHA3_##NAME##_x4_inc_ctx *state) {                  \
        release_sponge(state->ctx);                                                               \
        state->ctx = NULL;                                                                        \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_ctx_clone(OQS_SHA3_##NAME##_x4_inc_ctx *dest,                       \
                                        const OQS_SHA3_##NAME##_x4_inc_ctx *src) {                \
        memcpy(dest->ctx, src->ctx, sizeof(sponge_x4));                                           \
    }                                                                                             \
                                                                                                  \
    static void NAME##_x4_inc_ctx_reset(OQS_SHA3_##NAME##_x4_inc_ctx *state) {                    \
        reset(state->ctx);                                                                        \
    }

DEFINE_SHAKE_X4(shake128, QYN_SHAKE128_RATE)
DEFINE_SHAKE_X4(shake256, QYN_SHAKE256_RATE)

static struct OQS_SHA3_x4_callbacks simd_callbacks = {
    .SHA3_shake128_x4 = shake128_x4,
    .SHA3_shake128_x4_inc_init = shake128_x4_inc_init,
    .SHA3_shake128_x4_inc_absorb = shake128_x4_inc_absorb,
    .SHA3_shake128_x4_inc_finalize = shake128_x4_inc_finalize,
    .SHA3_shake128_x4_inc_squeeze = shake128_x4_inc_squeeze,
    .SHA3_shake128_x4_inc_ctx_release = shake128_x4_inc_ctx_release,
    .SHA3_shake128_x4_inc_ctx_clone = shake128_x4_inc_ctx_clone,
    .SHA3_shake128_x4_inc_ctx_reset = shake128_x4_inc_ctx_reset,
    .SHA3_shake256_x4 = shake256_x4,
    .SHA3_shake256_x4_inc_init = shake256_x4_inc_init,
    .SHA3_shake256_x4_inc_absorb = shake256_x4_inc_absorb,
    .SHA3_shake256_x4_inc_finalize = shake256_x4_inc_finalize,
    .SHA3_shake256_x4_inc_squeeze = shake256_x4_inc_squeeze,
    .SHA3_shake256_x4_inc_ctx_release = shake256_x4_inc_ctx_release,
    .SHA3_shake256_x4_inc_ctx_clone = shake256_x4_inc_ctx_clone,
    .SHA3_shake256_x4_inc_ctx_reset = shake256_x4_inc_ctx_reset,
};

void qyn_sha3_x4_install(void) {
    OQS_SHA3_x4_set_callbacks(&simd_callbacks);
}
