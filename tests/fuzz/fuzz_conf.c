/*
 * fuzz_conf.c - the conf file parser (conf_load), which reads what an
 * operator (or a package's conffile merge) wrote.
 *
 * Properties: a file is either loaded with every bounded key inside its
 * bounds, or refused with a one-line reason; never half-read silently.
 */
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static char path[] = "/tmp/andon-fuzz-conf.XXXXXX";
static int fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	struct conf c;

	FUZZ_CANARY(data, size);
	if (fd < 0) {
		unsetenv("ANDON_DATA");
		if ((fd = mkstemp(path)) < 0)
			abort();
		unlink(path);         /* read through /proc/self/fd from now on */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (conf_load(&c, path, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(c.max_body >= 1024 && c.max_body <= 16u << 20);
		FUZZ_ASSERT(c.rate_limit_per_minute <= 1000000);
		FUZZ_ASSERT(c.tenant_rate_limit_per_minute <= 1000000);
		FUZZ_ASSERT(c.checkpoint_minutes <= 1440);
		FUZZ_ASSERT(memchr(c.data_dir, '\0', sizeof(c.data_dir)) != NULL);
	} else {
		FUZZ_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL);
	}
	return 0;
}
