/*
 * rewrite - tracking policy for one message (see rewrite.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "domain.h"
#include "html.h"
#include "log.h"
#include "mime.h"
#include "now.h"
#include "rewrite.h"
#include "seal.h"
#include "text.h"

/*
 * one replaced byte range of the original message: data as it is, or
 * (enc not MIME_ENC_OTHER) content to encode as enc with line ends nl
 * straight into the body
 */
struct splice {
	size_t		 start, end;
	char		*data;
	size_t		 len;
	enum mime_enc	 enc;
	const char	*nl;
	int		 trim_nl;	/* drop the encoder's last line end */
};

_Static_assert(SEAL_URL_MAX >= REWRITE_URL_MAX, "a link too long to seal");

struct rw {
	const struct config	*cfg;
	const char		*turl;		/* this message's tracking URL */
	size_t			 turl_len;
	struct store		*st;
	/* links[i].url is set from urls and url_off[i] once all are in */
	struct store_link	*links;
	size_t			*url_off;
	size_t			 nlinks, caplinks;
	struct buf		 urls;		/* the URLs, each NUL-terminated */
	int			 clicks;	/* rewrite links */
	int			 failed;
	const struct seal_keys	*keys;		/* sealed links; NULL: stored IDs */
	uint64_t		 mseq;		/* the message's sequence */
	int64_t			 time_us;	/* its send time */
};

/* one message on its way through rewrite_message */
struct rwmsg {
	const struct config		*cfg;
	struct store			*st;
	const struct rewrite_info	*info;
	const char			*msg;
	size_t				 len;
	struct rewrite_result		*r;
	struct mime_msg			 m;
	int				 parsed;
	struct rw			 rw;		/* the links */
	int				 opens;		/* insert the pixel */
	char				*campaign;
	char				 sdomain[256];	/* sending domain, "" unknown */
	uint64_t			 mseq, hpseq;	/* the message's, the honeypot link's */
	struct buf			 px;		/* the HTML after each body: honeypot, pixel */
	int				 pixel_done;
	struct splice			*sp;		/* the body's changes */
	size_t				 nsp;
};

/* host of an absolute URL: after "://", without userinfo and port */
static const char *
url_host(const char *url, size_t *hlen)
{
	const char	*h = strstr(url, "://"), *e, *at;

	if (h == NULL)
		return NULL;
	h += 3;
	e = h + strcspn(h, "/?#");
	if ((at = memrchr(h, '@', (size_t)(e - h))) != NULL)
		h = at + 1;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb)
			e = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));

		if (colon)
			e = colon;
	}
	*hlen = (size_t)(e - h);
	return h;
}

/* url_under - url is base or lies below it */
static int
url_under(const char *url, const char *base, size_t blen)
{
	return strncasecmp(url, base, blen) == 0 &&
	    (url[blen] == '/' || url[blen] == '\0' || url[blen] == '?');
}

/* is_tracking_url - url points at this message's or any configured tracking URL */
static int
is_tracking_url(const struct config *cfg, const char *turl, const char *url)
{
	struct config_tdomain	td;
	size_t			i;

	if (url_under(url, turl, strlen(turl)) ||
	    url_under(url, cfg->tracking_url, strlen(cfg->tracking_url)))
		return 1;
	for (i = 0; cfg->tracking_domains && cfg->tracking_domains[i]; i++)
		if (config_tdomain(cfg->tracking_domains[i], &td) == 0 &&
		    url_under(url, td.url, strlen(td.url)))
			return 1;
	return 0;
}

/* links_grow - room for one more link */
static int
links_grow(struct rw *rw)
{
	struct store_link	*v;
	size_t			*o, cap;

	if (rw->nlinks < rw->caplinks)
		return 0;
	cap = rw->caplinks ? rw->caplinks * 2 : 32;
	if ((v = realloc(rw->links, cap * sizeof(*v))) == NULL)
		return -1;
	rw->links = v;
	if ((o = realloc(rw->url_off, cap * sizeof(*o))) == NULL)
		return -1;
	rw->url_off = o;
	rw->caplinks = cap;
	return 0;
}

/*
 * rw_ref - append the public reference of a link (SEAL_CLICK: seq, its
 * position and URL) or of the message (SEAL_OPEN): a sealed token with
 * link_mode = sealed, else the stored ID; 0 or -1
 */
static int
rw_ref(const struct rw *rw, enum seal_kind kind, uint64_t seq, size_t pos,
    const char *url, size_t url_len, int honeypot, struct buf *out)
{
	struct seal_msg	sm;
	char		id[ID_LEN + 1];

	if (rw->keys == NULL) {
		id_encode(store_key(rw->st), kind == SEAL_CLICK ? ID_LINK :
		    ID_MSG, seq, id);
		return buf_append(out, id, ID_LEN);
	}
	memset(&sm, 0, sizeof(sm));
	sm.kind = kind;
	sm.honeypot = honeypot;
	sm.msg = rw->mseq;
	sm.link = kind == SEAL_CLICK ? seq : 0;
	sm.pos = (unsigned)pos;
	sm.sent_us = rw->time_us;
	sm.url = url;
	sm.url_len = url_len;
	return seal_token(rw->keys, &sm, out);
}

/* link_track - the html callback: allocate an ID, remember the URL */
static int
link_track(void *arg, const struct html_link *l, struct buf *repl)
{
	struct rw		*rw = arg;
	const char		*turl = rw->turl, *host;
	size_t			 hlen;
	uint64_t		 seq;

	if (!rw->clicks)
		return 0;
	if (l->url_len > REWRITE_URL_MAX) {
		log_info("link skipped length=%zu reason=\"longer than %d\"",
		    l->url_len, REWRITE_URL_MAX);
		return 0;
	}
	/* a link to one of our tracking URLs is already tracked */
	if (is_tracking_url(rw->cfg, turl, l->url))
		return 0;
	host = url_host(l->url, &hlen);
	if (host && config_host_in(rw->cfg->exclude_domains, host, hlen))
		return 0;
	if (links_grow(rw) == -1)
		goto fail;
	if (store_reserve(rw->st, ID_LINK, 1, &seq) == -1)
		goto fail;
	rw->url_off[rw->nlinks] = rw->urls.len;
	if (buf_append(&rw->urls, l->url, l->url_len + 1) == -1)
		goto fail;
	rw->links[rw->nlinks].seq = seq;
	if (buf_append(repl, turl, rw->turl_len) == -1 ||
	    buf_append(repl, "/click/", 7) == -1 ||
	    rw_ref(rw, SEAL_CLICK, seq, rw->nlinks, l->url, l->url_len, 0,
	    repl) == -1)
		goto fail;
	rw->nlinks++;
	return 1;
fail:
	rw->failed = 1;
	return -1;
}

static void
splice_free(struct splice *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].data);
	free(s);
}

static int
splice_add(struct splice **v, size_t *n, size_t start, size_t end,
    char *data, size_t len)
{
	struct splice *p;

	if ((p = realloc(*v, (*n + 1) * sizeof(*p))) == NULL) {
		free(data);
		return -1;
	}
	*v = p;
	p[*n].start = start;
	p[*n].end = end;
	p[*n].data = data;
	p[*n].len = len;
	p[*n].enc = MIME_ENC_OTHER;
	p[*n].nl = NULL;
	p[*n].trim_nl = 0;
	(*n)++;
	return 0;
}

static int
hdr_add(struct rewrite_result *r, const char *name, unsigned index,
    const char *value)
{
	struct rewrite_hdr *h;

	if (r->nhdrs == REWRITE_MAX_HDRS)
		return -1;
	h = &r->hdrs[r->nhdrs];
	h->name = strdup(name);
	h->value = value ? strdup(value) : NULL;
	h->index = index;
	if (h->name == NULL || (value && h->value == NULL)) {
		free(h->name);
		free(h->value);
		return -1;
	}
	r->nhdrs++;
	return 0;
}

/* count the top-level occurrences of a header, to delete every one */
static unsigned
hdr_count(const struct mime_msg *m, const char *msg, const char *name)
{
	size_t		 nlen = strlen(name), i = 0;
	unsigned	 n = 0;

	(void)m;
	while (i < m->hdr_end) {
		if (m->hdr_end - i > nlen && strncasecmp(msg + i, name, nlen) == 0) {
			size_t j = i + nlen;

			while (j < m->hdr_end && (msg[j] == ' ' || msg[j] == '\t'))
				j++;
			if (j < m->hdr_end && msg[j] == ':')
				n++;
		}
		while (i < m->hdr_end && msg[i] != '\n')
			i++;
		i++;
	}
	return n;
}

/*
 * part_text - the part's content decoded (into dec), and converted to
 * UTF-8 when its charset is wider than ASCII (into *conv): *work, *worklen.
 * 0, or 1 when the part is left alone (malformed base64 too: mime_intact).
 */
static int
part_text(const struct mime_part *p, struct buf *dec, char **conv,
    const char **work, gsize *worklen)
{
	if (!mime_intact(p)) {
		log_info("part skipped reason=\"malformed base64\"");
		return 1;
	}
	if (mime_decode(p, dec) == -1) {
		log_debug("part skipped reason=\"cannot decode\"");
		return 1;
	}
	*work = dec->data ? dec->data : "";
	*worklen = dec->len;
	if (p->charset[0] && mime_charset_wide(p->charset)) {
		*conv = g_convert(*work, (gssize)*worklen, "UTF-8", p->charset,
		    NULL, worklen, NULL);
		if (*conv == NULL) {
			log_info("part skipped charset=%.60s reason=\"conversion"
			    " failed\"", p->charset);
			return 1;
		}
		*work = *conv;
	}
	return 0;
}

/*
 * part_links - the content with its links (and the pixel, once per
 * message) rewritten into out, what was done in *hr. 0, 1 when the part
 * is left alone (nothing to change, or HTML that would not parse), -1.
 */
static int
part_links(struct rwmsg *x, const struct mime_part *p, const char *work,
    gsize worklen, struct buf *out, struct html_result *hr)
{
	struct html_opts ho;

	memset(hr, 0, sizeof(*hr));
	if (strcmp(p->subtype, "plain") == 0) {
		if (text_rewrite(work, worklen, link_track, &x->rw, out,
		    &hr->links_rewritten) == -1)
			return -1;
	} else {
		memset(&ho, 0, sizeof(ho));
		ho.link_fn = link_track;
		ho.arg = &x->rw;
		if (x->px.len && !x->pixel_done) {
			ho.pixel = x->px.data;
			ho.pixel_len = x->px.len;
			ho.pixel_top = x->cfg->pixel_position == PIXEL_TOP;
		}
		if (html_rewrite(work, worklen, &ho, out, hr) == -1) {
			if (x->rw.failed)
				return -1;
			log_info("part skipped reason=\"html rewrite failed\"");
			return 1;
		}
	}
	return hr->links_rewritten == 0 && !hr->pixel_inserted &&
	    hr->optouts_removed == 0;
}

/* part_back - out converted back from UTF-8 to the part's charset; 0, 1 left alone, -1 */
static int
part_back(const struct mime_part *p, struct buf *out)
{
	char	*back;
	gsize	 backlen;
	int	 rc;

	back = g_convert(out->data, (gssize)out->len, p->charset, "UTF-8",
	    NULL, &backlen, NULL);
	if (back == NULL) {
		log_info("part skipped charset=%.60s reason=\"conversion"
		    " back failed\"", p->charset);
		return 1;
	}
	buf_reset(out);
	rc = buf_append(out, back, backlen);
	g_free(back);
	return rc;
}

/* part_nl - the part's line ends: as its raw first line has them, else the headers' */
static const char *
part_nl(const struct rwmsg *x, const struct mime_part *p)
{
	const char *lf = memchr(x->msg + p->body_start, '\n',
	    p->body_end - p->body_start);

	if (lf == NULL)
		return x->m.nl;
	return lf > x->msg + p->body_start && lf[-1] == '\r' ? "\r\n" : "\n";
}

/* part_cte - the part's new Content-Transfer-Encoding e: a header edit or a splice; 0 or -1 */
static int
part_cte(struct rwmsg *x, const struct mime_part *p, enum mime_enc e,
    const char *nl)
{
	char	 line[128], *h;
	int	 n;

	snprintf(line, sizeof(line), " %s", mime_enc_name(e));
	if (p->top)
		return hdr_add(x->r, "Content-Transfer-Encoding",
		    p->cte_start >= 0 ? 1 : 0, line);
	if ((n = asprintf(&h, "Content-Transfer-Encoding:%s%s", line, nl)) < 0)
		return -1;
	if (p->cte_start >= 0)
		return splice_add(&x->sp, &x->nsp, (size_t)p->cte_start,
		    p->cte_end, h, (size_t)n);
	/* a new header line right after the others (after a line end: checked) */
	return splice_add(&x->sp, &x->nsp, p->hdr_end, p->hdr_end, h,
	    (size_t)n);
}

/* part_splice - the new content, encoded as e when the body is put together */
static int
part_splice(struct rwmsg *x, const struct mime_part *p, struct buf *out,
    enum mime_enc e, const char *nl)
{
	struct splice	*sp;
	size_t		 olen;
	char		*odata = buf_steal(out, &olen);

	if (splice_add(&x->sp, &x->nsp, p->body_start, p->body_end, odata,
	    olen) == -1)
		return -1;
	sp = &x->sp[x->nsp - 1];
	sp->enc = e;
	sp->nl = nl;
	/*
	 * The base64 writer ends with a line end; the raw content may not
	 * have one (the boundary's CRLF follows it): keep the original shape.
	 */
	sp->trim_nl = e == MIME_ENC_BASE64 && !(p->body_end > p->body_start &&
	    x->msg[p->body_end - 1] == '\n');
	return 0;
}

/*
 * rewrite_part - one HTML (or plain text) part: its content, its links,
 * its charset back, its encoding (QP when the old one no longer fits).
 * Adds splices or header edits; 0 (also when the part is left alone) or -1.
 */
static int
rewrite_part(struct rwmsg *x, const struct mime_part *p)
{
	struct buf		 dec = BUF_INIT, out = BUF_INIT;
	struct html_result	 hr;
	const char		*nl, *work;
	char			*conv = NULL;
	gsize			 worklen;
	enum mime_enc		 e;
	int			 rc;

	if ((rc = part_text(p, &dec, &conv, &work, &worklen)) != 0 ||
	    (rc = part_links(x, p, work, worklen, &out, &hr)) != 0 ||
	    (conv && (rc = part_back(p, &out)) != 0))
		goto out;
	nl = part_nl(x, p);
	e = mime_fits(p->enc, out.data, out.len) ? p->enc : MIME_ENC_QP;
	if (e != p->enc && !p->top && p->cte_start < 0 && p->hdr_end > 0 &&
	    x->msg[p->hdr_end - 1] != '\n') {
		/* no header line to add the new encoding after: unusual */
		log_info("part skipped reason=\"no place for its"
		    " Content-Transfer-Encoding\"");
		rc = 1;
		goto out;
	}
	if ((rc = part_splice(x, p, &out, e, nl)) != 0 ||
	    (e != p->enc && (rc = part_cte(x, p, e, nl)) != 0))
		goto out;
	if (hr.pixel_inserted)
		x->pixel_done = 1;
	x->r->parts++;
out:
	g_free(conv);
	buf_free(&dec);
	buf_free(&out);
	return rc == -1 ? -1 : 0;
}

static int
splice_cmp(const void *a, const void *b)
{
	const struct splice *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* what a step of rewrite_message says: go on, leave the message as it is, fail */
#define STEP_ON		0
#define STEP_SKIP	1
#define STEP_FAIL	(-1)

/* step_skip - the message stays as it is, for reason */
static int
step_skip(struct rwmsg *x, const char *reason)
{
	x->r->skip = reason;
	return STEP_SKIP;
}

/* step_fail - the message cannot be tracked: the caller sends it unchanged */
static int
step_fail(struct rwmsg *x, const char *reason)
{
	x->r->skip = reason;
	return STEP_FAIL;
}

/* step_parse - the size limit, the MIME structure */
static int
step_parse(struct rwmsg *x)
{
	const char *why;

	if (x->len > x->cfg->max_message_size)
		return step_skip(x, "message larger than max_message_size");
	if (mime_parse(&x->m, x->msg, x->len, &why) == -1)
		return step_skip(x, why);
	x->parsed = 1;
	return STEP_ON;
}

/* hdr_remove - every top-level header name: deleted before sending; 0 or -1 */
static int
hdr_remove(struct rwmsg *x, const char *name)
{
	unsigned n;

	for (n = hdr_count(&x->m, x->msg, name); n > 0; n--)
		if (hdr_add(x->r, name, n, NULL) == -1)
			return -1;
	return 0;
}

/* step_policy - X-Mtrack (off | opens | clicks, removed), seals, DKIM, the configuration */
static int
step_policy(struct rwmsg *x)
{
	char	*mode, *v, *dkim;
	int	 off = 0;

	if ((mode = mime_header(&x->m, "X-Mtrack")) != NULL) {
		for (v = mode; *v == ' '; v++)
			;
		if (hdr_remove(x, "X-Mtrack") == -1) {
			free(mode);
			return step_fail(x, NULL);
		}
		if (strncasecmp(v, "off", 3) == 0 || strncasecmp(v, "no", 2) == 0)
			off = 1;
		else if (strncasecmp(v, "opens", 5) == 0)
			x->rw.clicks = 0;
		else if (strncasecmp(v, "clicks", 6) == 0)
			x->opens = 0;
		free(mode);
		if (off)
			return step_skip(x, "X-Mtrack: off");
	}
	if (x->m.sealed)
		return step_skip(x, "signed or encrypted");
	if (!x->cfg->track_dkim_signed &&
	    (dkim = mime_header(&x->m, "DKIM-Signature")) != NULL) {
		free(dkim);
		return step_skip(x, "already DKIM-signed");
	}
	if (!x->rw.clicks && !x->opens)
		return step_skip(x, "tracking disabled");
	return STEP_ON;
}

/* step_campaign - its own header (removed before sending), else List-Id; trimmed */
static int
step_campaign(struct rwmsg *x)
{
	const char	*h = x->cfg->campaign_header;
	char		*c;

	if ((x->campaign = mime_header(&x->m, h)) != NULL) {
		if (hdr_remove(x, h) == -1)
			return step_fail(x, NULL);
	} else
		x->campaign = mime_header(&x->m, "List-Id");
	if (x->campaign == NULL)
		return STEP_ON;
	c = x->campaign + strspn(x->campaign, " \t");
	memmove(x->campaign, c, strlen(c) + 1);
	for (c = x->campaign + strlen(x->campaign); c > x->campaign &&
	    (c[-1] == ' ' || c[-1] == '\t'); c--)
		c[-1] = '\0';
	return STEP_ON;
}

/* step_domain - the sending domain (From, then envelope) and its tracking URL */
static int
step_domain(struct rwmsg *x)
{
	const struct rewrite_info	*info = x->info;
	char				*from;
	int				 unverified;

	from = mime_header(&x->m, "From");
	if (from == NULL || dnsname_of_address(from, x->sdomain,
	    sizeof(x->sdomain)) == -1)
		if (info == NULL || info->from == NULL ||
		    dnsname_of_address(info->from, x->sdomain,
		    sizeof(x->sdomain)) == -1)
			x->sdomain[0] = '\0';
	unverified = domain_pick(x->cfg, x->st, from, info ? info->from : NULL,
	    info ? info->queue_id : NULL, &x->rw.turl);
	free(from);
	x->rw.turl_len = x->rw.turl ? strlen(x->rw.turl) : 0;
	return unverified ? step_skip(x, "tracking domain not verified") :
	    STEP_ON;
}

/*
 * step_ids - the message's ID, and the HTML each body gets: an invisible
 * link no person clicks (whoever follows it is a scanner), the pixel
 */
static int
step_ids(struct rwmsg *x)
{
	const char	*turl = x->rw.turl;

	if (store_reserve(x->st, ID_MSG, 1, &x->mseq) == -1)
		return step_fail(x, "store: cannot reserve an id");
	x->rw.mseq = x->mseq;
	if (rw_ref(&x->rw, SEAL_OPEN, x->mseq, 0, NULL, 0, 0, &x->px) == -1 ||
	    x->px.len > REWRITE_MSGID_MAX)
		return step_fail(x, "cannot seal the message's reference");
	memcpy(x->r->msg_id, x->px.data, x->px.len + 1);
	buf_reset(&x->px);
	if (x->cfg->honeypot && x->rw.clicks) {
		if (store_reserve(x->st, ID_LINK, 1, &x->hpseq) == -1)
			return step_fail(x, "store: cannot reserve an id");
		/* sealed, it leads to the tracking URL itself */
		if (buf_printf(&x->px, "<a href=\"%s/click/", turl) == -1 ||
		    rw_ref(&x->rw, SEAL_CLICK, x->hpseq, 0, turl,
		    x->rw.turl_len, 1, &x->px) == -1 ||
		    buf_puts(&x->px, "\" style=\"display:none!important;"
		    "mso-hide:all\" aria-hidden=\"true\" tabindex=\"-1\"></a>") == -1)
			return step_fail(x, "out of memory");
	}
	if (x->opens && buf_printf(&x->px, "<img src=\"%s/open/%s.png\" width=\"1\""
	    " height=\"1\" alt=\"\" style=\"" REWRITE_PIXEL_STYLE "\">", turl,
	    x->r->msg_id) == -1)
		return step_fail(x, "out of memory");
	return STEP_ON;
}

/* step_parts - each HTML part (and plain text, when asked) rewritten into splices */
static int
step_parts(struct rwmsg *x)
{
	size_t i;

	for (i = 0; i < x->m.nparts; i++) {
		const struct mime_part *p = &x->m.parts[i];

		if (strcmp(p->type, "text") != 0 || p->attachment ||
		    p->enc == MIME_ENC_OTHER || p->body_end <= p->body_start)
			continue;
		if (strcmp(p->subtype, "html") != 0 &&
		    !(strcmp(p->subtype, "plain") == 0 && x->rw.clicks &&
		    x->cfg->track_text_links))
			continue;
		if (rewrite_part(x, p) == -1)
			return step_fail(x, x->rw.failed ?
			    "store: cannot allocate link ids" : "out of memory");
	}
	x->r->links = (unsigned)x->rw.nlinks;
	x->r->pixel = x->pixel_done && x->opens;
	return STEP_ON;
}

/*
 * step_links - the honeypot, when inserted, joins the links (its target:
 * the message's first URL); the URLs have stopped moving
 */
static int
step_links(struct rwmsg *x)
{
	struct rw	*rw = &x->rw;
	size_t		 i;

	if (x->hpseq && x->pixel_done) {
		if (links_grow(rw) == -1)
			return step_fail(x, "out of memory");
		rw->links[rw->nlinks].seq = x->hpseq;
		if (rw->nlinks) {
			rw->url_off[rw->nlinks] = rw->url_off[0];
		} else {
			rw->url_off[rw->nlinks] = rw->urls.len;
			if (buf_append(&rw->urls, rw->turl, rw->turl_len + 1) == -1)
				return step_fail(x, "out of memory");
		}
		rw->nlinks++;
	} else
		x->hpseq = 0;
	for (i = 0; i < rw->nlinks; i++)
		rw->links[i].url = rw->urls.data + rw->url_off[i];
	if (x->nsp == 0) {
		x->r->msg_id[0] = '\0';
		return step_skip(x, "no HTML part with links");
	}
	return STEP_ON;
}

/* body_reserve - room for the whole new body: the encoders' worst cases, no moves */
static int
body_reserve(struct rwmsg *x)
{
	size_t total = x->len - x->m.body_start, worst, i;

	for (i = 0; i < x->nsp; i++) {
		const struct splice *sp = &x->sp[i];

		if (sp->len > SIZE_MAX / 8)
			return -1;
		worst = sp->enc == MIME_ENC_QP ? sp->len * 4 + 64 :
		    sp->enc == MIME_ENC_BASE64 ? sp->len / 3 * 5 + 64 : sp->len;
		total += worst - (sp->end - sp->start);
	}
	return buf_reserve(&x->r->body, total);
}

/* splice_write - one splice onto body: as it is, or encoded as its part is */
static int
splice_write(const struct splice *sp, struct buf *body)
{
	size_t at = body->len;

	if (sp->enc == MIME_ENC_OTHER) {
		if (buf_append(body, sp->data, sp->len) == -1)
			return -1;
	} else if (mime_encode(sp->enc, sp->nl, sp->data, sp->len, body) == -1)
		return -1;
	if (sp->trim_nl && body->len > at && body->data[body->len - 1] == '\n') {
		body->len -= body->len - at >= 2 &&
		    body->data[body->len - 2] == '\r' ? 2 : 1;
		body->data[body->len] = '\0';
	}
	return 0;
}

/* step_body - the original after the blank line, with the splices */
static int
step_body(struct rwmsg *x)
{
	struct buf	*body = &x->r->body;
	size_t		 i, pos = x->m.body_start;

	qsort(x->sp, x->nsp, sizeof(*x->sp), splice_cmp);
	for (i = 0; i < x->nsp; i++) {
		if (x->sp[i].start < pos || x->sp[i].end > x->len)
			return step_fail(x, "overlapping parts");
		pos = x->sp[i].end;
	}
	if (body_reserve(x) == -1)
		return step_fail(x, "out of memory");
	pos = x->m.body_start;
	for (i = 0; i < x->nsp; i++) {
		if (buf_append(body, x->msg + pos, x->sp[i].start - pos) == -1 ||
		    splice_write(&x->sp[i], body) == -1)
			return step_fail(x, "out of memory");
		pos = x->sp[i].end;
	}
	if (buf_append(body, x->msg + pos, x->len - pos) == -1)
		return step_fail(x, "out of memory");
	/* before anything is recorded: the mail would go out untracked */
	if (!rewrite_body_fits(body->len))
		return step_fail(x, "new body larger than the milter protocol allows");
	return STEP_ON;
}

/* step_record - the message and its links into the store, durably */
static int
step_record(struct rwmsg *x)
{
	const struct rewrite_info	*info = x->info;
	struct store_msg		 sm;
	char				*mid;
	int				 rc;

	mid = mime_header(&x->m, "Message-ID");
	memset(&sm, 0, sizeof(sm));
	sm.seq = x->mseq;
	sm.time_us = x->rw.time_us;
	sm.message_id = mid ? mid + strspn(mid, " ") : NULL;
	sm.queue_id = info ? info->queue_id : NULL;
	sm.from = info ? info->from : NULL;
	sm.rcpt = info ? info->rcpt : NULL;
	sm.nrcpt = info ? info->nrcpt : 0;
	sm.links = x->rw.links;
	sm.nlinks = x->rw.nlinks;
	sm.pixel = x->pixel_done && x->opens;
	sm.campaign = x->campaign;
	sm.domain = x->sdomain[0] ? x->sdomain : NULL;
	sm.honeypot = x->hpseq;
	rc = store_put_message(x->st, &sm);
	free(mid);
	if (rc == -1)
		return step_fail(x, "store: cannot record the message");
	if (!x->r->pixel)
		x->r->msg_id[0] = '\0';
	x->r->changed = 1;
	return STEP_ON;
}

int
rewrite_message(const struct config *cfg, struct store *st,
    const struct rewrite_info *info, const char *msg, size_t len,
    struct rewrite_result *r)
{
	struct rwmsg	x;
	int		rc;

	memset(r, 0, sizeof(*r));
	memset(&x, 0, sizeof(x));
	x.cfg = cfg;
	x.st = st;
	x.info = info;
	x.msg = msg;
	x.len = len;
	x.r = r;
	x.rw.cfg = cfg;
	x.rw.st = st;
	x.rw.clicks = cfg->track_clicks;
	x.rw.keys = info ? info->keys : NULL;
	x.rw.time_us = now_us();
	x.opens = cfg->track_opens;

	if ((rc = step_parse(&x)) == STEP_ON &&
	    (rc = step_policy(&x)) == STEP_ON &&
	    (rc = step_campaign(&x)) == STEP_ON &&
	    (rc = step_domain(&x)) == STEP_ON &&
	    (rc = step_ids(&x)) == STEP_ON &&
	    (rc = step_parts(&x)) == STEP_ON &&
	    (rc = step_links(&x)) == STEP_ON &&
	    (rc = step_body(&x)) == STEP_ON)
		rc = step_record(&x);
	if (rc == STEP_FAIL) {
		r->changed = 0;
		buf_free(&r->body);
	}
	free(x.rw.links);
	free(x.rw.url_off);
	buf_free(&x.rw.urls);
	splice_free(x.sp, x.nsp);
	free(x.campaign);
	buf_free(&x.px);
	if (x.parsed)
		mime_free(&x.m);
	return rc == STEP_FAIL ? -1 : 0;
}

int
rewrite_body_fits(size_t len)
{
	return len <= REWRITE_BODY_MAX;
}

void
rewrite_result_free(struct rewrite_result *r)
{
	size_t i;

	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	r->nhdrs = 0;
	buf_free(&r->body);
}

int
rewrite_apply_headers(const struct rewrite_result *r, const char *hdr,
    size_t len, const char *nl, struct buf *out)
{
	unsigned	 seen[REWRITE_MAX_HDRS];
	size_t		 i = 0, e, j, nlen;

	memset(seen, 0, sizeof(seen));
	while (i < len) {
		const struct rewrite_hdr *edit = NULL;

		/* one header: its first line and its continuation lines */
		e = i;
		do {
			while (e < len && hdr[e] != '\n')
				e++;
			if (e < len)
				e++;
		} while (e < len && (hdr[e] == ' ' || hdr[e] == '\t'));
		for (j = 0; j < r->nhdrs; j++) {
			nlen = strlen(r->hdrs[j].name);
			if (r->hdrs[j].index == 0 || e - i <= nlen ||
			    strncasecmp(hdr + i, r->hdrs[j].name, nlen) != 0 ||
			    hdr[i + nlen] != ':')
				continue;
			if (++seen[j] == r->hdrs[j].index)
				edit = &r->hdrs[j];
		}
		if (edit == NULL) {
			if (buf_append(out, hdr + i, e - i) == -1)
				return -1;
		} else if (edit->value && buf_printf(out, "%s:%s%s",
		    edit->name, edit->value, nl) == -1)
			return -1;
		i = e;
	}
	for (j = 0; j < r->nhdrs; j++)
		if (r->hdrs[j].index == 0 && r->hdrs[j].value &&
		    buf_printf(out, "%s:%s%s", r->hdrs[j].name, r->hdrs[j].value,
		    nl) == -1)
			return -1;
	return 0;
}
