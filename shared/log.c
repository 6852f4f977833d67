/*
 * log - key=value logging to stderr or syslog (see log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

#include "log.h"

static const char	*log_ident = "mtrack";
static int		 log_syslog;
static enum log_level	 log_lvl = LOG_LVL_INFO;

void
log_open(const char *ident, int use_syslog, enum log_level level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_lvl = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_close(void)
{
	if (log_syslog)
		closelog();
}

/* log_emit - format one line and send it where configured */
static void
log_emit(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char	*name[] = { "error", "warning", "info", "debug" };
	char			 line[2048];
	int			 saved = errno;
	size_t			 n;

	if (lvl > log_lvl) {
		errno = saved;
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno) {
		n = strlen(line);
		snprintf(line + n, sizeof(line) - n, " error=\"%s\"",
		    strerror(saved));
	}
	if (log_syslog) {
		syslog(prio[lvl], "%s", line);
	} else {
		struct timeval	tv;
		struct tm	tm;
		char		ts[32];

		/* RFC 3339 in UTC: one zone for every host and log */
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%s]: %s\n", ts,
		    (long)(tv.tv_usec / 1000), log_ident, name[lvl], line);
	}
	errno = saved;
}

#define LOG_FN(fn, lvl, e)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_emit(lvl, e, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_err, LOG_LVL_ERR, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

char *
log_str(char *out, size_t outsz, const char *s)
{
	size_t	 o = 0, i;

	if (outsz < 8) {
		if (outsz)
			out[0] = '\0';
		return out;
	}
	if (s == NULL) {
		snprintf(out, outsz, "-");
		return out;
	}
	out[o++] = '"';
	for (i = 0; s[i] != '\0' && i < 200 && o + 6 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		} else
			out[o++] = (char)c;
	}
	if (s[i] != '\0' && o + 5 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
