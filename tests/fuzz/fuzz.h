/*
 * fuzz.h - what the libFuzzer harnesses share (tests/fuzz/README).
 *
 * Each harness checks properties, not only that nothing crashes: a
 * property that does not hold calls FUZZ_ASSERT, which aborts, and
 * libFuzzer keeps the input that did it as a crash.
 */
#ifndef ANDON_FUZZ_H
#define ANDON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The runner's own check (t0970): with ANDON_FUZZ_CANARY set, an input
 * that starts with "ANDON-FUZZ-CANARY" crashes the harness, so a test can
 * show that tests/fuzz/run fails when a harness does.
 */
#define FUZZ_CANARY(data, size) do { \
	static int armed = -1; \
	if (armed < 0) \
		armed = getenv("ANDON_FUZZ_CANARY") != NULL; \
	if (armed && (size) >= 17 && memcmp((data), "ANDON-FUZZ-CANARY", 17) == 0) \
		abort(); \
} while (0)

#endif
