/*
 * WebAssembly glue between liboqs and the TypeScript core.
 *
 * Every exported function takes an algorithm index (see enum qyn_alg), pointers into the
 * caller-managed I/O area and returns a qyn_status. Deterministic variants take an optional
 * pointer to caller-supplied randomness: the glue serves those bytes as the next
 * OQS_randombytes() read and reports QYN_ERR_RANDOMNESS when the algorithm asks for a
 * different amount, or asks more than once.
 *
 * Secrets: liboqs clears some of its own buffers, but not all of them: the ML-DSA reference
 * code leaves its stack frames as they are, and liboqs frees SHA-3 contexts without clearing
 * them. The glue therefore clears every heap block before it is freed (the module is linked
 * with --wrap=free), and exposes the shadow stack bounds so that the TypeScript side can clear
 * the I/O area and the used part of the stack after each call.
 */
#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <emscripten/emscripten.h>
#include <emscripten/stack.h>
#include <oqs/oqs.h>

#ifdef QYN_SIMD
#include "simd/simd.h"
#endif

typedef enum {
    QYN_OK = 0,
    QYN_ERR_OQS = 1,            /* liboqs returned OQS_ERROR (a key or input check failed) */
    QYN_ERR_RANDOMNESS = 2,     /* supplied randomness was not read exactly once, whole */
    QYN_ERR_ALGORITHM = 3,      /* unknown algorithm index */
    QYN_ERR_NO_MEMORY = 4,      /* the I/O area could not grow */
} qyn_status;

enum qyn_alg {
    QYN_ML_KEM_512 = 0,
    QYN_ML_KEM_768 = 1,
    QYN_ML_KEM_1024 = 2,
    QYN_ML_DSA_44 = 3,
    QYN_ML_DSA_65 = 4,
    QYN_ML_DSA_87 = 5,
};

/* Imported from JavaScript: fills [buffer, buffer + length) with crypto.getRandomValues. */
extern void qyn_random_fill(uint8_t *buffer, size_t length);

void __real_free(void *pointer);

/* Every free() in the module lands here: the block is cleared before it returns to the heap. */
void __wrap_free(void *pointer) {
    if (pointer != NULL) {
        OQS_MEM_cleanse(pointer, malloc_usable_size(pointer));
    }
    __real_free(pointer);
}

/* Pending caller-supplied randomness; see qyn_randombytes. */
static const uint8_t *injected;
static size_t injected_length;
static int injection_failed;

static void qyn_randombytes(uint8_t *out, size_t length) {
    if (injected == NULL) {
        qyn_random_fill(out, length);
        return;
    }
    if (length != injected_length) {
        injection_failed = 1;
        /* Fill anyway so the algorithm runs on unpredictable bytes; its output is discarded. */
        qyn_random_fill(out, length);
        injected = NULL;
        return;
    }
    memcpy(out, injected, length);
    injected = NULL;
}

static void inject(const uint8_t *randomness, size_t length) {
    injected = randomness;
    injected_length = length;
    injection_failed = 0;
}

/* Ends an injection window: the supplied bytes must have been read, exactly once. */
static qyn_status finish_injection(const uint8_t *randomness, OQS_STATUS status) {
    int unread = randomness != NULL && injected != NULL;
    int failed = injection_failed;
    injected = NULL;
    injected_length = 0;
    injection_failed = 0;
    if (unread || failed) {
        return QYN_ERR_RANDOMNESS;
    }
    return status == OQS_SUCCESS ? QYN_OK : QYN_ERR_OQS;
}

/* The I/O area: one buffer that grows on demand and is reused by every call. */
static uint8_t *io_area;
static size_t io_capacity;

EMSCRIPTEN_KEEPALIVE
uint8_t *qyn_io_reserve(size_t length) {
    if (length <= io_capacity) {
        return io_area;
    }
    uint8_t *grown = aligned_alloc(16, (length + 15) & ~(size_t)15);
    if (grown == NULL) {
        return NULL;
    }
    if (io_area != NULL) {
        OQS_MEM_cleanse(io_area, io_capacity);
        free(io_area);
    }
    io_area = grown;
    io_capacity = length;
    return io_area;
}

EMSCRIPTEN_KEEPALIVE
size_t qyn_io_capacity(void) {
    return io_capacity;
}

/* Shadow stack bounds: the stack grows down from the base towards the end. */
EMSCRIPTEN_KEEPALIVE
uintptr_t qyn_stack_base(void) {
    return emscripten_stack_get_base();
}

EMSCRIPTEN_KEEPALIVE
uintptr_t qyn_stack_end(void) {
    return emscripten_stack_get_end();
}

EMSCRIPTEN_KEEPALIVE
const char *qyn_liboqs_version(void) {
    return OQS_version();
}

EMSCRIPTEN_KEEPALIVE
void qyn_init(void) {
    OQS_init();
    OQS_randombytes_custom_algorithm(qyn_randombytes);
#ifdef QYN_SIMD
    qyn_simd_install();
#endif
}

EMSCRIPTEN_KEEPALIVE
int qyn_kem_keypair(int alg, uint8_t *public_key, uint8_t *secret_key, const uint8_t *seed) {
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_KEM_512:
        status = seed ? OQS_KEM_ml_kem_512_keypair_derand(public_key, secret_key, seed)
                      : OQS_KEM_ml_kem_512_keypair(public_key, secret_key);
        break;
    case QYN_ML_KEM_768:
        status = seed ? OQS_KEM_ml_kem_768_keypair_derand(public_key, secret_key, seed)
                      : OQS_KEM_ml_kem_768_keypair(public_key, secret_key);
        break;
    case QYN_ML_KEM_1024:
        status = seed ? OQS_KEM_ml_kem_1024_keypair_derand(public_key, secret_key, seed)
                      : OQS_KEM_ml_kem_1024_keypair(public_key, secret_key);
        break;
    default:
        return QYN_ERR_ALGORITHM;
    }
    return status == OQS_SUCCESS ? QYN_OK : QYN_ERR_OQS;
}

EMSCRIPTEN_KEEPALIVE
int qyn_kem_encapsulate(int alg, uint8_t *ciphertext, uint8_t *shared_secret,
                        const uint8_t *public_key, const uint8_t *randomness) {
    if (randomness != NULL) {
        inject(randomness, 32);
    }
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_KEM_512:
        status = OQS_KEM_ml_kem_512_encaps(ciphertext, shared_secret, public_key);
        break;
    case QYN_ML_KEM_768:
        status = OQS_KEM_ml_kem_768_encaps(ciphertext, shared_secret, public_key);
        break;
    case QYN_ML_KEM_1024:
        status = OQS_KEM_ml_kem_1024_encaps(ciphertext, shared_secret, public_key);
        break;
    default:
        injected = NULL;
        return QYN_ERR_ALGORITHM;
    }
    return finish_injection(randomness, status);
}

EMSCRIPTEN_KEEPALIVE
int qyn_kem_decapsulate(int alg, uint8_t *shared_secret, const uint8_t *ciphertext,
                        const uint8_t *secret_key) {
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_KEM_512:
        status = OQS_KEM_ml_kem_512_decaps(shared_secret, ciphertext, secret_key);
        break;
    case QYN_ML_KEM_768:
        status = OQS_KEM_ml_kem_768_decaps(shared_secret, ciphertext, secret_key);
        break;
    case QYN_ML_KEM_1024:
        status = OQS_KEM_ml_kem_1024_decaps(shared_secret, ciphertext, secret_key);
        break;
    default:
        return QYN_ERR_ALGORITHM;
    }
    return status == OQS_SUCCESS ? QYN_OK : QYN_ERR_OQS;
}

EMSCRIPTEN_KEEPALIVE
int qyn_sig_keypair(int alg, uint8_t *public_key, uint8_t *secret_key, const uint8_t *seed) {
    if (seed != NULL) {
        inject(seed, 32);
    }
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_DSA_44:
        status = OQS_SIG_ml_dsa_44_keypair(public_key, secret_key);
        break;
    case QYN_ML_DSA_65:
        status = OQS_SIG_ml_dsa_65_keypair(public_key, secret_key);
        break;
    case QYN_ML_DSA_87:
        status = OQS_SIG_ml_dsa_87_keypair(public_key, secret_key);
        break;
    default:
        injected = NULL;
        return QYN_ERR_ALGORITHM;
    }
    return finish_injection(seed, status);
}

EMSCRIPTEN_KEEPALIVE
int qyn_sig_sign(int alg, uint8_t *signature, size_t *signature_length, const uint8_t *message,
                 size_t message_length, const uint8_t *context, size_t context_length,
                 const uint8_t *secret_key, const uint8_t *randomness) {
    if (randomness != NULL) {
        inject(randomness, 32);
    }
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_DSA_44:
        status = OQS_SIG_ml_dsa_44_sign_with_ctx_str(signature, signature_length, message,
                                                     message_length, context, context_length,
                                                     secret_key);
        break;
    case QYN_ML_DSA_65:
        status = OQS_SIG_ml_dsa_65_sign_with_ctx_str(signature, signature_length, message,
                                                     message_length, context, context_length,
                                                     secret_key);
        break;
    case QYN_ML_DSA_87:
        status = OQS_SIG_ml_dsa_87_sign_with_ctx_str(signature, signature_length, message,
                                                     message_length, context, context_length,
                                                     secret_key);
        break;
    default:
        injected = NULL;
        return QYN_ERR_ALGORITHM;
    }
    return finish_injection(randomness, status);
}

EMSCRIPTEN_KEEPALIVE
int qyn_sig_verify(int alg, const uint8_t *message, size_t message_length,
                   const uint8_t *signature, size_t signature_length, const uint8_t *context,
                   size_t context_length, const uint8_t *public_key) {
    OQS_STATUS status;
    switch (alg) {
    case QYN_ML_DSA_44:
        status = OQS_SIG_ml_dsa_44_verify_with_ctx_str(message, message_length, signature,
                                                       signature_length, context,
                                                       context_length, public_key);
        break;
    case QYN_ML_DSA_65:
        status = OQS_SIG_ml_dsa_65_verify_with_ctx_str(message, message_length, signature,
                                                       signature_length, context,
                                                       context_length, public_key);
        break;
    case QYN_ML_DSA_87:
        status = OQS_SIG_ml_dsa_87_verify_with_ctx_str(message, message_length, signature,
                                                       signature_length, context,
                                                       context_length, public_key);
        break;
    default:
        return QYN_ERR_ALGORITHM;
    }
    return status == OQS_SUCCESS ? QYN_OK : QYN_ERR_OQS;
}
