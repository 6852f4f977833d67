/*
 * fuzz_mime - libFuzzer target for the whole rewrite path: rewrite_message
 * on the input as a complete message (headers, blank line, body), then
 * checks on the message it would send: it parses with the same parts,
 * changed parts are tracked types with a known encoding and legal line
 * lengths, their decoded content is the input's with tracking links the
 * store maps back, the pixel and opt-out markers removed, and every other
 * byte is kept (see README.md). mime_decode is checked against GMime's
 * own decoder on every part of both messages.
 *
 * Two configurations, picked by the parity of the input length:
 *   even  pixel at the bottom, text/plain links tracked, one excluded domain
 *   odd   pixel at the top, text/plain left alone
 *
 * The store lives in a temporary directory made once (under $TMPDIR) and
 * is started afresh when its file grows past STORE_RESET bytes.
 * FUZZ_VERBOSE=1 prints one line per input; FUZZ_OUTPUT=file keeps the
 * message that would be sent.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "config.h"
#include "html.h"
#include "id.h"
#include "log.h"
#include "mime.h"
#include "rewrite.h"
#include "store.h"
#include "text.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) fail(__LINE__, #c); } while (0)

#define MAP_SIZE	((size_t)2 << 30)
#define STORE_RESET	((off_t)256 << 20)
#define TRACK		"https://t.example"

static char		 root[4096];	/* the temporary directory */
static char		 dbdir[4200];	/* the store in it */
static unsigned		 generation;
static struct store	*st;
static struct config	 cfg[2];
static int		 verbose;	/* $FUZZ_VERBOSE: one line per input */

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_mime.c:%d: invariant failed: %s\n", line, what);
	abort();
}

static int
rm1(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
store_start(void)
{
	struct store_opts	o = { .map_size = MAP_SIZE, .batch_ms = 1, .batch_max = 4096 };
	char			err[512];

	snprintf(dbdir, sizeof(dbdir), "%s/db%u", root, generation++);
	if ((st = store_open(dbdir, &o, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_mime: store: %s\n", err);
		exit(1);
	}
}

static void
store_stop(void)
{
	store_close(st);
	st = NULL;
	nftw(dbdir, rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/* keep the map and the temporary file system from filling up */
static void
store_maybe_reset(void)
{
	char		path[4300];
	struct stat	sb;

	snprintf(path, sizeof(path), "%s/data.mdb", dbdir);
	if (stat(path, &sb) == 0 && sb.st_size > STORE_RESET) {
		store_stop();
		store_start();
	}
}

static void
cleanup(void)
{
	if (st != NULL)
		store_stop();
	nftw(root, rm1, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setcfg(struct config *c, const char *key, const char *value)
{
	char err[512];

	if (config_set(c, key, value, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_mime: config: %s\n", err);
		exit(1);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	log_open("fuzz_mime", 0, verbose ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	mime_init();
	snprintf(root, sizeof(root), "%s/mtrack-fuzz-XXXXXX", t && *t ? t : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("fuzz_mime: mkdtemp");
		exit(1);
	}
	atexit(cleanup);
	store_start();
	if (config_defaults(&cfg[0]) == -1 || config_defaults(&cfg[1]) == -1)
		exit(1);
	setcfg(&cfg[0], "tracking_url", TRACK);
	setcfg(&cfg[0], "track_text_links", "yes");
	setcfg(&cfg[0], "exclude_domains", "example.org");
	setcfg(&cfg[1], "tracking_url", TRACK);
	setcfg(&cfg[1], "pixel_position", "top");
	return 0;
}

/* the message as the MTA sends it: edited headers, separator, new body */
static char *
assemble(const struct mime_msg *m, const char *msg, const struct rewrite_result *r,
    size_t *outlen)
{
	struct buf out = BUF_INIT;

	CHECK(rewrite_apply_headers(r, msg, m->hdr_end, m->nl, &out) == 0);
	if (r->nhdrs == 0)
		CHECK(out.len == m->hdr_end && (out.len == 0 ||
		    memcmp(out.data, msg, out.len) == 0));
	CHECK(buf_append(&out, msg + m->hdr_end, m->body_start - m->hdr_end) == 0);
	CHECK(buf_append(&out, r->body.data, r->body.len) == 0);
	return buf_steal(&out, outlen);
}

/* the longest line of s[0..n), its line end (LF or CRLF) not counted */
static size_t
longest_line_nocr(const char *s, size_t n)
{
	size_t i, start = 0, max = 0, l;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n')
			continue;
		l = i - start;
		if (i < n && l > 0 && s[i - 1] == '\r')
			l--;
		if (l > max)
			max = l;
		start = i + 1;
	}
	return max;
}

/*
 * check_decoders - mime_decode gives, for every part, the bytes GMime's
 * own decoder gives (it decodes quoted-printable and base64 itself)
 */
static void
check_decoders(const struct mime_msg *m)
{
	struct buf	 a = BUF_INIT;
	size_t		 i;

	for (i = 0; i < m->nparts; i++) {
		const struct mime_part	*p = &m->parts[i];
		GMimeDataWrapper	*dw = g_mime_part_get_content(
		    GMIME_PART(p->gpart));
		GMimeStream		*mem;
		GByteArray		*ba;
		int			 rc;

		buf_reset(&a);
		rc = mime_decode(p, &a);
		if (dw == NULL) {
			CHECK(rc == -1);
			continue;
		}
		mem = g_mime_stream_mem_new();
		CHECK(mem != NULL);
		if (g_mime_data_wrapper_write_to_stream(dw, mem) >= 0) {
			ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
			CHECK(rc == 0);
			if (ba->len != a.len || (a.len > 0 &&
			    memcmp(ba->data, a.data, a.len) != 0)) {
				fprintf(stderr, "fuzz_mime: part %zu (%s): %zu bytes"
				    " decoded, GMime %u\n", i, mime_enc_name(p->enc),
				    a.len, ba->len);
				CHECK(!"mime_decode gives what GMime gives");
			}
		}
		g_object_unref(mem);
	}
	buf_free(&a);
}

/* the parts as mime_parse sees them, to study a failure */
static void
dump_parts(const char *what, const struct mime_msg *m)
{
	size_t i;

	for (i = 0; i < m->nparts; i++) {
		const struct mime_part *p = &m->parts[i];

		fprintf(stderr, "fuzz_mime: %s part %zu: %s/%s enc=%s%s%s"
		    " headers end %zu, content [%zu, %zu)\n", what, i, p->type,
		    p->subtype, mime_enc_name(p->enc), p->attachment ?
		    " attachment" : "", p->top ? " top" : "", p->hdr_end,
		    p->body_start, p->body_end);
	}
}

/*
 * known_cte - the header line h[0..n) ("Content-Transfer-Encoding: x",
 * maybe folded) names one of the five encodings of RFC 2045, maybe
 * followed by white space or a comment (and anything after a NUL or a
 * line end in the value, which GMime does not read either)
 */
static int
known_cte(const char *h, size_t n)
{
	static const char *const names[] = { "7bit", "8bit", "binary",
	    "quoted-printable", "base64", NULL };
	const char	*v = memchr(h, ':', n), *e = h + n, *t;
	size_t		 i, len;

	if (v == NULL)
		return 0;
	for (v++; v < e && (*v == ' ' || *v == '\t' || *v == '\r' ||
	    *v == '\n'); v++)
		;
	/* what a reader of C strings or of lines sees: up to NUL, CR or LF */
	for (t = v; t < e && *t != '\0' && *t != '\r' && *t != '\n'; t++)
		;
	e = t;
	for (t = v; t < e && *t != ' ' && *t != '\t' && *t != '('; t++)
		;
	len = (size_t)(t - v);
	while (t < e && (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n'))
		t++;
	if (t < e && *t != '(')
		return 0;
	for (i = 0; names[i]; i++)
		if (len == strlen(names[i]) && strncasecmp(v, names[i], len) == 0)
			return 1;
	return 0;
}

/* ---- the content of a changed part: the input's, rewritten ---- */

/* the links of a text, in order, and what to do with each */
struct links {
	char		**url;
	size_t		  n, cap;
	const char	*tracked;	/* replace link k by "X" when tracked[k] */
};

static void
links_free(struct links *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->url[i]);
	free(l->url);
	memset(l, 0, sizeof(*l));
}

static int
link_cb(void *arg, const struct html_link *hl, struct buf *repl)
{
	struct links *l = arg;

	if (l->tracked != NULL) {
		CHECK(hl->index < l->n);
		if (!l->tracked[hl->index])
			return 0;
		CHECK(buf_puts(repl, "X") == 0);
		return 1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		CHECK((l->url = realloc(l->url, l->cap * sizeof(*l->url))) != NULL);
	}
	CHECK((l->url[l->n++] = strdup(hl->url)) != NULL);
	return 0;
}

static int
none_cb(void *arg, const struct html_link *hl, struct buf *repl)
{
	(void)arg;
	(void)hl;
	(void)repl;
	return 0;
}

/* rewrite - the links of s[0..n) into l, or, with l->tracked, the text
 * with the tracked ones made "X" into out; the opt-out markers removed */
static unsigned
rewrite(int html, const char *s, size_t n, struct links *l, struct buf *out)
{
	struct html_opts	o;
	struct html_result	hr;
	unsigned		k;

	if (!html) {
		CHECK(text_rewrite(s, n, link_cb, l, out, &k) == 0);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.link_fn = link_cb;
	o.arg = l;
	CHECK(html_rewrite(s, n, &o, out, &hr) == 0);
	return hr.optouts_removed;
}

/* the link the tracking URL u stands for, from the store, or NULL */
static char *
stored_url(const char *u)
{
	static const char	 click[] = TRACK "/click/";
	uint64_t		 seq;
	struct buf		 b = BUF_INIT;

	if (strncmp(u, click, sizeof(click) - 1) != 0 ||
	    strlen(u) != sizeof(click) - 1 + ID_LEN ||
	    id_decode(store_key(st), ID_LINK, u + sizeof(click) - 1, ID_LEN,
	    &seq) != 0 || store_get_link(st, seq, &b, NULL) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/*
 * same_url - the store keeps URLs as JSON strings: bytes of a URL that
 * are not valid UTF-8 are stored as Latin-1 characters
 */
static int
same_url(const char *stored, const char *orig)
{
	const unsigned char	*p = (const unsigned char *)orig;
	const unsigned char	*t = (const unsigned char *)stored;
	size_t			 len, i;

	while (*p) {
		unsigned char c = *p, lo, hi;

		if (c < 0x80) {
			if (*t++ != *p++)
				return 0;
			continue;
		}
		len = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 :
		    c >= 0xf0 && c < 0xf5 ? 4 : 0;
		lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		if (len && (p[1] < lo || p[1] > hi))
			len = 0;
		for (i = 1; i < len && (p[i] & 0xc0) == 0x80; i++)
			;
		if (len && i == len) {
			if (memcmp(t, p, len) != 0)
				return 0;
			t += len;
			p += len;
			continue;
		}
		if (t[0] != (0xc0 | c >> 6) || t[1] != (0x80 | (c & 0x3f)))
			return 0;
		t += 2;
		p++;
	}
	return *t == '\0';
}

/*
 * same_content - the decoded output part q is the decoded input part p
 * with the pixel inserted once at most, some links replaced by tracking
 * links that the store maps back to them, opt-out markers removed, and
 * nothing else changed. Returns 1 when q holds the pixel, 0 when not,
 * -1 when the content is not that (said on stderr).
 */
static int
same_content(const struct mime_part *p, const struct mime_part *q,
    const struct rewrite_result *r)
{
	struct buf	 din = BUF_INIT, dout = BUF_INIT, px = BUF_INIT;
	struct buf	 nin = BUF_INIT, nout = BUF_INIT;
	struct links	 lin, lout;
	char		*tracked = NULL, *u, *at;
	int		 html = strcmp(p->subtype, "html") == 0, pixel = 0;
	size_t		 k;

	memset(&lin, 0, sizeof(lin));
	memset(&lout, 0, sizeof(lout));
	CHECK(mime_decode(p, &din) == 0);
	CHECK(mime_decode(q, &dout) == 0);
	CHECK(buf_append(&din, "", 0) == 0 && buf_append(&dout, "", 0) == 0);
	/* the pixel out first: inserted in a tag cut by the end, it is one */
	if (html && r->pixel) {
		CHECK(buf_printf(&px, "<img src=\"%s/open/%s.png\" width=\"1\""
		    " height=\"1\" alt=\"\" style=\"" REWRITE_PIXEL_STYLE "\">",
		    TRACK, r->msg_id) == 0);
		if ((at = memmem(dout.data, dout.len, px.data, px.len)) != NULL) {
			memmove(at, at + px.len, dout.len - (size_t)(at -
			    dout.data) - px.len);
			dout.len -= px.len;
			pixel = 1;
		}
	}
	/*
	 * The input without its opt-out markers, as the engine leaves it:
	 * the links they kept from tracking are plain links then
	 */
	if (html) {
		struct html_opts	o;
		struct buf		t = BUF_INIT;

		memset(&o, 0, sizeof(o));
		o.link_fn = none_cb;
		CHECK(html_rewrite(din.data, din.len, &o, &t, NULL) == 0);
		buf_free(&din);
		din = t;
		CHECK(buf_append(&din, "", 0) == 0);
	}
	rewrite(html, din.data, din.len, &lin, &nin);
	if (rewrite(html, dout.data, dout.len, &lout, &nout) != 0)
		goto out;	/* a marker came up from under a removed one */
	if (lin.n != lout.n) {
		fprintf(stderr, "fuzz_mime: %zu links became %zu\n", lin.n,
		    lout.n);
		for (k = 0; k < lin.n || k < lout.n; k++)
			fprintf(stderr, "fuzz_mime:   %zu: %.200s -> %.200s\n", k,
			    k < lin.n ? lin.url[k] : "-",
			    k < lout.n ? lout.url[k] : "-");
		pixel = -1;
		goto out;
	}
	CHECK((tracked = calloc(lin.n + 1, 1)) != NULL);
	for (k = 0; k < lin.n; k++) {
		if (strcmp(lin.url[k], lout.url[k]) == 0)
			continue;
		if ((u = stored_url(lout.url[k])) == NULL ||
		    !same_url(u, lin.url[k])) {
			fprintf(stderr, "fuzz_mime: link %zu: %s became %s,"
			    " stored as %s\n", k, lin.url[k], lout.url[k],
			    u ? u : "(none)");
			free(u);
			pixel = -1;
			goto out;
		}
		free(u);
		tracked[k] = 1;
	}
	/* the rest is the same text */
	buf_reset(&nin);
	buf_reset(&nout);
	lin.tracked = lout.tracked = tracked;
	rewrite(html, din.data, din.len, &lin, &nin);
	rewrite(html, dout.data, dout.len, &lout, &nout);
	if (nin.len != nout.len || memcmp(nin.data, nout.data, nin.len) != 0) {
		for (k = 0; k < nin.len && k < nout.len &&
		    nin.data[k] == nout.data[k]; k++)
			;
		fprintf(stderr, "fuzz_mime: content differs at byte %zu:"
		    " \"%.40s\" became \"%.40s\"\n", k, nin.data + k,
		    nout.data + k);
		pixel = -1;
		goto out;
	}
out:
	free(tracked);
	links_free(&lin);
	links_free(&lout);
	buf_free(&din);
	buf_free(&dout);
	buf_free(&px);
	buf_free(&nin);
	buf_free(&nout);
	return pixel;
}

/* the indices of the parts to compare: all of them */
static size_t
part_list(const struct mime_msg *m, size_t *ix)
{
	size_t i;

	for (i = 0; i < m->nparts; i++)
		ix[i] = i;
	return m->nparts;
}

/* same_shape - the parts agree: number, types, charsets, dispositions
 * (and encodings, with shape_enc set) */
static int	shape_enc;

static int
same_shape(const struct mime_msg *a, const size_t *ia, size_t na,
    const struct mime_msg *b, const size_t *ib, size_t nb, size_t *at)
{
	size_t j;

	for (j = 0; j < na && j < nb; j++) {
		const struct mime_part *p = &a->parts[ia[j]], *q = &b->parts[ib[j]];

		if (strcmp(p->type, q->type) != 0 ||
		    strcmp(p->subtype, q->subtype) != 0 ||
		    strcmp(p->charset, q->charset) != 0 ||
		    p->attachment != q->attachment ||
		    (shape_enc && p->enc != q->enc))
			break;
	}
	*at = j;
	return j == na && j == nb;
}

/* moved - does GMime read msg otherwise when its bytes move by s? */
static int
moved(const char *msg, size_t len, const struct mime_msg *m, const size_t *im,
    size_t nm, size_t s)
{
	const char	*nl = memchr(msg, '\n', len);
	struct mime_msg	 x;
	const char	*why;
	char		*copy;
	size_t		*ix, nx, at, cut;
	int		 differs = 1;

	if (nl == NULL || s == 0)
		return 0;
	/* white space at the end of the first header line */
	cut = (size_t)(nl - msg);
	if (cut > 0 && msg[cut - 1] == '\r')
		cut--;
	copy = malloc(len + s);
	CHECK(copy != NULL);
	memcpy(copy, msg, cut);
	memset(copy + cut, ' ', s);
	memcpy(copy + cut + s, msg + cut, len - cut);
	if (mime_parse(&x, copy, len + s, &why) == 0) {
		ix = calloc(x.nparts + 1, sizeof(*ix));
		CHECK(ix != NULL);
		nx = part_list(&x, ix);
		differs = !same_shape(m, im, nm, &x, ix, nx, &at);
		free(ix);
		mime_free(&x);
	}
	free(copy);
	return differs;
}

/*
 * fragile - is the input read otherwise by GMime when moved by the
 * shifts the rewrite made: the whole one, and the one at each part that
 * still matched before the difference at index at?
 */
static int
fragile(const char *msg, size_t len, const struct mime_msg *in,
    const size_t *ix, size_t ni, const struct mime_msg *out, const size_t *ox,
    size_t at, size_t olen)
{
	size_t j, s;

	if (moved(msg, len, in, ix, ni, olen > len ? olen - len : len - olen))
		return 1;
	for (j = 0; j < at && j < 16; j++) {
		const struct mime_part *p = &in->parts[ix[j]], *q = &out->parts[ox[j]];

		s = q->body_start > p->body_start ? q->body_start - p->body_start :
		    p->body_start - q->body_start;
		if (moved(msg, len, in, ix, ni, s))
			return 1;
	}
	return 0;
}

/*
 * output_moves - does GMime read the output o otherwise (parts, types,
 * encodings) when its bytes move? Then what it reads is no verdict on
 * the rewrite.
 */
static int
output_moves(const char *o, size_t olen, const struct mime_msg *out)
{
	static const size_t	 shifts[] = { 1, 64, 500, 1000, 2048, 4095 };
	size_t			*ox, no, i;
	int			 moves = 0;

	CHECK((ox = calloc(out->nparts + 1, sizeof(*ox))) != NULL);
	no = part_list(out, ox);
	shape_enc = 1;
	for (i = 0; i < sizeof(shifts) / sizeof(shifts[0]) && !moves; i++)
		moves = moved(o, olen, out, ox, no, shifts[i]);
	shape_enc = 0;
	free(ox);
	return moves;
}

static int
tracked_type(const struct mime_part *p, const struct config *c)
{
	return strcmp(p->type, "text") == 0 && !p->attachment &&
	    (strcmp(p->subtype, "html") == 0 ||
	    (strcmp(p->subtype, "plain") == 0 && c->track_text_links));
}

static void
check_output(const struct config *c, const char *msg, size_t len,
    const struct rewrite_result *r)
{
	struct mime_msg	 in, out;
	const char	*why;
	char		*o;
	size_t		 olen, i, j, ni, no, nchanged = 0, first = SIZE_MAX, last = 0, k;
	size_t		*ix, *ox;
	struct buf	 dec = BUF_INIT;
	int		 pixels = 0, same;

	/* the input parsed (rewrite_message did), and parses the same again */
	CHECK(mime_parse(&in, msg, len, &why) == 0);
	CHECK(!in.sealed);
	o = assemble(&in, msg, r, &olen);
	if (getenv("FUZZ_OUTPUT") != NULL) {
		FILE *fp = fopen(getenv("FUZZ_OUTPUT"), "wb");

		if (fp != NULL) {
			fwrite(o, 1, olen, fp);
			fclose(fp);
		}
	}
	if (mime_parse(&out, o, olen, &why) != 0) {
		fprintf(stderr, "fuzz_mime: output does not parse: %s\n", why);
		CHECK(!"output parses");
	}
	CHECK(!out.sealed);
	check_decoders(&out);
	ix = calloc(in.nparts + 1, sizeof(*ix));
	ox = calloc(out.nparts + 1, sizeof(*ox));
	CHECK(ix != NULL && ox != NULL);
	/*
	 * An input whose reading by GMime changes when its bytes move is
	 * not compared: how GMime reads some malformed header blocks depends
	 * on where its 4 KiB reads end, so on bytes the rewrite shifts, not
	 * on the bytes of the part.
	 */
	ni = part_list(&in, ix);
	no = part_list(&out, ox);
	if (!same_shape(&in, ix, ni, &out, ox, no, &j)) {
		if (fragile(msg, len, &in, ix, ni, &out, ox, j, olen) ||
		    output_moves(o, olen, &out)) {
			if (verbose)
				fprintf(stderr, "fuzz_mime: GMime reads this input"
				    " differently when its bytes move: parts not"
				    " compared\n");
			goto done;
		}
		fprintf(stderr, "fuzz_mime: the parts changed at %zu\n", j);
		dump_parts("in", &in);
		dump_parts("out", &out);
		CHECK(!"the same parts after the rewrite");
	}
	for (j = 0; j < ni; j++) {
		const struct mime_part *p = &in.parts[ix[j]], *q = &out.parts[ox[j]];
		const char *raw = o + q->body_start;
		size_t n = q->body_end - q->body_start, line;

		i = ix[j];
		CHECK(strcmp(p->type, q->type) == 0);
		CHECK(strcmp(p->subtype, q->subtype) == 0);
		CHECK(strcmp(p->charset, q->charset) == 0);
		CHECK(p->attachment == q->attachment);
		if (p->body_end - p->body_start == n &&
		    memcmp(msg + p->body_start, raw, n) == 0)
			continue;
		/* a part that changed: one the engine tracks, well encoded */
		nchanged++;
		CHECK(tracked_type(p, c));
		CHECK(p->enc != MIME_ENC_OTHER);
		/* RFC 2045 6.4: an unknown encoding is opaque data */
		if (p->cte_start >= 0 && !known_cte(msg + p->cte_start,
		    p->cte_end - (size_t)p->cte_start)) {
			fprintf(stderr, "fuzz_mime: part %zu: content with an"
			    " unknown transfer encoding changed\n", i);
			CHECK(!"unknown Content-Transfer-Encoding left alone");
		}
		line = longest_line_nocr(raw, n);
		if (q->enc == MIME_ENC_QP || q->enc == MIME_ENC_BASE64) {
			if (line > 76)
				fprintf(stderr, "fuzz_mime: part %zu: %zu-byte"
				    " line\n", i, line);
			CHECK(line <= 76);
		} else if (q->enc != MIME_ENC_BINARY) {
			if (line > 998)
				fprintf(stderr, "fuzz_mime: part %zu: %zu-byte"
				    " line\n", i, line);
			CHECK(line <= 998);
			CHECK(memchr(raw, '\0', n) == NULL);
			for (k = 0; q->enc == MIME_ENC_7BIT && k < n; k++)
				CHECK((unsigned char)raw[k] < 0x80);
		}
		buf_reset(&dec);
		CHECK(mime_decode(q, &dec) == 0);
		if (!mime_charset_wide(p->charset) &&
		    (same = same_content(p, q, r)) >= 0)
			pixels += same;
		else if (!mime_charset_wide(p->charset)) {
			if (output_moves(o, olen, &out)) {
				if (verbose)
					fprintf(stderr, "fuzz_mime: GMime reads"
					    " the output differently when its"
					    " bytes move: content not compared\n");
				goto done;
			}
			CHECK(!"the content of a changed part is the input's,"
			    " rewritten");
		}
		/* where the splices may begin and end in the input */
		k = p->cte_start >= 0 && (size_t)p->cte_start < p->hdr_end ?
		    (size_t)p->cte_start : p->hdr_end;
		if (p->top)
			k = p->body_start;
		if (k < first)
			first = k;
		if (p->body_end > last)
			last = p->body_end;
	}
	CHECK(nchanged == r->parts);
	CHECK(nchanged > 0);
	CHECK(pixels <= 1 && (pixels == 0 || r->pixel));
	/* nothing lost: before the first change and after the last, the same */
	CHECK(first >= in.body_start && last <= len);
	CHECK(olen >= len - last);
	CHECK(memcmp(o + olen - (len - last), msg + last, len - last) == 0);
	CHECK(r->body.len >= first - in.body_start);
	CHECK(first == in.body_start || memcmp(r->body.data, msg + in.body_start,
	    first - in.body_start) == 0);
done:
	buf_free(&dec);
	free(ix);
	free(ox);
	mime_free(&out);
	mime_free(&in);
	free(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpt[] = { "reader@example.net" };
	const struct config	*c = &cfg[size & 1];
	struct rewrite_info	 info = { "news@example.com", rcpt, 1, "FUZZQ", NULL };
	struct rewrite_result	 r;
	const char		*msg = (const char *)data;
	char			*copy;
	int			 rc;

	/* a copy of exactly size bytes, so ASan sees any read past the end */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, msg, size);
	{
		struct mime_msg	 m;
		const char	*why;

		if (mime_parse(&m, copy, size, &why) == 0) {
			check_decoders(&m);
			mime_free(&m);
		}
	}
	rc = rewrite_message(c, st, &info, copy, size, &r);
	if (verbose)
		fprintf(stderr, "fuzz_mime: rc=%d changed=%d parts=%u links=%u"
		    " pixel=%d hdrs=%zu skip=%s\n", rc, r.changed, r.parts,
		    r.links, r.pixel, r.nhdrs, r.skip ? r.skip : "-");
	CHECK(rc == 0 || rc == -1);
	if (rc == -1 || !r.changed) {
		CHECK(r.changed == 0);
		CHECK(r.skip != NULL);
	} else {
		CHECK(r.skip == NULL);
		CHECK(r.parts > 0);
		CHECK(r.pixel == (r.msg_id[0] != '\0'));
		CHECK(r.pixel || r.links > 0 || r.parts > 0);
		check_output(c, copy, size, &r);
	}
	rewrite_result_free(&r);
	free(copy);
	store_maybe_reset();
	return 0;
}
