/*
 * config - the one configuration file of all mtrack programs.
 *
 * Format: "key = value" lines, '#' starts a comment line, blank lines
 * ignored. Every key, its default and its bounds live in one table in
 * config.c; defaults go through the same parser as the file.
 * Unknown keys, repeated keys and bad values are errors that name the
 * file, the line and the reason.
 */
#ifndef MTRACK_CONFIG_H
#define MTRACK_CONFIG_H

#include <stddef.h>

#include "net.h"

/* the file read without -c or $MTRACK_CONF (the Makefile may set another) */
#ifndef CONFIG_DEFAULT_PATH
#define CONFIG_DEFAULT_PATH	"/etc/mtrack/mtrack.conf"
#endif
#ifndef MTRACK_VERSION
#define MTRACK_VERSION		"unknown"
#endif

enum pixel_position { PIXEL_BOTTOM, PIXEL_TOP };
enum link_mode { LINK_STORED, LINK_SEALED };

struct config {
	int		 node;			/* this host's number among many (0-255) */
	char		*db_path;		/* LMDB environment directory */
	size_t		 db_map_size;		/* LMDB map size, bytes */
	char		*milter_socket;		/* libmilter socket spec */
	char		*milter_socket_mode;	/* octal, for a unix socket */
	char		*milter_socket_group;	/* NULL: as created */
	char		*tracker_listen;	/* host:port of the HTTP listener */
	char		*admin_listen;		/* host:port of /metrics; "": none */
	char		*tracking_url;		/* base of tracking links, no trailing '/' */
	char		**tracking_domains;	/* "sending_domain=URL" (see domain.h) */
	char		*cname_target;		/* tracking domains CNAME to this host */
	char		**tracker_addresses;	/* or have A/AAAA records of these */
	int		 require_verified;	/* untracked unless the domain passed its check */
	char		*dkim_selector;		/* DKIM selector of the sending domains */
	char		*reply_domain;		/* needs MX (NULL: each sending domain) */
	char		*tls_ca_file;		/* domain check trusts it (NULL: system CAs) */
	struct netlist	 trusted_networks;	/* clients whose mail is outbound */
	char		**originating_daemons;	/* {daemon_name} values marking outbound mail */
	size_t		 max_message_size;	/* larger mail passes unchanged */
	int		 track_clicks;
	int		 track_opens;
	int		 pixel_position;	/* enum pixel_position */
	char		**exclude_domains;	/* link hosts never tracked (subdomains too) */
	int		 track_dkim_signed;	/* rewrite mail already DKIM-signed */
	int		 track_text_links;	/* also links in text/plain parts */
	char		*fallback_url;		/* tracker: unknown id redirects here (NULL: 404) */
	int		 link_mode;		/* enum link_mode: what the milter writes */
	char		*link_keys;		/* keys file of sealed links (seal_keys.h) */
	char		*link_revoked;		/* tracker: links answered as unknown (seal_revoked.h) */
	int		 tracker_threads;	/* tracker worker threads (0: one per core) */
	int		 tracker_connection_limit;
	int		 tracker_timeout;	/* idle connection timeout, seconds */
	int		 tracker_ip_connection_limit;	/* per client address */
	int		 tracker_header_timeout;	/* seconds to send headers */
	struct netlist	 trusted_proxies;	/* peers whose X-Forwarded-For is believed */
	size_t		 user_agent_max;	/* stored User-Agent length cap */
	int		 batch_ms;		/* event writer: max commit delay */
	int		 batch_max;		/* event writer: max events per commit */
	size_t		 journal_max;		/* tracker: unfolded event journal bound, bytes */
	char		*user;			/* drop privileges to this user */
	char		*tls_listen;		/* host:port of the HTTPS listener (NULL: none) */
	char		*tls_cert;		/* default certificate chain, PEM */
	char		*tls_key;		/* its key, PEM (NULL: in tls_cert) */
	char		**tls_certs;		/* more "CERT[:KEY]", chosen by SNI */
	char		*tls_priorities;	/* GnuTLS priority string */
	int		 anonymize_ip;		/* keep IPv4 /24, IPv6 /48 only */
	int		 store_user_agent;	/* record the User-Agent */
	int		 raw_retention_days;	/* then IP and UA are erased (0: never) */
	char		*campaign_header;	/* names the campaign; removed before sending */
	char		**verdict_networks;	/* files of "CIDR CLASS REASON" lines */
	int		 click_min_seconds;	/* faster clicks after sending are scanners */
	int		 burst_links;		/* this many links of a message within */
	int		 burst_window_ms;	/* ... this window from one source: scanner */
	int		 honeypot;		/* add an invisible link scanners follow */
	int		 honeypot_window;	/* seconds a honeypot source stays marked */
	char		*acme_webroot;		/* tracker: serves .well-known/acme-challenge/ */
	char		*access_log;		/* tracker: one line per request (NULL: none) */
	char		**stream_url;		/* NATS servers (empty: no publishing) */
	char		*stream_subject;	/* subject prefix: PREFIX.msg.NODE, PREFIX.event.NODE */
	char		*stream_name;		/* the JetStream stream */
	int		 stream_replicas;	/* its replicas when it is created */
	int		 stream_retention_days;	/* its records' age limit then (0: none) */
	char		*collect_consumer;	/* durable consumer of mtrackctl collect */
	char		**webhook_url;		/* endpoints signed with webhook_secret */
	char		*webhook_secret;	/* "whsec_" + base64; never logged */
	char		*webhooks;		/* file of endpoints: URL SECRET [filters] */
	int		 webhook_batch;		/* events per POST (0, 1: one each) */
	int		 webhook_timeout;	/* seconds per request */
	int		 webhook_concurrency;	/* requests in flight per endpoint */
	int		 webhook_backoff_ms;	/* first retry delay; doubles */
	int		 webhook_retry_seconds;	/* then an event is marked failed */
	int		 log_level;		/* enum log_level */
	int		 syslog;		/* log to syslog instead of stderr */
};

/* config_defaults - fill c with the built-in defaults (c is overwritten); 0 or -1 (ENOMEM) */
int	config_defaults(struct config *c);
/*
 * config_load - defaults, then the file at path (NULL: defaults only).
 * On error returns -1 with "file:line: reason" in err; c is then freed.
 */
int	config_load(struct config *c, const char *path, char *err, size_t errlen);
/*
 * config_path - the file a program reads: opt (its -c), else $MTRACK_CONF
 * when set and not empty, else CONFIG_DEFAULT_PATH when it exists, else
 * NULL (the built-in defaults). The result lives as long as opt or the
 * environment.
 */
const char *config_path(const char *opt);
/* config_set - set one key from its text value; -1 with the reason in err */
int	config_set(struct config *c, const char *key, const char *value,
	    char *err, size_t errlen);
/* config_free - release everything config_load allocated */
void	config_free(struct config *c);
/* config_dump - print every key with its value, as a valid config file */
void	config_dump(const struct config *c, void *fp);
/*
 * config_url_check - v is an http(s) URL with a host and no blank, quote
 * or fragment; a query only when query is set. 0, or -1 with the reason
 */
int	config_url_check(const char *v, int query, char *err, size_t errlen);
/* a tracking_domains entry, split */
struct config_tdomain {
	const char	*domain;	/* the sending domain: len bytes, no NUL */
	size_t		 len;
	const char	*url;		/* its tracking URL (config_load took a trailing '/' off) */
};
/* config_tdomain - split a tracking_domains entry "SENDING_DOMAIN=URL"; 0, or -1 without '=' */
int	config_tdomain(const char *entry, struct config_tdomain *td);

/* the daemons, for the reload column of the table */
enum config_prog { CONFIG_MILTER, CONFIG_TRACKER };
/* what a change of a key means to a program */
enum config_reload {
	CONFIG_UNUSED,		/* the program does not read it */
	CONFIG_START,		/* read at start: a change needs a restart */
	CONFIG_HUP		/* applied again on SIGHUP */
};

/* config_reload_of - what a change of key means to prog (CONFIG_UNUSED for an unknown key) */
enum config_reload config_reload_of(const char *key, enum config_prog prog);
/*
 * config_changed - the keys prog reads as how (CONFIG_START: those that
 * need a restart) whose values differ between a and b, comma-separated
 * into out ("" when none; cut to fit). Returns how many there are.
 */
size_t	config_changed(const struct config *a, const struct config *b,
	    enum config_prog prog, enum config_reload how, char *out,
	    size_t outlen);
/* config_keys - the keys prog reads as how, comma-separated into out (for the docs and -n); how many */
size_t	config_keys(enum config_prog prog, enum config_reload how, char *out,
	    size_t outlen);
/* config_host_in - host (hostlen bytes) equals an entry of list or is a subdomain of one */
int	config_host_in(char *const *list, const char *host, size_t hostlen);

#endif
