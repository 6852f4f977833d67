/*
 * log - one logging module for all mtrack programs.
 *
 * Lines are key=value, to stderr (foreground) or syslog (mail facility).
 * Callers quote untrusted text with log_str(), which caps its length and
 * escapes control bytes, so a log line is always one line.
 * Every function preserves errno.
 */
#ifndef MTRACK_LOG_H
#define MTRACK_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* log_open - set program name, destination (syslog when use_syslog) and verbosity */
void	log_open(const char *ident, int use_syslog, enum log_level level);
/* log_close - close syslog if open */
void	log_close(void);

void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn - warning with ": strerror(errno)" appended */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warnx - warning without errno */
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * log_str - quote untrusted text for a log line into out (size outsz):
 * at most 200 input bytes, control bytes, quote and backslash escaped,
 * NULL shown as "-". Returns out.
 */
#define LOG_STR_MAX	(200 * 4 + 8)
char	*log_str(char *out, size_t outsz, const char *s);

#endif
