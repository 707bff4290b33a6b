/*
 * Force-included (-include) into every liboqs source file of the SIMD build. It turns on
 * mlkem-native's native arithmetic backend, which mlkem-native's mlkem/common.h then includes
 * as MLK_ARITH_BACKEND_FILE, found through -I native/simd. Other liboqs sources
 * ignore these macros.
 */
#define MLK_USE_NATIVE_BACKEND_ARITH
#define MLK_ARITH_BACKEND_FILE "mlkem_backend.h"
