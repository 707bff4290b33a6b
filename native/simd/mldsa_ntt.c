/*
 * ML-DSA NTT, inverse NTT and pointwise multiplication (FIPS 204, algorithms 41, 42 and 45) on
 * four coefficients per v128.
 *
 * The layers of the forward NTT with butterfly distance 128 .. 4 work on whole vectors. The
 * last two layers (distance 2 and 1) first regroup eight coefficients into two vectors so that
 * each butterfly again pairs lane i of one vector with lane i of the other. The inverse NTT
 * runs the same steps backwards.
 *
 * Montgomery multiplication by a zeta z computes hi(a * z) - hi(t * q) with
 * t = a * (z * q^-1) mod 2^32. This equals montgomery_reduce((int64_t)a * z) of the reference
 * code exactly: a * z - t * q is divisible by 2^32, so the low halves cancel without a borrow.
 *
 * Constant time: there is no branch and no memory index that depends on coefficient values.
 * Loops and table indices depend only on the layer and the position, and the reduction is a
 * fixed sequence of multiplications, shifts and subtractions with no division.
 */
#include "mldsa_ntt.h"

#include <wasm_simd128.h>

#define Q 8380417
/* q^-1 mod 2^32. */
#define QINV 58728449
/* 512th root of unity mod q used by FIPS 204. */
#define ROOT_OF_UNITY 1753
/* 2^64 / 256 mod q: undoes the Montgomery factor of the butterflies and divides by n. */
#define INVNTT_FACTOR 41978

/* zetas[k] = ROOT_OF_UNITY^bitrev8(k) * 2^32 mod q, centered. zetas[0] is unused. */
static int32_t zetas[QYN_MLDSA_N];
static int32_t zetas_qinv[QYN_MLDSA_N];
/* Distance-2 layer of the forward NTT: [z(k), z(k), z(k + 1), z(k + 1)] for k = 64, 66, ... */
static int32_t forward_pairs[128] __attribute__((aligned(16)));
static int32_t forward_pairs_qinv[128] __attribute__((aligned(16)));
/* inverse[b] = -zetas[255 - b]: the inverse NTT's zetas in the order it uses them. */
static int32_t inverse[QYN_MLDSA_N] __attribute__((aligned(16)));
static int32_t inverse_qinv[QYN_MLDSA_N] __attribute__((aligned(16)));
/* Distance-2 layer of the inverse NTT, laid out like forward_pairs. */
static int32_t inverse_pairs[128] __attribute__((aligned(16)));
static int32_t inverse_pairs_qinv[128] __attribute__((aligned(16)));

static int32_t centered(int64_t value) {
    int64_t reduced = value % Q;
    if (reduced < 0) {
        reduced += Q;
    }
    return (int32_t)(reduced > (Q - 1) / 2 ? reduced - Q : reduced);
}

static unsigned bit_reverse8(unsigned value) {
    unsigned reversed = 0;
    for (unsigned bit = 0; bit < 8; bit++) {
        reversed |= ((value >> bit) & 1) << (7 - bit);
    }
    return reversed;
}

static int32_t times_qinv(int32_t zeta) {
    return (int32_t)((uint32_t)zeta * (uint32_t)QINV);
}

void qyn_mldsa_ntt_init(void) {
    /* powers[e] = ROOT_OF_UNITY^e mod q. */
    int64_t powers[QYN_MLDSA_N];
    powers[0] = 1;
    for (unsigned e = 1; e < QYN_MLDSA_N; e++) {
        powers[e] = powers[e - 1] * ROOT_OF_UNITY % Q;
    }

    zetas[0] = 0;
    for (unsigned k = 1; k < QYN_MLDSA_N; k++) {
        zetas[k] = centered((powers[bit_reverse8(k)] << 32) % Q);
    }

    for (unsigned k = 0; k < QYN_MLDSA_N; k++) {
        zetas_qinv[k] = times_qinv(zetas[k]);
        inverse[k] = -zetas[QYN_MLDSA_N - 1 - k];
        inverse_qinv[k] = times_qinv(inverse[k]);
    }

    for (unsigned i = 0; i < 32; i++) {
        for (unsigned lane = 0; lane < 4; lane++) {
            forward_pairs[4 * i + lane] = zetas[64 + 2 * i + lane / 2];
            forward_pairs_qinv[4 * i + lane] = times_qinv(forward_pairs[4 * i + lane]);
            inverse_pairs[4 * i + lane] = -zetas[127 - (2 * i + lane / 2)];
            inverse_pairs_qinv[4 * i + lane] = times_qinv(inverse_pairs[4 * i + lane]);
        }
    }
}

/*
 * Returns `value` unchanged through an empty assembly statement, which the compiler cannot see
 * through. Clang 14 implements wasm_i64x2_extmul_* as sign extension plus i64x2.mul, and emits
 * the extmul instruction only when it still sees both extensions next to the multiplication.
 * Without the barrier it folds a constant operand or hoists a loop-invariant one out of the
 * loop, and V8 then expands i64x2.mul into several instructions on x64.
 */
static inline v128_t opaque(v128_t value) {
    __asm__ volatile("" : "+r"(value));
    return value;
}

/* High 32 bits of the signed 64-bit products of the lanes of a and b. */
static inline v128_t mulhi(v128_t a, v128_t b) {
    b = opaque(b);
    v128_t low = wasm_i64x2_extmul_low_i32x4(a, b);
    v128_t high = wasm_i64x2_extmul_high_i32x4(a, b);
    return wasm_i32x4_shuffle(low, high, 1, 3, 5, 7);
}

/* a * z * 2^-32 mod q per lane, in (-q, q), given z_qinv = z * q^-1 mod 2^32. */
static inline v128_t montgomery_multiply(v128_t a, v128_t z, v128_t z_qinv) {
    v128_t t = wasm_i32x4_mul(a, z_qinv);
    return wasm_i32x4_sub(mulhi(a, z), mulhi(t, wasm_i32x4_splat(Q)));
}

static inline v128_t load(const int32_t *p) {
    return wasm_v128_load(p);
}

static inline void store(int32_t *p, v128_t v) {
    wasm_v128_store(p, v);
}

void qyn_mldsa_ntt(int32_t a[QYN_MLDSA_N]) {
    unsigned k = 0;

    /*
     * Layers with butterfly distance len = 128 .. 4: one zeta per block of 2 * len coefficients.
     * The counts are shifts of the layer number, so the compiled loops need no division.
     */
    for (unsigned layer = 0; layer < 6; layer++) {
        unsigned len = 128u >> layer;
        for (unsigned block = 0; block < (1u << layer); block++) {
            k++;
            v128_t z = wasm_i32x4_splat(zetas[k]);
            v128_t z_qinv = wasm_i32x4_splat(zetas_qinv[k]);
            int32_t *low = a + 2 * len * block;
            for (unsigned j = 0; j < len; j += 4) {
                v128_t x = load(low + j);
                v128_t t = montgomery_multiply(load(low + len + j), z, z_qinv);
                store(low + len + j, wasm_i32x4_sub(x, t));
                store(low + j, wasm_i32x4_add(x, t));
            }
        }
    }

    /* Distance 2 and 1, eight coefficients a[8i .. 8i + 7] at a time. */
    for (unsigned i = 0; i < 32; i++) {
        v128_t v0 = load(a + 8 * i);
        v128_t v1 = load(a + 8 * i + 4);

        /* Distance 2: pairs (0, 2), (1, 3), (4, 6), (5, 7). */
        v128_t x = wasm_i32x4_shuffle(v0, v1, 0, 1, 4, 5);
        v128_t y = wasm_i32x4_shuffle(v0, v1, 2, 3, 6, 7);
        v128_t t = montgomery_multiply(y, load(forward_pairs + 4 * i),
                                       load(forward_pairs_qinv + 4 * i));
        v128_t sum = wasm_i32x4_add(x, t);
        v128_t difference = wasm_i32x4_sub(x, t);
        /* sum = a0 a1 a4 a5, difference = a2 a3 a6 a7 after this layer. */

        /* Distance 1: pairs (0, 1), (2, 3), (4, 5), (6, 7). */
        x = wasm_i32x4_shuffle(sum, difference, 0, 4, 2, 6);
        y = wasm_i32x4_shuffle(sum, difference, 1, 5, 3, 7);
        t = montgomery_multiply(y, load(zetas + 128 + 4 * i), load(zetas_qinv + 128 + 4 * i));
        sum = wasm_i32x4_add(x, t);
        difference = wasm_i32x4_sub(x, t);
        /* sum = a0 a2 a4 a6, difference = a1 a3 a5 a7. */

        store(a + 8 * i, wasm_i32x4_shuffle(sum, difference, 0, 4, 1, 5));
        store(a + 8 * i + 4, wasm_i32x4_shuffle(sum, difference, 2, 6, 3, 7));
    }
}

void qyn_mldsa_invntt_tomont(int32_t a[QYN_MLDSA_N]) {
    /* Distance 1 and 2, eight coefficients at a time. */
    for (unsigned i = 0; i < 32; i++) {
        v128_t v0 = load(a + 8 * i);
        v128_t v1 = load(a + 8 * i + 4);

        /* Distance 1: x = a0 a2 a4 a6, y = a1 a3 a5 a7. */
        v128_t x = wasm_i32x4_shuffle(v0, v1, 0, 2, 4, 6);
        v128_t y = wasm_i32x4_shuffle(v0, v1, 1, 3, 5, 7);
        v128_t sum = wasm_i32x4_add(x, y);
        v128_t product = montgomery_multiply(wasm_i32x4_sub(x, y), load(inverse + 4 * i),
                                             load(inverse_qinv + 4 * i));

        /* Distance 2: x = a0 a1 a4 a5, y = a2 a3 a6 a7. */
        x = wasm_i32x4_shuffle(sum, product, 0, 4, 2, 6);
        y = wasm_i32x4_shuffle(sum, product, 1, 5, 3, 7);
        sum = wasm_i32x4_add(x, y);
        product = montgomery_multiply(wasm_i32x4_sub(x, y), load(inverse_pairs + 4 * i),
                                      load(inverse_pairs_qinv + 4 * i));

        store(a + 8 * i, wasm_i32x4_shuffle(sum, product, 0, 1, 4, 5));
        store(a + 8 * i + 4, wasm_i32x4_shuffle(sum, product, 2, 3, 6, 7));
    }

    /* Distance len = 4 .. 128, where block b of each layer uses inverse[256 - 256 / len + b]. */
    unsigned k = 192;
    for (unsigned layer = 0; layer < 6; layer++) {
        unsigned len = 4u << layer;
        for (unsigned block = 0; block < (32u >> layer); block++) {
            v128_t z = wasm_i32x4_splat(inverse[k]);
            v128_t z_qinv = wasm_i32x4_splat(inverse_qinv[k]);
            k++;
            int32_t *low = a + 2 * len * block;
            for (unsigned j = 0; j < len; j += 4) {
                v128_t x = load(low + j);
                v128_t y = load(low + len + j);
                store(low + j, wasm_i32x4_add(x, y));
                store(low + len + j, montgomery_multiply(wasm_i32x4_sub(x, y), z, z_qinv));
            }
        }
    }

    v128_t factor = wasm_i32x4_splat(INVNTT_FACTOR);
    v128_t factor_qinv = wasm_i32x4_splat(times_qinv(INVNTT_FACTOR));
    for (unsigned j = 0; j < QYN_MLDSA_N; j += 4) {
        store(a + j, montgomery_multiply(load(a + j), factor, factor_qinv));
    }
}

void qyn_mldsa_pointwise_montgomery(int32_t c[QYN_MLDSA_N], const int32_t a[QYN_MLDSA_N],
                                    const int32_t b[QYN_MLDSA_N]) {
    v128_t qinv = wasm_i32x4_splat(QINV);
    for (unsigned j = 0; j < QYN_MLDSA_N; j += 4) {
        v128_t right = load(b + j);
        store(c + j, montgomery_multiply(load(a + j), right, wasm_i32x4_mul(right, qinv)));
    }
}

void qyn_mldsa_matrix_pointwise_montgomery(int32_t *t, const int32_t *a, const int32_t *v,
                                           unsigned rows, unsigned columns) {
    v128_t qinv = wasm_i32x4_splat(QINV);

    for (unsigned row = 0; row < rows; row++) {
        const int32_t *entries = a + row * columns * QYN_MLDSA_N;
        for (unsigned j = 0; j < QYN_MLDSA_N; j += 4) {
            v128_t sum = wasm_i32x4_splat(0);
            for (unsigned column = 0; column < columns; column++) {
                v128_t right = load(v + column * QYN_MLDSA_N + j);
                v128_t product = montgomery_multiply(load(entries + column * QYN_MLDSA_N + j),
                                                     right, wasm_i32x4_mul(right, qinv));
                sum = wasm_i32x4_add(sum, product);
            }
            store(t + row * QYN_MLDSA_N + j, sum);
        }
    }
}
