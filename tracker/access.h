/*
 * access - the tracker's optional access log (access_log = FILE): one line
 * per answered request in the combined log format, so common tools read it:
 *   CLIENT - - [06/Dec/2026:22:00:00 +0000] "GET /click/ID HTTP/1.1" 302 - "-" "UA"
 * Times are UTC. The client is the one the tracker records (trusted
 * proxies followed, anonymize_ip applied); with store_user_agent = no the
 * User-Agent is "-". Text from the request is escaped (quotes, control
 * bytes) and cut. The file is opened before the privilege drop and
 * reopened on SIGHUP (as the user the tracker runs as) for log rotation.
 */
#ifndef MTRACK_ACCESS_H
#define MTRACK_ACCESS_H

#include <stddef.h>

/* access_open - start writing to path (NULL: no log); 0, or -1 with err */
int	access_open(const char *path, char *err, size_t errlen);
/*
 * access_reopen - open path again (or another one, or NULL: stop) and
 * swap it in; on failure the old file stays. 0, or -1 with err.
 */
int	access_reopen(const char *path, char *err, size_t errlen);
/* access_enabled - a log is open (cheap: one atomic load) */
int	access_enabled(void);
/*
 * access_write - one line. method, path, version and ua are the request's
 * (any may be NULL); status the answer's code; bytes the body length
 * (-1: unknown). Thread-safe; errors are counted, not logged per line.
 */
void	access_write(const char *client, const char *method, const char *path,
	    const char *version, unsigned int status, long long bytes,
	    const char *ua);
/* access_close - close the log */
void	access_close(void);

#endif
