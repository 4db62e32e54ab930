/* log.c - one line per message on stderr: "andon/<program>[pid] level: text". */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static const char *program = "andon";

void
log_set_program(const char *name)
{
	program = name;
}

static void
log_line(const char *level, const char *fmt, va_list ap)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "andon/%s[%ld] %s: %s\n", program, (long)getpid(),
	    level, text);
	fflush(stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error", fmt, ap);
	va_end(ap);
}

void
log_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("notice", fmt, ap);
	va_end(ap);
}
