/*
 * Two-way Keccak sponge on top of the two-way permutation.
 *
 * Constant time: the control flow depends only on the rate, the lengths and the position in
 * the block, which are public. The state and the data are only XORed, copied and permuted.
 */
#include "keccak_sponge.h"

#include <string.h>

/* Bytes per Keccak lane. */
#define LANE_BYTES 8

/* Address of byte `index` (0..199) of state `which` (0 or 1). */
static inline uint8_t *state_byte(qyn_sponge_x2 *sponge, unsigned which, unsigned index) {
    uint8_t *lanes = (uint8_t *)sponge->state;
    return lanes + 16 * (index / LANE_BYTES) + LANE_BYTES * which + index % LANE_BYTES;
}

static inline uint64_t load64(const uint8_t *bytes) {
    uint64_t word;
    memcpy(&word, bytes, sizeof word);
    return word;
}

static inline void store64(uint8_t *bytes, uint64_t word) {
    memcpy(bytes, &word, sizeof word);
}

/* XORs in[k][done .. done + length) into state k from byte `offset` on, for k = 0, 1. */
static void xor_into_states(qyn_sponge_x2 *sponge, unsigned offset, const uint8_t *const in[2],
                            size_t done, unsigned length) {
    unsigned position = 0;

    while (position < length) {
        unsigned index = offset + position;
        size_t source = done + position;

        if (index % LANE_BYTES == 0 && length - position >= LANE_BYTES) {
            v128_t *lane = &sponge->state[index / LANE_BYTES];
            *lane = wasm_v128_xor(*lane, wasm_i64x2_make((int64_t)load64(in[0] + source),
                                                         (int64_t)load64(in[1] + source)));
            position += LANE_BYTES;
            continue;
        }

        *state_byte(sponge, 0, index) ^= in[0][source];
        *state_byte(sponge, 1, index) ^= in[1][source];
        position++;
    }
}

/* Copies `length` bytes of state k from byte `offset` on into out[k][done ..], k = 0, 1. */
static void copy_from_states(qyn_sponge_x2 *sponge, unsigned offset, uint8_t *const out[2],
                             size_t done, unsigned length) {
    unsigned position = 0;

    while (position < length) {
        unsigned index = offset + position;
        size_t target = done + position;

        if (index % LANE_BYTES == 0 && length - position >= LANE_BYTES) {
            v128_t lane = sponge->state[index / LANE_BYTES];
            store64(out[0] + target, (uint64_t)wasm_i64x2_extract_lane(lane, 0));
            store64(out[1] + target, (uint64_t)wasm_i64x2_extract_lane(lane, 1));
            position += LANE_BYTES;
            continue;
        }

        out[0][target] = *state_byte(sponge, 0, index);
        out[1][target] = *state_byte(sponge, 1, index);
        position++;
    }
}

void qyn_sponge_x2_reset(qyn_sponge_x2 *sponge) {
    for (unsigned i = 0; i < QYN_KECCAK_LANES; i++) {
        sponge->state[i] = wasm_i64x2_const(0, 0);
    }
    sponge->offset = 0;
}

void qyn_sponge_x2_absorb(qyn_sponge_x2 *sponge, unsigned rate, const uint8_t *const in[2],
                          size_t length) {
    size_t done = 0;

    while (done < length) {
        size_t left = length - done;
        unsigned chunk = rate - sponge->offset;
        if (left < chunk) {
            chunk = (unsigned)left;
        }

        xor_into_states(sponge, sponge->offset, in, done, chunk);
        sponge->offset += chunk;
        done += chunk;

        if (sponge->offset == rate) {
            qyn_keccak_x2_permute(sponge->state);
            sponge->offset = 0;
        }
    }
}

void qyn_sponge_x2_finalize(qyn_sponge_x2 *sponge, unsigned rate, uint8_t domain) {
    for (unsigned which = 0; which < 2; which++) {
        *state_byte(sponge, which, sponge->offset) ^= domain;
        *state_byte(sponge, which, rate - 1) ^= 0x80;
    }

    /* The padded block is permuted by the first squeeze. */
    sponge->offset = rate;
}

void qyn_sponge_x2_squeeze(qyn_sponge_x2 *sponge, unsigned rate, uint8_t *const out[2],
                           size_t length) {
    size_t done = 0;

    while (done < length) {
        if (sponge->offset == rate) {
            qyn_keccak_x2_permute(sponge->state);
            sponge->offset = 0;
        }

        size_t left = length - done;
        unsigned chunk = rate - sponge->offset;
        if (left < chunk) {
            chunk = (unsigned)left;
        }

        copy_from_states(sponge, sponge->offset, out, done, chunk);
        sponge->offset += chunk;
        done += chunk;
    }
}
