/*
 * http - routes, responses and client address of the tracker (see
 * http.h); the text of /metrics is metrics.c's.
 *
 * libmicrohttpd calls the handler once when the headers are in and again
 * when the (empty) body is: we answer on the second call, because
 * answering on the first makes it close keep-alive connections.
 * A response object is locked while it is queued, so the fixed responses
 * (pixel, 404, 405, health) exist once per worker thread, created on the
 * thread's first request. So does the redirect: its Location is replaced
 * for every request (see http_redirect).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "access.h"
#include "buf.h"
#include "config.h"
#include "guard.h"
#include "http.h"
#include "whdeliver.h"
#include "id.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "now.h"
#include "seal.h"
#include "seal_revoked.h"
#include "store.h"
#include "tls.h"
#include "verdict.h"
#include "webreport.h"

/*
 * Per-connection memory: request line, headers and the response headers
 * share it, so it bounds the request size too (431 or 414 above about
 * 15 KB). libmicrohttpd zeroes all of it after every request: it costs
 * CPU per request and stays resident while a keep-alive connection idles.
 * A Location of HTTP_LOCATION_MAX still fits with a request of 3 KB;
 * browsers send about 1 KB to a cookie-less tracking host.
 */
#define HTTP_MEMORY		(16 * 1024)
/* a Location longer than this is refused (it must fit in HTTP_MEMORY) */
#define HTTP_LOCATION_MAX	(12 * 1024)
#define HTTP_HOST_MAX		255
/* connections of the admin listener */
#define HTTP_ADMIN_CONNS	64
#define HTTP_ADMIN_TIMEOUT	10
/* library messages logged per second; the rest are only counted */
#define HTTP_LIBLOG_RATE	5
/* headers of one kind considered when walking proxy hops */
#define HTTP_HOPS_HEADERS	16
/* ACME HTTP-01: the path prefix, the longest token, the largest answer */
#define HTTP_ACME_PREFIX	"/.well-known/acme-challenge/"
#define HTTP_ACME_TOKEN_MAX	128
#define HTTP_ACME_BODY_MAX	4096
/* running out of file descriptors is logged at most this often, seconds */
#define HTTP_FDLOG_SECONDS	60

enum http_route { RT_CLICK, RT_OPEN, RT_HEALTHZ, RT_METRICS, RT_REPORT,
    RT_ACME, RT_OTHER, RT_COUNT };
enum http_code { ST_200, ST_302, ST_404, ST_405, ST_503, ST_400, ST_COUNT };

static const char *const route_names[RT_COUNT] = { "click", "open", "healthz",
    "metrics", "report", "acme", "other" };
static const unsigned int code_values[ST_COUNT] = { 200, 302, 404, 405,
    503, 400 };

static const char cache_control[] =
    "no-store, no-cache, must-revalidate, max-age=0";

/* a 1x1 transparent PNG (RGBA, one zero pixel) */
static const unsigned char pixel_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
	0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89,
	0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54,
	0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01,
	0xe9, 0xfa, 0xdc, 0xd8,
	0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static const char body_notfound[] = "not found\n";
static const char body_notallowed[] = "method not allowed\n";
static const char body_ok[] = "ok\n";
static const char body_unavailable[] = "service unavailable\n";

/* settings that SIGHUP may replace; immutable once published */
struct http_conf {
	struct http_conf	*older;		/* freed with the http */
	char			*fallback_url;	/* NULL: 404 */
	char			*acme_webroot;	/* NULL: no ACME challenges */
	struct netlist		 proxies;
	size_t			 ua_max;
	struct verdict_nets	 nets;		/* networks with a class */
	struct verdict_opts	 vopts;
	int			 anonymize_ip;	/* store a /24 or /48 only */
	int			 store_ua;	/* store the User-Agent */
	struct seal_keys	*keys;		/* open sealed links (NULL: none) */
	struct seal_revoked	 revoked;	/* links answered as unknown */
};

/* what one thread owns; counters are read by the metrics thread */
struct http_worker {
	struct http_worker	*next;
	struct MHD_Response	*pixel, *notfound, *notallowed, *ok;
	struct MHD_Response	*unavailable, *redirect;
	struct buf		 url, loc, ua, host;
	/* the request being answered, for the access log */
	const char		*method, *path, *version;
	const struct http_conf	*cf;
	uint64_t		 req[RT_COUNT][ST_COUNT];
	uint64_t		 clicks, opens, dropped, store_errors;
	uint64_t		 unsafe_urls;
	uint64_t		 sealed, sealed_bad, revoked;
};

struct http {
	struct store		*store;
	struct MHD_Daemon	*mhd, *tls, *admin;
	struct http_conf	*conf;		/* atomic: current settings */
	struct verdict_recent	*recent;	/* hits by message and source */
	pthread_mutex_t		 lock;		/* workers list */
	struct http_worker	*workers;
	unsigned int		 active;	/* atomic: requests in flight */
	uint64_t		 lib_msgs;	/* atomic */
	int64_t			 lib_sec;	/* atomic: rate limit window */
	unsigned int		 lib_n;		/* atomic */
	uint64_t		 fd_out;	/* atomic: accepts that found no descriptor */
	int64_t			 fd_logged;	/* atomic: last warning, seconds */
	unsigned int		 conn_limit;	/* per public listener */
	int			 started;
	time_t			 start_time;
	unsigned int		 threads;
	struct guard		*guard;		/* header time cap */
	struct publish		*publish;	/* atomic: the stream's publisher, or NULL */
	struct whdeliver	*webhooks;	/* NULL: none */
};

/* the marker of a request seen once by the handler */
static int		 http_seen;
static __thread struct http_worker *http_self;

#define HTTP_INC(p)	__atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#define HTTP_GET(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

/* http_conf_free - free one settings block (not the older ones) */
static void
http_conf_free(struct http_conf *cf)
{
	if (cf == NULL)
		return;
	free(cf->fallback_url);
	free(cf->acme_webroot);
	seal_keys_free(cf->keys);
	seal_revoked_free(&cf->revoked);
	net_list_free(&cf->proxies);
	verdict_nets_free(&cf->nets);
	free(cf);
}

/* http_conf_new - copy the reloadable settings of c; NULL with err set */
static struct http_conf *
http_conf_new(const struct config *c, char *err, size_t errlen)
{
	struct http_conf	*cf;

	snprintf(err, errlen, "out of memory");
	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return NULL;
	if (verdict_nets_config(&cf->nets, c->verdict_networks, err,
	    errlen) == -1)
		goto fail;
	cf->vopts.click_min_us = (int64_t)c->click_min_seconds * 1000000;
	cf->vopts.burst_links = (unsigned)c->burst_links;
	if (c->fallback_url && (cf->fallback_url = strdup(c->fallback_url))
	    == NULL)
		goto fail;
	if (c->acme_webroot && (cf->acme_webroot = strdup(c->acme_webroot))
	    == NULL)
		goto fail;
	if (c->trusted_proxies.n) {
		cf->proxies.v = calloc(c->trusted_proxies.n, sizeof(struct net));
		if (cf->proxies.v == NULL)
			goto fail;
		memcpy(cf->proxies.v, c->trusted_proxies.v,
		    c->trusted_proxies.n * sizeof(struct net));
		cf->proxies.n = c->trusted_proxies.n;
	}
	cf->ua_max = c->user_agent_max;
	cf->anonymize_ip = c->anonymize_ip;
	cf->store_ua = c->store_user_agent;
	/* sealed links open here whatever link_mode the milters use */
	if (c->link_keys) {
		char why[512];

		if ((cf->keys = seal_keys_load(c->link_keys, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "link_keys: %s", why);
			goto fail;
		}
	}
	if (c->link_revoked) {
		char why[512];

		if (seal_revoked_load(&cf->revoked, c->link_revoked, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "link_revoked: %s", why);
			goto fail;
		}
	}
	return cf;
fail:
	http_conf_free(cf);
	return NULL;
}

/* http_fixed - a response over constant bytes, with headers (type: or none) */
static struct MHD_Response *
http_fixed(const void *data, size_t len, const char *type, int nocache)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return NULL;
	if (type && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    type) != MHD_YES)
		goto fail;
	if (nocache && (MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CACHE_CONTROL, cache_control) != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_PRAGMA, "no-cache")
	    != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_EXPIRES, "0") != MHD_YES))
		goto fail;
	return r;
fail:
	MHD_destroy_response(r);
	return NULL;
}

static void
http_worker_free(struct http_worker *w)
{
	struct MHD_Response *const r[] = { w->pixel, w->notfound, w->notallowed,
	    w->ok, w->unavailable, w->redirect };
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (r[i])
			MHD_destroy_response(r[i]);
	buf_free(&w->url);
	buf_free(&w->loc);
	buf_free(&w->ua);
	buf_free(&w->host);
	free(w);
}

/* http_worker_get - this thread's worker, created on first use; NULL: ENOMEM */
static struct http_worker *
http_worker_get(struct http *h)
{
	struct http_worker	*w;
	static const char	 text[] = "text/plain; charset=utf-8";

	if (http_self)
		return http_self;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->pixel = http_fixed(pixel_png, sizeof(pixel_png), "image/png", 1);
	w->notfound = http_fixed(body_notfound, sizeof(body_notfound) - 1,
	    text, 1);
	w->notallowed = http_fixed(body_notallowed,
	    sizeof(body_notallowed) - 1, text, 1);
	w->ok = http_fixed(body_ok, sizeof(body_ok) - 1, text, 1);
	w->unavailable = http_fixed(body_unavailable,
	    sizeof(body_unavailable) - 1, text, 1);
	w->redirect = http_fixed(NULL, 0, NULL, 1);
	if (w->pixel == NULL || w->notfound == NULL || w->notallowed == NULL ||
	    w->ok == NULL || w->unavailable == NULL || w->redirect == NULL ||
	    MHD_add_response_header(w->notallowed, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD") != MHD_YES) {
		http_worker_free(w);
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	w->next = h->workers;
	h->workers = w;
	pthread_mutex_unlock(&h->lock);
	http_self = w;
	return w;
}

static void	http_client_ip(const struct http_conf *, struct MHD_Connection *,
		    char *, size_t);
static void	http_anonymize(char *, size_t);

/* http_body_len - the body length of a fixed response; -1: not one */
static long long
http_body_len(const struct http_worker *w, const struct MHD_Response *r)
{
	if (r == w->pixel)
		return (long long)sizeof(pixel_png);
	if (r == w->notfound)
		return (long long)sizeof(body_notfound) - 1;
	if (r == w->notallowed)
		return (long long)sizeof(body_notallowed) - 1;
	if (r == w->ok)
		return (long long)sizeof(body_ok) - 1;
	if (r == w->unavailable)
		return (long long)sizeof(body_unavailable) - 1;
	if (r == w->redirect)
		return 0;
	return -1;
}

/* http_access - the access log line of this answer */
static void
http_access(struct http_worker *w, struct MHD_Connection *conn,
    unsigned int code, long long bytes)
{
	const struct http_conf	*cf = w->cf;
	char			 ip[INET6_ADDRSTRLEN];
	const char		*ua = NULL;

	http_client_ip(cf, conn, ip, sizeof(ip));
	if (cf->anonymize_ip)
		http_anonymize(ip, sizeof(ip));
	if (cf->store_ua)
		ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_USER_AGENT);
	access_write(ip, w->method, w->path, w->version, code, bytes, ua);
}

/* http_queue - send r with status code (index); the response is kept */
static enum MHD_Result
http_queue(struct http_worker *w, struct MHD_Connection *conn,
    enum http_route rt, enum http_code st, struct MHD_Response *r)
{
	HTTP_INC(&w->req[rt][st]);
	if (access_enabled())
		http_access(w, conn, code_values[st], http_body_len(w, r));
	return MHD_queue_response(conn, code_values[st], r);
}

/* http_queue_once - send a response built for this request, then drop it */
static enum MHD_Result
http_queue_once(struct http_worker *w, struct MHD_Connection *conn,
    enum http_route rt, enum http_code st, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = http_queue(w, conn, rt, st, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * http_location - the stored URL (len bytes, NUL-terminated) as a Location
 * value, or NULL when it must not be sent: a scheme other than http/https,
 * no host, a control byte (CR/LF would split the header) or too long.
 * Space and non-ASCII bytes are percent-encoded into out, as a browser does
 * with an href; a URL without them (nearly all) is returned as it is.
 */
static const char *
http_location(struct buf *out, const char *url, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const char		*host;
	size_t			 i;

	if (len >= 7 && strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return NULL;
	if (host == url + len || *host == '/' || *host == '\\' ||
	    *host == '?' || *host == '#' || len > HTTP_LOCATION_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			break;
	if (i == len)
		return url;
	buf_reset(out);
	if (buf_append(out, url, i) == -1)
		return NULL;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c < 0x20 || c == 0x7f)
			return NULL;
		if (c == ' ' || c >= 0x80) {
			const char pct[3] = { '%', hex[c >> 4], hex[c & 15] };

			if (buf_append(out, pct, 3) == -1)
				return NULL;
		} else if (buf_putc(out, c) == -1)
			return NULL;
		if (out->len > HTTP_LOCATION_MAX)
			return NULL;
	}
	return out->data;
}

/*
 * http_redirect - this worker's 302 with the no-cache headers, now to loc;
 * NULL when out of memory. libmicrohttpd copies a response's headers into
 * the connection's buffer as soon as the handler has queued it, on the
 * thread that owns the connection (0.9.75: the START_REPLY step of the
 * same MHD_connection_handle_idle pass), and never reads them again: the
 * worker's next redirect may replace the Location.
 */
static struct MHD_Response *
http_redirect(struct http_worker *w, const char *loc)
{
	const char *old;

	old = MHD_get_response_header(w->redirect, MHD_HTTP_HEADER_LOCATION);
	if (old && MHD_del_response_header(w->redirect,
	    MHD_HTTP_HEADER_LOCATION, old) != MHD_YES)
		return NULL;
	if (MHD_add_response_header(w->redirect, MHD_HTTP_HEADER_LOCATION, loc)
	    != MHD_YES)
		return NULL;
	return w->redirect;
}

/* http_utf8_len - length of the valid UTF-8 sequence at s (n bytes), 0 if none */
static size_t
http_utf8_len(const unsigned char *s, size_t n)
{
	size_t	 len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * http_clean - at most max bytes of untrusted header text as valid UTF-8
 * without control bytes ('?' replaces them); never cuts a character. s
 * itself when it is printable ASCII within max (nearly every agent), else
 * a copy in out. NULL when s is NULL, max is 0 or out cannot grow.
 */
static const char *
http_clean(struct buf *out, const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, l, i;

	if (s == NULL || max == 0)
		return NULL;
	for (n = 0; p[n] >= 0x20 && p[n] < 0x7f; n++)
		;
	if (p[n] == '\0' && n <= max)
		return s;
	buf_reset(out);
	n += strlen(s + n);
	if (buf_reserve(out, (n < max ? n : max) + 1) == -1)
		return NULL;
	for (i = 0; i < n; i += l) {
		l = http_utf8_len(p + i, n - i);
		if (out->len + (l ? l : 1) > max)
			break;
		if (l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			buf_putc(out, '?');
			l = 1;
		} else
			buf_append(out, p + i, l);
	}
	return out->data ? out->data : "";
}

/*
 * http_v4_text - an IPv4 address in dotted decimal, as inet_ntop writes it
 * (without its sprintf, which showed in profiles); out holds 16 bytes
 */
static void
http_v4_text(const uint8_t *a, char *out)
{
	unsigned int	v;
	int		i;

	for (i = 0; i < 4; i++) {
		v = a[i];
		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

/*
 * http_sa_text - an address as text into out (INET6_ADDRSTRLEN bytes);
 * v4-mapped IPv6 shown as IPv4
 */
static void
http_sa_text(const struct sockaddr *sa, char *out)
{
	static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

	strcpy(out, "-");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		http_v4_text((const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, out);
	else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;

		if (memcmp(a->s6_addr, mapped, 12) == 0)
			http_v4_text(a->s6_addr + 12, out);
		else
			inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
	}
}

/*
 * http_hop - parse one proxy hop (s, n bytes): an address with an
 * optional port ("1.2.3.4", "1.2.3.4:80", "[v6]", "[v6]:80", "v6"),
 * optionally quoted. Its normal text into out; 0, or -1 when not an
 * address ("unknown", obfuscated names, garbage).
 */
static int
http_hop(const char *s, size_t n, char *out, size_t outsz)
{
	char		 tmp[INET6_ADDRSTRLEN + 8];
	const char	*colon;
	uint8_t		 a[16];

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (end == NULL)
			return -1;
		s++;
		n = (size_t)(end - s);
	} else if ((colon = memchr(s, ':', n)) != NULL &&
	    memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)) == NULL)
		n = (size_t)(colon - s);	/* one colon: IPv4 and a port */
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outsz) ? 0 : -1;
	if (inet_pton(AF_INET6, tmp, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)outsz) ? 0 : -1;
	return -1;
}

/* http_fwd_for - the for= value of one Forwarded element (s, n bytes) */
static int
http_fwd_for(const char *s, size_t n, const char **v, size_t *vn)
{
	const char *end = s + n, *p, *semi;

	for (p = s; p < end; p = semi + 1) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		if (semi - p > 4 && strncasecmp(p, "for=", 4) == 0) {
			*v = p + 4;
			*vn = (size_t)(semi - p - 4);
			return 0;
		}
	}
	return -1;
}

struct http_hops {
	const char	*name;		/* header to collect */
	const char	*v[HTTP_HOPS_HEADERS];	/* the last values seen */
	size_t		 n;		/* values seen in total */
};

static enum MHD_Result
http_hops_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_hops *hp = cls;

	(void)kind;
	if (value && strcasecmp(key, hp->name) == 0)
		hp->v[hp->n++ % HTTP_HOPS_HEADERS] = value;
	return MHD_YES;
}

/*
 * http_client_ip - the client address as text into out (INET6_ADDRSTRLEN
 * bytes). The peer, unless
 * it is a trusted proxy: then the rightmost hop of Forwarded (or else
 * X-Forwarded-For) that is not a trusted proxy; hops to its left were
 * written by the client and prove nothing. A hop that is not an address
 * stops the walk at the last good one.
 */
static void
http_client_ip(const struct http_conf *cf, struct MHD_Connection *conn,
    char *out, size_t outsz)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa = NULL;
	struct http_hops		 hp;
	char				 hop[INET6_ADDRSTRLEN];
	size_t				 i, kept;
	int				 fwd;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci)
		sa = ci->client_addr;
	http_sa_text(sa, out);
	if (cf->proxies.n == 0 || !net_list_match_sa(&cf->proxies, sa))
		return;
	memset(&hp, 0, sizeof(hp));
	hp.name = "Forwarded";
	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_hops_collect, &hp);
	if ((fwd = hp.n > 0) == 0) {
		hp.name = "X-Forwarded-For";
		MHD_get_connection_values(conn, MHD_HEADER_KIND,
		    http_hops_collect, &hp);
	}
	kept = hp.n < HTTP_HOPS_HEADERS ? hp.n : HTTP_HOPS_HEADERS;
	for (i = 0; i < kept; i++) {
		const char *v = hp.v[(hp.n - 1 - i) % HTTP_HOPS_HEADERS];
		const char *end = v + strlen(v), *start, *h;
		size_t hn;

		while (end > v) {
			for (start = end; start > v && start[-1] != ','; start--)
				;
			h = start;
			hn = (size_t)(end - start);
			end = start > v ? start - 1 : v;
			if (strspn(h, " \t") >= hn)
				continue;	/* empty list element */
			if (fwd && http_fwd_for(start, hn, &h, &hn) == -1)
				return;
			if (http_hop(h, hn, hop, sizeof(hop)) == -1)
				return;
			snprintf(out, outsz, "%s", hop);
			if (!net_list_match_str(&cf->proxies, hop))
				return;
		}
	}
}

/*
 * http_anonymize - cut an address in text form to its network: IPv4 /24,
 * IPv6 /48, rewritten in place. Text that is not an address stays.
 */
static void
http_anonymize(char *ip, size_t ipsz)
{
	uint8_t	a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		a[3] = 0;
		inet_ntop(AF_INET, a, ip, (socklen_t)ipsz);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		memset(a + 6, 0, 10);
		inet_ntop(AF_INET6, a, ip, (socklen_t)ipsz);
	}
}

/* http_event - queue a click or open event; counts what happened */
static void
http_event(struct http *h, struct http_worker *w, const struct http_conf *cf,
    struct MHD_Connection *conn, enum store_ev type, uint64_t seq,
    uint64_t msg, const char *method, int64_t sent_us, int honeypot)
{
	struct store_event	 ev;
	struct verdict_in	 vi;
	struct verdict		 v;
	char			 ip[INET6_ADDRSTRLEN], aip[INET6_ADDRSTRLEN];
	const char		*ua, *purpose;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.time_us = now_us();
	ev.seq = seq;
	ev.msg = msg;
	http_client_ip(cf, conn, ip, sizeof(ip));
	ev.ip = ip;
	ev.method = method;
	ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_USER_AGENT);
	/* the verdict sees the whole agent; the store its clean copy, if any */
	ev.ua = cf->store_ua ? http_clean(&w->ua, ua, cf->ua_max) : NULL;
	ev.host = http_clean(&w->host, MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST), HTTP_HOST_MAX);
	/* people or machines: the answer is the same, the numbers are not */
	memset(&vi, 0, sizeof(vi));
	vi.click = type == STORE_EV_CLICK;
	vi.ua = ua;
	vi.method = method;
	purpose = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Purpose");
	vi.purpose = purpose ? purpose : MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, "Purpose");
	vi.headers_known = 1;
	vi.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);
	vi.accept_language = MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	vi.ip = ip;
	vi.now_us = ev.time_us;
	vi.sent_us = sent_us;
	vi.honeypot = honeypot;
	verdict_recent_hit(h->recent, msg, ip, vi.click ? seq : 0, honeypot,
	    ev.time_us, &vi.burst, &vi.honeypot_source);
	verdict_decide(&cf->nets, &cf->vopts, &vi, &v);
	ev.verdict = verdict_class_name(v.cls);
	ev.reason = v.reason;
	/* the verdict saw the whole address; the store need not */
	if (cf->anonymize_ip) {
		snprintf(aip, sizeof(aip), "%s", ip);
		http_anonymize(aip, sizeof(aip));
		ev.ip = aip;
	}
	if (store_put_event(h->store, &ev) == -1) {
		HTTP_INC(&w->dropped);
		log_warn("event=dropped type=%s seq=%" PRIu64,
		    type == STORE_EV_CLICK ? "click" : "open", seq);
		return;
	}
	HTTP_INC(type == STORE_EV_CLICK ? &w->clicks : &w->opens);
}

/* http_click - GET|HEAD /click/{id} */
static enum MHD_Result
http_click(struct http *h, struct http_worker *w, const struct http_conf *cf,
    struct MHD_Connection *conn, const char *id, size_t idlen,
    const char *method)
{
	struct store_linkinfo	li;
	struct seal_msg		sm;
	struct MHD_Response	*r302;
	const char		*loc;
	uint64_t		seq;
	int			r;

	if (idlen != ID_LEN) {
		/* a sealed link says it all: no store lookup */
		if (seal_open(cf->keys, SEAL_CLICK, id, idlen, &sm,
		    &w->url) == -1) {
			HTTP_INC(&w->sealed_bad);
			goto unknown;
		}
		HTTP_INC(&w->sealed);
		seq = sm.link;
		li.msg = sm.msg;
		li.sent_us = sm.sent_us;
		li.honeypot = sm.honeypot;
	} else {
		if (id_decode(store_key(h->store), ID_LINK, id, idlen,
		    &seq) == -1)
			goto unknown;
		buf_reset(&w->url);
		if ((r = store_get_link(h->store, seq, &w->url, &li)) == -1) {
			HTTP_INC(&w->store_errors);
			return http_queue(w, conn, RT_CLICK, ST_503,
			    w->unavailable);
		}
		if (r == 1)
			goto unknown;
	}
	if (seal_revoked_has(&cf->revoked, seq) ||
	    seal_revoked_has(&cf->revoked, li.msg)) {
		HTTP_INC(&w->revoked);
		goto unknown;
	}
	if ((loc = http_location(&w->loc, w->url.data ? w->url.data : "",
	    w->url.len)) == NULL) {
		char q[LOG_STR_MAX];

		HTTP_INC(&w->unsafe_urls);
		log_warnx("click=refused link=%" PRIu64 " url=%s", seq,
		    log_str(q, sizeof(q), w->url.data));
		return http_queue(w, conn, RT_CLICK, ST_404, w->notfound);
	}
	http_event(h, w, cf, conn, STORE_EV_CLICK, seq, li.msg, method,
	    li.sent_us, li.honeypot);
	if ((r302 = http_redirect(w, loc)) == NULL)
		return MHD_NO;
	return http_queue(w, conn, RT_CLICK, ST_302, r302);
unknown:
	if (cf->fallback_url) {
		if ((r302 = http_redirect(w, cf->fallback_url)) == NULL)
			return MHD_NO;
		return http_queue(w, conn, RT_CLICK, ST_302, r302);
	}
	return http_queue(w, conn, RT_CLICK, ST_404, w->notfound);
}

/* http_open - GET|HEAD /open/{id}.png */
static enum MHD_Result
http_open(struct http *h, struct http_worker *w, const struct http_conf *cf,
    struct MHD_Connection *conn, const char *id, size_t idlen,
    const char *method)
{
	struct seal_msg	sm;
	uint64_t	seq;
	int64_t		sent_us = 0;
	int		r;

	/*
	 * An unknown, forged or pruned ID, or a sealed one that does not
	 * open, gets the same image, unrecorded: a 404 shows as a broken
	 * image in the reader's mail client.
	 */
	if (idlen != ID_LEN) {
		/* a sealed pixel: no store lookup */
		if (seal_open(cf->keys, SEAL_OPEN, id, idlen, &sm,
		    &w->url) == -1) {
			HTTP_INC(&w->sealed_bad);
			return http_queue(w, conn, RT_OPEN, ST_200, w->pixel);
		}
		HTTP_INC(&w->sealed);
		seq = sm.msg;
		sent_us = sm.sent_us;
	} else {
		if (id_decode(store_key(h->store), ID_MSG, id, idlen,
		    &seq) == -1)
			return http_queue(w, conn, RT_OPEN, ST_200, w->pixel);
		if ((r = store_get_message(h->store, seq, &sent_us)) == -1) {
			HTTP_INC(&w->store_errors);
			return http_queue(w, conn, RT_OPEN, ST_503,
			    w->unavailable);
		}
		if (r == 1)
			return http_queue(w, conn, RT_OPEN, ST_200, w->pixel);
	}
	if (seal_revoked_has(&cf->revoked, seq)) {
		HTTP_INC(&w->revoked);
		return http_queue(w, conn, RT_OPEN, ST_200, w->pixel);
	}
	http_event(h, w, cf, conn, STORE_EV_OPEN, seq, seq, method, sent_us, 0);
	return http_queue(w, conn, RT_OPEN, ST_200, w->pixel);
}

/* http_acme_token - a token of safe characters only (base64url): no '/', no ".." */
static int
http_acme_token(const char *t)
{
	size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_");

	return n > 0 && n <= HTTP_ACME_TOKEN_MAX && t[n] == '\0';
}

/*
 * http_acme - GET|HEAD /.well-known/acme-challenge/TOKEN: the file TOKEN
 * under acme_webroot/.well-known/acme-challenge/ (where certbot --webroot
 * and uacme's hook write it), as it is. Symbolic links are not followed;
 * only a regular file of at most HTTP_ACME_BODY_MAX bytes is served.
 */
static enum MHD_Result
http_acme(struct http_worker *w, const struct http_conf *cf,
    struct MHD_Connection *conn, const char *token)
{
	struct MHD_Response	*r;
	struct stat		 sb;
	char			 path[4096], body[HTTP_ACME_BODY_MAX];
	enum MHD_Result		 ret;
	ssize_t			 n;
	int			 fd;

	if (cf->acme_webroot == NULL || !http_acme_token(token) ||
	    (size_t)snprintf(path, sizeof(path), "%s" HTTP_ACME_PREFIX "%s",
	    cf->acme_webroot, token) >= sizeof(path))
		return http_queue(w, conn, RT_ACME, ST_404, w->notfound);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return http_queue(w, conn, RT_ACME, ST_404, w->notfound);
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > HTTP_ACME_BODY_MAX ||
	    (n = read(fd, body, sizeof(body))) < 0) {
		close(fd);
		return http_queue(w, conn, RT_ACME, ST_404, w->notfound);
	}
	close(fd);
	r = MHD_create_response_from_buffer((size_t)n, body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL || MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store") != MHD_YES) {
		if (r)
			MHD_destroy_response(r);
		return MHD_NO;
	}
	if (access_enabled())
		http_access(w, conn, 200, n);
	HTTP_INC(&w->req[RT_ACME][ST_200]);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* http_healthz - 200 when the store answers a read */
static enum MHD_Result
http_healthz(struct http *h, struct http_worker *w,
    struct MHD_Connection *conn)
{
	struct store_counts c;

	if (store_counts(h->store, &c) == -1) {
		HTTP_INC(&w->store_errors);
		return http_queue(w, conn, RT_HEALTHZ, ST_503, w->unavailable);
	}
	return http_queue(w, conn, RT_HEALTHZ, ST_200, w->ok);
}

/* http_daemon_conns - the open connections of a listener (NULL: none) */
static uint64_t
http_daemon_conns(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di;

	if (d == NULL || (di = MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS)) == NULL)
		return 0;
	return di->num_connections;
}

/* http_metrics_sum - the counters of every thread into *m (req: its array) */
static void
http_metrics_sum(struct http *h, struct metrics_http *m,
    uint64_t req[RT_COUNT][ST_COUNT])
{
	struct http_worker	*x;
	size_t			 i, j;

	memset(m, 0, sizeof(*m));
	memset(req, 0, sizeof(uint64_t) * RT_COUNT * ST_COUNT);
	pthread_mutex_lock(&h->lock);
	for (x = h->workers; x; x = x->next) {
		for (i = 0; i < RT_COUNT; i++)
			for (j = 0; j < ST_COUNT; j++)
				req[i][j] += HTTP_GET(&x->req[i][j]);
		m->clicks += HTTP_GET(&x->clicks);
		m->opens += HTTP_GET(&x->opens);
		m->dropped += HTTP_GET(&x->dropped);
		m->store_errors += HTTP_GET(&x->store_errors);
		m->unsafe_urls += HTTP_GET(&x->unsafe_urls);
		m->sealed += HTTP_GET(&x->sealed);
		m->sealed_bad += HTTP_GET(&x->sealed_bad);
		m->revoked += HTTP_GET(&x->revoked);
	}
	pthread_mutex_unlock(&h->lock);
	m->routes = route_names;
	m->codes = code_values;
	m->nroutes = RT_COUNT;
	m->ncodes = ST_COUNT;
	m->req = &req[0][0];
	m->lib_msgs = HTTP_GET(&h->lib_msgs);
	m->active = HTTP_GET(&h->active);
	m->conns = http_daemon_conns(h->mhd);
	m->threads = h->threads;
	m->conn_limit = h->conn_limit;
	m->fd_exhausted = HTTP_GET(&h->fd_out);
	m->https = h->tls != NULL;
	m->https_conns = http_daemon_conns(h->tls);
	m->start_time = h->start_time;
	m->publish = __atomic_load_n(&h->publish, __ATOMIC_ACQUIRE);
}

void
http_set_publish(struct http *h, struct publish *p)
{
	__atomic_store_n(&h->publish, p, __ATOMIC_RELEASE);
}

/* http_metrics - every counter in the Prometheus text format (metrics.h) */
static enum MHD_Result
http_metrics(struct http *h, struct http_worker *w,
    struct MHD_Connection *conn)
{
	struct buf		 b = BUF_INIT;
	struct metrics_http	 m;
	struct MHD_Response	*r;
	uint64_t		 req[RT_COUNT][ST_COUNT];
	size_t			 len;
	char			*body;

	http_metrics_sum(h, &m, req);
	if (metrics_text(&b, &m, h->store) == -1 || (h->webhooks &&
	    whdeliver_metrics(h->webhooks, &b) == -1)) {
		buf_free(&b);
		return MHD_NO;
	}
	body = buf_steal(&b, &len);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; version=0.0.4; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	return http_queue_once(w, conn, RT_METRICS, ST_200, r);
}

/* http_report - the report page, read from the store now (admin only) */
static enum MHD_Result
http_report(struct http *h, struct http_worker *w, struct MHD_Connection *conn)
{
	struct MHD_Response	*r;
	unsigned		 code = 0;
	enum http_code		 st;

	if ((r = webreport_response(h->store, conn, &code)) == NULL)
		return MHD_NO;
	st = code == 200 ? ST_200 : code == 400 ? ST_400 : code == 404 ?
	    ST_404 : ST_503;
	return http_queue_once(w, conn, RT_REPORT, st, r);
}

/* http_route_of - which route a path names; id and its length for click/open */
static enum http_route
http_route_of(const char *url, const char **id, size_t *idlen)
{
	size_t n;

	/* first: a certificate must be obtainable whatever else changes */
	if (strncmp(url, HTTP_ACME_PREFIX, sizeof(HTTP_ACME_PREFIX) - 1) == 0) {
		*id = url + sizeof(HTTP_ACME_PREFIX) - 1;
		*idlen = strlen(*id);
		return RT_ACME;
	}
	if (strncmp(url, "/click/", 7) == 0) {
		*id = url + 7;
		*idlen = strlen(*id);
		return RT_CLICK;
	}
	if (strncmp(url, "/open/", 6) == 0) {
		*id = url + 6;
		n = strlen(*id);
		/* a name without ".png" gets an impossible length: 404 */
		*idlen = n > 4 && strcmp(*id + n - 4, ".png") == 0 ? n - 4 : 0;
		return RT_OPEN;
	}
	if (strcmp(url, "/healthz") == 0)
		return RT_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return RT_METRICS;
	if (strcmp(url, "/report") == 0)
		return RT_REPORT;
	return RT_OTHER;
}

/* http_answer - the second call of the handler: route and respond */
static enum MHD_Result
http_answer(struct http *h, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, int admin)
{
	struct http_worker	*w;
	const struct http_conf	*cf;
	enum http_route		 rt;
	const char		*id = NULL;
	size_t			 idlen = 0;

	if ((w = http_worker_get(h)) == NULL)
		return MHD_NO;
	cf = __atomic_load_n(&h->conf, __ATOMIC_ACQUIRE);
	w->cf = cf;
	w->method = method;
	w->path = url;
	w->version = version;
	rt = http_route_of(url, &id, &idlen);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_queue(w, conn, rt, ST_405, w->notallowed);
	switch (rt) {
	case RT_ACME:
		if (!admin)
			return http_acme(w, cf, conn, id);
		break;
	case RT_CLICK:
		if (!admin)
			return http_click(h, w, cf, conn, id, idlen, method);
		break;
	case RT_OPEN:
		if (!admin)
			return http_open(h, w, cf, conn, id, idlen, method);
		break;
	case RT_HEALTHZ:
		return http_healthz(h, w, conn);
	case RT_METRICS:
		if (admin)
			return http_metrics(h, w, conn);
		break;
	case RT_REPORT:
		if (admin)
			return http_report(h, w, conn);
		break;
	default:
		break;
	}
	return http_queue(w, conn, rt, ST_404, w->notfound);
}

/*
 * http_has_body - the request announces a body. Our routes take none; the
 * answer then goes out before the body is read, and the library closes the
 * connection after it instead of reading what nobody wants.
 */
static int
http_has_body(struct MHD_Connection *conn, const char *method)
{
	const char *cl;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return 1;
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return 1;
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl != NULL && strspn(cl, "0 \t") != strlen(cl);
}

/* http_handler - libmicrohttpd's access handler for both listeners */
static enum MHD_Result
http_handler(struct http *h, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, size_t *upload_size,
    void **con_cls, int admin)
{
	if (*con_cls == NULL) {
		guard_request(h->guard, conn);
		if (http_has_body(conn, method))
			return http_answer(h, conn, url, method, version, admin);
		*con_cls = &http_seen;
		HTTP_INC(&h->active);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;	/* discarded */
		return MHD_YES;
	}
	return http_answer(h, conn, url, method, version, admin);
}

static enum MHD_Result
http_public(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	(void)upload;
	return http_handler(cls, conn, url, method, version, upload_size,
	    con_cls, 0);
}

static enum MHD_Result
http_admin(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	(void)upload;
	return http_handler(cls, conn, url, method, version, upload_size,
	    con_cls, 1);
}

/* http_completed - a request ended (answered, timed out or aborted) */
static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;

	(void)toe;
	guard_idle(h->guard, conn);
	if (*con_cls != NULL) {
		__atomic_fetch_sub(&h->active, 1, __ATOMIC_RELAXED);
		*con_cls = NULL;
	}
}

/*
 * http_unescape - keep the path as sent: IDs never contain '%', and a
 * decoded "%00" or "%2F" must not turn into something else.
 */
static size_t
http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/*
 * http_fd_out - an accept found no file descriptor: counted, and a warning
 * at most every HTTP_FDLOG_SECONDS (with how many since the last one).
 * Open connections go on; the admin listener keeps its own share.
 */
static void
http_fd_out(struct http *h, int64_t now)
{
	uint64_t	n = HTTP_INC(&h->fd_out) + 1;
	int64_t		last = __atomic_load_n(&h->fd_logged, __ATOMIC_RELAXED);

	if (now - last < HTTP_FDLOG_SECONDS ||
	    !__atomic_compare_exchange_n(&h->fd_logged, &last, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	log_warnx("http=fd_exhausted total=%" PRIu64 " limit=%u reason=\"out of"
	    " file descriptors: raise LimitNOFILE or lower"
	    " tracker_connection_limit\"", n, h->conn_limit);
}

/*
 * http_liblog - messages of libmicrohttpd. Before the start they explain
 * a failure; afterwards most are about malformed requests, which anyone
 * can send: at most HTTP_LIBLOG_RATE a second are logged, all counted.
 */
static void
http_liblog(void *cls, const char *fmt, va_list ap)
{
	struct http	*h = cls;
	char		 line[512], q[LOG_STR_MAX];
	size_t		 n;
	int64_t		 now = (int64_t)time(NULL);

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	HTTP_INC(&h->lib_msgs);
	if (strstr(line, "Too many open files") || strstr(line,
	    "resource limit")) {
		http_fd_out(h, now);
		return;
	}
	if (!__atomic_load_n(&h->started, __ATOMIC_ACQUIRE)) {
		log_warnx("http=%s", log_str(q, sizeof(q), line));
		return;
	}
	if (__atomic_exchange_n(&h->lib_sec, now, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&h->lib_n, 0, __ATOMIC_RELAXED);
	if (HTTP_INC(&h->lib_n) < HTTP_LIBLOG_RATE)
		log_info("http=%s", log_str(q, sizeof(q), line));
}

int
http_listen(const char *spec, int *fdp, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256];
	const char	*port, *hs;
	int		 fd = -1, one = 1, rc;

	if (net_listen_split(spec, host, sizeof(host), &port, err, errlen) == -1)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (strcmp(host, "*") == 0) {
		/* all addresses: one IPv6 socket that takes IPv4 too */
		hints.ai_family = AF_INET6;
		hs = NULL;
	} else {
		hints.ai_family = AF_UNSPEC;
		hs = host;
	}
	if ((rc = getaddrinfo(hs, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "\"%.64s\": %s", spec, gai_strerror(rc));
		return -1;
	}
	if (fdp == NULL) {
		freeaddrinfo(res);
		return 0;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, res->ai_protocol);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (res->ai_family == AF_INET6) {
		int only = hs != NULL;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only,
		    sizeof(only)) == -1)
			goto fail;
	}
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, HTTP_BACKLOG) == -1)
		goto fail;
	freeaddrinfo(res);
	*fdp = fd;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", spec, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

unsigned int
http_threads(const struct config *c)
{
	long n;

	if (c->tracker_threads > 0)
		return (unsigned int)c->tracker_threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

/*
 * http_daemon - one libmicrohttpd daemon on a copy of fd (closed here);
 * HTTPS with these GnuTLS priorities when tls_prio is not NULL.
 */
static struct MHD_Daemon *
http_daemon(struct http *h, int fd, int admin, unsigned int threads,
    unsigned int limit, unsigned int timeout, unsigned int ip_limit,
    const char *tls_prio)
{
	struct MHD_Daemon	*d;
	unsigned int		 flags = MHD_USE_EPOLL_INTERNAL_THREAD |
				    MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int			 mfd;

	/* whether the library closes a socket it failed on is unspecified */
	mfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	if (mfd == -1)
		return NULL;
	/* a pool of one is no pool: the library warns when asked for it */
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_liblog, h },
		{ MHD_OPTION_LISTEN_SOCKET, mfd, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, limit, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, ip_limit, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)guard_notify, h->guard },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_MEMORY, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed, h },
		{ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)http_unescape, NULL },
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		    threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};

	/* the same handler: HTTPS differs only in how bytes arrive */
	if (tls_prio)
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL,
		    http_public, h, MHD_OPTION_ARRAY, opts,
		    MHD_OPTION_HTTPS_PRIORITIES, tls_prio,
		    MHD_OPTION_HTTPS_CERT_CALLBACK2, tls_retrieve,
		    MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL,
		    admin ? http_admin : http_public, h,
		    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	return d;
}

struct http *
http_start(const struct config *c, struct store *s, int fd, int tls_fd,
    int admin_fd, char *err, size_t errlen)
{
	struct http	*h;
	unsigned int	 limit, ip_limit;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->store = s;
	h->start_time = time(NULL);
	h->threads = http_threads(c);
	if ((h->conf = http_conf_new(c, err, errlen)) == NULL)
		goto fail;
	if ((h->recent = verdict_recent_new(1 << 16,
	    (int64_t)c->burst_window_ms * 1000,
	    (int64_t)c->honeypot_window * 1000000)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((h->guard = guard_new((unsigned int)c->tracker_header_timeout)) ==
	    NULL) {
		snprintf(err, errlen, "cannot start the header timer: %s",
		    strerror(errno));
		goto fail;
	}
	limit = (unsigned int)c->tracker_connection_limit;
	if (limit < h->threads)
		limit = h->threads;
	h->conn_limit = limit;
	ip_limit = (unsigned int)c->tracker_ip_connection_limit;
	h->mhd = http_daemon(h, fd, 0, h->threads, limit,
	    (unsigned int)c->tracker_timeout, ip_limit, NULL);
	fd = -1;
	if (h->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP service on %s",
		    c->tracker_listen);
		goto fail;
	}
	if (tls_fd != -1) {
		h->tls = http_daemon(h, tls_fd, 0, h->threads, limit,
		    (unsigned int)c->tracker_timeout, ip_limit,
		    c->tls_priorities);
		tls_fd = -1;
		if (h->tls == NULL) {
			snprintf(err, errlen, "cannot start the HTTPS service "
			    "on %s", c->tls_listen);
			goto fail;
		}
	}
	if (admin_fd != -1) {
		h->admin = http_daemon(h, admin_fd, 1, 1, HTTP_ADMIN_CONNS,
		    HTTP_ADMIN_TIMEOUT, HTTP_ADMIN_CONNS, NULL);
		admin_fd = -1;
		if (h->admin == NULL) {
			snprintf(err, errlen, "cannot start the admin listener");
			goto fail;
		}
	}
	__atomic_store_n(&h->started, 1, __ATOMIC_RELEASE);
	return h;
fail:
	if (fd != -1)
		close(fd);
	if (tls_fd != -1)
		close(tls_fd);
	if (admin_fd != -1)
		close(admin_fd);
	if (h)
		http_stop(h);
	return NULL;
}

int
http_reload(struct http *h, const struct config *c, char *err, size_t errlen)
{
	struct http_conf	*cf;

	if ((cf = http_conf_new(c, err, errlen)) == NULL)
		return -1;
	/*
	 * A request may still read the old block: it stays allocated until
	 * http_stop, which costs a few bytes per reload.
	 */
	cf->older = h->conf;
	__atomic_store_n(&h->conf, cf, __ATOMIC_RELEASE);
	return 0;
}

int
http_check(const struct config *c, char *err, size_t errlen)
{
	struct http_conf *cf;

	if ((cf = http_conf_new(c, err, errlen)) == NULL)
		return -1;
	http_conf_free(cf);
	return 0;
}

void
http_webhooks(struct http *h, struct whdeliver *w)
{
	h->webhooks = w;
}

void
http_quiesce(struct http *h)
{
	struct MHD_Daemon	*const d[] = { h->mhd, h->tls };
	MHD_socket		 fd;
	size_t			 i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		if (d[i] == NULL)
			continue;
		fd = MHD_quiesce_daemon(d[i]);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
}

unsigned int
http_active(struct http *h)
{
	return __atomic_load_n(&h->active, __ATOMIC_ACQUIRE);
}

void
http_stop(struct http *h)
{
	struct http_worker	*w;
	struct http_conf	*cf;

	if (h == NULL)
		return;
	if (h->admin)
		MHD_stop_daemon(h->admin);
	if (h->tls)
		MHD_stop_daemon(h->tls);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	guard_free(h->guard);
	while ((w = h->workers) != NULL) {
		h->workers = w->next;
		http_worker_free(w);
	}
	while ((cf = h->conf) != NULL) {
		h->conf = cf->older;
		http_conf_free(cf);
	}
	verdict_recent_free(h->recent);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
