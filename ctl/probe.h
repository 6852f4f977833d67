/*
 * probe - the network side of "mtrackctl domain check": DNS queries
 * through ldns, a TLS handshake through GnuTLS with SNI and certificate
 * verification, and one HTTP GET over that connection. Every wait is
 * bounded by the timeout given.
 */
#ifndef MTRACK_PROBE_H
#define MTRACK_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* a list of strings (NULL-terminated v); probe_list_free releases it */
struct probe_list {
	char	**v;
	size_t	  n;
};
void	probe_list_free(struct probe_list *l);
/* probe_list_add - append a copy of s; 0 or -1 */
int	probe_list_add(struct probe_list *l, const char *s);

/*
 * probe_addr_port - split "IP", "IP:PORT" or "[IPv6]:PORT" into a numeric
 * address and a port (*port untouched when none is given); 0 or -1.
 */
int	probe_addr_port(const char *s, char *ip, size_t iplen, int *port);

enum probe_rr { PROBE_A, PROBE_AAAA, PROBE_TXT, PROBE_MX };

struct probe_dns;

/*
 * probe_dns_new - a resolver: server "IP", "IP:PORT" or "[IPv6]:PORT", or
 * NULL for those of /etc/resolv.conf. NULL with err set.
 */
struct probe_dns *probe_dns_new(const char *server, int timeout_s, char *err,
		    size_t errlen);
void	probe_dns_free(struct probe_dns *d);
/*
 * probe_dns_query - the records of a type at name, appended to out as
 * text: addresses, TXT strings joined, MX as "PREF HOST". CNAME targets
 * met on the way are appended to cnames (when not NULL). Names are
 * lowercased without the final dot. 0 when there are records, 1 when
 * there are none (NXDOMAIN or no data), -1 with err set on failure.
 */
int	probe_dns_query(struct probe_dns *d, const char *name, enum probe_rr t,
	    struct probe_list *out, struct probe_list *cnames, char *err,
	    size_t errlen);

/* what one connection to the tracker showed */
struct probe_web {
	int	connected;		/* TCP connection made */
	int	handshake;		/* TLS handshake done (tls only) */
	int	verified;		/* certificate chain valid for the name */
	int64_t	not_after;		/* certificate expiry, unix seconds */
	int	http_status;		/* 0: no HTTP answer */
	char	err[256];		/* first failure, "" if none */
	char	verify_err[256];	/* why the certificate is not valid */
};

/*
 * probe_web - connect to addr:port (a numeric address), with tls: a
 * handshake naming host (SNI), verification against ca_file (NULL: the
 * system's CAs); then "GET path" with "Host: host". Fills r; 0 when the
 * HTTP status line arrived, -1 otherwise (r->err says why).
 */
int	probe_web(const char *host, const char *addr, int port, int tls,
	    const char *ca_file, const char *path, int timeout_s,
	    struct probe_web *r);

#endif
