/*
 * unit.h - what every unit-test file (tests/unit/test_<noun>.c) shares:
 * the usual headers, NELEM, the fixture that opens a fresh store per test
 * and the few helpers more than one file uses (unit.c).
 *
 * Tests that need the database open a fresh data directory under /tmp
 * (fixture store_setup); Check forks every test, so no state leaks from one
 * test to the next.
 */
#ifndef ANDON_UNIT_H
#define ANDON_UNIT_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <db.h>
#include <jansson.h>
#include <sodium.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The data directory store_setup made, per test. */
extern char data_dir[64];

void store_setup(void);
void store_teardown(void);

/* The audit trail with n events (audit and tlog tests). */
int append_events(DB_TXN *txn, void *arg);
int ensure_key(DB_TXN *txn, void *arg);
void append_n(int n);

/* What unit_run gives every test of a file. */
enum unit_flags {
	UNIT_STORE = 1 << 0,     /* a fresh store per test (store_setup) */
	UNIT_SLOW = 1 << 1,      /* 30 s to run, not Check's 4 */
};

/* Runs the n tests as one Check suite named name (sodium initialised
 * first); the exit status. */
int unit_run(const char *name, unsigned flags, const TTest *const *tests,
             size_t n);
/* A test file's main: its name, its flags and its tests. */
#define UNIT_MAIN(name, flags, ...)                                         \
	int main(void)                                                       \
	{                                                                    \
		const TTest *const unit_tests[] = { __VA_ARGS__ };           \
                                                                             \
		return unit_run((name), (flags), unit_tests, NELEM(unit_tests)); \
	}

#endif
