/*
 * Native throughput of the six ML-KEM and ML-DSA parameter sets in liboqs, the upper bound
 * that the WebAssembly module is compared against by bench/run.js.
 *
 * Usage: bench [--time-ms N] [--warmup-ms N] [--message-bytes N] [--algorithm NAME]
 *
 * --algorithm limits the run to one parameter set, for example ML-KEM-768.
 *
 * Each operation runs for --warmup-ms without recording, then for --time-ms while every call
 * is timed on its own with CLOCK_MONOTONIC. The program prints one JSON object on stdout:
 *   { "liboqsVersion", "optTarget", "avx2", "timeMs", "results": [ { "algorithm", "operation",
 *     "samples", "opsPerSecond", "meanMicros", "p50Micros", "p99Micros", "rme" } ] }
 * "avx2" is true when the build compiled in the AVX2 code of both ML-KEM-768 and ML-DSA-65.
 * Diagnostics go to stderr and the exit status is nonzero on any liboqs failure.
 */
#define _POSIX_C_SOURCE 199309L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oqs/oqs.h>

#define DEFAULT_TIME_MS 500.0
#define DEFAULT_WARMUP_MS 100.0
#define DEFAULT_MESSAGE_BYTES 32
/* Two-sided 95% critical value of the normal distribution, used for the margin of error. */
#define Z_95 1.959964
#define INITIAL_SAMPLE_CAPACITY 4096

#if defined(OQS_ENABLE_KEM_ml_kem_768_x86_64) && defined(OQS_ENABLE_SIG_ml_dsa_65_avx2)
#define BUILT_WITH_AVX2 "true"
#else
#define BUILT_WITH_AVX2 "false"
#endif

static const char *const KEM_ALGORITHMS[] = {OQS_KEM_alg_ml_kem_512, OQS_KEM_alg_ml_kem_768,
                                             OQS_KEM_alg_ml_kem_1024};
static const char *const SIG_ALGORITHMS[] = {OQS_SIG_alg_ml_dsa_44, OQS_SIG_alg_ml_dsa_65,
                                             OQS_SIG_alg_ml_dsa_87};
#define KEM_COUNT (sizeof(KEM_ALGORITHMS) / sizeof(KEM_ALGORITHMS[0]))
#define SIG_COUNT (sizeof(SIG_ALGORITHMS) / sizeof(SIG_ALGORITHMS[0]))

/* Latencies of one operation in nanoseconds. */
typedef struct {
	double *values;
	size_t count;
	size_t capacity;
} samples_t;

/* Inputs and outputs of one timed call: the algorithm object and its buffers. */
typedef struct {
	OQS_KEM *kem;
	OQS_SIG *sig;
	uint8_t *public_key;
	uint8_t *secret_key;
	uint8_t *ciphertext;
	uint8_t *shared_secret;
	uint8_t *signature;
	size_t signature_len;
	uint8_t *message;
	size_t message_len;
} state_t;

typedef OQS_STATUS (*operation_fn)(state_t *state);

static int first_result = 1;

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static void *checked_malloc(size_t size) {
	void *pointer = malloc(size == 0 ? 1 : size);
	if (pointer == NULL) {
		fprintf(stderr, "bench: out of memory allocating %zu bytes\n", size);
		exit(EXIT_FAILURE);
	}
	return pointer;
}

static void samples_push(samples_t *samples, double value) {
	if (samples->count == samples->capacity) {
		samples->capacity = samples->capacity == 0 ? INITIAL_SAMPLE_CAPACITY : samples->capacity * 2;
		samples->values = realloc(samples->values, samples->capacity * sizeof(double));
		if (samples->values == NULL) {
			fprintf(stderr, "bench: out of memory for %zu samples\n", samples->capacity);
			exit(EXIT_FAILURE);
		}
	}
	samples->values[samples->count++] = value;
}

static int compare_doubles(const void *a, const void *b) {
	double x = *(const double *) a;
	double y = *(const double *) b;
	return (x > y) - (x < y);
}

/* Percentile of sorted values with linear interpolation between order statistics. */
static double percentile(const double *sorted, size_t count, double fraction) {
	double position = fraction * (double) (count - 1);
	size_t lower = (size_t) floor(position);
	size_t upper = lower + 1 < count ? lower + 1 : lower;
	double weight = position - (double) lower;
	return sorted[lower] + (sorted[upper] - sorted[lower]) * weight;
}

static OQS_STATUS kem_keypair(state_t *s) {
	return OQS_KEM_keypair(s->kem, s->public_key, s->secret_key);
}

static OQS_STATUS kem_encaps(state_t *s) {
	return OQS_KEM_encaps(s->kem, s->ciphertext, s->shared_secret, s->public_key);
}

static OQS_STATUS kem_decaps(state_t *s) {
	return OQS_KEM_decaps(s->kem, s->shared_secret, s->ciphertext, s->secret_key);
}

static OQS_STATUS sig_keypair(state_t *s) {
	return OQS_SIG_keypair(s->sig, s->public_key, s->secret_key);
}

static OQS_STATUS sig_sign(state_t *s) {
	return OQS_SIG_sign(s->sig, s->signature, &s->signature_len, s->message, s->message_len,
	                    s->secret_key);
}

static OQS_STATUS sig_verify(state_t *s) {
	return OQS_SIG_verify(s->sig, s->message, s->message_len, s->signature, s->signature_len,
	                      s->public_key);
}

/* Runs `operation` for warmup_ms, then times each call for time_ms and prints the summary. */
static void measure(const char *algorithm, const char *operation_name, operation_fn operation,
                    state_t *state, double time_ms, double warmup_ms) {
	samples_t samples = {NULL, 0, 0};

	double warmup_end = now_ns() + warmup_ms * 1e6;
	while (now_ns() < warmup_end) {
		if (operation(state) != OQS_SUCCESS) {
			fprintf(stderr, "bench: %s %s failed during warmup\n", algorithm, operation_name);
			exit(EXIT_FAILURE);
		}
	}

	double end = now_ns() + time_ms * 1e6;
	double total = 0;
	while (now_ns() < end) {
		double start = now_ns();
		OQS_STATUS status = operation(state);
		double elapsed = now_ns() - start;
		if (status != OQS_SUCCESS) {
			fprintf(stderr, "bench: %s %s failed\n", algorithm, operation_name);
			exit(EXIT_FAILURE);
		}
		samples_push(&samples, elapsed);
		total += elapsed;
	}

	qsort(samples.values, samples.count, sizeof(double), compare_doubles);
	double mean = total / (double) samples.count;
	double squares = 0;
	for (size_t i = 0; i < samples.count; i++) {
		squares += (samples.values[i] - mean) * (samples.values[i] - mean);
	}
	double rme = 0;
	if (samples.count > 1) {
		double sd = sqrt(squares / (double) (samples.count - 1));
		rme = Z_95 * sd / sqrt((double) samples.count) / mean * 100.0;
	}

	printf("%s\n    {\"algorithm\": \"%s\", \"operation\": \"%s\", \"samples\": %zu, "
	       "\"opsPerSecond\": %.3f, \"meanMicros\": %.3f, \"p50Micros\": %.3f, "
	       "\"p99Micros\": %.3f, \"rme\": %.3f}",
	       first_result ? "" : ",", algorithm, operation_name, samples.count, 1e9 / mean, mean / 1e3,
	       percentile(samples.values, samples.count, 0.50) / 1e3,
	       percentile(samples.values, samples.count, 0.99) / 1e3, rme);
	first_result = 0;
	free(samples.values);
}

static void bench_kem(const char *name, double time_ms, double warmup_ms) {
	state_t state;
	memset(&state, 0, sizeof(state));
	state.kem = OQS_KEM_new(name);
	if (state.kem == NULL) {
		fprintf(stderr, "bench: %s is not enabled in this liboqs build; rebuild with make bench-native\n",
		        name);
		exit(EXIT_FAILURE);
	}
	state.public_key = checked_malloc(state.kem->length_public_key);
	state.secret_key = checked_malloc(state.kem->length_secret_key);
	state.ciphertext = checked_malloc(state.kem->length_ciphertext);
	state.shared_secret = checked_malloc(state.kem->length_shared_secret);

	measure(name, "keygen", kem_keypair, &state, time_ms, warmup_ms);
	measure(name, "encapsulate", kem_encaps, &state, time_ms, warmup_ms);
	measure(name, "decapsulate", kem_decaps, &state, time_ms, warmup_ms);

	OQS_MEM_secure_free(state.secret_key, state.kem->length_secret_key);
	OQS_MEM_secure_free(state.shared_secret, state.kem->length_shared_secret);
	free(state.public_key);
	free(state.ciphertext);
	OQS_KEM_free(state.kem);
}

static void bench_sig(const char *name, size_t message_len, double time_ms, double warmup_ms) {
	state_t state;
	memset(&state, 0, sizeof(state));
	state.sig = OQS_SIG_new(name);
	if (state.sig == NULL) {
		fprintf(stderr, "bench: %s is not enabled in this liboqs build; rebuild with make bench-native\n",
		        name);
		exit(EXIT_FAILURE);
	}
	state.public_key = checked_malloc(state.sig->length_public_key);
	state.secret_key = checked_malloc(state.sig->length_secret_key);
	state.signature = checked_malloc(state.sig->length_signature);
	state.message = checked_malloc(message_len);
	state.message_len = message_len;
	OQS_randombytes(state.message, message_len);

	measure(name, "keygen", sig_keypair, &state, time_ms, warmup_ms);
	measure(name, "sign", sig_sign, &state, time_ms, warmup_ms);
	measure(name, "verify", sig_verify, &state, time_ms, warmup_ms);

	OQS_MEM_secure_free(state.secret_key, state.sig->length_secret_key);
	free(state.public_key);
	free(state.signature);
	free(state.message);
	OQS_SIG_free(state.sig);
}

static int is_known_algorithm(const char *name) {
	for (size_t i = 0; i < KEM_COUNT; i++) {
		if (strcmp(name, KEM_ALGORITHMS[i]) == 0) {
			return 1;
		}
	}
	for (size_t i = 0; i < SIG_COUNT; i++) {
		if (strcmp(name, SIG_ALGORITHMS[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

static double parse_positive(const char *option, const char *value) {
	char *end = NULL;
	double parsed = value == NULL ? -1 : strtod(value, &end);
	if (value == NULL || *end != '\0' || !(parsed > 0)) {
		fprintf(stderr, "bench: %s expects a positive number, got '%s'\n", option,
		        value == NULL ? "" : value);
		exit(EXIT_FAILURE);
	}
	return parsed;
}

int main(int argc, char **argv) {
	double time_ms = DEFAULT_TIME_MS;
	double warmup_ms = DEFAULT_WARMUP_MS;
	size_t message_len = DEFAULT_MESSAGE_BYTES;
	const char *only = NULL;

	for (int i = 1; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--time-ms") == 0) {
			time_ms = parse_positive(argv[i], value);
		} else if (strcmp(argv[i], "--warmup-ms") == 0) {
			warmup_ms = parse_positive(argv[i], value);
		} else if (strcmp(argv[i], "--message-bytes") == 0) {
			message_len = (size_t) parse_positive(argv[i], value);
		} else if (strcmp(argv[i], "--algorithm") == 0 && value != NULL) {
			only = value;
		} else {
			fprintf(stderr,
			        "bench: invalid option '%s'; use --time-ms N, --warmup-ms N, --message-bytes N "
			        "or --algorithm NAME\n",
			        argv[i]);
			return EXIT_FAILURE;
		}
		i++;
	}

	if (only != NULL && !is_known_algorithm(only)) {
		fprintf(stderr, "bench: unknown algorithm '%s'; use ML-KEM-512/768/1024 or ML-DSA-44/65/87\n",
		        only);
		return EXIT_FAILURE;
	}

	OQS_init();
	printf("{\n  \"liboqsVersion\": \"%s\",\n  \"optTarget\": \"%s\",\n  \"avx2\": %s,\n"
	       "  \"timeMs\": %.0f,\n  \"results\": [",
	       OQS_version(), OQS_OPT_TARGET, BUILT_WITH_AVX2, time_ms);
	for (size_t i = 0; i < KEM_COUNT; i++) {
		if (only == NULL || strcmp(only, KEM_ALGORITHMS[i]) == 0) {
			bench_kem(KEM_ALGORITHMS[i], time_ms, warmup_ms);
		}
	}
	for (size_t i = 0; i < SIG_COUNT; i++) {
		if (only == NULL || strcmp(only, SIG_ALGORITHMS[i]) == 0) {
			bench_sig(SIG_ALGORITHMS[i], message_len, time_ms, warmup_ms);
		}
	}
	printf("\n  ]\n}\n");
	OQS_destroy();
	return EXIT_SUCCESS;
}
