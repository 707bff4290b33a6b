# Builds the WebAssembly module from liboqs source.
#
#   make wasm               fetch liboqs (pinned by deps/liboqs-fetch/Cargo.lock) and build
#                           wasm/qynpqc.wasm and its SIMD variant wasm/qynpqc-simd.wasm
#   LIBOQS_SRC=DIR make wasm   build from another liboqs checkout instead
#   make wasm-check         rebuild both and fail unless they match the committed modules and hashes
#
# Needs Debian's emscripten (apt-get install emscripten), cmake, ninja and cargo.

LIBOQS_CRATE_VERSION := 0.11.0+liboqs-0.13.0
DEPS_DIR := .deps
FETCHED_LIBOQS := $(DEPS_DIR)/liboqs
LIBOQS_SRC ?= $(FETCHED_LIBOQS)
BUILD_DIR := $(DEPS_DIR)/build-wasm
WASM := wasm/qynpqc.wasm
SIMD_BUILD_DIR := $(DEPS_DIR)/build-wasm-simd
WASM_SIMD := wasm/qynpqc-simd.wasm

# Debian's emscripten runs its JS tools with the system Node; they need Debian's node modules.
export NODE_PATH := /usr/share/nodejs

ALGORITHMS := KEM_ml_kem_512;KEM_ml_kem_768;KEM_ml_kem_1024;SIG_ml_dsa_44;SIG_ml_dsa_65;SIG_ml_dsa_87

# Paths are mapped away so that the module is byte-identical wherever the tree is checked out.
PREFIX_MAP := -ffile-prefix-map=$(CURDIR)=. -ffile-prefix-map=$(abspath $(LIBOQS_SRC))=liboqs
CFLAGS_WASM := -O3 -DNDEBUG $(PREFIX_MAP)

EXPORTS := _qyn_init,_qyn_io_reserve,_qyn_io_capacity,_qyn_liboqs_version,_qyn_stack_base
EXPORTS := $(EXPORTS),_qyn_stack_end,_qyn_kem_keypair,_qyn_kem_encapsulate,_qyn_kem_decapsulate
EXPORTS := $(EXPORTS),_qyn_sig_keypair,_qyn_sig_sign,_qyn_sig_verify

.PHONY: wasm wasm-check fetch-liboqs clean

wasm: $(WASM) $(WASM_SIMD)

$(FETCHED_LIBOQS)/CMakeLists.txt: deps/liboqs-fetch/Cargo.lock
	cargo fetch --locked --manifest-path deps/liboqs-fetch/Cargo.toml
	rm -rf $(FETCHED_LIBOQS) $(DEPS_DIR)/crate
	mkdir -p $(DEPS_DIR)/crate
	crate=$$(ls $${CARGO_HOME:-$$HOME/.cargo}/registry/cache/*/oqs-sys-$(LIBOQS_CRATE_VERSION).crate | head -n 1) && \
	  tar -xzf "$$crate" -C $(DEPS_DIR)/crate
	mv $(DEPS_DIR)/crate/oqs-sys-$(LIBOQS_CRATE_VERSION)/liboqs $(FETCHED_LIBOQS)
	rm -rf $(DEPS_DIR)/crate
	touch $@

fetch-liboqs: $(FETCHED_LIBOQS)/CMakeLists.txt

$(BUILD_DIR)/lib/liboqs.a: $(LIBOQS_SRC)/CMakeLists.txt
	emcmake cmake -S $(LIBOQS_SRC) -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_FLAGS="$(CFLAGS_WASM)" \
	  -DOQS_MINIMAL_BUILD="$(ALGORITHMS)" \
	  -DOQS_USE_OPENSSL=OFF \
	  -DOQS_DIST_BUILD=OFF \
	  -DOQS_OPT_TARGET=generic \
	  -DOQS_BUILD_ONLY_LIB=ON \
	  -DBUILD_SHARED_LIBS=OFF \
	  -DOQS_PERMIT_UNSUPPORTED_ARCHITECTURE=ON
	cmake --build $(BUILD_DIR)

$(WASM): native/qynpqc.c native/imports.js $(BUILD_DIR)/lib/liboqs.a
	emcc $(CFLAGS_WASM) -I$(BUILD_DIR)/include native/qynpqc.c $(BUILD_DIR)/lib/liboqs.a \
	  -o $@ --no-entry -sSTANDALONE_WASM=1 -sEXPORTED_FUNCTIONS=$(EXPORTS) \
	  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=2MB -sTOTAL_STACK=512KB \
	  -sFILESYSTEM=0 -Wl,--wrap=free --js-library native/imports.js --profiling-funcs
	sha256sum $@ | sed 's| .*||' > $@.sha256

wasm-check: $(BUILD_DIR)/lib/liboqs.a $(SIMD_BUILD_DIR)/lib/liboqs.a
	rm -f $(WASM) $(WASM_SIMD)
	$(MAKE) $(WASM) $(WASM_SIMD)
	git diff --exit-code -- $(WASM) $(WASM_SIMD) $(WASM).sha256 $(WASM_SIMD).sha256

clean:
	rm -rf $(BUILD_DIR) $(SIMD_BUILD_DIR)

# The SIMD variant: liboqs compiled with -msimd128 into its own build directory, plus the
# kernels in native/simd. The loader picks it when the runtime validates a SIMD module.
SIMD_SOURCES := $(sort $(wildcard native/simd/*.c))
SIMD_HEADERS := $(sort $(wildcard native/simd/*.h))
CFLAGS_SIMD := $(CFLAGS_WASM) -msimd128
# mlkem-native takes its native arithmetic backend from native/simd (see mlkem_config.h).
MLKEM_BACKEND := native/simd/mlkem_config.h native/simd/mlkem_backend.h \
  native/simd/mlkem_backend_impl.h native/simd/mlkem_ntt.h native/simd/mlkem_sample.h
CFLAGS_SIMD_LIBOQS := $(CFLAGS_SIMD) -include $(CURDIR)/native/simd/mlkem_config.h \
  -I$(CURDIR)/native/simd
SIMD_EXPORTS := $(EXPORTS),_qyn_simd128,_qyn_test_keccak_x2
# ML-DSA reference functions that native/simd/mldsa_wrap.c replaces at link time.
MLDSA_WRAPPED := ntt invntt_tomont poly_pointwise_montgomery polyvec_matrix_pointwise_montgomery \
  polyvec_matrix_expand polyvecl_uniform_eta polyveck_uniform_eta polyvecl_uniform_gamma1
SIMD_WRAPS := $(foreach set,44 65 87,$(foreach function,$(MLDSA_WRAPPED), \
  -Wl,--wrap=pqcrystals_ml_dsa_$(set)_ref_$(function)))

$(SIMD_BUILD_DIR)/lib/liboqs.a: $(LIBOQS_SRC)/CMakeLists.txt $(MLKEM_BACKEND)
	emcmake cmake -S $(LIBOQS_SRC) -B $(SIMD_BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_FLAGS="$(CFLAGS_SIMD_LIBOQS)" \
	  -DOQS_MINIMAL_BUILD="$(ALGORITHMS)" \
	  -DOQS_USE_OPENSSL=OFF \
	  -DOQS_DIST_BUILD=OFF \
	  -DOQS_OPT_TARGET=generic \
	  -DOQS_BUILD_ONLY_LIB=ON \
	  -DBUILD_SHARED_LIBS=OFF \
	  -DOQS_PERMIT_UNSUPPORTED_ARCHITECTURE=ON
	cmake --build $(SIMD_BUILD_DIR)

$(WASM_SIMD): native/qynpqc.c native/imports.js $(SIMD_SOURCES) $(SIMD_HEADERS) \
  $(SIMD_BUILD_DIR)/lib/liboqs.a
	emcc $(CFLAGS_SIMD) -DQYN_SIMD -I$(SIMD_BUILD_DIR)/include native/qynpqc.c $(SIMD_SOURCES) \
	  $(SIMD_BUILD_DIR)/lib/liboqs.a \
	  -o $@ --no-entry -sSTANDALONE_WASM=1 -sEXPORTED_FUNCTIONS=$(SIMD_EXPORTS) \
	  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=2MB -sTOTAL_STACK=512KB \
	  -sFILESYSTEM=0 -Wl,--wrap=free $(SIMD_WRAPS) --js-library native/imports.js \
	  --profiling-funcs
	sha256sum $@ | sed 's| .*||' > $@.sha256

# Native liboqs for bench/run.js, which compares the WebAssembly module against it.
#
#   make bench-native   build liboqs with gcc twice, portable (OQS_OPT_TARGET=generic) and for
#                       this CPU (OQS_OPT_TARGET=auto, -march=native), and native/bench/bench.c
#                       against each, into .deps/bench-native/bench-generic and bench-auto
NATIVE_BENCH_DIR := $(DEPS_DIR)/bench-native
NATIVE_TARGETS := generic auto
NATIVE_LIBS := $(NATIVE_TARGETS:%=$(NATIVE_BENCH_DIR)/build-%/lib/liboqs.a)
NATIVE_BENCHES := $(NATIVE_TARGETS:%=$(NATIVE_BENCH_DIR)/bench-%)

.PHONY: bench-native

bench-native: $(NATIVE_BENCHES)

$(NATIVE_LIBS): $(NATIVE_BENCH_DIR)/build-%/lib/liboqs.a: $(LIBOQS_SRC)/CMakeLists.txt
	cmake -S $(LIBOQS_SRC) -B $(NATIVE_BENCH_DIR)/build-$* -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_COMPILER=gcc \
	  -DOQS_MINIMAL_BUILD="$(ALGORITHMS)" \
	  -DOQS_USE_OPENSSL=OFF \
	  -DOQS_DIST_BUILD=OFF \
	  -DOQS_OPT_TARGET=$* \
	  -DOQS_BUILD_ONLY_LIB=ON \
	  -DBUILD_SHARED_LIBS=OFF
	cmake --build $(NATIVE_BENCH_DIR)/build-$*

$(NATIVE_BENCHES): $(NATIVE_BENCH_DIR)/bench-%: native/bench/bench.c $(NATIVE_BENCH_DIR)/build-%/lib/liboqs.a
	gcc -O2 -Wall -Wextra -I$(NATIVE_BENCH_DIR)/build-$*/include native/bench/bench.c \
	  $(NATIVE_BENCH_DIR)/build-$*/lib/liboqs.a -o $@ -lm -lpthread
