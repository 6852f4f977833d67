/*
 * fuzz_html - libFuzzer target for the HTML scanner, the link rewriter,
 * the character reference decoder and the text/plain URL rewriter.
 *
 * The whole input is the document; its first byte also picks options:
 *   bit 0     pixel_top
 *   bit 1     which links are rewritten: even (0) or odd (1) indices
 *   bit 2     the callback fails (-1) on the link of index (byte >> 3)
 *
 * Every check is an abort() with a message, so libFuzzer keeps the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html.h"
#include "text.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) fail(__LINE__, #c); } while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_html.c:%d: invariant failed: %s\n", line, what);
	abort();
}

static const char pixel[] = "<img src=\"https://t.example/open/PIXEL.png\""
    " width=\"1\" height=\"1\" alt=\"\">";
#define PIXEL_LEN	(sizeof(pixel) - 1)

/* the URLs a callback was given, in order */
struct seen {
	char		**url;
	size_t		  n, cap;
};

static void
seen_add(struct seen *s, const char *u, size_t n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->url = realloc(s->url, s->cap * sizeof(*s->url));
		CHECK(s->url != NULL);
	}
	s->url[s->n] = malloc(n + 1);
	CHECK(s->url[s->n] != NULL);
	memcpy(s->url[s->n], u, n);
	s->url[s->n][n] = '\0';
	s->n++;
}

static void
seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->url[i]);
	free(s->url);
	memset(s, 0, sizeof(*s));
}

struct cb {
	struct seen	 seen;
	int		 parity;	/* rewrite index % 2 == parity; -1: none */
	long		 fail_at;	/* return -1 at this index; -1: never */
	size_t		 rewritten;
	size_t		 repl_bytes;	/* of the replacements as written */
	int		 text;		/* called by text_rewrite */
};

/* the replacement of link i: holds '&' and '"' to exercise escaping */
static int
replacement(struct buf *b, unsigned i)
{
	return buf_printf(b, "https://t.example/click/%u?a=1&b=\"%u\"", i, i);
}

/* the size of a replacement written as a double-quoted attribute value */
static size_t
escaped_len(const char *s, size_t n)
{
	size_t i, e = 2;

	for (i = 0; i < n; i++)
		e += s[i] == '&' ? 5 : s[i] == '"' ? 6 : 1;
	return e;
}

static int
is_http_prefix(const char *u, size_t n)
{
	return (n >= 7 && strncasecmp(u, "http://", 7) == 0) ||
	    (n >= 8 && strncasecmp(u, "https://", 8) == 0);
}

static int
link_cb(void *arg, const struct html_link *l, struct buf *repl)
{
	struct cb	*cb = arg;
	size_t		 i;

	CHECK(l->url != NULL && l->tag != NULL);
	CHECK(strlen(l->url) == l->url_len);
	CHECK(l->index == cb->seen.n);
	CHECK(repl->len == 0);
	CHECK(is_http_prefix(l->url, l->url_len));
	for (i = 0; i < l->url_len; i++) {
		unsigned char c = (unsigned char)l->url[i];

		/* url_skip (html) and url_end (text) stop at these */
		CHECK(c > ' ' && c != 0x7f);
		if (cb->text)
			CHECK(c != '<' && c != '>' && c != '"');
	}
	if (cb->text) {
		CHECK(strcmp(l->tag, "text") == 0);
		CHECK(strchr(".,;:!?'", l->url[l->url_len - 1]) == NULL);
		CHECK(l->url_len > (l->url[4] == ':' ? 7u : 8u));
	} else
		CHECK(strlen(l->tag) > 0);
	seen_add(&cb->seen, l->url, l->url_len);
	if (cb->fail_at >= 0 && (long)l->index == cb->fail_at)
		return -1;
	if (cb->parity < 0 || (int)(l->index % 2) != cb->parity)
		return 0;
	CHECK(replacement(repl, l->index) == 0);
	cb->rewritten++;
	cb->repl_bytes += cb->text ? repl->len :
	    escaped_len(repl->data, repl->len);
	return 1;
}

/* the input in lower case (ASCII), for memmem_ci */
static char	*lc;
static size_t	 lc_len;

static void
lc_set(const char *in, size_t len)
{
	size_t i;

	free(lc);
	lc = malloc(len + 1);
	CHECK(lc != NULL);
	for (i = 0; i < len; i++)
		lc[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	lc_len = len;
}

/* memmem_ci - does the input hold n (lower case), ignoring ASCII case? */
static int
memmem_ci(const char *n)
{
	return memmem(lc, lc_len, n, strlen(n)) != NULL;
}

/* may the input hold an opt-out marker attribute (names, any case)? */
static int
maybe_optout(void)
{
	static const char *const names[] = { "data-mtrack", "clicktracking",
	    "data-pm-no-track", "ses:no-track", "disable-tracking",
	    "data-msys-clicktrack", NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (memmem_ci(names[i]))
			return 1;
	return 0;
}

/* ---- html_scan ---- */

struct scanst {
	const char	*in;
	size_t		 len;
	size_t		 ntok, stop_at;
	size_t		 top_end;	/* end of the last token outside mso */
	size_t		 mso_from, mso_to;	/* data of the last top comment */
	size_t		 mso_end;	/* end of the last mso token */
	unsigned	 flags;
};

static void
check_name(const char *name, size_t n)
{
	size_t i;

	CHECK(strlen(name) == n);
	for (i = 0; i < n; i++)
		CHECK(!(name[i] >= 'A' && name[i] <= 'Z'));
}

static int
scan_cb(void *arg, const struct html_token *t)
{
	struct scanst	*s = arg;
	const char	*in = s->in;
	size_t		 i, j;

	CHECK(t->start < t->end && t->end <= s->len);
	CHECK(in[t->start] == '<');
	CHECK(t->name != NULL);
	if (s->flags & HTML_SCAN_TOKENIZER)
		CHECK(!t->in_mso);
	if (!t->in_mso) {
		CHECK(t->start >= s->top_end);
		s->top_end = t->end;
		s->mso_end = 0;
		if (t->type == HTML_COMMENT) {
			s->mso_from = t->data_start;
			s->mso_to = t->data_end;
		}
	} else {
		/* inside the data of the comment just reported */
		CHECK(t->start >= s->mso_from && t->end <= s->mso_to);
		CHECK(t->start >= s->mso_end);
		s->mso_end = t->end;
	}
	switch (t->type) {
	case HTML_START_TAG:
	case HTML_END_TAG:
		CHECK(in[t->end - 1] == '>');
		CHECK(t->name_len > 0);
		check_name(t->name, t->name_len);
		for (i = 0; i < t->name_len; i++)
			CHECK(t->name[i] != ' ' && t->name[i] != '\t' &&
			    t->name[i] != '\n' && t->name[i] != '\f' &&
			    t->name[i] != '\r' && t->name[i] != '/' &&
			    t->name[i] != '>');
		if (t->type == HTML_END_TAG)
			CHECK(t->nattrs == 0);
		for (i = 0; i < t->nattrs; i++) {
			const struct html_attr *a = &t->attrs[i];

			check_name(a->name, a->name_len);
			CHECK(a->name_len > 0);
			CHECK(strlen(a->value) == a->value_len);
			CHECK(memchr(a->value, '\r', a->value_len) == NULL);
			CHECK(t->start < a->start && a->start < a->end);
			CHECK(a->vstart <= a->end && a->end < t->end);
			CHECK(a->vstart == a->end || a->vstart > a->start);
			if (a->vstart == a->end && a->vstart > a->start &&
			    in[a->vstart - 1] != '=')
				CHECK(a->value_len == 0);
			if (a->vstart < a->end && (in[a->vstart] == '"' ||
			    in[a->vstart] == '\''))
				CHECK(a->end - a->vstart >= 2 &&
				    in[a->end - 1] == in[a->vstart]);
			if (i > 0)
				CHECK(a->start >= t->attrs[i - 1].end);
			for (j = 0; j < i && t->nattrs <= 64; j++)
				CHECK(a->name_len != t->attrs[j].name_len ||
				    memcmp(a->name, t->attrs[j].name,
				    a->name_len) != 0);
		}
		break;
	case HTML_COMMENT:
		CHECK(t->nattrs == 0 && t->name_len == 0);
		CHECK(t->start < t->data_start);
		CHECK(t->data_start <= t->data_end && t->data_end <= t->end);
		/* cut by the end of the input, or of the mso comment around */
		CHECK(t->end == s->len || in[t->end - 1] == '>' || t->in_mso);
		break;
	case HTML_DOCTYPE:
		CHECK(in[t->end - 1] == '>');
		CHECK(t->nattrs == 0);
		break;
	default:
		CHECK(!"token type");
	}
	if (++s->ntok == s->stop_at)
		return 42;
	return 0;
}

static void
fuzz_scan(const char *in, size_t len, unsigned flags)
{
	struct scanst	 s;
	size_t		 ntok;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.in = in;
	s.len = len;
	s.flags = flags;
	CHECK(html_scan(in, len, flags, scan_cb, &s) == 0);
	ntok = s.ntok;
	if (ntok == 0)
		return;
	/* a callback's non-zero value stops the scan and is returned */
	memset(&s, 0, sizeof(s));
	s.in = in;
	s.len = len;
	s.flags = flags;
	s.stop_at = ntok / 2 + 1;
	rc = html_scan(in, len, flags, scan_cb, &s);
	CHECK(rc == 42 && s.ntok == s.stop_at);
}

/* ---- html_decode ---- */

static void
fuzz_decode(const char *in, size_t len, unsigned flags)
{
	struct buf b = BUF_INIT;

	CHECK(buf_append(&b, "x", 1) == 0);	/* appends, keeps what was there */
	CHECK(html_decode(in, len, flags, &b) == 0);
	CHECK(b.data != NULL && b.data[0] == 'x' && b.data[b.len] == '\0');
	/* the widest: NUL to U+FFFD, 3 bytes; no reference grows more */
	CHECK(b.len - 1 <= 3 * len);
	CHECK(memchr(b.data + 1, '\r', b.len - 1) == NULL);
	if (flags & HTML_DECODE_ATTR)
		CHECK(memchr(b.data + 1, '\0', b.len - 1) == NULL);
	if (memchr(in, '&', len) == NULL && memchr(in, '\r', len) == NULL &&
	    memchr(in, '\0', len) == NULL)
		CHECK(b.len - 1 == len && memcmp(b.data + 1, in, len) == 0);
	else if (memchr(in, '&', len) == NULL)
		CHECK(b.len - 1 <= 3 * len);
	buf_free(&b);
}

/* ---- text_rewrite ---- */

static void
fuzz_text(const char *in, size_t len, int parity)
{
	struct buf	 out = BUF_INIT;
	struct cb	 cb;
	unsigned	 n = 0;
	size_t		 i, removed = 0;

	memset(&cb, 0, sizeof(cb));
	cb.parity = -1;
	cb.fail_at = -1;
	cb.text = 1;
	CHECK(text_rewrite(in, len, link_cb, &cb, &out, &n) == 0);
	CHECK(n == 0 && out.len == len && (len == 0 || memcmp(out.data, in,
	    len) == 0));
	buf_free(&out);

	{
		struct seen first = cb.seen;

		memset(&cb, 0, sizeof(cb));
		cb.parity = parity;
		cb.fail_at = -1;
		cb.text = 1;
		CHECK(text_rewrite(in, len, link_cb, &cb, &out, &n) == 0);
		CHECK(n == cb.rewritten);
		/* rewriting does not change which URLs are found */
		CHECK(cb.seen.n == first.n);
		for (i = 0; i < first.n; i++) {
			CHECK(strcmp(cb.seen.url[i], first.url[i]) == 0);
			if ((int)(i % 2) == parity)
				removed += strlen(first.url[i]);
		}
		/* each rewritten URL is replaced by exactly its replacement */
		CHECK(out.len == len - removed + cb.repl_bytes);
		seen_free(&first);
	}
	seen_free(&cb.seen);
	buf_free(&out);
}

/* ---- html_rewrite ---- */

static int
rewrite(const char *in, size_t len, struct cb *cb, const char *pix,
    int top, struct buf *out, struct html_result *res)
{
	struct html_opts o;

	memset(&o, 0, sizeof(o));
	o.link_fn = link_cb;
	o.arg = cb;
	o.pixel = pix;
	o.pixel_len = pix ? strlen(pix) : 0;
	o.pixel_top = top;
	return html_rewrite(in, len, &o, out, res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*in = (const char *)data;
	unsigned char		 opt = size ? data[0] : 0;
	int			 top = opt & 1, parity = (opt >> 1) & 1;
	int			 optout;
	struct buf		 out = BUF_INIT, out2 = BUF_INIT;
	struct html_result	 res, res2;
	struct cb		 cb, cb2;
	struct seen		 plain;
	size_t			 i, k, a, b, pfx, sfx;
	int			 rc;

	lc_set(in, size);
	optout = maybe_optout();

	/* 1. no options: a copy */
	CHECK(html_rewrite(in, size, NULL, &out, &res) == 0);
	CHECK(out.len == size && (size == 0 || memcmp(out.data, in, size) == 0));
	CHECK(res.links_seen == 0 && res.links_rewritten == 0 &&
	    res.optouts_removed == 0 && res.pixel_inserted == 0);
	buf_free(&out);

	/* 2. a callback that rewrites nothing, no pixel */
	memset(&cb, 0, sizeof(cb));
	cb.parity = -1;
	cb.fail_at = -1;
	CHECK(rewrite(in, size, &cb, NULL, top, &out, &res) == 0);
	CHECK(res.links_seen == cb.seen.n && res.links_rewritten == 0);
	CHECK(res.pixel_inserted == 0);
	if (!optout)
		CHECK(res.optouts_removed == 0);
	if (res.optouts_removed == 0)
		CHECK(out.len == size && (size == 0 ||
		    memcmp(out.data, in, size) == 0));
	else
		CHECK(out.len < size);
	plain = cb.seen;
	buf_free(&out);

	/* 3. every other link rewritten, no pixel */
	memset(&cb, 0, sizeof(cb));
	cb.parity = parity;
	cb.fail_at = -1;
	CHECK(rewrite(in, size, &cb, NULL, top, &out, &res) == 0);
	CHECK(res.links_seen == cb.seen.n && res.links_rewritten == cb.rewritten);
	/* rewriting a link does not change which links are found */
	CHECK(cb.seen.n == plain.n);
	for (i = 0; i < plain.n; i++)
		CHECK(strcmp(cb.seen.url[i], plain.url[i]) == 0);
	/* a rewritten value replaces a raw value of at least one byte */
	if (res.optouts_removed == 0)
		CHECK(out.len >= cb.repl_bytes &&
		    out.len + cb.rewritten <= size + cb.repl_bytes);
	else
		CHECK(out.len + cb.rewritten < size + cb.repl_bytes);

	/*
	 * 4. the output read again: the same links, the rewritten ones now
	 * the replacements, and nothing else changes. Removing an opt-out
	 * marker may uncover a later duplicate attribute: not checked then.
	 */
	if (res.optouts_removed == 0) {
		struct buf want = BUF_INIT;

		memset(&cb2, 0, sizeof(cb2));
		cb2.parity = -1;
		cb2.fail_at = -1;
		CHECK(rewrite(out.data, out.len, &cb2, NULL, top, &out2,
		    &res2) == 0);
		CHECK(res2.optouts_removed == 0);
		CHECK(out2.len == out.len && (out.len == 0 ||
		    memcmp(out2.data, out.data, out.len) == 0));
		CHECK(cb2.seen.n == plain.n);
		for (i = 0; i < plain.n; i++) {
			if ((int)(i % 2) == parity) {
				buf_reset(&want);
				CHECK(replacement(&want, (unsigned)i) == 0);
				CHECK(strcmp(cb2.seen.url[i], want.data) == 0);
			} else
				CHECK(strcmp(cb2.seen.url[i], plain.url[i]) == 0);
		}
		buf_free(&want);
		seen_free(&cb2.seen);
		buf_free(&out2);
	}
	seen_free(&cb.seen);
	buf_free(&out);

	/* 5. the pixel alone: the input with the pixel inserted once */
	memset(&cb, 0, sizeof(cb));
	cb.parity = -1;
	cb.fail_at = -1;
	CHECK(rewrite(in, size, &cb, pixel, top, &out, &res) == 0);
	CHECK(res.pixel_inserted == 1);
	if (res.optouts_removed == 0) {
		CHECK(out.len == size + PIXEL_LEN);
		for (pfx = 0; pfx < size && out.data[pfx] == in[pfx]; pfx++)
			;
		for (sfx = 0; sfx < size && out.data[out.len - 1 - sfx] ==
		    in[size - 1 - sfx]; sfx++)
			;
		CHECK(pfx + sfx >= size);
		/* some split in[0..k) pixel in[k..size) */
		a = size - sfx;
		b = pfx;
		for (k = a; k <= b; k++)
			if (memcmp(out.data + k, pixel, PIXEL_LEN) == 0)
				break;
		CHECK(k <= b);
		if (!top && !memmem_ci("</body"))
			CHECK(memcmp(out.data + size, pixel, PIXEL_LEN) == 0);
		if (top && !memmem_ci("<body") &&
		    !memmem_ci("</head") &&
		    !memmem_ci("<html") &&
		    !memmem_ci("<!doctype")) {
			k = size >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
			CHECK(memcmp(out.data + k, pixel, PIXEL_LEN) == 0);
		}
	} else
		CHECK(out.len < size + PIXEL_LEN);
	seen_free(&cb.seen);
	buf_free(&out);

	/* 6. everything at once, appended to a buffer that is not empty */
	memset(&cb, 0, sizeof(cb));
	cb.parity = parity;
	cb.fail_at = opt & 4 ? (long)(opt >> 3) : -1;
	CHECK(buf_puts(&out, "prefix") == 0);
	rc = rewrite(in, size, &cb, pixel, top, &out, &res);
	if (cb.fail_at >= 0 && plain.n > (size_t)cb.fail_at) {
		CHECK(rc == -1);
	} else {
		CHECK(rc == 0);
		CHECK(memcmp(out.data, "prefix", 6) == 0);
		CHECK(res.pixel_inserted == 1 && res.links_seen == plain.n);
		CHECK(res.links_rewritten == cb.rewritten);
		CHECK(out.len - 6 <= size + PIXEL_LEN + cb.repl_bytes);
		CHECK(memmem(out.data + 6, out.len - 6, pixel, PIXEL_LEN) != NULL);
	}
	seen_free(&cb.seen);
	buf_free(&out);
	seen_free(&plain);

	fuzz_scan(in, size, 0);
	fuzz_scan(in, size, HTML_SCAN_TOKENIZER);
	fuzz_decode(in, size, 0);
	fuzz_decode(in, size, HTML_DECODE_ATTR);
	fuzz_text(in, size, parity);
	return 0;
}
