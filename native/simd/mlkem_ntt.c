/*
 * ML-KEM NTT, inverse NTT, reductions and base multiplication (FIPS 203, algorithms 9 to 12)
 * on eight coefficients per v128.
 *
 * The forward NTT runs the layers with butterfly distance 128 .. 16 on whole vectors, then
 * takes sixteen coefficients at a time through distances 8, 4 and 2, regrouping 64-bit and
 * 32-bit lanes between the layers so that each butterfly pairs lane i of one vector with lane
 * i of another. The inverse NTT runs the same steps backwards.
 *
 * Montgomery multiplication by a zeta z computes hi16(a * z) - hi16(t * q) with
 * t = a * (z * q^-1) mod 2^16. This equals mlk_montgomery_reduce((int32_t)a * z) exactly,
 * because a * z - t * q is divisible by 2^16, so the low halves cancel without a borrow.
 * Barrett reduction computes (hi16(20159 a) + 2^9) >> 10, which equals mlkem-native's
 * (20159 a + 2^25) >> 26 because the floor of a floor quotient is the floor of the quotient.
 *
 * Constant time: there is no branch and no memory index that depends on coefficient values.
 * Loops and table indices depend only on the layer and the position, the conditional addition
 * of q uses a sign mask, and no step divides.
 */
#include "mlkem_ntt.h"

#include <wasm_simd128.h>

#define Q 3329
/* q^-1 mod 2^16, as a signed 16-bit value (62209 unsigned). */
#define QINV (-3327)
/* 256th root of unity mod q used by FIPS 203. */
#define ROOT_OF_UNITY 17
/* round(2^26 / q), the Barrett multiplier. */
#define BARRETT_MULTIPLIER 20159
/* 2^32 / 128 mod q: scales the inverse NTT and undoes one Montgomery factor. */
#define INVNTT_FACTOR 1441
/* 2^32 mod q: multiplying by it in Montgomery form converts into Montgomery form. */
#define TOMONT_FACTOR 1353

/* 8 lanes of int16 zetas for one 16-coefficient group, with their zeta * q^-1 companions. */
typedef struct {
    int16_t zeta[8];
    int16_t zeta_qinv[8];
} zeta_vector;

/* zetas[k] = ROOT_OF_UNITY^bitrev7(k) * 2^16 mod q, centered. */
static int16_t zetas[128];
static int16_t zetas_qinv[128];
/* Forward NTT, per 16-coefficient group g: distance 4 and distance 2 zetas. */
static zeta_vector forward_distance4[16];
static zeta_vector forward_distance2[16];
/* Inverse NTT, per 16-coefficient group g: distance 2 and distance 4 zetas. */
static zeta_vector inverse_distance2[16];
static zeta_vector inverse_distance4[16];
/* Per 16-coefficient group: the signed zetas of the mulcache, one per pair of coefficients. */
static zeta_vector mulcache_zetas[16];

static int16_t centered(int32_t value) {
    int32_t reduced = value % Q;
    if (reduced < 0) {
        reduced += Q;
    }
    return (int16_t)(reduced > (Q - 1) / 2 ? reduced - Q : reduced);
}

static unsigned bit_reverse7(unsigned value) {
    unsigned reversed = 0;
    for (unsigned bit = 0; bit < 7; bit++) {
        reversed |= ((value >> bit) & 1) << (6 - bit);
    }
    return reversed;
}

static int16_t times_qinv(int16_t zeta) {
    return (int16_t)(uint16_t)((uint32_t)(uint16_t)zeta * (uint16_t)QINV);
}

static void set_lane(zeta_vector *vector, unsigned lane, int16_t zeta) {
    vector->zeta[lane] = zeta;
    vector->zeta_qinv[lane] = times_qinv(zeta);
}

void qyn_mlkem_ntt_init(void) {
    /* powers[e] = ROOT_OF_UNITY^e mod q. */
    int32_t powers[128];
    powers[0] = 1;
    for (unsigned e = 1; e < 128; e++) {
        powers[e] = powers[e - 1] * ROOT_OF_UNITY % Q;
    }

    for (unsigned k = 0; k < 128; k++) {
        zetas[k] = centered(powers[bit_reverse7(k)] * 65536 % Q);
        zetas_qinv[k] = times_qinv(zetas[k]);
    }

    for (unsigned g = 0; g < 16; g++) {
        for (unsigned lane = 0; lane < 8; lane++) {
            set_lane(&forward_distance4[g], lane, zetas[32 + 2 * g + lane / 4]);
            set_lane(&forward_distance2[g], lane, zetas[64 + 4 * g + lane / 2]);
            set_lane(&inverse_distance2[g], lane, zetas[127 - (4 * g + lane / 2)]);
            set_lane(&inverse_distance4[g], lane, zetas[63 - (2 * g + lane / 4)]);

            int16_t zeta = zetas[64 + 4 * g + lane / 2];
            set_lane(&mulcache_zetas[g], lane, lane % 2 == 0 ? zeta : (int16_t)-zeta);
        }
    }
}

/* High 16 bits of the signed 32-bit products of the lanes of a and b. */
static inline v128_t mulhi(v128_t a, v128_t b) {
    v128_t low = wasm_i32x4_shr(wasm_i32x4_extmul_low_i16x8(a, b), 16);
    v128_t high = wasm_i32x4_shr(wasm_i32x4_extmul_high_i16x8(a, b), 16);
    return wasm_i16x8_narrow_i32x4(low, high);
}

/* a * z * 2^-16 mod q per lane, in (-q, q), given z_qinv = z * q^-1 mod 2^16. */
static inline v128_t montgomery_multiply(v128_t a, v128_t z, v128_t z_qinv) {
    v128_t t = wasm_i16x8_mul(a, z_qinv);
    return wasm_i16x8_sub(mulhi(a, z), mulhi(t, wasm_i16x8_splat(Q)));
}

/* Signed representative of a mod q in (-q/2, q/2], as mlk_barrett_reduce. */
static inline v128_t barrett_reduce(v128_t a) {
    v128_t quotient = mulhi(a, wasm_i16x8_splat(BARRETT_MULTIPLIER));
    quotient = wasm_i16x8_shr(wasm_i16x8_add(quotient, wasm_i16x8_splat(1 << 9)), 10);
    return wasm_i16x8_sub(a, wasm_i16x8_mul(quotient, wasm_i16x8_splat(Q)));
}

static inline v128_t load(const int16_t *p) {
    return wasm_v128_load(p);
}

static inline void store(int16_t *p, v128_t v) {
    wasm_v128_store(p, v);
}

/* Forward butterfly: (x, y) -> (x + y z, x - y z), in place on the two vectors. */
static inline void forward_butterfly(v128_t *x, v128_t *y, v128_t z, v128_t z_qinv) {
    v128_t t = montgomery_multiply(*y, z, z_qinv);
    *y = wasm_i16x8_sub(*x, t);
    *x = wasm_i16x8_add(*x, t);
}

/* Inverse butterfly: (x, y) -> (barrett(x + y), (y - x) z), in place on the two vectors. */
static inline void inverse_butterfly(v128_t *x, v128_t *y, v128_t z, v128_t z_qinv) {
    v128_t sum = barrett_reduce(wasm_i16x8_add(*x, *y));
    *y = montgomery_multiply(wasm_i16x8_sub(*y, *x), z, z_qinv);
    *x = sum;
}

void qyn_mlkem_ntt(int16_t r[QYN_MLKEM_N]) {
    /* Distance len = 128 .. 16 on whole vectors, where block b of layer l uses zetas[2^l + b]. */
    for (unsigned layer = 0; layer < 4; layer++) {
        unsigned len = 128u >> layer;
        for (unsigned block = 0; block < (1u << layer); block++) {
            unsigned k = (1u << layer) + block;
            v128_t z = wasm_i16x8_splat(zetas[k]);
            v128_t z_qinv = wasm_i16x8_splat(zetas_qinv[k]);
            int16_t *low = r + 2 * len * block;
            for (unsigned j = 0; j < len; j += 8) {
                v128_t x = load(low + j);
                v128_t y = load(low + len + j);
                forward_butterfly(&x, &y, z, z_qinv);
                store(low + j, x);
                store(low + len + j, y);
            }
        }
    }

    /* Distances 8, 4 and 2 inside each group of sixteen coefficients r[16g .. 16g + 15]. */
    for (unsigned g = 0; g < 16; g++) {
        v128_t v0 = load(r + 16 * g);
        v128_t v1 = load(r + 16 * g + 8);

        /* Distance 8: x = r0..r7, y = r8..r15. */
        forward_butterfly(&v0, &v1, wasm_i16x8_splat(zetas[16 + g]),
                          wasm_i16x8_splat(zetas_qinv[16 + g]));

        /* Distance 4: x = r0..r3 r8..r11, y = r4..r7 r12..r15. */
        v128_t x = wasm_i64x2_shuffle(v0, v1, 0, 2);
        v128_t y = wasm_i64x2_shuffle(v0, v1, 1, 3);
        forward_butterfly(&x, &y, load(forward_distance4[g].zeta),
                          load(forward_distance4[g].zeta_qinv));

        /* Distance 2, on pairs of coefficients: x = r0r1 r4r5 r8r9 r12r13, y = the rest. */
        v128_t x2 = wasm_i32x4_shuffle(x, y, 0, 4, 2, 6);
        v128_t y2 = wasm_i32x4_shuffle(x, y, 1, 5, 3, 7);
        forward_butterfly(&x2, &y2, load(forward_distance2[g].zeta),
                          load(forward_distance2[g].zeta_qinv));

        store(r + 16 * g, wasm_i32x4_shuffle(x2, y2, 0, 4, 1, 5));
        store(r + 16 * g + 8, wasm_i32x4_shuffle(x2, y2, 2, 6, 3, 7));
    }
}

void qyn_mlkem_invntt_tomont(int16_t r[QYN_MLKEM_N]) {
    v128_t factor = wasm_i16x8_splat(INVNTT_FACTOR);
    v128_t factor_qinv = wasm_i16x8_splat(times_qinv(INVNTT_FACTOR));

    /* The scaling by INVNTT_FACTOR, then distances 2, 4 and 8, per group of sixteen. */
    for (unsigned g = 0; g < 16; g++) {
        v128_t v0 = montgomery_multiply(load(r + 16 * g), factor, factor_qinv);
        v128_t v1 = montgomery_multiply(load(r + 16 * g + 8), factor, factor_qinv);

        /* Distance 2: x = r0r1 r4r5 r8r9 r12r13, y = r2r3 r6r7 r10r11 r14r15. */
        v128_t x = wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6);
        v128_t y = wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7);
        inverse_butterfly(&x, &y, load(inverse_distance2[g].zeta),
                          load(inverse_distance2[g].zeta_qinv));

        /* Distance 4: x = r0..r3 r8..r11, y = r4..r7 r12..r15. */
        v128_t x4 = wasm_i32x4_shuffle(x, y, 0, 4, 2, 6);
        v128_t y4 = wasm_i32x4_shuffle(x, y, 1, 5, 3, 7);
        inverse_butterfly(&x4, &y4, load(inverse_distance4[g].zeta),
                          load(inverse_distance4[g].zeta_qinv));

        /* Distance 8: x = r0..r7, y = r8..r15. */
        v128_t x8 = wasm_i64x2_shuffle(x4, y4, 0, 2);
        v128_t y8 = wasm_i64x2_shuffle(x4, y4, 1, 3);
        inverse_butterfly(&x8, &y8, wasm_i16x8_splat(zetas[31 - g]),
                          wasm_i16x8_splat(zetas_qinv[31 - g]));

        store(r + 16 * g, x8);
        store(r + 16 * g + 8, y8);
    }

    /* Distance len = 16 .. 128, where block b uses zetas[256 / len - 1 - b]. */
    for (unsigned layer = 0; layer < 4; layer++) {
        unsigned len = 16u << layer;
        for (unsigned block = 0; block < (8u >> layer); block++) {
            unsigned k = (16u >> layer) - 1 - block;
            v128_t z = wasm_i16x8_splat(zetas[k]);
            v128_t z_qinv = wasm_i16x8_splat(zetas_qinv[k]);
            int16_t *low = r + 2 * len * block;
            for (unsigned j = 0; j < len; j += 8) {
                v128_t x = load(low + j);
                v128_t y = load(low + len + j);
                inverse_butterfly(&x, &y, z, z_qinv);
                store(low + j, x);
                store(low + len + j, y);
            }
        }
    }
}

void qyn_mlkem_poly_reduce(int16_t r[QYN_MLKEM_N]) {
    v128_t q = wasm_i16x8_splat(Q);
    for (unsigned j = 0; j < QYN_MLKEM_N; j += 8) {
        v128_t t = barrett_reduce(load(r + j));
        /* Add q where t is negative: the arithmetic shift gives an all-ones mask there. */
        store(r + j, wasm_i16x8_add(t, wasm_v128_and(wasm_i16x8_shr(t, 15), q)));
    }
}

void qyn_mlkem_poly_tomont(int16_t r[QYN_MLKEM_N]) {
    v128_t factor = wasm_i16x8_splat(TOMONT_FACTOR);
    v128_t factor_qinv = wasm_i16x8_splat(times_qinv(TOMONT_FACTOR));
    for (unsigned j = 0; j < QYN_MLKEM_N; j += 8) {
        store(r + j, montgomery_multiply(load(r + j), factor, factor_qinv));
    }
}

void qyn_mlkem_poly_mulcache(int16_t cache[QYN_MLKEM_N / 2], const int16_t a[QYN_MLKEM_N]) {
    for (unsigned g = 0; g < 16; g++) {
        /* The odd coefficients a[16g + 1], a[16g + 3], ..., a[16g + 15]. */
        v128_t odd = wasm_i16x8_shuffle(load(a + 16 * g), load(a + 16 * g + 8), 1, 3, 5, 7, 9,
                                        11, 13, 15);
        store(cache + 8 * g, montgomery_multiply(odd, load(mulcache_zetas[g].zeta),
                                                 load(mulcache_zetas[g].zeta_qinv)));
    }
}

/* mlk_montgomery_reduce on 32-bit lanes: (t - m q) >> 16 with m = t q^-1 mod 2^16, signed. */
static inline v128_t montgomery_reduce32(v128_t t) {
    v128_t m = wasm_i32x4_shr(wasm_i32x4_shl(wasm_i32x4_mul(t, wasm_i32x4_splat(QINV)), 16), 16);
    return wasm_i32x4_shr(wasm_i32x4_sub(t, wasm_i32x4_mul(m, wasm_i32x4_splat(Q))), 16);
}

void qyn_mlkem_basemul_acc(int16_t r[QYN_MLKEM_N], const int16_t *a, const int16_t *b,
                           const int16_t *b_cache, unsigned rank) {
    /* Eight coefficients, that is four pairs (r[2i], r[2i + 1]), per step. */
    for (unsigned j = 0; j < QYN_MLKEM_N; j += 8) {
        v128_t even = wasm_i32x4_splat(0);
        v128_t odd = wasm_i32x4_splat(0);

        for (unsigned k = 0; k < rank; k++) {
            v128_t a_pairs = load(a + k * QYN_MLKEM_N + j);
            v128_t b_pairs = load(b + k * QYN_MLKEM_N + j);
            v128_t cache = wasm_v128_load64_zero(b_cache + k * (QYN_MLKEM_N / 2) + j / 2);

            /* even += a0 b0 + a1 cache, odd += a0 b1 + a1 b0, per pair. */
            v128_t b_and_cache = wasm_i16x8_shuffle(b_pairs, cache, 0, 8, 2, 9, 4, 10, 6, 11);
            v128_t b_swapped = wasm_i16x8_shuffle(b_pairs, b_pairs, 1, 0, 3, 2, 5, 4, 7, 6);
            even = wasm_i32x4_add(even, wasm_i32x4_dot_i16x8(a_pairs, b_and_cache));
            odd = wasm_i32x4_add(odd, wasm_i32x4_dot_i16x8(a_pairs, b_swapped));
        }

        even = montgomery_reduce32(even);
        odd = montgomery_reduce32(odd);
        store(r + j, wasm_i16x8_narrow_i32x4(wasm_i32x4_shuffle(even, odd, 0, 4, 1, 5),
                                            wasm_i32x4_shuffle(even, odd, 2, 6, 3, 7)));
    }
}
