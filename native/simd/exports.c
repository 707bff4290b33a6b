/*
 * Exports that only the SIMD module has: the marker that tells the loader which variant it
 * instantiated, and a test entry point into the two-way sponge, which test/simd compares with
 * node:crypto's SHA-3 and SHAKE.
 */
#include <stddef.h>
#include <stdint.h>

#include <emscripten/emscripten.h>

#include "keccak_sponge.h"

/* Returns 1. Only the SIMD build exports it, so its presence marks the variant. */
EMSCRIPTEN_KEEPALIVE
int qyn_simd128(void) {
    return 1;
}

/* Largest rate of a Keccak-f[1600] sponge with a nonzero capacity, in bytes. */
#define MAX_RATE 192

/*
 * Test entry point: hashes in0 and in1 (each `inlen` bytes) into out0 and out1 (each `outlen`
 * bytes) with the two-way sponge at `rate` bytes and domain byte `domain`. Input and output go
 * through the sponge in pieces of at most `chunk` bytes (0 for one piece each), which
 * exercises the incremental absorb and squeeze. Returns 0, or -1 when the rate is not a
 * multiple of 8 in 8..192.
 */
EMSCRIPTEN_KEEPALIVE
int qyn_test_keccak_x2(unsigned rate, unsigned domain, uint8_t *out0, uint8_t *out1,
                       size_t outlen, const uint8_t *in0, const uint8_t *in1, size_t inlen,
                       size_t chunk) {
    if (rate == 0 || rate > MAX_RATE || rate % 8 != 0) {
        return -1;
    }

    qyn_sponge_x2 sponge;
    qyn_sponge_x2_reset(&sponge);

    size_t step = chunk == 0 ? inlen : chunk;
    for (size_t done = 0; done < inlen; done += step) {
        size_t length = inlen - done < step ? inlen - done : step;
        const uint8_t *const in[2] = {in0 + done, in1 + done};
        qyn_sponge_x2_absorb(&sponge, rate, in, length);
    }

    qyn_sponge_x2_finalize(&sponge, rate, (uint8_t)domain);

    step = chunk == 0 ? outlen : chunk;
    for (size_t done = 0; done < outlen; done += step) {
        size_t length = outlen - done < step ? outlen - done : step;
        uint8_t *const out[2] = {out0 + done, out1 + done};
        qyn_sponge_x2_squeeze(&sponge, rate, out, length);
    }
    return 0;
}
