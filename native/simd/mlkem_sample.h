/* ML-KEM rejection sampling of the matrix A on eight 16-bit lanes per v128. */
#ifndef QYN_SIMD_MLKEM_SAMPLE_H
#define QYN_SIMD_MLKEM_SAMPLE_H

#include <stdint.h>

/* Builds the lane-compaction table. It must run once before qyn_mlkem_rej_uniform. */
void qyn_mlkem_sample_init(void);

/*
 * Part of SampleNTT (FIPS 203, algorithm 7): parses buf into 12-bit candidates, two per three
 * bytes, and writes those below q to r until r has `length` coefficients or buf runs out.
 * Returns the number written, with the same coefficients in the same order as mlkem-native's
 * mlk_rej_uniform_scalar() for offset 0.
 */
unsigned qyn_mlkem_rej_uniform(int16_t *r, unsigned length, const uint8_t *buf,
                               unsigned buflen);

#endif
