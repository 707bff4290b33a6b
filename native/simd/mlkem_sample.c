/*
 * ML-KEM rejection sampling with SIMD. Twelve bytes of SHAKE128 output give eight 12-bit
 * candidates in one v128, and a comparison with q gives an 8-bit acceptance mask. A swizzle
 * from a 256-entry table then moves the accepted lanes to the front before one 16-byte store.
 *
 * Constant time: the table index, the store position and the loop count depend on which
 * candidates are accepted. That is fine here because the input is the public matrix seed's
 * SHAKE128 stream, as in FIPS 203, which samples A by rejection from public data.
 */
#include "mlkem_sample.h"

#include <wasm_simd128.h>

#define Q 3329
/* Three input bytes hold two candidates. */
#define BYTES_PER_PAIR 3
/* Bytes consumed per SIMD step, and bytes loaded (one full v128). */
#define STEP_BYTES 12
#define LOAD_BYTES 16
#define LANES 8

/* compaction[mask] moves the 16-bit lanes whose bit is set in mask to the front, in order. */
static uint8_t compaction[256][16] __attribute__((aligned(16)));

void qyn_mlkem_sample_init(void) {
    for (unsigned mask = 0; mask < 256; mask++) {
        unsigned out = 0;
        for (unsigned lane = 0; lane < LANES; lane++) {
            if (mask & (1u << lane)) {
                compaction[mask][2 * out] = (uint8_t)(2 * lane);
                compaction[mask][2 * out + 1] = (uint8_t)(2 * lane + 1);
                out++;
            }
        }
        /* Indices of 16 and up make wasm_i8x16_swizzle write zero. */
        for (unsigned byte = 2 * out; byte < 16; byte++) {
            compaction[mask][byte] = 0xFF;
        }
    }
}

unsigned qyn_mlkem_rej_uniform(int16_t *r, unsigned length, const uint8_t *buf,
                               unsigned buflen) {
    /* Lane 2i gets bytes 3i, 3i + 1 and lane 2i + 1 bytes 3i + 1, 3i + 2, little-endian. */
    const v128_t spread = wasm_i8x16_make(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11);
    const v128_t odd_lanes = wasm_i16x8_make(0, -1, 0, -1, 0, -1, 0, -1);
    const v128_t low12 = wasm_i16x8_splat(0x0FFF);
    const v128_t q = wasm_i16x8_splat(Q);
    unsigned count = 0;
    unsigned position = 0;

    /* Full steps while eight more coefficients fit in r and sixteen bytes can be loaded. */
    while (count + LANES <= length && position + LOAD_BYTES <= buflen) {
        v128_t pairs = wasm_i8x16_swizzle(wasm_v128_load(buf + position), spread);
        v128_t even = wasm_v128_and(pairs, low12);
        v128_t odd = wasm_u16x8_shr(pairs, 4);
        v128_t candidates = wasm_v128_bitselect(odd, even, odd_lanes);

        unsigned mask = (unsigned)wasm_i16x8_bitmask(wasm_u16x8_lt(candidates, q));
        v128_t accepted = wasm_i8x16_swizzle(candidates, wasm_v128_load(compaction[mask]));
        wasm_v128_store(r + count, accepted);

        count += (unsigned)__builtin_popcount(mask);
        position += STEP_BYTES;
    }

    /* The rest one pair at a time, stopping exactly at `length`. */
    while (count < length && position + BYTES_PER_PAIR <= buflen) {
        uint16_t first = (uint16_t)((buf[position] | (buf[position + 1] << 8)) & 0x0FFF);
        uint16_t second = (uint16_t)((buf[position + 1] >> 4) | (buf[position + 2] << 4));
        position += BYTES_PER_PAIR;

        if (first < Q) {
            r[count++] = (int16_t)first;
        }
        if (count < length && second < Q) {
            r[count++] = (int16_t)second;
        }
    }
    return count;
}
