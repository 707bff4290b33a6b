/* Run-time set-up of the SIMD kernels, called once from qyn_init(). */
#include "keccak_sponge.h"
#include "mldsa_ntt.h"
#include "mlkem_ntt.h"
#include "mlkem_sample.h"
#include "simd.h"

void qyn_simd_install(void) {
    qyn_mldsa_ntt_init();
    qyn_mlkem_ntt_init();
    qyn_mlkem_sample_init();
    qyn_sha3_x4_install();
}
