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
	const char	*eq;
	size_t		 i;

	if (url_under(url, turl, strlen(turl)) ||
	    url_under(url, cfg->tracking_url, strlen(cfg->tracking_url)))
		return 1;
	for (i = 0; cfg->tracking_domains && cfg->tracking_domains[i]; i++) {
		if ((eq = strchr(cfg->tracking_domains[i], '=')) == NULL)
			continue;
		/* config_load took the trailing '/' off */
		if (url_under(url, eq + 1, strlen(eq + 1)))
			return 1;
	}
	return 0;
}

/* rw_grow - room for one more link */
static int
rw_grow(struct rw *rw)
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

/* rw_link - the html callback: allocate an ID, remember the URL */
static int
rw_link(void *arg, const struct html_link *l, struct buf *repl)
{
	struct rw		*rw = arg;
	const char		*turl = rw->turl, *host;
	size_t			 hlen;
	uint64_t		 seq;
	char			 id[ID_LEN + 1];

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
	if (rw_grow(rw) == -1)
		goto fail;
	if (store_reserve(rw->st, ID_LINK, 1, &seq) == -1)
		goto fail;
	rw->url_off[rw->nlinks] = rw->urls.len;
	if (buf_append(&rw->urls, l->url, l->url_len + 1) == -1)
		goto fail;
	rw->links[rw->nlinks++].seq = seq;
	id_encode(store_key(rw->st), ID_LINK, seq, id);
	if (buf_append(repl, turl, rw->turl_len) == -1 ||
	    buf_append(repl, "/click/", 7) == -1 ||
	    buf_append(repl, id, ID_LEN) == -1)
		goto fail;
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

/* rewrite_part - rewrite one HTML (or plain text) part; adds splices or header edits */
static int
rewrite_part(struct rw *rw, const struct mime_msg *m, const struct mime_part *p,
    const char *msg, const char *pixel, int *pixel_done,
    struct splice **sp, size_t *nsp, struct rewrite_result *r)
{
	struct buf		 dec = BUF_INIT, out = BUF_INIT;
	struct html_opts	 ho;
	struct html_result	 hr;
	const char		*nl, *work;
	char			*conv = NULL, *back = NULL;
	gsize			 worklen, backlen;
	enum mime_enc		 e;
	int			 rc = -1;
	char			 line[128];

	if (mime_decode(p, &dec) == -1) {
		log_debug("part skipped reason=\"cannot decode\"");
		rc = 0;
		goto out;
	}
	work = dec.data ? dec.data : "";
	worklen = dec.len;
	if (p->charset[0] && mime_charset_wide(p->charset)) {
		conv = g_convert(work, (gssize)worklen, "UTF-8", p->charset,
		    NULL, &worklen, NULL);
		if (conv == NULL) {
			log_info("part skipped charset=%.60s reason=\"conversion"
			    " failed\"", p->charset);
			rc = 0;
			goto out;
		}
		work = conv;
	}
	memset(&hr, 0, sizeof(hr));
	if (strcmp(p->subtype, "plain") == 0) {
		if (text_rewrite(work, worklen, rw_link, rw, &out,
		    &hr.links_rewritten) == -1)
			goto out;
	} else {
		memset(&ho, 0, sizeof(ho));
		ho.link_fn = rw_link;
		ho.arg = rw;
		if (pixel && !*pixel_done) {
			ho.pixel = pixel;
			ho.pixel_len = strlen(pixel);
			ho.pixel_top = rw->cfg->pixel_position == PIXEL_TOP;
		}
		if (html_rewrite(work, worklen, &ho, &out, &hr) == -1) {
			if (rw->failed)
				goto out;
			log_info("part skipped reason=\"html rewrite failed\"");
			rc = 0;
			goto out;
		}
	}
	if (hr.links_rewritten == 0 && !hr.pixel_inserted &&
	    hr.optouts_removed == 0) {
		rc = 0;
		goto out;
	}
	if (conv) {
		back = g_convert(out.data, (gssize)out.len, p->charset, "UTF-8",
		    NULL, &backlen, NULL);
		if (back == NULL) {
			log_info("part skipped charset=%.60s reason=\"conversion"
			    " back failed\"", p->charset);
			rc = 0;
			goto out;
		}
		buf_reset(&out);
		if (buf_append(&out, back, backlen) == -1)
			goto out;
	}
	{
		/* line ends: as the raw part's first line has them, else the headers' */
		const char *lf = memchr(msg + p->body_start, '\n',
		    p->body_end - p->body_start);

		nl = lf == NULL ? m->nl : lf > msg + p->body_start &&
		    lf[-1] == '\r' ? "\r\n" : "\n";
	}
	e = p->enc;
	if (!mime_fits(e, out.data, out.len))
		e = MIME_ENC_QP;
	if (e != p->enc && !p->top && p->cte_start < 0 && p->hdr_end > 0 &&
	    msg[p->hdr_end - 1] != '\n') {
		/* no header line to add the new encoding after: unusual */
		log_info("part skipped reason=\"no place for its"
		    " Content-Transfer-Encoding\"");
		rc = 0;
		goto out;
	}
	{
		/* encoded when the body is put together, straight into it */
		size_t	 olen;
		char	*odata = buf_steal(&out, &olen);

		if (splice_add(sp, nsp, p->body_start, p->body_end, odata,
		    olen) == -1)
			goto out;
		(*sp)[*nsp - 1].enc = e;
		(*sp)[*nsp - 1].nl = nl;
		/*
		 * The base64 writer ends with a line end; the raw content may
		 * not have one (the boundary's CRLF follows it): keep the
		 * original shape.
		 */
		(*sp)[*nsp - 1].trim_nl = e == MIME_ENC_BASE64 &&
		    !(p->body_end > p->body_start && msg[p->body_end - 1] == '\n');
	}
	if (e != p->enc) {
		snprintf(line, sizeof(line), " %s", mime_enc_name(e));
		if (p->top) {
			if (hdr_add(r, "Content-Transfer-Encoding",
			    p->cte_start >= 0 ? 1 : 0, line) == -1)
				goto out;
		} else {
			char *h;
			int   n = asprintf(&h, "Content-Transfer-Encoding:%s%s",
			    line, nl);

			if (n < 0)
				goto out;
			if (p->cte_start >= 0) {
				if (splice_add(sp, nsp, (size_t)p->cte_start,
				    p->cte_end, h, (size_t)n) == -1)
					goto out;
			} else {
				/* a new header line right after the others */
				size_t at = p->hdr_end;

				/* after a line end: checked above */
				if (splice_add(sp, nsp, at, at, h, (size_t)n) == -1)
					goto out;
			}
		}
	}
	if (hr.pixel_inserted)
		*pixel_done = 1;
	r->parts++;
	rc = 0;
out:
	g_free(conv);
	g_free(back);
	buf_free(&dec);
	buf_free(&out);
	return rc;
}

static int
splice_cmp(const void *a, const void *b)
{
	const struct splice *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int
rewrite_message(const struct config *cfg, struct store *st,
    const struct rewrite_info *info, const char *msg, size_t len,
    struct rewrite_result *r)
{
	struct mime_msg		 m;
	struct rw		 rw;
	struct splice		*sp = NULL;
	struct store_msg	 sm;
	const char		*why;
	char			*mode = NULL, *mid = NULL, *from, *campaign = NULL;
	char			 sdomain[256];
	const char		*pixel;
	struct buf		 px = BUF_INIT;
	uint64_t		 hpseq = 0;
	int			 opens, pixel_done = 0, parsed = 0, rc = -1;
	int			 unverified;
	size_t			 i, pos;
	size_t			 nsp = 0;
	unsigned		 n;
	uint64_t		 mseq = 0;

	memset(r, 0, sizeof(*r));
	memset(&rw, 0, sizeof(rw));
	rw.cfg = cfg;
	rw.st = st;
	rw.clicks = cfg->track_clicks;
	opens = cfg->track_opens;

	if (len > cfg->max_message_size) {
		r->skip = "message larger than max_message_size";
		return 0;
	}
	if (mime_parse(&m, msg, len, &why) == -1) {
		r->skip = why;
		return 0;
	}
	parsed = 1;
	/* X-Mtrack: off | opens | clicks, removed before sending */
	if ((mode = mime_header(&m, "X-Mtrack")) != NULL) {
		char *v = mode;

		while (*v == ' ')
			v++;
		for (n = hdr_count(&m, msg, "X-Mtrack"); n > 0; n--)
			if (hdr_add(r, "X-Mtrack", n, NULL) == -1)
				goto fail;
		if (strncasecmp(v, "off", 3) == 0 || strncasecmp(v, "no", 2) == 0) {
			r->skip = "X-Mtrack: off";
			rc = 0;
			goto out;
		}
		if (strncasecmp(v, "opens", 5) == 0)
			rw.clicks = 0;
		else if (strncasecmp(v, "clicks", 6) == 0)
			opens = 0;
	}
	if (m.sealed) {
		r->skip = "signed or encrypted";
		rc = 0;
		goto out;
	}
	if (!cfg->track_dkim_signed &&
	    (mid = mime_header(&m, "DKIM-Signature")) != NULL) {
		r->skip = "already DKIM-signed";
		rc = 0;
		goto out;
	}
	if (!rw.clicks && !opens) {
		r->skip = "tracking disabled";
		rc = 0;
		goto out;
	}
	/* the campaign: its own header (removed before sending), else List-Id */
	if ((campaign = mime_header(&m, cfg->campaign_header)) != NULL) {
		for (n = hdr_count(&m, msg, cfg->campaign_header); n > 0; n--)
			if (hdr_add(r, cfg->campaign_header, n, NULL) == -1)
				goto fail;
	} else
		campaign = mime_header(&m, "List-Id");
	if (campaign) {
		char *c = campaign + strspn(campaign, " \t");

		memmove(campaign, c, strlen(c) + 1);
		for (c = campaign + strlen(campaign); c > campaign &&
		    (c[-1] == ' ' || c[-1] == '\t'); c--)
			c[-1] = '\0';
	}
	/* the tracking domain of the sending domain: From, then envelope */
	from = mime_header(&m, "From");
	if (from == NULL || domain_of_address(from, sdomain, sizeof(sdomain)) == -1)
		if (info == NULL || info->from == NULL ||
		    domain_of_address(info->from, sdomain, sizeof(sdomain)) == -1)
			sdomain[0] = '\0';
	unverified = domain_pick(cfg, st, from, info ? info->from : NULL,
	    info ? info->queue_id : NULL, &rw.turl);
	free(from);
	rw.turl_len = rw.turl ? strlen(rw.turl) : 0;
	if (unverified) {
		r->skip = "tracking domain not verified";
		rc = 0;
		goto out;
	}
	if (store_reserve(st, ID_MSG, 1, &mseq) == -1) {
		r->skip = "store: cannot reserve an id";
		goto fail;
	}
	id_encode(store_key(st), ID_MSG, mseq, r->msg_id);
	/* an invisible link no person clicks: whoever follows it is a scanner */
	if (cfg->honeypot && rw.clicks) {
		char hid[ID_LEN + 1];

		if (store_reserve(st, ID_LINK, 1, &hpseq) == -1) {
			r->skip = "store: cannot reserve an id";
			goto fail;
		}
		id_encode(store_key(st), ID_LINK, hpseq, hid);
		if (buf_printf(&px, "<a href=\"%s/click/%s\" style=\"display:none"
		    "!important;mso-hide:all\" aria-hidden=\"true\" tabindex=\"-1\">"
		    "</a>", rw.turl, hid) == -1)
			goto nomem;
	}
	if (opens && buf_printf(&px, "<img src=\"%s/open/%s.png\" width=\"1\""
	    " height=\"1\" alt=\"\" style=\"display:block;border:0;width:1px;"
	    "height:1px\">", rw.turl, r->msg_id) == -1)
		goto nomem;
	pixel = px.len ? px.data : NULL;
	for (i = 0; i < m.nparts; i++) {
		const struct mime_part *p = &m.parts[i];

		if (strcmp(p->type, "text") != 0 || p->attachment ||
		    p->enc == MIME_ENC_OTHER || p->body_end <= p->body_start)
			continue;
		if (strcmp(p->subtype, "html") != 0 &&
		    !(strcmp(p->subtype, "plain") == 0 && rw.clicks &&
		    cfg->track_text_links))
			continue;
		if (rewrite_part(&rw, &m, p, msg, pixel, &pixel_done, &sp, &nsp,
		    r) == -1) {
			r->skip = rw.failed ? "store: cannot allocate link ids" :
			    "out of memory";
			goto fail;
		}
	}
	r->links = (unsigned)rw.nlinks;
	r->pixel = pixel_done && opens;
	/* the honeypot is recorded with the message's first URL as target */
	if (hpseq && pixel_done) {
		if (rw_grow(&rw) == -1)
			goto nomem;
		rw.links[rw.nlinks].seq = hpseq;
		if (rw.nlinks) {
			rw.url_off[rw.nlinks] = rw.url_off[0];
		} else {
			rw.url_off[rw.nlinks] = rw.urls.len;
			if (buf_append(&rw.urls, rw.turl, rw.turl_len + 1) == -1)
				goto nomem;
		}
		rw.nlinks++;
	} else
		hpseq = 0;
	/* the URLs have stopped moving */
	for (i = 0; i < rw.nlinks; i++)
		rw.links[i].url = rw.urls.data + rw.url_off[i];
	if (nsp == 0) {
		r->msg_id[0] = '\0';
		r->skip = "no HTML part with links";
		rc = 0;
		goto out;
	}
	/* the body: the original after the blank line, with the splices */
	qsort(sp, nsp, sizeof(*sp), splice_cmp);
	pos = m.body_start;
	for (i = 0; i < nsp; i++) {
		if (sp[i].start < pos || sp[i].end > len) {
			r->skip = "overlapping parts";
			goto fail;
		}
		pos = sp[i].end;
	}
	{
		/* room for all of it: the encoders' worst cases, no moves */
		size_t total = len - m.body_start, worst;

		for (i = 0; i < nsp; i++) {
			if (sp[i].len > SIZE_MAX / 8)
				goto nomem;
			worst = sp[i].enc == MIME_ENC_QP ? sp[i].len * 4 + 64 :
			    sp[i].enc == MIME_ENC_BASE64 ? sp[i].len / 3 * 5 + 64 :
			    sp[i].len;
			total += worst - (sp[i].end - sp[i].start);
		}
		if (buf_reserve(&r->body, total) == -1)
			goto nomem;
	}
	pos = m.body_start;
	for (i = 0; i < nsp; i++) {
		size_t at;

		if (buf_append(&r->body, msg + pos, sp[i].start - pos) == -1)
			goto nomem;
		at = r->body.len;
		if (sp[i].enc == MIME_ENC_OTHER) {
			if (buf_append(&r->body, sp[i].data, sp[i].len) == -1)
				goto nomem;
		} else if (mime_encode(sp[i].enc, sp[i].nl, sp[i].data,
		    sp[i].len, &r->body) == -1)
			goto nomem;
		if (sp[i].trim_nl && r->body.len > at &&
		    r->body.data[r->body.len - 1] == '\n') {
			r->body.len -= r->body.len - at >= 2 &&
			    r->body.data[r->body.len - 2] == '\r' ? 2 : 1;
			r->body.data[r->body.len] = '\0';
		}
		pos = sp[i].end;
	}
	if (buf_append(&r->body, msg + pos, len - pos) == -1)
		goto nomem;

	mid = mime_header(&m, "Message-ID");
	memset(&sm, 0, sizeof(sm));
	sm.seq = mseq;
	sm.time_us = now_us();
	sm.message_id = mid ? mid + strspn(mid, " ") : NULL;
	sm.queue_id = info ? info->queue_id : NULL;
	sm.from = info ? info->from : NULL;
	sm.rcpt = info ? info->rcpt : NULL;
	sm.nrcpt = info ? info->nrcpt : 0;
	sm.links = rw.links;
	sm.nlinks = rw.nlinks;
	sm.pixel = pixel_done && opens;
	sm.campaign = campaign;
	sm.domain = sdomain[0] ? sdomain : NULL;
	sm.honeypot = hpseq;
	if (store_put_message(st, &sm) == -1) {
		r->skip = "store: cannot record the message";
		goto fail;
	}
	if (!r->pixel)
		r->msg_id[0] = '\0';
	r->changed = 1;
	rc = 0;
	goto out;
nomem:
	r->skip = "out of memory";
fail:
	rc = -1;
	r->changed = 0;
	buf_free(&r->body);
out:
	free(rw.links);
	free(rw.url_off);
	buf_free(&rw.urls);
	splice_free(sp, nsp);
	free(mode);
	free(mid);
	free(campaign);
	buf_free(&px);
	if (parsed)
		mime_free(&m);
	return rc;
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
