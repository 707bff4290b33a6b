/*
 * Keccak-f[1600] on two states at once, one 64-bit lane of each state per v128 (i64x2).
 *
 * Layout: lane i of the first state is the low 64 bits of state[i], lane i of the second state
 * the high 64 bits. Lane i is A[x, y] with i = x + 5 * y, as in FIPS 202.
 */
#ifndef QYN_SIMD_KECCAK_X2_H
#define QYN_SIMD_KECCAK_X2_H

#include <wasm_simd128.h>

/* Number of 64-bit lanes in a Keccak-f[1600] state. */
#define QYN_KECCAK_LANES 25

/* Applies the 24 rounds of Keccak-f[1600] to both states. */
void qyn_keccak_x2_permute(v128_t state[QYN_KECCAK_LANES]);

#endif
