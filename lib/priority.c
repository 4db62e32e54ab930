/* priority.c - a background daemon's CPU priority (priority.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "priority.h"

/* The session's scheduling group, when the kernel has them (sched(7),
 * "The autogroup feature"); absent or read-only otherwise. */
#define AUTOGROUP_FILE "/proc/self/autogroup"

/* The group's nice, as the file says ("/autogroup-42 nice 0"); 0 when
 * it cannot be read. */
static int
session_group_nice(void)
{
	FILE *f = fopen(AUTOGROUP_FILE, "r");
	int nice = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%*s nice %d", &nice) != 1)
		nice = 0;
	fclose(f);
	return nice;
}

static void
lower_session_group(int nice)
{
	FILE *f;

	if (getsid(0) != getpid())
		return;                 /* the group is the shell's: leave it */
	if (nice <= session_group_nice())
		return;
	if ((f = fopen(AUTOGROUP_FILE, "w")) == NULL)
		return;                 /* no autogroups: the nice value is enough */
	fprintf(f, "%d\n", nice);
	fclose(f);
}

int
priority_lower(int nice, char *err, size_t errlen)
{
	int now;

	if (nice < 0 || nice > 19) {
		snprintf(err, errlen, "nice value %d is outside 0..19", nice);
		return -1;
	}
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (now == -1 && errno != 0) {
		snprintf(err, errlen, "getpriority: %s", strerror(errno));
		return -1;
	}
	if (nice > now && setpriority(PRIO_PROCESS, 0, nice) != 0) {
		snprintf(err, errlen, "setpriority: %s", strerror(errno));
		return -1;
	}
	lower_session_group(nice);
	return 0;
}
