/*
 * webreport - /report on the admin listener (see webreport.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "htmlreport.h"
#include "log.h"
#include "stats.h"
#include "webreport.h"

#define WR_PARAMS	5	/* campaign, domain, message, since, until */
#define WR_VALUE	512	/* a parameter's bytes at most, decoded */

/* the query string, decoded and checked */
struct wr_args {
	struct stats_query	 q;
	char			 v[WR_PARAMS][WR_VALUE];
	size_t			 n;
	char			 err[256];
};

/*
 * wr_arg - one parameter. The tracker's unescaper leaves values as sent
 * (libmicrohttpd has only turned '+' into ' '): decode %XX here; a
 * decoded NUL is refused rather than cutting the value short.
 */
static enum MHD_Result
wr_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct wr_args	*a = cls;
	char		*v;
	size_t		 len;

	(void)kind;
	if (a->err[0])
		return MHD_NO;
	if (a->n == WR_PARAMS) {
		snprintf(a->err, sizeof(a->err), "too many parameters");
		return MHD_NO;
	}
	v = a->v[a->n];
	if (value == NULL || (len = strlen(value)) >= WR_VALUE) {
		snprintf(a->err, sizeof(a->err), "%.32s: %s", key, value ?
		    "too long" : "no value");
		return MHD_NO;
	}
	memcpy(v, value, len + 1);
	if (MHD_http_unescape(v) != strlen(v)) {
		snprintf(a->err, sizeof(a->err), "%.32s: a NUL byte", key);
		return MHD_NO;
	}
	if (stats_filter(&a->q, key, v, a->err, sizeof(a->err)) == -1)
		return MHD_NO;
	a->n++;
	return MHD_YES;
}

/* wr_text - a short text/plain answer */
static struct MHD_Response *
wr_text(const char *msg)
{
	struct MHD_Response	*r;
	char			 line[300];
	size_t			 n;

	n = (size_t)snprintf(line, sizeof(line), "%s\n", msg);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	r = MHD_create_response_from_buffer(n, line, MHD_RESPMEM_MUST_COPY);
	if (r && (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8") != MHD_YES ||
	    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") !=
	    MHD_YES)) {
		MHD_destroy_response(r);
		r = NULL;
	}
	return r;
}

static const struct {
	const char *name, *value;
} wr_headers[] = {
	{ MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8" },
	{ MHD_HTTP_HEADER_CACHE_CONTROL, "no-store" },
	/* the page needs no script, no frame, nothing from elsewhere */
	{ "Content-Security-Policy", "default-src 'none'; style-src "
	    "'unsafe-inline'; frame-ancestors 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
};

struct MHD_Response *
webreport_response(struct store *s, struct MHD_Connection *conn,
    unsigned *code)
{
	struct MHD_Response	*r;
	struct wr_args		*a;
	struct htmlreport	 page;
	struct buf		 b = BUF_INIT;
	char			*body;
	size_t			 len, i;
	int			 rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	stats_query_init(&a->q);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, wr_arg, a);
	if (a->err[0]) {
		*code = 400;
		r = wr_text(a->err);
		free(a);
		return r;
	}
	rc = htmlreport_fill(&page, s, &a->q);
	if (rc != 0) {
		htmlreport_free(&page);
		*code = rc == 1 ? 404 : 503;
		if (rc == -1)
			log_warnx("report=failed error=\"cannot read the store\"");
		free(a);
		return wr_text(rc == 1 ? "no such message" :
		    "the store did not answer");
	}
	rc = htmlreport_write(&b, &page);
	htmlreport_free(&page);
	free(a);
	if (rc == -1) {
		buf_free(&b);
		return NULL;
	}
	body = buf_steal(&b, &len);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return NULL;
	}
	for (i = 0; i < sizeof(wr_headers) / sizeof(wr_headers[0]); i++)
		if (MHD_add_response_header(r, wr_headers[i].name,
		    wr_headers[i].value) != MHD_YES) {
			MHD_destroy_response(r);
			return NULL;
		}
	*code = 200;
	return r;
}
