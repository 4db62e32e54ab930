/*
 * gate.c - benchmark of the emergency gate alone: times gate_evaluate(),
 * the one read every governance call makes before its handler, so
 * tests/bench/run can report it as a share of a check's cost.
 *
 *   gate DATA_DIR TENANT KEY_ID [CALLS]
 *
 * Prints "gate_us_per_call <microseconds>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#include "gate.h"
#include "store.h"

int
main(int argc, char **argv)
{
	struct gate_state g;
	struct timespec t0, t1;
	char err[512];
	long calls = 100000;
	double us;

	if (argc < 4 || (argc > 4 && (calls = atol(argv[4])) <= 0)) {
		fprintf(stderr, "usage: gate DATA_DIR TENANT KEY_ID [CALLS]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (store_open(argv[1], 64, err, sizeof(err)) != 0) {
		fprintf(stderr, "gate: %s\n", err);
		return 1;
	}
	for (long i = 0; i < 1000; i++)
		gate_evaluate(argv[2], argv[3], &g);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < calls; i++)
		if (gate_evaluate(argv[2], argv[3], &g) != 0) {
			fprintf(stderr, "gate: evaluation failed\n");
			store_close();
			return 1;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_close();
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / (double)calls;
	printf("gate_us_per_call %.3f (severity %d)\n", us, g.severity);
	return 0;
}
