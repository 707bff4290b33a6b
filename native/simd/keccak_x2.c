/*
 * Keccak-f[1600] (FIPS 202, section 3) on two states per v128.
 *
 * Constant time: the permutation has no branch and no memory index that depends on the state.
 * Every round runs the same sequence of XOR, AND-NOT and rotate-by-constant operations, and the
 * only table read (the round constant) is indexed by the round counter.
 */
#include "keccak_x2.h"

#include <stdint.h>

/* Round constants of the iota step, FIPS 202 section 3.2.5. */
static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotates both 64-bit lanes left by a constant 1..63. WebAssembly SIMD has no rotate. */
#define ROL(v, n) wasm_v128_or(wasm_i64x2_shl((v), (n)), wasm_u64x2_shr((v), 64 - (n)))

/*
 * One output plane of rho, pi and chi: b0..b4 are the five lanes that pi moves into row y of
 * the output, already combined with theta's D and rotated by rho. Chi then computes
 * out[x] = b[x] ^ (~b[x + 1] & b[x + 2]).
 */
#define CHI_ROW(out, y, b0, b1, b2, b3, b4)                                                       \
    do {                                                                                          \
        (out)[5 * (y) + 0] = wasm_v128_xor((b0), wasm_v128_andnot((b2), (b1)));                   \
        (out)[5 * (y) + 1] = wasm_v128_xor((b1), wasm_v128_andnot((b3), (b2)));                   \
        (out)[5 * (y) + 2] = wasm_v128_xor((b2), wasm_v128_andnot((b4), (b3)));                   \
        (out)[5 * (y) + 3] = wasm_v128_xor((b3), wasm_v128_andnot((b0), (b4)));                   \
        (out)[5 * (y) + 4] = wasm_v128_xor((b4), wasm_v128_andnot((b1), (b0)));                   \
    } while (0)

/*
 * One round from `in` to `out`. Pi sends lane A[x, y] to position (y, 2x + 3y mod 5), so row y'
 * of the output reads the lanes A[(3y' + x') mod 5, x'] for x' = 0..4. The rotation amounts are
 * the rho offsets of those lanes.
 */
static inline __attribute__((always_inline)) void keccak_round(v128_t *restrict out,
                                                               const v128_t *restrict in,
                                                               uint64_t round_constant) {
    /* Theta: column parities C[x] and the per-column term D[x] = C[x - 1] ^ rot(C[x + 1], 1). */
    v128_t c0 = wasm_v128_xor(wasm_v128_xor(in[0], in[5]),
                              wasm_v128_xor(wasm_v128_xor(in[10], in[15]), in[20]));
    v128_t c1 = wasm_v128_xor(wasm_v128_xor(in[1], in[6]),
                              wasm_v128_xor(wasm_v128_xor(in[11], in[16]), in[21]));
    v128_t c2 = wasm_v128_xor(wasm_v128_xor(in[2], in[7]),
                              wasm_v128_xor(wasm_v128_xor(in[12], in[17]), in[22]));
    v128_t c3 = wasm_v128_xor(wasm_v128_xor(in[3], in[8]),
                              wasm_v128_xor(wasm_v128_xor(in[13], in[18]), in[23]));
    v128_t c4 = wasm_v128_xor(wasm_v128_xor(in[4], in[9]),
                              wasm_v128_xor(wasm_v128_xor(in[14], in[19]), in[24]));
    v128_t d0 = wasm_v128_xor(c4, ROL(c1, 1));
    v128_t d1 = wasm_v128_xor(c0, ROL(c2, 1));
    v128_t d2 = wasm_v128_xor(c1, ROL(c3, 1));
    v128_t d3 = wasm_v128_xor(c2, ROL(c4, 1));
    v128_t d4 = wasm_v128_xor(c3, ROL(c0, 1));

    /* Rho, pi and chi, one output row at a time, and iota on lane (0, 0). */
    CHI_ROW(out, 0, wasm_v128_xor(in[0], d0), ROL(wasm_v128_xor(in[6], d1), 44),
            ROL(wasm_v128_xor(in[12], d2), 43), ROL(wasm_v128_xor(in[18], d3), 21),
            ROL(wasm_v128_xor(in[24], d4), 14));
    out[0] = wasm_v128_xor(out[0], wasm_i64x2_splat((int64_t)round_constant));

    CHI_ROW(out, 1, ROL(wasm_v128_xor(in[3], d3), 28), ROL(wasm_v128_xor(in[9], d4), 20),
            ROL(wasm_v128_xor(in[10], d0), 3), ROL(wasm_v128_xor(in[16], d1), 45),
            ROL(wasm_v128_xor(in[22], d2), 61));

    CHI_ROW(out, 2, ROL(wasm_v128_xor(in[1], d1), 1), ROL(wasm_v128_xor(in[7], d2), 6),
            ROL(wasm_v128_xor(in[13], d3), 25), ROL(wasm_v128_xor(in[19], d4), 8),
            ROL(wasm_v128_xor(in[20], d0), 18));

    CHI_ROW(out, 3, ROL(wasm_v128_xor(in[4], d4), 27), ROL(wasm_v128_xor(in[5], d0), 36),
            ROL(wasm_v128_xor(in[11], d1), 10), ROL(wasm_v128_xor(in[17], d2), 15),
            ROL(wasm_v128_xor(in[23], d3), 56));

    CHI_ROW(out, 4, ROL(wasm_v128_xor(in[2], d2), 62), ROL(wasm_v128_xor(in[8], d3), 55),
            ROL(wasm_v128_xor(in[14], d4), 39), ROL(wasm_v128_xor(in[15], d0), 41),
            ROL(wasm_v128_xor(in[21], d1), 2));
}

void qyn_keccak_x2_permute(v128_t state[QYN_KECCAK_LANES]) {
    v128_t a[QYN_KECCAK_LANES];
    v128_t e[QYN_KECCAK_LANES];

    for (int i = 0; i < QYN_KECCAK_LANES; i++) {
        a[i] = state[i];
    }

    /* Two rounds per iteration so that the state ends up back in `a`. */
    for (int round = 0; round < 24; round += 2) {
        keccak_round(e, a, ROUND_CONSTANTS[round]);
        keccak_round(a, e, ROUND_CONSTANTS[round + 1]);
    }

    for (int i = 0; i < QYN_KECCAK_LANES; i++) {
        state[i] = a[i];
    }
}
