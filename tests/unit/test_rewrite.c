/*
 * test_rewrite - the rewrite engine on whole messages: what changes, what
 * stays byte for byte, what is recorded, and the round trip over samples.
 */
#include "unit.h"
#include "unit.inc"

#include <dirent.h>
#include <regex.h>

#include <glib.h>

#include "mime.h"
#include "rewrite.h"
#include "seal.h"

static char		*dir;
static struct config	 cfg;
static struct store	*st;

static int
setup(void **state)
{
	struct store_opts	o = { .map_size = 256 << 20, .batch_ms = 10, .batch_max = 4096 };
	char			err[256];

	(void)state;
	mime_init();
	dir = unit_tmpdir();
	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(config_set(&cfg, "tracking_url",
	    "https://track.example.com", err, sizeof(err)), 0);
	if ((st = store_open(dir, &o, 0, err, sizeof(err))) == NULL)
		fail_msg("store: %s", err);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	store_close(st);
	config_free(&cfg);
	unit_rmrf(dir);
	free(dir);
	return 0;
}

/* the whole output message: edited headers, blank line, new body */
static char *
assemble(const char *in, size_t len, const struct rewrite_result *r,
    size_t *outlen)
{
	struct buf	 out = BUF_INIT;
	const char	*sep = memmem(in, len, "\r\n\r\n", 4);
	size_t		 hend, bstart;

	if (sep) {
		hend = (size_t)(sep - in) + 2;
		bstart = hend + 2;
	} else {
		sep = memmem(in, len, "\n\n", 2);
		if (sep == NULL) {
			/* no body at all (an empty file among the samples) */
			assert_false(r->changed);
			*outlen = len;
			return strndup(in, len);
		}
		hend = (size_t)(sep - in) + 1;
		bstart = hend + 1;
	}
	assert_int_equal(rewrite_apply_headers(r, in, hend,
	    in[hend - 2] == '\r' ? "\r\n" : "\n", &out), 0);
	buf_append(&out, in + hend, bstart - hend);
	if (r->changed)
		buf_append(&out, r->body.data, r->body.len);
	else
		buf_append(&out, in + bstart, len - bstart);
	return buf_steal(&out, outlen);
}

static int
run(const char *in, size_t len, struct rewrite_result *r)
{
	struct rewrite_info	 info = { "news@example.com", NULL, 0, "TESTQ", NULL };
	const char		*rcpt[] = { "reader@example.net" };

	info.rcpt = rcpt;
	info.nrcpt = 1;
	return rewrite_message(&cfg, st, &info, in, len, r);
}

/*
 * unrewrite - replace every tracking link by its stored URL (escaped as
 * the writer escapes) and drop the pixel: what the original HTML was,
 * up to the quoting of href values.
 */
static char *
unrewrite(const char *html, unsigned *nlinks)
{
	struct buf	 out = BUF_INIT, url = BUF_INIT;
	const char	*p = html, *c;
	const char	*click = "https://track.example.com/click/";
	const char	*pix = "<img src=\"https://track.example.com/open/";
	size_t		 i;
	uint64_t	 seq;

	*nlinks = 0;
	while (*p) {
		if (strncmp(p, click, strlen(click)) == 0) {
			c = p + strlen(click);
			assert_int_equal(id_decode(store_key(st), ID_LINK, c,
			    ID_LEN, &seq), 0);
			buf_reset(&url);
			assert_int_equal(store_get_link(st, seq, &url, NULL), 0);
			for (i = 0; i < url.len; i++) {
				if (url.data[i] == '&')
					buf_puts(&out, "&amp;");
				else if (url.data[i] == '"')
					buf_puts(&out, "&quot;");
				else
					buf_putc(&out, url.data[i]);
			}
			(*nlinks)++;
			p = c + ID_LEN;
		} else if (strncmp(p, pix, strlen(pix)) == 0) {
			p = strchr(p, '>');
			assert_non_null(p);
			p++;
		} else
			buf_putc(&out, *p++);
	}
	buf_free(&url);
	return buf_steal(&out, NULL);
}

/*
 * the decoded content of the first text/html part of a message; charsets
 * that are not ASCII-compatible are converted to UTF-8 to be compared
 */
static char *
html_of(const char *msg, size_t len)
{
	struct mime_msg	 m;
	struct buf	 b = BUF_INIT;
	const char	*why;
	char		*conv;
	size_t		 i;
	int		 found = 0;

	assert_int_equal(mime_parse(&m, msg, len, &why), 0);
	for (i = 0; i < m.nparts; i++)
		if (!strcmp(m.parts[i].type, "text") &&
		    !strcmp(m.parts[i].subtype, "html") && !m.parts[i].attachment) {
			assert_int_equal(mime_decode(&m.parts[i], &b), 0);
			found = 1;
			if (mime_charset_wide(m.parts[i].charset)) {
				conv = g_convert(b.data, (gssize)b.len, "UTF-8",
				    m.parts[i].charset, NULL, NULL, NULL);
				assert_non_null(conv);
				buf_reset(&b);
				buf_puts(&b, conv);
				g_free(conv);
			}
			break;
		}
	mime_free(&m);
	return found ? buf_steal(&b, NULL) : NULL;
}

/* every leaf that is not the tracked HTML part keeps its raw bytes */
static void
assert_other_parts_identical(const char *name, const char *in, size_t len,
    const char *out, size_t outlen)
{
	struct mime_msg	 a, b;
	const char	*why;
	size_t		 i;
	int		 html_seen = 0;

	assert_int_equal(mime_parse(&a, in, len, &why), 0);
	assert_int_equal(mime_parse(&b, out, outlen, &why), 0);
	if (a.nparts != b.nparts)
		fail_msg("%s: %zu parts became %zu", name, a.nparts, b.nparts);
	for (i = 0; i < a.nparts; i++) {
		const struct mime_part *p = &a.parts[i], *q = &b.parts[i];

		if (strcmp(p->type, q->type) || strcmp(p->subtype, q->subtype))
			fail_msg("%s: part %zu changed type", name, i);
		if (!html_seen && !strcmp(p->type, "text") &&
		    !strcmp(p->subtype, "html") && !p->attachment) {
			html_seen = 1;
			/* an encoded part keeps to 76 characters a line (RFC 2045) */
			if (q->enc == MIME_ENC_QP || q->enc == MIME_ENC_BASE64) {
				size_t k, col = 0;

				for (k = q->body_start; k < q->body_end; k++) {
					if (out[k] == '\n')
						col = 0;
					else if (!(out[k] == '\r' && k + 1 <
					    q->body_end && out[k + 1] == '\n') &&
					    ++col > 76)
						fail_msg("%s: part %zu: line over 76",
						    name, i);
				}
			}
			continue;
		}
		if (p->body_end - p->body_start != q->body_end - q->body_start ||
		    memcmp(in + p->body_start, out + q->body_start,
		    p->body_end - p->body_start) != 0)
			fail_msg("%s: part %zu (%s/%s) changed", name, i, p->type,
			    p->subtype);
	}
	mime_free(&a);
	mime_free(&b);
}

static const char multi[] =
    "From: News <news@example.com>\r\n"
    "To: reader@example.net\r\n"
    "Subject: Hello\r\n"
    "Message-ID: <m1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
    "\r\n"
    "This is a multi-part message.\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Visit https://example.com/a\r\n"
    "--b1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "<html><body><p>Hi</p>\r\n"
    "<a href=\"https://example.com/reset?u=1&amp;t=abc\">reset</a>\r\n"
    "<a href='mailto:x@example.com'>mail</a>\r\n"
    "<A HREF=https://example.com/b>b</A>\r\n"
    "</body></html>\r\n"
    "--b1--\r\n"
    "epilogue\r\n";

static void
test_multipart(void **state)
{
	struct rewrite_result	 r;
	char			*out, *h, *back;
	const char		*hp;
	size_t			 outlen;
	unsigned		 n;

	(void)state;
	assert_int_equal(run(multi, sizeof(multi) - 1, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 2);
	assert_int_equal(r.parts, 1);
	assert_true(r.pixel);
	assert_int_equal(strlen(r.msg_id), ID_LEN);
	assert_int_equal(r.nhdrs, 0);
	out = assemble(multi, sizeof(multi) - 1, &r, &outlen);
	/* everything before the html part's content is identical */
	hp = strstr(multi, "<html>");
	assert_memory_equal(out, multi, (size_t)(hp - multi));
	/* and everything after it */
	hp = strstr(multi, "--b1--");
	assert_string_equal(out + outlen - strlen(hp), hp);
	/* the stored URL is the decoded one: &amp; became & */
	h = html_of(out, outlen);
	assert_non_null(strstr(h, "https://track.example.com/click/"));
	assert_null(strstr(h, "example.com/reset"));
	assert_non_null(strstr(h, "mailto:x@example.com"));
	back = unrewrite(h, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(back, "\"https://example.com/reset?u=1&amp;t=abc\""));
	assert_non_null(strstr(back, "HREF=\"https://example.com/b\""));
	/* the pixel sits before </body> */
	assert_non_null(strstr(h, ".png\" width=\"1\" height=\"1\" alt=\"\""
	    " style=\"" REWRITE_PIXEL_STYLE "\"></body>"));
	free(back);
	free(h);
	free(out);
	rewrite_result_free(&r);
}

static void
test_single_part_long_line(void **state)
{
	struct rewrite_result	 r;
	struct buf		 in = BUF_INIT;
	char			*out, *h;
	size_t			 outlen, i, col = 0;
	int			 k;

	(void)state;
	buf_puts(&in, "From: a@example.com\r\nTo: b@example.net\r\n"
	    "Subject: one line\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/html; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n<html><body>");
	/* 900 bytes of links on one line: the rewrite may pass 998 */
	for (k = 0; k < 20; k++)
		buf_printf(&in, "<a href=\"http://e.com/%d\">%d</a>", k, k);
	buf_puts(&in, "</body></html>\r\n");
	assert_int_equal(run(in.data, in.len, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 20);
	/* the top-level part: the CTE change is a header edit */
	assert_int_equal(r.nhdrs, 1);
	assert_string_equal(r.hdrs[0].name, "Content-Transfer-Encoding");
	assert_int_equal(r.hdrs[0].index, 1);
	assert_string_equal(r.hdrs[0].value, " quoted-printable");
	out = assemble(in.data, in.len, &r, &outlen);
	assert_non_null(strstr(out, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_null(strstr(out, "7bit"));
	for (i = 0; i < outlen; i++) {
		col = out[i] == '\n' ? 0 : col + 1;
		assert_true(col <= 78);
	}
	h = html_of(out, outlen);
	assert_non_null(strstr(h, "<html><body><a href=\"https://track.example.com/click/"));
	free(h);
	free(out);
	rewrite_result_free(&r);
	buf_free(&in);
}

static void
test_base64_stays_base64(void **state)
{
	static const char msg[] =
	    "From: a@example.com\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
	    "--XX\r\n"
	    "Content-Type: text/html; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    /* <p>Caf\xe9</p><a href="https://example.com/x">x</a> */
	    "PHA+Q2Fm6TwvcD48YSBocmVmPSJodHRwczovL2V4YW1wbGUuY29tL3giPng8L2E+\r\n"
	    "--XX--\r\n";
	struct rewrite_result	 r;
	char			*out, *h, *back;
	size_t			 outlen;
	unsigned		 n;

	(void)state;
	assert_int_equal(run(msg, sizeof(msg) - 1, &r), 0);
	assert_true(r.changed);
	out = assemble(msg, sizeof(msg) - 1, &r, &outlen);
	assert_non_null(strstr(out, "Content-Transfer-Encoding: base64\r\n"));
	h = html_of(out, outlen);
	/* the charset is kept: é is still the single byte 0xe9 */
	assert_non_null(strstr(h, "<p>Caf\xe9</p>"));
	back = unrewrite(h, &n);
	assert_int_equal(n, 1);
	assert_string_equal(back, "<p>Caf\xe9</p><a href=\"https://example.com/x\">x</a>");
	free(back);
	free(h);
	free(out);
	rewrite_result_free(&r);
}

/* the new body's length goes to libmilter as an int: a longer one is refused */
static void
test_body_bound(void **state)
{
	(void)state;
	assert_true(rewrite_body_fits(0));
	assert_true(rewrite_body_fits((size_t)INT_MAX));
	assert_false(rewrite_body_fits((size_t)INT_MAX + 1));
	assert_false(rewrite_body_fits((size_t)UINT_MAX + 2));
}

/* a malformed base64 part passes byte for byte; the others are rewritten */
static void
test_base64_malformed(void **state)
{
	static const char *const bad[] = {
		/* the last quartet cut short */
		"PHA+eDwvcD48YSBocmVmPSJodHRwczovL2V4YW1wbGUuY29tL3giPng8L2E+PHA+eQ\r\n",
		/* '=' before the end */
		"PHA+eDwvcD48YSBo=cmVmPSJodHRwczovL2V4YW1wbGUuY29tL3giPng8L2E+\r\n",
	};
	struct rewrite_result	 r;
	struct buf		 msg = BUF_INIT;
	char			*out;
	size_t			 i, outlen;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&msg);
		assert_int_equal(buf_printf(&msg, "From: a@example.com\r\n"
		    "MIME-Version: 1.0\r\n"
		    "Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
		    "--XX\r\nContent-Type: text/html; charset=utf-8\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n%s"
		    "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
		    "<a href=\"https://example.com/y\">y</a>\r\n"
		    "--XX--\r\n", bad[i]), 0);
		assert_int_equal(run(msg.data, msg.len, &r), 0);
		assert_true(r.changed);
		assert_int_equal(r.links, 1);
		out = assemble(msg.data, msg.len, &r, &outlen);
		/* the malformed part as it came, the next one tracked */
		assert_non_null(strstr(out, bad[i]));
		assert_null(strstr(out, "example.com/y"));
		free(out);
		rewrite_result_free(&r);
	}
	buf_free(&msg);
}

static void
test_untouched(void **state)
{
	static const struct {
		const char *msg;
		const char *skip;
	} cases[] = {
		{ "From: a@b\r\nX-Mtrack: off\r\nContent-Type: text/html\r\n\r\n"
		  "<a href=\"http://x.example/\">x</a>\r\n", "X-Mtrack: off" },
		{ "From: a@b\r\nDKIM-Signature: v=1; d=b\r\nContent-Type: text/html\r\n\r\n"
		  "<a href=\"http://x.example/\">x</a>\r\n", "already DKIM-signed" },
		{ "From: a@b\r\nContent-Type: multipart/signed; boundary=s; protocol=\"application/pkcs7-signature\"\r\n\r\n"
		  "--s\r\nContent-Type: text/html\r\n\r\n<a href=\"http://x.example/\">x</a>\r\n"
		  "--s\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n",
		  "signed or encrypted" },
		{ "From: a@b\r\nContent-Type: text/plain\r\n\r\nhttp://x.example/\r\n",
		  "no HTML part with links" },
		{ "From: a@b\r\nContent-Type: text/html\r\nContent-Disposition: attachment\r\n\r\n"
		  "<a href=\"http://x.example/\">x</a>\r\n", "no HTML part with links" },
	};
	struct rewrite_result	 r;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(cases[i].msg, strlen(cases[i].msg), &r), 0);
		assert_false(r.changed);
		assert_non_null(r.skip);
		if (strcmp(r.skip, cases[i].skip) != 0)
			fail_msg("case %zu: skip \"%s\", want \"%s\"", i, r.skip,
			    cases[i].skip);
		rewrite_result_free(&r);
	}
	/* X-Mtrack is removed even when the message is not tracked */
	assert_int_equal(run(cases[0].msg, strlen(cases[0].msg), &r), 0);
	assert_int_equal(r.nhdrs, 1);
	assert_string_equal(r.hdrs[0].name, "X-Mtrack");
	assert_null(r.hdrs[0].value);
	rewrite_result_free(&r);
}

static void
test_xmtrack_modes(void **state)
{
	static const char opens[] = "From: a@b\r\nX-Mtrack: opens\r\n"
	    "Content-Type: text/html\r\n\r\n<body><a href=\"http://x.example/\">x</a></body>\r\n";
	static const char clicks[] = "From: a@b\r\nX-Mtrack: clicks\r\n"
	    "Content-Type: text/html\r\n\r\n<body><a href=\"http://x.example/\">x</a></body>\r\n";
	struct rewrite_result	 r;

	(void)state;
	assert_int_equal(run(opens, sizeof(opens) - 1, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 0);
	assert_true(r.pixel);
	assert_non_null(strstr(r.body.data, "href=\"http://x.example/\""));
	rewrite_result_free(&r);
	assert_int_equal(run(clicks, sizeof(clicks) - 1, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 1);
	assert_false(r.pixel);
	assert_null(strstr(r.body.data, "/open/"));
	rewrite_result_free(&r);
}

static void
test_garbage_and_limits(void **state)
{
	struct rewrite_result	 r;
	char			 junk[4096];
	size_t			 i;
	uint8_t			 rnd[sizeof(junk)];

	(void)state;
	for (i = 0; i < 50; i++) {
		size_t j;

		id_random(rnd, sizeof(rnd));
		for (j = 0; j < sizeof(junk); j++)
			junk[j] = (char)rnd[j];
		/* never a crash; a failure or a skip leaves the message alone */
		if (run(junk, sizeof(junk), &r) == 0 && r.changed)
			assert_true(r.body.len > 0);
		rewrite_result_free(&r);
	}
	assert_int_equal(run("", 0, &r), 0);
	assert_false(r.changed);
	rewrite_result_free(&r);
	/* over max_message_size: untouched */
	cfg.max_message_size = 100;
	assert_int_equal(run(multi, sizeof(multi) - 1, &r), 0);
	assert_false(r.changed);
	assert_string_equal(r.skip, "message larger than max_message_size");
	rewrite_result_free(&r);
	cfg.max_message_size = 20 << 20;
}

static void
test_exclude_and_own_links(void **state)
{
	static const char msg[] = "From: a@b\r\nContent-Type: text/html\r\n\r\n"
	    "<a href=\"https://www.excluded.example/x\">1</a>"
	    "<a href=\"https://track.example.com/click/abc\">2</a>"
	    "<a href=\"https://ok.example/\">3</a>\r\n";
	struct rewrite_result	 r;
	char			 err[128];

	(void)state;
	assert_int_equal(config_set(&cfg, "exclude_domains", "excluded.example",
	    err, sizeof(err)), 0);
	assert_int_equal(run(msg, sizeof(msg) - 1, &r), 0);
	assert_int_equal(r.links, 1);
	assert_non_null(strstr(r.body.data, "https://www.excluded.example/x"));
	assert_non_null(strstr(r.body.data, "https://track.example.com/click/abc\""));
	assert_null(strstr(r.body.data, "ok.example"));
	rewrite_result_free(&r);
	assert_int_equal(config_set(&cfg, "exclude_domains", "", err,
	    sizeof(err)), 0);
}

/* a link longer than the tracker can answer stays as written */
static void
test_long_link(void **state)
{
	struct buf		 msg = BUF_INIT;
	struct rewrite_result	 r;
	char			*longurl, *out, *html;
	size_t			 n = REWRITE_URL_MAX + 1, outlen;

	(void)state;
	longurl = malloc(n + 1);
	assert_non_null(longurl);
	memcpy(longurl, "https://long.example/", 21);
	memset(longurl + 21, 'a', n - 21);
	longurl[n] = '\0';
	buf_puts(&msg, "From: a@b\r\nContent-Type: text/html\r\n\r\n<a href=\"");
	buf_puts(&msg, longurl);
	buf_puts(&msg, "\">1</a>");
	/* one byte shorter: tracked */
	buf_puts(&msg, "<a href=\"");
	buf_append(&msg, longurl, n - 1);
	buf_puts(&msg, "\">2</a>\r\n");
	assert_int_equal(run(msg.data, msg.len, &r), 0);
	assert_int_equal(r.links, 1);
	out = assemble(msg.data, msg.len, &r, &outlen);
	html = html_of(out, outlen);
	assert_non_null(strstr(html, longurl));
	assert_non_null(strstr(html, "/click/"));
	free(html);
	free(out);
	rewrite_result_free(&r);
	free(longurl);
	buf_free(&msg);
}

/*
 * every message of a directory: untouched messages byte-identical; in
 * changed ones every other part byte-identical and the HTML, with each
 * tracking link mapped back to its stored URL and the pixel removed,
 * equal to the original (href quoting aside)
 */
static void
roundtrip_dir(const char *reldir, int *files, int *changed)
{
	const char	*top = getenv("MTRACK_TOP");
	char		 path[4096];
	DIR		*d;
	struct dirent	*e;

	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", reldir);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		struct rewrite_result	 r;
		char			 rel[512], *in, *out, *h0, *h1, *back;
		size_t			 len, outlen;
		unsigned		 n;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		snprintf(rel, sizeof(rel), "%s/%s", reldir, e->d_name);
		in = unit_read(rel, &len);
		assert_non_null(in);
		(*files)++;
		assert_int_equal(run(in, len, &r), 0);
		out = assemble(in, len, &r, &outlen);
		if (!r.changed) {
			assert_int_equal(outlen, len);
			assert_memory_equal(out, in, len);
		} else {
			(*changed)++;
			assert_other_parts_identical(e->d_name, in, len, out,
			    outlen);
			h0 = html_of(in, len);
			h1 = html_of(out, outlen);
			assert_non_null(h0);
			assert_non_null(h1);
			back = unrewrite(h1, &n);
			if (n != r.links)
				fail_msg("%s: %u tracking links found, %u made",
				    e->d_name, n, r.links);
			/* the href quotes may differ: compare without quotes */
			{
				struct buf a = BUF_INIT, b = BUF_INIT;
				const char *p;

				for (p = h0; *p; p++)
					if (*p != '"' && *p != '\'')
						buf_putc(&a, *p);
				for (p = back; *p; p++)
					if (*p != '"' && *p != '\'')
						buf_putc(&b, *p);
				if (a.len != b.len || memcmp(a.data, b.data, a.len))
					fail_msg("%s: HTML differs after round trip",
					    e->d_name);
				buf_free(&a);
				buf_free(&b);
			}
			free(back);
			free(h0);
			free(h1);
		}
		free(out);
		free(in);
		rewrite_result_free(&r);
	}
	closedir(d);
}

static void
test_samples_roundtrip(void **state)
{
	int files = 0, changed = 0;

	(void)state;
	roundtrip_dir("tests/data/mime-samples", &files, &changed);
	assert_true(files >= 50);
	assert_true(changed >= 10);
	print_message("# mime-samples: %d messages, %d rewritten\n", files,
	    changed);
}

static void
test_corpus_roundtrip(void **state)
{
	int files = 0, changed = 0;

	(void)state;
	roundtrip_dir("tests/data/corpus", &files, &changed);
	/* every corpus message has links to track */
	assert_true(files >= 19);
	assert_int_equal(changed, files);
	print_message("# corpus: %d messages, %d rewritten\n", files, changed);
}

/* inputs the fuzzers found: each must round-trip like the corpus */
static void
test_fuzz_regressions(void **state)
{
	int files = 0, changed = 0;

	(void)state;
	roundtrip_dir("tests/data/fuzz-regressions", &files, &changed);
	assert_true(files >= 1);
	print_message("# fuzz regressions: %d messages, %d rewritten\n", files,
	    changed);
}

static void
test_text_links(void **state)
{
	static const char msg[] = "From: a@b\r\nContent-Type: text/plain\r\n\r\n"
	    "See https://example.com/a?x=1. Or (http://example.org/b_(c)) now,\r\n"
	    "xhttp://no.example/ https://\r\n";
	struct rewrite_result	 r;
	char			 err[64];

	(void)state;
	assert_int_equal(run(msg, sizeof(msg) - 1, &r), 0);
	assert_false(r.changed);	/* off by default */
	rewrite_result_free(&r);
	assert_int_equal(config_set(&cfg, "track_text_links", "yes", err,
	    sizeof(err)), 0);
	assert_int_equal(run(msg, sizeof(msg) - 1, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 2);
	assert_false(r.pixel);
	assert_non_null(strstr(r.body.data, "See https://track.example.com/click/"));
	assert_non_null(strstr(r.body.data, ". Or (https://track.example.com/click/"));
	assert_non_null(strstr(r.body.data, ") now,\r\nxhttp://no.example/ https://\r\n"));
	rewrite_result_free(&r);
	assert_int_equal(config_set(&cfg, "track_text_links", "no", err,
	    sizeof(err)), 0);
}

/* link_mode = sealed: tokens that open to the URLs, records kept */
static void
test_sealed(void **state)
{
	static const char msg[] =
	    "From: news@example.com\r\nTo: r@example.net\r\n"
	    "Content-Type: text/html\r\n\r\n"
	    "<html><body><a href=\"https://example.com/a?x=1&amp;y=2\">A</a>"
	    "<a href=\"https://example.org/b\">B</a></body></html>\r\n";
	static const char *const want[] = { "https://example.com/a?x=1&y=2",
	    "https://example.org/b" };
	const char		*kt = "7 000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\n";
	const char		*click = "https://track.example.com/click/";
	const char		*rcpt[] = { "reader@example.net" };
	struct rewrite_info	 info = { "news@example.com", rcpt, 1, "TESTQ",
				     NULL };
	struct rewrite_result	 r;
	struct seal_keys	*k;
	struct seal_msg		 m;
	struct buf		 url = BUF_INIT, stored = BUF_INIT;
	struct store_linkinfo	 li;
	const char		*p, *e;
	char			 err[256];
	size_t			 n = 0;

	(void)state;
	assert_non_null(k = seal_keys_parse(kt, strlen(kt), "k", err,
	    sizeof(err)));
	info.keys = k;
	assert_int_equal(rewrite_message(&cfg, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.links, 2);
	/* the pixel's token opens as an open of the same message */
	assert_true(strlen(r.msg_id) > ID_LEN);
	assert_int_equal(seal_open(k, SEAL_OPEN, r.msg_id, strlen(r.msg_id),
	    &m, &url), 0);
	for (p = r.body.data; (p = strstr(p, click)) != NULL; p = e) {
		p += strlen(click);
		e = p + strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_");
		assert_true(n < 2);
		assert_int_equal(seal_open(k, SEAL_CLICK, p, (size_t)(e - p), &m,
		    &url), 0);
		assert_string_equal(url.data, want[n]);
		assert_int_equal(m.pos, n);
		assert_false(m.honeypot);
		/* the store still has the link, under the same numbers */
		buf_reset(&stored);
		assert_int_equal(store_get_link(st, m.link, &stored, &li), 0);
		assert_string_equal(stored.data, want[n]);
		assert_true(li.msg == m.msg);
		assert_true(li.sent_us / 1000 == m.sent_us / 1000);
		n++;
	}
	assert_int_equal(n, 2);
	rewrite_result_free(&r);
	buf_free(&url);
	buf_free(&stored);
	seal_keys_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_single_part_long_line),
		cmocka_unit_test(test_base64_stays_base64),
		cmocka_unit_test(test_base64_malformed),
		cmocka_unit_test(test_body_bound),
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_xmtrack_modes),
		cmocka_unit_test(test_garbage_and_limits),
		cmocka_unit_test(test_exclude_and_own_links),
		cmocka_unit_test(test_long_link),
		cmocka_unit_test(test_samples_roundtrip),
		cmocka_unit_test(test_corpus_roundtrip),
		cmocka_unit_test(test_fuzz_regressions),
		cmocka_unit_test(test_text_links),
		cmocka_unit_test(test_sealed),
	};

	return cmocka_run_group_tests_name("rewrite", tests, setup, teardown);
}
