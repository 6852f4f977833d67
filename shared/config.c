/*
 * config - one table of keys, defaults and bounds (see config.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "config.h"
#include "dnsname.h"
#include "log.h"
#include "whsign.h"

/* CFG_SECRET: a string that -n shows masked and that is wiped when freed */
enum cfg_type { CFG_STR, CFG_INT, CFG_SIZE, CFG_BOOL, CFG_ENUM, CFG_LIST,
    CFG_NETS, CFG_SECRET };

/* one validation hook for string keys whose form matters */
typedef int (*cfg_check_fn)(const char *v, char *err, size_t errlen);

struct cfg_key {
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;
	const char	*def;		/* default, as text; NULL: unset */
	long long	 min, max;	/* INT and SIZE bounds */
	const char	*const *names;	/* ENUM values, index = value */
	cfg_check_fn	 check;
	unsigned	 reload;	/* per program: CONFIG_START or CONFIG_HUP (CFG_R) */
};

static int	cfg_check_url(const char *, char *, size_t);
static int	cfg_check_listen(const char *, char *, size_t);
static int	cfg_check_socket(const char *, char *, size_t);
static int	cfg_check_mode(const char *, char *, size_t);
static int	cfg_check_host(const char *, char *, size_t);
static int	cfg_check_tdomain(const char *, char *, size_t);
static int	cfg_check_addr(const char *, char *, size_t);
static int	cfg_check_certpair(const char *, char *, size_t);
static int	cfg_check_abspath(const char *, char *, size_t);
static int	cfg_check_natsurl(const char *, char *, size_t);
static int	cfg_check_subject(const char *, char *, size_t);
static int	cfg_check_secret(const char *, char *, size_t);
static int	cfg_check_hook(const char *, char *, size_t);

static const char *const pixel_names[] = { "bottom", "top", NULL };
static const char *const link_mode_names[] = { "stored", "sealed", NULL };
static const char *const level_names[] = { "error", "warning", "info",
    "debug", NULL };

/*
 * The reload column: for each program, what a change of the key means to
 * it (enum config_reload), two bits per program (enum config_prog).
 */
#define CFG_R(prog, how) ((unsigned)(how) << (2 * (prog)))
#define M_START		CFG_R(CONFIG_MILTER, CONFIG_START)
#define M_HUP		CFG_R(CONFIG_MILTER, CONFIG_HUP)
#define T_START		CFG_R(CONFIG_TRACKER, CONFIG_START)
#define T_HUP		CFG_R(CONFIG_TRACKER, CONFIG_HUP)

#define OFF(f)	offsetof(struct config, f)
#define MB	(1024LL * 1024)

static const struct cfg_key cfg_table[] = {
	{ "node", CFG_INT, OFF(node), "0", 0, 255, NULL, NULL,
	    M_START | T_START },
	{ "db_path", CFG_STR, OFF(db_path), "./var/db", 0, 0, NULL, NULL,
	    M_START | T_START },
	{ "db_map_size", CFG_SIZE, OFF(db_map_size), "8G", 1 * MB,
	    1024LL * 1024 * MB, NULL, NULL, M_START | T_START },
	{ "milter_socket", CFG_STR, OFF(milter_socket), "inet:8891@127.0.0.1",
	    0, 0, NULL, cfg_check_socket, M_START },
	{ "milter_socket_mode", CFG_STR, OFF(milter_socket_mode), "0660", 0, 0,
	    NULL, cfg_check_mode, M_START },
	{ "milter_socket_group", CFG_STR, OFF(milter_socket_group), NULL, 0, 0,
	    NULL, NULL, M_START },
	{ "tracker_listen", CFG_STR, OFF(tracker_listen), "127.0.0.1:8080",
	    0, 0, NULL, cfg_check_listen, T_START },
	{ "admin_listen", CFG_STR, OFF(admin_listen), "127.0.0.1:8081", 0, 0, NULL, NULL,
	    T_START },
	{ "tracking_url", CFG_STR, OFF(tracking_url), "http://127.0.0.1:8080",
	    0, 0, NULL, cfg_check_url, M_HUP },
	{ "tracking_domains", CFG_LIST, OFF(tracking_domains), "", 0, 0, NULL,
	    cfg_check_tdomain, M_HUP },
	{ "cname_target", CFG_STR, OFF(cname_target), NULL, 0, 0, NULL,
	    cfg_check_host, 0 },
	{ "tracker_addresses", CFG_LIST, OFF(tracker_addresses), "", 0, 0, NULL,
	    cfg_check_addr, 0 },
	{ "require_verified", CFG_BOOL, OFF(require_verified), "no", 0, 0, NULL,
	    NULL, M_HUP },
	{ "dkim_selector", CFG_STR, OFF(dkim_selector), NULL, 0, 0, NULL,
	    cfg_check_host, 0 },
	{ "reply_domain", CFG_STR, OFF(reply_domain), NULL, 0, 0, NULL,
	    cfg_check_host, 0 },
	{ "tls_ca_file", CFG_STR, OFF(tls_ca_file), NULL, 0, 0, NULL, NULL, 0 },
	{ "trusted_networks", CFG_NETS, OFF(trusted_networks),
	    "127.0.0.0/8, ::1", 0, 0, NULL, NULL,
	    M_HUP },
	{ "originating_daemons", CFG_LIST, OFF(originating_daemons),
	    "ORIGINATING", 0, 0, NULL, NULL,
	    M_HUP },
	{ "max_message_size", CFG_SIZE, OFF(max_message_size), "20M", 1024,
	    1024 * MB, NULL, NULL, M_HUP },
	{ "track_clicks", CFG_BOOL, OFF(track_clicks), "yes", 0, 0, NULL, NULL,
	    M_HUP },
	{ "track_opens", CFG_BOOL, OFF(track_opens), "yes", 0, 0, NULL, NULL,
	    M_HUP },
	{ "pixel_position", CFG_ENUM, OFF(pixel_position), "bottom", 0, 0,
	    pixel_names, NULL, M_HUP },
	{ "exclude_domains", CFG_LIST, OFF(exclude_domains), "", 0, 0, NULL,
	    NULL, M_HUP },
	{ "track_dkim_signed", CFG_BOOL, OFF(track_dkim_signed), "no", 0, 0,
	    NULL, NULL, M_HUP },
	{ "track_text_links", CFG_BOOL, OFF(track_text_links), "no", 0, 0,
	    NULL, NULL, M_HUP },
	{ "fallback_url", CFG_STR, OFF(fallback_url), NULL, 0, 0, NULL,
	    cfg_check_url, T_HUP },
	{ "link_mode", CFG_ENUM, OFF(link_mode), "stored", 0, 0,
	    link_mode_names, NULL, M_START },
	{ "link_keys", CFG_STR, OFF(link_keys), NULL, 0, 0, NULL, NULL,
	    M_START | T_HUP },
	{ "link_revoked", CFG_STR, OFF(link_revoked), NULL, 0, 0, NULL, NULL,
	    T_HUP },
	{ "tracker_threads", CFG_INT, OFF(tracker_threads), "0", 0, 256, NULL,
	    NULL, T_START },
	{ "tracker_connection_limit", CFG_INT, OFF(tracker_connection_limit),
	    "20000", 16, 1000000, NULL, NULL,
	    T_START },
	{ "tracker_timeout", CFG_INT, OFF(tracker_timeout), "30", 1, 3600,
	    NULL, NULL, T_START },
	{ "tracker_ip_connection_limit", CFG_INT,
	    OFF(tracker_ip_connection_limit), "128", 1, 1000000, NULL, NULL,
	    T_START },
	{ "tracker_header_timeout", CFG_INT, OFF(tracker_header_timeout), "10",
	    1, 3600, NULL, NULL, T_START },
	{ "trusted_proxies", CFG_NETS, OFF(trusted_proxies), "", 0, 0, NULL,
	    NULL, T_HUP },
	{ "user_agent_max", CFG_SIZE, OFF(user_agent_max), "512", 0, 8192,
	    NULL, NULL, T_HUP },
	{ "batch_ms", CFG_INT, OFF(batch_ms), "10", 1, 1000, NULL, NULL,
	    M_START | T_START },
	{ "batch_max", CFG_INT, OFF(batch_max), "16384", 1, 1000000, NULL, NULL,
	    M_START | T_START },
	{ "journal_max", CFG_SIZE, OFF(journal_max), "1G", 1 * MB,
	    1024 * 1024 * MB, NULL, NULL, T_START },
	{ "user", CFG_STR, OFF(user), NULL, 0, 0, NULL, NULL, M_START | T_START },
	{ "tls_listen", CFG_STR, OFF(tls_listen), NULL, 0, 0, NULL,
	    cfg_check_listen, T_START },
	{ "tls_cert", CFG_STR, OFF(tls_cert), NULL, 0, 0, NULL, NULL, T_HUP },
	{ "tls_key", CFG_STR, OFF(tls_key), NULL, 0, 0, NULL, NULL, T_HUP },
	{ "tls_certs", CFG_LIST, OFF(tls_certs), "", 0, 0, NULL,
	    cfg_check_certpair, T_HUP },
	{ "tls_priorities", CFG_STR, OFF(tls_priorities), "SECURE128:"
	    "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"
	    "+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"
	    "+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE", 0, 0, NULL, NULL,
	    T_START },
	{ "anonymize_ip", CFG_BOOL, OFF(anonymize_ip), "no", 0, 0, NULL, NULL,
	    T_HUP },
	{ "store_user_agent", CFG_BOOL, OFF(store_user_agent), "yes", 0, 0,
	    NULL, NULL, T_HUP },
	{ "raw_retention_days", CFG_INT, OFF(raw_retention_days), "0", 0,
	    36500, NULL, NULL, T_HUP },
	{ "campaign_header", CFG_STR, OFF(campaign_header), "X-Mtrack-Campaign",
	    0, 0, NULL, NULL, M_HUP },
	{ "verdict_networks", CFG_LIST, OFF(verdict_networks), "", 0, 0, NULL,
	    NULL, T_HUP },
	{ "click_min_seconds", CFG_INT, OFF(click_min_seconds), "2", 0, 3600,
	    NULL, NULL, T_HUP },
	{ "burst_links", CFG_INT, OFF(burst_links), "3", 0, 1000, NULL, NULL,
	    T_HUP },
	{ "burst_window_ms", CFG_INT, OFF(burst_window_ms), "1000", 1, 600000,
	    NULL, NULL, T_START },
	{ "honeypot", CFG_BOOL, OFF(honeypot), "no", 0, 0, NULL, NULL, M_HUP },
	{ "honeypot_window", CFG_INT, OFF(honeypot_window), "300", 1, 86400,
	    NULL, NULL, M_START | T_START },
	{ "acme_webroot", CFG_STR, OFF(acme_webroot), NULL, 0, 0, NULL,
	    cfg_check_abspath, T_HUP },
	{ "access_log", CFG_STR, OFF(access_log), NULL, 0, 0, NULL,
	    cfg_check_abspath, T_HUP },
	{ "stream_url", CFG_LIST, OFF(stream_url), "", 0, 0, NULL,
	    cfg_check_natsurl, M_START | T_START },
	{ "stream_subject", CFG_STR, OFF(stream_subject), "mtrack", 0, 0, NULL,
	    cfg_check_subject, M_START | T_START },
	{ "stream_name", CFG_STR, OFF(stream_name), "MTRACK", 0, 0, NULL,
	    cfg_check_subject, M_START | T_START },
	{ "stream_replicas", CFG_INT, OFF(stream_replicas), "1", 1, 5, NULL,
	    NULL, M_START | T_START },
	{ "stream_retention_days", CFG_INT, OFF(stream_retention_days), "30", 0,
	    36500, NULL, NULL, M_START | T_START },
	{ "collect_consumer", CFG_STR, OFF(collect_consumer), "collector", 0, 0,
	    NULL, cfg_check_subject, 0 },
	{ "webhook_url", CFG_LIST, OFF(webhook_url), "", 0, 0, NULL,
	    cfg_check_hook, M_START | T_START },
	{ "webhook_secret", CFG_SECRET, OFF(webhook_secret), NULL, 0, 0, NULL,
	    cfg_check_secret, T_START },
	{ "webhooks", CFG_STR, OFF(webhooks), NULL, 0, 0, NULL, NULL,
	    M_START | T_START },
	{ "webhook_batch", CFG_INT, OFF(webhook_batch), "0", 0, 1000, NULL, NULL,
	    T_START },
	{ "webhook_timeout", CFG_INT, OFF(webhook_timeout), "15", 1, 300, NULL,
	    NULL, T_START },
	{ "webhook_concurrency", CFG_INT, OFF(webhook_concurrency), "8", 1, 256,
	    NULL, NULL, T_START },
	{ "webhook_backoff_ms", CFG_INT, OFF(webhook_backoff_ms), "5000", 10,
	    3600000, NULL, NULL, T_START },
	{ "webhook_retry_seconds", CFG_INT, OFF(webhook_retry_seconds), "86400",
	    1, 30 * 86400, NULL, NULL, T_START },
	{ "log_level", CFG_ENUM, OFF(log_level), "info", 0, 0, level_names,
	    NULL, M_HUP | T_HUP },
	{ "syslog", CFG_BOOL, OFF(syslog), "no", 0, 0, NULL, NULL,
	    M_START | T_START },
};
#define NKEYS	(sizeof(cfg_table) / sizeof(cfg_table[0]))

/* a NATS server: nats://HOST:PORT (tls:// for TLS) */
static int
cfg_check_natsurl(const char *v, char *err, size_t errlen)
{
	if (strncmp(v, "nats://", 7) != 0 && strncmp(v, "tls://", 6) != 0) {
		snprintf(err, errlen, "must start with nats:// or tls://");
		return -1;
	}
	return 0;
}

/* a NATS name or subject prefix: tokens of [A-Za-z0-9_-] joined by '.' */
static int
cfg_check_subject(const char *v, char *err, size_t errlen)
{
	size_t	i, tok = 0;

	for (i = 0; v[i]; i++) {
		if (v[i] == '.' && tok > 0) {
			tok = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) && v[i] != '_' && v[i] != '-')
			break;
		tok++;
	}
	if (v[i] != '\0' || tok == 0 || i > 64) {
		snprintf(err, errlen, "letters, digits, '_', '-' and inner dots"
		    " only, at most 64");
		return -1;
	}
	return 0;
}

int
config_url_check(const char *v, int query, char *err, size_t errlen)
{
	const char	*host;
	size_t		 i;

	if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else {
		snprintf(err, errlen, "must start with http:// or https://");
		return -1;
	}
	if (*host == '\0' || *host == '/' || *host == ':') {
		snprintf(err, errlen, "has no host");
		return -1;
	}
	for (i = 0; v[i]; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '"' || v[i] == '<' ||
		    v[i] == '>' || v[i] == '\\' || (unsigned char)v[i] >= 0x7f) {
			snprintf(err, errlen, "contains a character not allowed"
			    " in a URL");
			return -1;
		}
	if ((!query && strchr(host, '?')) || strchr(host, '#')) {
		snprintf(err, errlen, "must not have a query or fragment");
		return -1;
	}
	return 0;
}

static int
cfg_check_url(const char *v, char *err, size_t errlen)
{
	return config_url_check(v, 0, err, errlen);
}

/* cfg_check_hook - a webhook endpoint: its query is the receiver's business */
static int
cfg_check_hook(const char *v, char *err, size_t errlen)
{
	return config_url_check(v, 1, err, errlen);
}

/* cfg_check_listen - HOST:PORT, [IPV6]:PORT or *:PORT */
static int
cfg_check_listen(const char *v, char *err, size_t errlen)
{
	char		 host[256];
	const char	*port;

	return net_listen_split(v, host, sizeof(host), &port, err, errlen);
}

static int
cfg_check_socket(const char *v, char *err, size_t errlen)
{
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		const char *p = v + (v[4] == ':' ? 5 : 6);
		char *end;
		long port = strtol(p, &end, 10);

		if (end == p || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@')) {
			snprintf(err, errlen, "bad port: want inet:PORT@HOST");
			return -1;
		}
		return 0;
	}
	if ((strncmp(v, "unix:", 5) == 0 && v[5] == '/') ||
	    (strncmp(v, "local:", 6) == 0 && v[6] == '/'))
		return 0;
	snprintf(err, errlen, "must be inet:PORT@HOST, inet6:PORT@HOST or "
	    "unix:/PATH");
	return -1;
}

/* cfg_check_mode - file permission bits in octal, 0 to 0777 */
static int
cfg_check_mode(const char *v, char *err, size_t errlen)
{
	char	*end;
	long	 m;

	errno = 0;
	m = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno || m < 0 || m > 0777) {
		snprintf(err, errlen, "want octal permission bits, e.g. 0660");
		return -1;
	}
	return 0;
}

/* cfg_check_host - a DNS name (dnsname_valid) */
static int
cfg_check_host(const char *v, char *err, size_t errlen)
{
	if (!dnsname_valid(v)) {
		snprintf(err, errlen, "not a domain name: \"%.64s\"", v);
		return -1;
	}
	return 0;
}

int
config_tdomain(const char *entry, struct config_tdomain *td)
{
	const char *eq = strchr(entry, '=');

	if (eq == NULL)
		return -1;
	td->domain = entry;
	td->len = (size_t)(eq - entry);
	td->url = eq + 1;
	return 0;
}

/* cfg_check_tdomain - one tracking_domains entry: SENDING_DOMAIN=URL */
static int
cfg_check_tdomain(const char *v, char *err, size_t errlen)
{
	struct config_tdomain	td;
	char			dom[256], why[128];

	if (config_tdomain(v, &td) == -1 || td.len >= sizeof(dom)) {
		snprintf(err, errlen, "\"%.64s\": want SENDING_DOMAIN=URL", v);
		return -1;
	}
	memcpy(dom, td.domain, td.len);
	dom[td.len] = '\0';
	if (cfg_check_host(dom, why, sizeof(why)) == -1 ||
	    cfg_check_url(td.url, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "\"%.64s\": %s", v, why);
		return -1;
	}
	return 0;
}

/* cfg_check_addr - an IPv4 or IPv6 address */
static int
cfg_check_addr(const char *v, char *err, size_t errlen)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1) {
		snprintf(err, errlen, "not an IP address: \"%.64s\"", v);
		return -1;
	}
	return 0;
}

/* cfg_check_certpair - one tls_certs entry: CERT or CERT:KEY (PEM files) */
static int
cfg_check_certpair(const char *v, char *err, size_t errlen)
{
	const char *colon = strchr(v, ':');

	if (*v == ':' || (colon && (colon[1] == '\0' ||
	    strchr(colon + 1, ':')))) {
		snprintf(err, errlen, "\"%.64s\": want CERT_FILE[:KEY_FILE]", v);
		return -1;
	}
	return 0;
}

/* cfg_check_abspath - a path from the root: daemons change directory */
static int
cfg_check_abspath(const char *v, char *err, size_t errlen)
{
	if (*v != '/') {
		snprintf(err, errlen, "\"%.64s\": want an absolute path", v);
		return -1;
	}
	return 0;
}

/* cfg_check_secret - a Standard Webhooks secret; the reason never quotes it */
static int
cfg_check_secret(const char *v, char *err, size_t errlen)
{
	struct whsign_key	k;
	int			rc;

	rc = whsign_key_parse(&k, v, err, errlen);
	memset(&k, 0, sizeof(k));
	return rc;
}

/* cfg_size - "123", "64K", "20M", "8G" into bytes */
static int
cfg_size(const char *v, long long *out)
{
	char		*end;
	long long	 n, mul = 1;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtoll(v, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K': mul = 1024; end++; break;
	case 'M': mul = MB; end++; break;
	case 'G': mul = 1024 * MB; end++; break;
	default:
		return -1;
	}
	if (*end != '\0' && strcasecmp(end, "B") != 0)
		return -1;
	if (n > LLONG_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

static void
cfg_list_free(char **l)
{
	size_t i;

	for (i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static char **
cfg_list(const char *v)
{
	char	*copy, *tok, *save = NULL, **l;
	size_t	 n = 0;

	if ((copy = strdup(v)) == NULL)
		return NULL;
	if ((l = calloc(strlen(v) / 2 + 2, sizeof(*l))) == NULL)
		goto fail;
	for (tok = strtok_r(copy, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save))
		if ((l[n++] = strdup(tok)) == NULL)
			goto fail;
	free(copy);
	return l;
fail:
	free(copy);
	cfg_list_free(l);
	return NULL;
}

static void
cfg_clear(struct config *c, const struct cfg_key *k)
{
	void *p = (char *)c + k->off;

	switch (k->type) {
	case CFG_SECRET:
		if (*(char **)p)
			explicit_bzero(*(char **)p, strlen(*(char **)p));
		/* FALLTHROUGH */
	case CFG_STR:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case CFG_LIST:
		cfg_list_free(*(char ***)p);
		*(char ***)p = NULL;
		break;
	case CFG_NETS:
		net_list_free(p);
		break;
	default:
		break;
	}
}

/*
 * cfg_tdomain_norm - tracking_domains entry i of l (checked) as tracking_url
 * is kept: no trailing '/'; its sending domain lowercased, and not listed
 * before it. 0, or -1 with the reason in err.
 */
static int
cfg_tdomain_norm(char **l, size_t i, char *err, size_t errlen)
{
	struct config_tdomain	td;
	size_t			len = strlen(l[i]), j;

	while (l[i][len - 1] == '/')
		l[i][--len] = '\0';
	if (config_tdomain(l[i], &td) == -1) {
		snprintf(err, errlen, "want SENDING_DOMAIN=URL");
		return -1;
	}
	for (j = 0; j < td.len; j++)
		l[i][j] = (char)tolower((unsigned char)l[i][j]);
	for (j = 0; j < i; j++)
		if (strncmp(l[j], l[i], td.len + 1) == 0) {
			snprintf(err, errlen, "%.*s: listed twice", (int)td.len,
			    l[i]);
			return -1;
		}
	return 0;
}

/*
 * cfg_apply - v parsed and checked as key k's type, into c. Over 100
 * lines on purpose: one case per type of the table, so that the rules of
 * every type read in one place.
 */
static int
cfg_apply(struct config *c, const struct cfg_key *k, const char *v,
    char *err, size_t errlen)
{
	void		*p = (char *)c + k->off;
	long long	 n;
	char		*end;
	size_t		 i;

	switch (k->type) {
	case CFG_SECRET:
	case CFG_STR: {
		char	*s;
		size_t	 len = strlen(v);

		if (k->check && k->check(v, err, errlen) == -1)
			return -1;
		if ((s = strdup(v)) == NULL)
			goto nomem;
		/* a base URL never ends in '/': links append "/click/..." */
		if (k->check == cfg_check_url)
			while (len > 0 && s[len - 1] == '/')
				s[--len] = '\0';
		cfg_clear(c, k);
		*(char **)p = s;
		return 0;
	}
	case CFG_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || *v == '\0' || *end != '\0') {
			snprintf(err, errlen, "not a number: \"%.64s\"", v);
			return -1;
		}
		goto bounds;
	case CFG_SIZE:
		if (cfg_size(v, &n) == -1) {
			snprintf(err, errlen, "not a size (like 512, 64K, 20M,"
			    " 8G): \"%.64s\"", v);
			return -1;
		}
		goto bounds;
	case CFG_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
		    !strcasecmp(v, "on") || !strcmp(v, "1"))
			*(int *)p = 1;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		    !strcasecmp(v, "off") || !strcmp(v, "0"))
			*(int *)p = 0;
		else {
			snprintf(err, errlen, "want yes or no, not \"%.64s\"", v);
			return -1;
		}
		return 0;
	case CFG_ENUM:
		for (i = 0; k->names[i]; i++)
			if (strcasecmp(v, k->names[i]) == 0) {
				*(int *)p = (int)i;
				return 0;
			}
		snprintf(err, errlen, "\"%.64s\" is not one of:", v);
		for (i = 0; k->names[i]; i++) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " %s", k->names[i]);
		}
		return -1;
	case CFG_LIST: {
		char **l = cfg_list(v);

		if (l == NULL)
			goto nomem;
		for (i = 0; k->check && l[i]; i++)
			if (k->check(l[i], err, errlen) == -1 ||
			    (k->check == cfg_check_tdomain &&
			    cfg_tdomain_norm(l, i, err, errlen) == -1)) {
				cfg_list_free(l);
				return -1;
			}
		cfg_clear(c, k);
		*(char ***)p = l;
		return 0;
	}
	case CFG_NETS: {
		struct netlist nl;

		if (net_list_parse(&nl, v, err, errlen) == -1)
			return -1;
		cfg_clear(c, k);
		*(struct netlist *)p = nl;
		return 0;
	}
	}
	return 0;
bounds:
	if (n < k->min || n > k->max) {
		snprintf(err, errlen, "out of range [%lld, %lld]: %lld",
		    k->min, k->max, n);
		return -1;
	}
	if (k->type == CFG_INT)
		*(int *)p = (int)n;
	else
		*(size_t *)p = (size_t)n;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static const struct cfg_key *
cfg_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(cfg_table[i].name, name) == 0)
			return &cfg_table[i];
	return NULL;
}

int
config_defaults(struct config *c)
{
	char	err[256];
	size_t	i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		if (cfg_table[i].def &&
		    cfg_apply(c, &cfg_table[i], cfg_table[i].def, err,
		    sizeof(err)) == -1) {
			config_free(c);
			return -1;
		}
	return 0;
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	const struct cfg_key	*k = cfg_find(key);
	char			 why[256];

	if (k == NULL) {
		snprintf(err, errlen, "unknown key \"%.64s\"", key);
		return -1;
	}
	if (cfg_apply(c, k, value, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", key, why);
		return -1;
	}
	return 0;
}

/* cfg_trim - strip leading and trailing white space in place */
static char *
cfg_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

const char *
config_path(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	if ((env = getenv("MTRACK_CONF")) != NULL && *env != '\0')
		return env;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		return CONFIG_DEFAULT_PATH;
	return NULL;
}

int
config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE		*fp = NULL;
	char		*line = NULL, *key, *val, *eq, why[320];
	size_t		 cap = 0, lineno = 0, i;
	ssize_t		 n;
	unsigned char	 seen[NKEYS];

	if (config_defaults(c) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	memset(seen, 0, sizeof(seen));
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", path,
			    lineno);
			goto fail;
		}
		key = cfg_trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%zu: expected \"key = value\"",
			    path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = cfg_trim(key);
		val = cfg_trim(eq + 1);
		for (i = 0; i < NKEYS; i++)
			if (strcmp(cfg_table[i].name, key) == 0)
				break;
		if (i < NKEYS && seen[i]) {
			snprintf(err, errlen, "%s:%zu: %s: set twice", path,
			    lineno, key);
			goto fail;
		}
		if (config_set(c, key, val, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			goto fail;
		}
		seen[i] = 1;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (c->link_mode == LINK_SEALED && c->link_keys == NULL) {
		snprintf(err, errlen, "%s: link_mode = sealed needs link_keys",
		    path);
		goto fail;
	}
	free(line);
	fclose(fp);
	return 0;
fail:
	free(line);
	if (fp)
		fclose(fp);
	config_free(c);
	return -1;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		cfg_clear(c, &cfg_table[i]);
}

void
config_dump(const struct config *c, void *vfp)
{
	FILE		*fp = vfp;
	const void	*p;
	char		 nets[4096];
	size_t		 i, j;

	for (i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &cfg_table[i];

		p = (const char *)c + k->off;
		switch (k->type) {
		case CFG_STR:
			if (*(char *const *)p)
				fprintf(fp, "%s = %s\n", k->name,
				    *(char *const *)p);
			else
				fprintf(fp, "# %s is not set\n", k->name);
			break;
		case CFG_SECRET:
			if (*(char *const *)p) {
				char masked[64];

				whsign_mask(*(char *const *)p, masked,
				    sizeof(masked));
				fprintf(fp, "# %s = %s\n", k->name, masked);
			} else
				fprintf(fp, "# %s is not set\n", k->name);
			break;
		case CFG_INT:
			fprintf(fp, "%s = %d\n", k->name, *(const int *)p);
			break;
		case CFG_SIZE:
			fprintf(fp, "%s = %zu\n", k->name, *(const size_t *)p);
			break;
		case CFG_BOOL:
			fprintf(fp, "%s = %s\n", k->name,
			    *(const int *)p ? "yes" : "no");
			break;
		case CFG_ENUM:
			fprintf(fp, "%s = %s\n", k->name,
			    k->names[*(const int *)p]);
			break;
		case CFG_LIST:
			fprintf(fp, "%s =", k->name);
			for (j = 0; (*(char **const *)p)[j]; j++)
				fprintf(fp, "%s%s", j ? ", " : " ",
				    (*(char **const *)p)[j]);
			fputc('\n', fp);
			break;
		case CFG_NETS:
			net_list_format(p, nets, sizeof(nets));
			fprintf(fp, "%s = %s\n", k->name, nets);
			break;
		}
	}
}

enum config_reload
config_reload_of(const char *key, enum config_prog prog)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(cfg_table[i].name, key) == 0)
			return (enum config_reload)(cfg_table[i].reload >>
			    (2 * prog) & 3);
	return CONFIG_UNUSED;
}

/* cfg_same_str - two optional strings are equal */
static int
cfg_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* cfg_same - the values of key k are equal in a and b */
static int
cfg_same(const struct cfg_key *k, const struct config *a,
    const struct config *b)
{
	const void	*pa = (const char *)a + k->off;
	const void	*pb = (const char *)b + k->off;
	char		 na[4096], nb[4096];
	size_t		 j;

	switch (k->type) {
	case CFG_SECRET:
	case CFG_STR:
		return cfg_same_str(*(char *const *)pa, *(char *const *)pb);
	case CFG_INT:
	case CFG_BOOL:
	case CFG_ENUM:
		return *(const int *)pa == *(const int *)pb;
	case CFG_SIZE:
		return *(const size_t *)pa == *(const size_t *)pb;
	case CFG_LIST: {
		char *const *la = *(char **const *)pa, *const *lb =
		    *(char **const *)pb;

		for (j = 0; la[j] && lb[j]; j++)
			if (strcmp(la[j], lb[j]) != 0)
				return 0;
		return la[j] == NULL && lb[j] == NULL;
	}
	case CFG_NETS:
		net_list_format(pa, na, sizeof(na));
		net_list_format(pb, nb, sizeof(nb));
		return strcmp(na, nb) == 0;
	}
	return 0;
}

/* cfg_name_add - name onto the comma-separated list out (cut to fit) */
static void
cfg_name_add(char *out, size_t outlen, size_t n, const char *name)
{
	size_t len = strlen(out);

	if (len < outlen)
		snprintf(out + len, outlen - len, "%s%s", n ? "," : "", name);
}

size_t
config_changed(const struct config *a, const struct config *b,
    enum config_prog prog, enum config_reload how, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (outlen)
		out[0] = '\0';
	for (i = 0; i < NKEYS; i++)
		if ((cfg_table[i].reload >> (2 * prog) & 3) == how &&
		    !cfg_same(&cfg_table[i], a, b))
			cfg_name_add(out, outlen, n++, cfg_table[i].name);
	return n;
}

size_t
config_keys(enum config_prog prog, enum config_reload how, char *out,
    size_t outlen)
{
	size_t i, n = 0;

	if (outlen)
		out[0] = '\0';
	for (i = 0; i < NKEYS; i++)
		if ((cfg_table[i].reload >> (2 * prog) & 3) == how)
			cfg_name_add(out, outlen, n++, cfg_table[i].name);
	return n;
}

int
config_host_in(char *const *list, const char *host, size_t hostlen)
{
	size_t i, l;

	for (i = 0; list && list[i]; i++) {
		l = strlen(list[i]);
		if (l > hostlen)
			continue;
		if (strncasecmp(host + hostlen - l, list[i], l) == 0 &&
		    (l == hostlen || host[hostlen - l - 1] == '.'))
			return 1;
	}
	return 0;
}
