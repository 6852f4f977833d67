/*
 * access - the tracker's access log (see access.h).
 *
 * One write(2) per line on an O_APPEND descriptor: lines of concurrent
 * threads never interleave. A read-write lock lets a reopen swap the
 * descriptor while no thread writes to the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "log.h"

/* request text kept per field */
#define ACCESS_FIELD_MAX	512

static pthread_rwlock_t	access_lock = PTHREAD_RWLOCK_INITIALIZER;
static int		access_fd = -1;		/* under access_lock */
static int		access_on;		/* atomic: access_fd != -1 */
static int		access_failed;		/* atomic: a write failed, warned */

/* access_file - open path for appending; -1 with err */
static int
access_file(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

int
access_open(const char *path, char *err, size_t errlen)
{
	return access_reopen(path, err, errlen);
}

int
access_reopen(const char *path, char *err, size_t errlen)
{
	int fd = -1, old;

	if (path && (fd = access_file(path, err, errlen)) == -1)
		return -1;
	pthread_rwlock_wrlock(&access_lock);
	old = access_fd;
	access_fd = fd;
	__atomic_store_n(&access_on, fd != -1, __ATOMIC_RELEASE);
	__atomic_store_n(&access_failed, 0, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&access_lock);
	if (old != -1)
		close(old);
	return 0;
}

int
access_enabled(void)
{
	return __atomic_load_n(&access_on, __ATOMIC_ACQUIRE);
}

/* access_quote - s escaped for a quoted field: \" \\ and \xNN; "-" for NULL */
static size_t
access_quote(char *out, size_t outsz, const char *s)
{
	size_t	o = 0, i;

	if (s == NULL || *s == '\0')
		return (size_t)snprintf(out, outsz, "-");
	for (i = 0; s[i] && i < ACCESS_FIELD_MAX && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}

void
access_write(const char *client, const char *method, const char *path,
    const char *version, unsigned int status, long long bytes,
    const char *ua)
{
	char		line[4 * 3 * ACCESS_FIELD_MAX], m[64], p[4 * ACCESS_FIELD_MAX];
	char		v[32], u[4 * ACCESS_FIELD_MAX], when[40], size[24];
	struct tm	tm;
	time_t		now = time(NULL);
	int		n;

	if (!access_enabled())
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	access_quote(m, sizeof(m), method);
	access_quote(p, sizeof(p), path);
	access_quote(v, sizeof(v), version);
	access_quote(u, sizeof(u), ua);
	if (bytes >= 0)
		snprintf(size, sizeof(size), "%lld", bytes);
	else
		snprintf(size, sizeof(size), "-");
	n = snprintf(line, sizeof(line), "%s - - [%s] \"%s %s %s\" %u %s \"-\""
	    " \"%s\"\n", client && *client ? client : "-", when, m, p, v,
	    status, size, u);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_rwlock_rdlock(&access_lock);
	if (access_fd != -1 && write(access_fd, line, (size_t)n) != n &&
	    !__atomic_exchange_n(&access_failed, 1, __ATOMIC_RELAXED))
		log_warn("access_log=failed reason=\"lines are lost until the"
		    " next reload\"");
	pthread_rwlock_unlock(&access_lock);
}

void
access_close(void)
{
	char err[8];

	access_reopen(NULL, err, sizeof(err));
}
