/*
 * probe - DNS, TLS and HTTP probes for "mtrackctl domain check" (see probe.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ldns/ldns.h>

#include "probe.h"

struct probe_dns {
	ldns_resolver	*res;
};

void
probe_list_free(struct probe_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* list_add - append s[0..len) (taken as is) to l; 0 or -1 */
static int
list_add(struct probe_list *l, const char *s, size_t len)
{
	char	**v, *c;

	if ((c = strndup(s, len)) == NULL)
		return -1;
	if ((v = realloc(l->v, (l->n + 2) * sizeof(*v))) == NULL) {
		free(c);
		return -1;
	}
	v[l->n++] = c;
	v[l->n] = NULL;
	l->v = v;
	return 0;
}

int
probe_list_add(struct probe_list *l, const char *s)
{
	return list_add(l, s, strlen(s));
}

/* list_add_name - a domain name: lowercased, without the final dot */
static int
list_add_name(struct probe_list *l, const char *name)
{
	size_t	 len = strlen(name);
	size_t	 i;

	if (len > 1 && name[len - 1] == '.')
		len--;
	if (list_add(l, name, len) == -1)
		return -1;
	for (i = 0; i < len; i++)
		l->v[l->n - 1][i] = (char)tolower((unsigned char)name[i]);
	return 0;
}

int
probe_addr_port(const char *s, char *ip, size_t iplen, int *port)
{
	const char	*p = NULL, *a = s;
	size_t		 alen;
	unsigned char	 bin[16];
	char		*end;
	long		 n;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		a = s + 1;
		alen = (size_t)(rb - a);
		if (rb[1] == ':')
			p = rb + 2;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		p = strchr(s, ':') + 1;
		alen = (size_t)(p - 1 - s);
	} else
		alen = strlen(s);
	if (alen == 0 || alen >= iplen)
		return -1;
	memcpy(ip, a, alen);
	ip[alen] = '\0';
	if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1)
		return -1;
	if (p) {
		n = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || n < 1 || n > 65535)
			return -1;
		*port = (int)n;
	}
	return 0;
}

struct probe_dns *
probe_dns_new(const char *server, int timeout_s, char *err, size_t errlen)
{
	struct probe_dns	*d;
	struct timeval		 tv;
	ldns_rdf		*ns = NULL;
	ldns_status		 st;
	char			 ip[INET6_ADDRSTRLEN + 1];
	int			 port = 53;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (server == NULL) {
		if ((st = ldns_resolver_new_frm_file(&d->res, NULL)) !=
		    LDNS_STATUS_OK) {
			snprintf(err, errlen, "/etc/resolv.conf: %s",
			    ldns_get_errorstr_by_id(st));
			goto fail;
		}
	} else {
		if (probe_addr_port(server, ip, sizeof(ip), &port) == -1) {
			snprintf(err, errlen, "bad resolver \"%.64s\": want"
			    " IP[:PORT]", server);
			goto fail;
		}
		if ((d->res = ldns_resolver_new()) == NULL ||
		    (ns = ldns_rdf_new_frm_str(strchr(ip, ':') ?
		    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ip)) == NULL ||
		    ldns_resolver_push_nameserver(d->res, ns) != LDNS_STATUS_OK) {
			snprintf(err, errlen, "cannot set up the resolver");
			goto fail;
		}
		ldns_rdf_deep_free(ns);
		ns = NULL;
		ldns_resolver_set_port(d->res, (uint16_t)port);
	}
	ldns_resolver_set_recursive(d->res, true);
	ldns_resolver_set_defnames(d->res, false);
	ldns_resolver_set_dnsrch(d->res, false);
	ldns_resolver_set_fallback(d->res, true);	/* TCP when truncated */
	ldns_resolver_set_retry(d->res, 2);
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	ldns_resolver_set_timeout(d->res, tv);
	return d;
fail:
	if (ns)
		ldns_rdf_deep_free(ns);
	probe_dns_free(d);
	return NULL;
}

void
probe_dns_free(struct probe_dns *d)
{
	if (d == NULL)
		return;
	if (d->res)
		ldns_resolver_deep_free(d->res);
	free(d);
}

/* txt_join - the character-strings of a TXT record, concatenated */
static int
txt_join(const ldns_rr *rr, struct probe_list *out)
{
	char	*s;
	size_t	 i, len = 0, cap = 1;
	int	 rc;

	for (i = 0; i < ldns_rr_rd_count(rr); i++)
		cap += ldns_rdf_size(ldns_rr_rdf(rr, i));
	if ((s = malloc(cap)) == NULL)
		return -1;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf	*f = ldns_rr_rdf(rr, i);
		const uint8_t	*b = ldns_rdf_data(f);
		size_t		 n = ldns_rdf_size(f);

		/* a character-string: length byte, then the bytes */
		if (n == 0 || (size_t)b[0] + 1 > n)
			continue;
		memcpy(s + len, b + 1, b[0]);
		len += b[0];
	}
	rc = list_add(out, s, len);
	free(s);
	return rc;
}

int
probe_dns_query(struct probe_dns *d, const char *name, enum probe_rr t,
    struct probe_list *out, struct probe_list *cnames, char *err,
    size_t errlen)
{
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_A,
	    LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX };
	ldns_rdf	*qname = NULL;
	ldns_pkt	*pkt = NULL;
	ldns_rr_list	*ans;
	ldns_status	 st;
	char		 fq[300], *txt = NULL;
	size_t		 i, found = 0;
	int		 ret = -1;

	snprintf(fq, sizeof(fq), "%s.", name);
	if ((qname = ldns_dname_new_frm_str(fq)) == NULL) {
		snprintf(err, errlen, "bad name \"%.64s\"", name);
		return -1;
	}
	st = ldns_resolver_query_status(&pkt, d->res, qname, types[t],
	    LDNS_RR_CLASS_IN, LDNS_RD);
	if (st != LDNS_STATUS_OK || pkt == NULL) {
		snprintf(err, errlen, "query %s: %s", name,
		    ldns_get_errorstr_by_id(st));
		goto out;
	}
	switch (ldns_pkt_get_rcode(pkt)) {
	case LDNS_RCODE_NOERROR:
		break;
	case LDNS_RCODE_NXDOMAIN:
		ret = 1;
		goto out;
	default:
		snprintf(err, errlen, "query %s: server answered rcode %d", name,
		    (int)ldns_pkt_get_rcode(pkt));
		goto out;
	}
	ans = ldns_pkt_answer(pkt);
	for (i = 0; ans && i < ldns_rr_list_rr_count(ans); i++) {
		const ldns_rr	*rr = ldns_rr_list_rr(ans, i);
		ldns_rr_type	 rt = ldns_rr_get_type(rr);
		int		 rc = 0;

		if (rt == LDNS_RR_TYPE_CNAME && cnames) {
			if ((txt = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
				goto nomem;
			rc = list_add_name(cnames, txt);
		} else if (rt != types[t])
			continue;
		else if (rt == LDNS_RR_TYPE_TXT)
			rc = txt_join(rr, out);
		else if (rt == LDNS_RR_TYPE_MX) {
			char *pref = ldns_rdf2str(ldns_rr_rdf(rr, 0));

			if (pref == NULL ||
			    (txt = ldns_rdf2str(ldns_rr_rdf(rr, 1))) == NULL) {
				free(pref);
				goto nomem;
			}
			rc = list_add(out, pref, strlen(pref));
			free(pref);
			if (rc == 0) {
				/* "PREF HOST": host lowercased, no final dot */
				struct probe_list h = { NULL, 0 };
				char *both;

				rc = list_add_name(&h, txt);
				if (rc == 0 && asprintf(&both, "%s %s",
				    out->v[out->n - 1], h.v[0]) >= 0) {
					free(out->v[out->n - 1]);
					out->v[out->n - 1] = both;
				} else
					rc = -1;
				probe_list_free(&h);
			}
		} else {
			if ((txt = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
				goto nomem;
			rc = list_add(out, txt, strlen(txt));
		}
		free(txt);
		txt = NULL;
		if (rc == -1)
			goto nomem;
		if (rt == types[t])
			found++;
	}
	ret = found ? 0 : 1;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	ret = -1;
out:
	free(txt);
	if (pkt)
		ldns_pkt_free(pkt);
	ldns_rdf_deep_free(qname);
	return ret;
}

/* tcp_connect - a connected socket to addr:port within timeout_s, or -1 */
static int
tcp_connect(const char *addr, int port, int timeout_s, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *ai = NULL;
	struct pollfd	 pfd;
	struct timeval	 tv;
	char		 serv[8];
	socklen_t	 slen;
	int		 fd = -1, rc, soerr = 0, fl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%d", port);
	if ((rc = getaddrinfo(addr, serv, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		goto syserr;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto syserr;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((rc = poll(&pfd, 1, timeout_s * 1000)) == -1)
			goto syserr;
		if (rc == 0) {
			errno = ETIMEDOUT;
			goto syserr;
		}
		slen = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == -1)
			goto syserr;
		if (soerr) {
			errno = soerr;
			goto syserr;
		}
	}
	/* from here on: blocking, each read and write bounded */
	tv.tv_sec = timeout_s;
	tv.tv_usec = 0;
	if (fcntl(fd, F_SETFL, fl) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto syserr;
	freeaddrinfo(ai);
	return fd;
syserr:
	snprintf(err, errlen, "connect %s port %d: %s", addr, port,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* tls_start - handshake on fd naming host; fills r (verified, not_after) */
static int
tls_start(gnutls_session_t *sess, gnutls_certificate_credentials_t *cred,
    int fd, const char *host, const char *ca_file, int timeout_s,
    struct probe_web *r)
{
	const gnutls_datum_t	*peers;
	gnutls_x509_crt_t	 crt = NULL;
	gnutls_datum_t		 msg;
	unsigned int		 status = 0, npeers = 0;
	int			 rc;

	if ((rc = gnutls_certificate_allocate_credentials(cred)) < 0)
		goto fail;
	rc = ca_file ? gnutls_certificate_set_x509_trust_file(*cred, ca_file,
	    GNUTLS_X509_FMT_PEM) : gnutls_certificate_set_x509_system_trust(*cred);
	if (rc <= 0) {
		snprintf(r->err, sizeof(r->err), "no trusted CA loaded from %s%s%s",
		    ca_file ? ca_file : "the system store", rc < 0 ? ": " : "",
		    rc < 0 ? gnutls_strerror(rc) : "");
		return -1;
	}
	if ((rc = gnutls_init(sess, GNUTLS_CLIENT)) < 0 ||
	    (rc = gnutls_server_name_set(*sess, GNUTLS_NAME_DNS, host,
	    strlen(host))) < 0 ||
	    (rc = gnutls_set_default_priority(*sess)) < 0 ||
	    (rc = gnutls_credentials_set(*sess, GNUTLS_CRD_CERTIFICATE,
	    *cred)) < 0)
		goto fail;
	gnutls_transport_set_int(*sess, fd);
	gnutls_handshake_set_timeout(*sess, (unsigned)timeout_s * 1000);
	gnutls_record_set_timeout(*sess, (unsigned)timeout_s * 1000);
	do
		rc = gnutls_handshake(*sess);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		goto fail;
	r->handshake = 1;
	/* verified after the handshake, so /healthz is asked either way */
	if ((rc = gnutls_certificate_verify_peers3(*sess, host, &status)) < 0)
		goto fail;
	if (status == 0)
		r->verified = 1;
	else if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &msg, 0) == 0) {
		snprintf(r->verify_err, sizeof(r->verify_err), "%s", msg.data);
		gnutls_free(msg.data);
	} else
		snprintf(r->verify_err, sizeof(r->verify_err), "not trusted");
	if ((peers = gnutls_certificate_get_peers(*sess, &npeers)) != NULL &&
	    npeers > 0 && gnutls_x509_crt_init(&crt) == 0) {
		if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0)
			r->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
		gnutls_x509_crt_deinit(crt);
	}
	return 0;
fail:
	snprintf(r->err, sizeof(r->err), "TLS handshake: %s", gnutls_strerror(rc));
	return -1;
}

int
probe_web(const char *host, const char *addr, int port, int tls,
    const char *ca_file, const char *path, int timeout_s, struct probe_web *r)
{
	gnutls_session_t			 sess = NULL;
	gnutls_certificate_credentials_t	 cred = NULL;
	char					 req[512], resp[1024];
	size_t					 len = 0, off = 0;
	ssize_t					 n;
	int					 fd, ret = -1, major, minor, code;

	memset(r, 0, sizeof(r[0]));
	if ((fd = tcp_connect(addr, port, timeout_s, r->err, sizeof(r->err))) == -1)
		return -1;
	r->connected = 1;
	if (tls && tls_start(&sess, &cred, fd, host, ca_file, timeout_s, r) == -1)
		goto out;
	len = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: mtrackctl-domain-check\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", path, host);
	while (off < len) {
		n = tls ? gnutls_record_send(sess, req + off, len - off) :
		    write(fd, req + off, len - off);
		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN ||
		    (n == -1 && !tls && errno == EINTR))
			continue;
		if (n <= 0) {
			snprintf(r->err, sizeof(r->err), "sending the request: %s",
			    tls ? gnutls_strerror((int)n) : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	/* the status line is all we need */
	for (off = 0; off < sizeof(resp) - 1 && !memchr(resp, '\n', off);) {
		n = tls ? gnutls_record_recv(sess, resp + off, sizeof(resp) - 1 - off) :
		    read(fd, resp + off, sizeof(resp) - 1 - off);
		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN ||
		    (n == -1 && !tls && errno == EINTR))
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	resp[off] = '\0';
	if (sscanf(resp, "HTTP/%d.%d %d", &major, &minor, &code) != 3 ||
	    code < 100 || code > 999) {
		snprintf(r->err, sizeof(r->err), "no HTTP answer%s", off ?
		    " (garbage)" : "");
		goto out;
	}
	r->http_status = code;
	ret = 0;
out:
	if (sess) {
		if (r->handshake)
			gnutls_bye(sess, GNUTLS_SHUT_WR);
		gnutls_deinit(sess);
	}
	if (cred)
		gnutls_certificate_free_credentials(cred);
	close(fd);
	return ret;
}
