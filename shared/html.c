/*
 * html - HTML5 tokenization without a tree, and the link rewriter built on
 * it (see html.h).
 *
 * The scanner only needs token boundaries, which the tokenizer decides
 * without looking at character references (a reference never consumes a
 * quote, '>' or whitespace): values are located first and decoded
 * afterwards. The rewriter copies the input to the output in runs and
 * splices in only what changes, so untouched bytes stay identical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "html.h"

/* character classes of the tokenizer */
#define C_WS		0x01	/* TAB LF FF CR SPACE (CR is LF after preprocessing) */
#define C_TAGEND	0x02	/* '/' '>' */
#define C_EQ		0x04
#define C_ALPHA		0x08
#define C_ALNUM		0x10
#define C_DECODE	0x20	/* needs work in a value: '&' CR NUL */
#define C_TPL		0x40	/* may open a template placeholder */
#define C_NOURL		0x80	/* never raw in a URL: controls, space, DEL */

static const unsigned char cls[256] = {
	[0x01 ... 0x08] = C_NOURL, [0x0B] = C_NOURL, [0x0E ... 0x1F] = C_NOURL,
	[0x7F] = C_NOURL,
	['\t'] = C_WS | C_NOURL, ['\n'] = C_WS | C_NOURL,
	['\f'] = C_WS | C_NOURL, [' '] = C_WS | C_NOURL,
	['\r'] = C_WS | C_DECODE | C_NOURL,
	['/'] = C_TAGEND, ['>'] = C_TAGEND, ['='] = C_EQ,
	['&'] = C_DECODE, ['\0'] = C_DECODE | C_NOURL,
	['{'] = C_TPL, ['*'] = C_TPL, ['%'] = C_TPL, ['['] = C_TPL, ['<'] = C_TPL,
	['0' ... '9'] = C_ALNUM,
	['A' ... 'Z'] = C_ALPHA | C_ALNUM,
	['a' ... 'z'] = C_ALPHA | C_ALNUM,
};

#define IS(c, m)	(cls[(unsigned char)(c)] & (m))

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ascii_ieq - s[0..n) equals the lower-case ASCII word w, ignoring case */
static int
ascii_ieq(const char *s, const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

/* ---- character references ---- */

/* replacements for numeric references to the C1 range (0 = kept) */
static const uint16_t c1_repl[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static int
put_utf8(struct buf *out, uint32_t c)
{
	char	 u[4];
	size_t	 n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xC0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3F));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xE0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3F));
		u[2] = (char)(0x80 | (c & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3F));
		u[2] = (char)(0x80 | (c >> 6 & 0x3F));
		u[3] = (char)(0x80 | (c & 0x3F));
		n = 4;
	}
	return buf_append(out, u, n);
}

/*
 * numeric_ref - s[i] is the '#' after '&'. Appends the character and
 * returns the index past the reference, or appends nothing and returns i
 * when no digit follows (the caller then emits "&" literally).
 */
static size_t
numeric_ref(const char *s, size_t len, size_t i, struct buf *out, int *err)
{
	size_t		 k = i + 1, d;
	uint32_t	 c = 0, v;
	int		 hex = 0;

	if (k < len && (s[k] == 'x' || s[k] == 'X')) {
		hex = 1;
		k++;
	}
	for (d = k; k < len; k++) {
		unsigned char ch = (unsigned char)s[k];

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (hex && lower(ch) >= 'a' && lower(ch) <= 'f')
			v = (uint32_t)lower(ch) - 'a' + 10;
		else
			break;
		/* saturate: anything past U+10FFFF ends up as U+FFFD */
		c = c > 0x10FFFF ? c : c * (hex ? 16 : 10) + v;
	}
	if (k == d)
		return i;
	if (k < len && s[k] == ';')
		k++;
	if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		c = 0xFFFD;
	else if (c >= 0x80 && c <= 0x9F && c1_repl[c - 0x80])
		c = c1_repl[c - 0x80];
	if (put_utf8(out, c) == -1)
		*err = 1;
	return k;
}

/*
 * named_ref - s[i] is the first alphanumeric after '&'. The longest name
 * of the table that prefixes the input wins, as in the tokenizer. Returns
 * the index past what was consumed (appended), or i when nothing matched.
 */
static size_t
named_ref(const char *s, size_t len, size_t i, int attr, struct buf *out,
    int *err)
{
	const char	*v = NULL;
	size_t		 run, n, vlen = 0;

	for (run = 0; i + run < len && run < HTML_ENTITY_NAME_MAX &&
	    IS(s[i + run], C_ALNUM); run++)
		;
	n = run;
	if (i + run < len && s[i + run] == ';' && run < HTML_ENTITY_NAME_MAX)
		v = html_entity_lookup(s + i, ++n, &vlen);
	for (; v == NULL && run > 0; run--) {
		n = run;
		v = html_entity_lookup(s + i, n, &vlen);
	}
	if (v == NULL)
		return i;
	/*
	 * In attribute values a legacy name without ';' followed by '=' or an
	 * alphanumeric stays literal: "?a=1&copy=2" is not "?a=1(c)=2".
	 */
	if (attr && s[i + n - 1] != ';' && i + n < len &&
	    (s[i + n] == '=' || IS(s[i + n], C_ALNUM))) {
		if (buf_append(out, s + i - 1, n + 1) == -1)
			*err = 1;
	} else if (buf_append(out, v, vlen) == -1)
		*err = 1;
	return i + n;
}

int
html_decode(const char *s, size_t len, unsigned flags, struct buf *out)
{
	const char	*q;
	size_t		 i = 0, run = 0, k;
	int		 err = 0, attr = (flags & HTML_DECODE_ATTR) != 0, amp_only;

	if (len == 0)
		return buf_append(out, "", 0);
	/* most values need nothing: three vector searches beat a byte loop */
	amp_only = memchr(s, '\r', len) == NULL && memchr(s, '\0', len) == NULL;
	if (amp_only && memchr(s, '&', len) == NULL)
		return buf_append(out, s, len);
	while (i < len) {
		if (!IS(s[i], C_DECODE)) {
			if (!amp_only)
				i++;
			else if ((q = memchr(s + i, '&', len - i)) != NULL)
				i = (size_t)(q - s);
			else
				i = len;
			continue;
		}
		if (i > run && buf_append(out, s + run, i - run) == -1)
			return -1;
		switch (s[i]) {
		case '\r':
			if (buf_putc(out, '\n') == -1)
				return -1;
			i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
			break;
		case '\0':
			/* the data state passes NUL on; attribute values replace it */
			if ((attr ? buf_append(out, "\xEF\xBF\xBD", 3) :
			    buf_append(out, "", 1)) == -1)
				return -1;
			i++;
			break;
		default:
			k = i + 1;
			if (k < len && s[k] == '#')
				k = numeric_ref(s, len, k, out, &err);
			else if (len - k >= 4 && memcmp(s + k, "amp;", 4) == 0) {
				/* what named_ref finds for it, without the search */
				if (buf_putc(out, '&') == -1)
					return -1;
				k += 4;
			} else if (k < len && IS(s[k], C_ALNUM))
				k = named_ref(s, len, k, attr, out, &err);
			if (err)
				return -1;
			if (k == i + 1) {
				if (buf_putc(out, '&') == -1)
					return -1;
				i++;
			} else
				i = k;
			break;
		}
		run = i;
	}
	if (i > run && buf_append(out, s + run, i - run) == -1)
		return -1;
	/* an empty result is a C string too */
	return buf_append(out, "", 0);
}

/* ---- scanner ---- */

/* raw text content after a start tag */
enum raw {
	RAW_NONE,
	RAW_TEXT,	/* RAWTEXT and RCDATA: only the end tag matters */
	RAW_SCRIPT,
	RAW_PLAIN
};

struct attr_off {
	size_t	 name;		/* offsets into scan.text */
	size_t	 value;
};

struct scan {
	const char	*in;
	size_t		 len;
	/*
	 * where the construct that the end of input cuts (a tag, comment,
	 * doctype, raw text element) starts; len when the input ends in data
	 */
	size_t		 cut;
	unsigned	 flags;
	html_token_fn	 fn;
	void		*arg;
	/* which start tags need their attributes; NULL: all */
	int		(*want)(const char *name, size_t len);
	/* of those, which attributes (raw name, any case); NULL: all */
	int		(*want_attr)(const char *raw, size_t len);
	/* which tags are reported at all (raw name, any case); NULL: all */
	int		(*report)(const char *raw, size_t len, int end_tag);
	struct buf	 text;		/* tag name, attribute names and values */
	struct html_attr *attrs;
	struct attr_off	*off;
	size_t		 nattrs;
	size_t		 cap;
	/* open addressing on attribute names, for tags with many of them */
	size_t		*slots;
	size_t		 slots_cap;
	size_t		 nslots;	/* in use for this tag; 0: linear search */
};

#define LINEAR_MAX	16

static int	scan_range(struct scan *, size_t, size_t, int);

/* scan_cut - the construct at pos runs up to limit: is it cut by the end? */
static void
scan_cut(struct scan *s, size_t pos, size_t limit)
{
	if (limit == s->len && pos < s->cut)
		s->cut = pos;
}

static size_t
name_hash(const char *p, size_t n)
{
	size_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* slot_find - the slot of name p[0..n), holding 0 or the attribute + 1 */
static size_t *
slot_find(struct scan *s, const char *p, size_t n)
{
	size_t i = name_hash(p, n) & (s->nslots - 1), a;

	while ((a = s->slots[i]) != 0) {
		a--;
		if (s->attrs[a].name_len == n &&
		    memcmp(s->text.data + s->off[a].name, p, n) == 0)
			break;
		i = (i + 1) & (s->nslots - 1);
	}
	return &s->slots[i];
}

/* slots_build - size the table for twice the attributes and fill it */
static int
slots_build(struct scan *s)
{
	size_t	 n = 64, i, *p;

	while (n < 2 * (s->nattrs + 1))
		n *= 2;
	if (n > s->slots_cap) {
		if ((p = realloc(s->slots, n * sizeof(*p))) == NULL)
			return -1;
		s->slots = p;
		s->slots_cap = n;
	}
	s->nslots = n;
	memset(s->slots, 0, n * sizeof(*s->slots));
	for (i = 0; i < s->nattrs; i++)
		*slot_find(s, s->text.data + s->off[i].name,
		    s->attrs[i].name_len) = i + 1;
	return 0;
}

/*
 * put_name - append a tag or attribute name as the tokenizer sees it
 * (lower case, NUL as U+FFFD), and a NUL that counts in b->len
 */
static int
put_name(struct buf *b, const char *p, size_t n)
{
	size_t	 i;
	char	*d;

	if (b->cap - b->len < 3 * n + 2 && buf_reserve(b, 3 * n + 1) == -1)
		return -1;
	d = b->data + b->len;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\0') {
			memcpy(d, "\xEF\xBF\xBD", 3);
			d += 3;
		} else
			*d++ = (char)((unsigned)(c - 'A') < 26 ? c + ('a' - 'A') : c);
	}
	*d++ = '\0';
	b->len = (size_t)(d - b->data);
	*d = '\0';
	return 0;
}

/*
 * add_attr - record an attribute of the current start tag; a later
 * duplicate of a name is dropped, as the tokenizer does.
 */
static int
add_attr(struct scan *s, size_t astart, size_t aend, size_t vstart,
    size_t vs, size_t ve, size_t end)
{
	struct html_attr	*a;
	struct attr_off		*o;
	size_t			 noff = s->text.len, nlen, i, *slot = NULL;

	if (put_name(&s->text, s->in + astart, aend - astart) == -1)
		return -1;
	nlen = s->text.len - noff - 1;
	if (s->nslots) {
		slot = slot_find(s, s->text.data + noff, nlen);
		if (*slot) {
			s->text.len = noff;
			return 0;
		}
	} else {
		for (i = 0; i < s->nattrs; i++)
			if (s->attrs[i].name_len == nlen && memcmp(s->text.data +
			    s->off[i].name, s->text.data + noff, nlen) == 0) {
				s->text.len = noff;
				return 0;
			}
	}
	if (s->nattrs == s->cap) {
		size_t n = s->cap ? 2 * s->cap : 16;

		if ((a = realloc(s->attrs, n * sizeof(*a))) == NULL)
			return -1;
		s->attrs = a;
		if ((o = realloc(s->off, n * sizeof(*o))) == NULL)
			return -1;
		s->off = o;
		s->cap = n;
	}
	a = &s->attrs[s->nattrs];
	o = &s->off[s->nattrs];
	o->name = noff;
	o->value = s->text.len;
	a->name_len = nlen;
	if (html_decode(s->in + vs, ve - vs, HTML_DECODE_ATTR, &s->text) == -1)
		return -1;
	a->value_len = s->text.len - o->value;
	if (buf_putc(&s->text, '\0') == -1)
		return -1;
	a->start = astart;
	a->vstart = vstart;
	a->end = end;
	s->nattrs++;
	if (slot != NULL && 2 * s->nattrs <= s->nslots)
		*slot_find(s, s->text.data + noff, nlen) = s->nattrs;
	else if (s->nattrs > LINEAR_MAX && slots_build(s) == -1)
		return -1;
	return 0;
}

/*
 * raw_kind - the content that follows the start tag named p[0..len) (as
 * written, any case); *name gets the lower-case name for raw_end
 */
static enum raw
raw_kind(const char *p, size_t len, const char **name)
{
	static const struct {
		const char	*name;
		size_t		 len;
		enum raw	 raw;
	} raws[] = {
		{ "style", 5, RAW_TEXT }, { "xmp", 3, RAW_TEXT },
		{ "iframe", 6, RAW_TEXT }, { "noembed", 7, RAW_TEXT },
		{ "noframes", 8, RAW_TEXT }, { "title", 5, RAW_TEXT },
		{ "textarea", 8, RAW_TEXT }, { "script", 6, RAW_SCRIPT },
		{ "plaintext", 9, RAW_PLAIN },
	};
	size_t i;

	if (len < 3 || len > 9)
		return RAW_NONE;
	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++)
		if (raws[i].len == len && ascii_ieq(p, raws[i].name, len)) {
			*name = raws[i].name;
			return raws[i].raw;
		}
	return RAW_NONE;
}

/*
 * scan_tag - tokenize the tag whose '<' is at pos, report it, and set *next
 * past it (to limit when the input ends inside the tag: nothing reported)
 * and *raw to the content that follows a start tag, with *raw_name the
 * lower-case name that ends it. Over 100 lines on purpose: the tag name,
 * then one loop over attributes (name, '=', value quoted or not, as the
 * HTML spec's tokenizer states go), then the report: split, the states
 * would pass half a dozen cursors between functions.
 */
static int
scan_tag(struct scan *s, size_t pos, size_t limit, int end_tag, int in_mso,
    size_t *next, enum raw *raw, const char **raw_name)
{
	const char		*in = s->in;
	struct html_token	 t;
	size_t			 i = pos + 1 + (end_tag ? 1 : 0), nstart = i, nend;
	size_t			 astart, aend, vstart, vs, ve, end, k, name_len = 0;
	const char		*q;
	int			 collect = 0, report, self_closing = 0, rc;

	*raw = RAW_NONE;
	while (i < limit && !IS(in[i], C_WS | C_TAGEND))
		i++;
	if (i >= limit)
		goto eof;
	nend = i;
	report = s->report == NULL || s->report(in + nstart, nend - nstart,
	    end_tag);
	if (report) {
		s->text.len = 0;
		if (put_name(&s->text, in + nstart, nend - nstart) == -1)
			return -1;
		name_len = s->text.len - 1;
		collect = !end_tag && (s->want == NULL ||
		    s->want(s->text.data, name_len));
	}
	s->nattrs = 0;
	s->nslots = 0;
	for (;;) {
		while (i < limit && IS(in[i], C_WS))
			i++;
		if (i >= limit)
			goto eof;
		if (in[i] == '>') {
			i++;
			break;
		}
		if (in[i] == '/') {
			if (++i >= limit)
				goto eof;
			if (in[i] == '>') {
				self_closing = 1;
				i++;
				break;
			}
			continue;
		}
		/* the first character of a name may be '=' */
		astart = i++;
		while (i < limit && !IS(in[i], C_WS | C_TAGEND | C_EQ))
			i++;
		aend = i;
		while (i < limit && IS(in[i], C_WS))
			i++;
		if (i >= limit)
			goto eof;
		vstart = vs = ve = end = aend;
		if (in[i] == '=') {
			for (i++; i < limit && IS(in[i], C_WS); i++)
				;
			if (i >= limit)
				goto eof;
			if (in[i] == '"' || in[i] == '\'') {
				q = memchr(in + i + 1, in[i], limit - i - 1);
				if (q == NULL)
					goto eof;
				vstart = i;
				vs = i + 1;
				ve = (size_t)(q - in);
				i = end = ve + 1;
			} else if (in[i] == '>') {
				/* "a=>": an empty value */
				vstart = vs = ve = end = i;
			} else {
				vstart = vs = i;
				while (i < limit && !IS(in[i], C_WS) && in[i] != '>')
					i++;
				if (i >= limit)
					goto eof;
				ve = end = i;
			}
		}
		if (collect && (s->want_attr == NULL ||
		    s->want_attr(in + astart, aend - astart)) &&
		    add_attr(s, astart, aend, vstart, vs, ve, end) == -1)
			return -1;
	}
	if (report) {
		for (k = 0; k < s->nattrs; k++) {
			s->attrs[k].name = s->text.data + s->off[k].name;
			s->attrs[k].value = s->text.data + s->off[k].value;
		}
		memset(&t, 0, sizeof(t));
		t.type = end_tag ? HTML_END_TAG : HTML_START_TAG;
		t.start = pos;
		t.end = i;
		t.name = s->text.data;
		t.name_len = name_len;
		t.attrs = s->attrs;
		t.nattrs = s->nattrs;
		t.self_closing = self_closing;
		t.in_mso = in_mso;
		if ((rc = s->fn(s->arg, &t)) != 0)
			return rc;
	}
	if (!end_tag && !(s->flags & HTML_SCAN_TOKENIZER))
		*raw = raw_kind(in + nstart, nend - nstart, raw_name);
	*next = i;
	return 0;
eof:
	scan_cut(s, pos, limit);
	*next = limit;
	return 0;
}

/*
 * end_tag_at - in[k] is '<': does "</name" follow, then whitespace, '/'
 * or '>'? That is the only end of raw text.
 */
static int
end_tag_at(const char *in, size_t k, size_t limit, const char *name, size_t n)
{
	return k + 2 + n < limit && in[k + 1] == '/' &&
	    ascii_ieq(in + k + 2, name, n) &&
	    (IS(in[k + 2 + n], C_WS) || in[k + 2 + n] == '/' ||
	    in[k + 2 + n] == '>');
}

/* raw_end - the '<' of "</name" ending RAWTEXT or RCDATA, or limit */
static size_t
raw_end(const char *in, size_t i, size_t limit, const char *name, size_t n)
{
	const char *q;

	while ((q = memchr(in + i, '<', limit - i)) != NULL) {
		i = (size_t)(q - in);
		if (end_tag_at(in, i, limit, name, n))
			return i;
		i++;
	}
	return limit;
}

/*
 * script_word - after "<" or "</" at j: is the run of letters "script" and
 * is it followed by whitespace, '/' or '>'? *endp gets the end of the run.
 */
static int
script_word(const char *in, size_t j, size_t limit, size_t *endp)
{
	size_t k = j;

	while (k < limit && IS(in[k], C_ALPHA))
		k++;
	*endp = k;
	return k - j == 6 && ascii_ieq(in + j, "script", 6) && k < limit &&
	    (IS(in[k], C_WS) || in[k] == '/' || in[k] == '>');
}

/*
 * script_end - the '<' of the "</script" that ends script data, or limit.
 * Script data has escaped ("<!--") and double escaped ("<!--<script>")
 * parts in which "</script" does not always end it.
 */
static size_t
script_end(const char *in, size_t i, size_t limit)
{
	enum { SD, ESC, ESC_DASH, ESC_DASH2, DESC, DESC_DASH, DESC_DASH2 } st = SD;
	const char	*q;
	size_t		 k;

	while (i < limit) {
		char c = in[i];

		switch (st) {
		case SD:
			if ((q = memchr(in + i, '<', limit - i)) == NULL)
				return limit;
			i = (size_t)(q - in);
			if (end_tag_at(in, i, limit, "script", 6))
				return i;
			if (limit - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
				st = ESC_DASH2;
				i += 4;
			} else
				i++;
			continue;
		case ESC:
		case ESC_DASH:
		case ESC_DASH2:
			if (c == '-') {
				st = st == ESC ? ESC_DASH : ESC_DASH2;
			} else if (c == '>' && st == ESC_DASH2) {
				st = SD;
			} else if (c == '<') {
				st = ESC;
				if (end_tag_at(in, i, limit, "script", 6))
					return i;
				if (i + 1 < limit && IS(in[i + 1], C_ALPHA)) {
					if (script_word(in, i + 1, limit, &k)) {
						st = DESC;
						k++;
					}
					i = k;
					continue;
				}
			} else
				st = ESC;
			i++;
			continue;
		default:
			if (c == '-') {
				st = st == DESC ? DESC_DASH : DESC_DASH2;
			} else if (c == '>' && st == DESC_DASH2) {
				st = SD;
			} else if (c == '<') {
				st = DESC;
				if (i + 2 < limit && in[i + 1] == '/') {
					if (script_word(in, i + 2, limit, &k)) {
						st = ESC;
						k++;
					}
					i = k;
					continue;
				}
			} else
				st = DESC;
			i++;
			continue;
		}
	}
	return limit;
}

/* emit_comment - report the comment at pos whose data is in[d..e) */
static int
emit_comment(struct scan *s, size_t pos, size_t next, size_t d, size_t e,
    int in_mso)
{
	struct html_token t;

	memset(&t, 0, sizeof(t));
	t.type = HTML_COMMENT;
	t.start = pos;
	t.end = next;
	t.name = "";
	t.data_start = d;
	t.data_end = e;
	t.in_mso = in_mso;
	return s->fn(s->arg, &t);
}

/*
 * scan_bogus - the bogus comment at pos ("<?", "<!x", "</ "...) whose data
 * starts at d and ends at the first '>' or the end of input.
 */
static int
scan_bogus(struct scan *s, size_t pos, size_t d, size_t limit, int in_mso,
    size_t *next)
{
	const char	*q = memchr(s->in + d, '>', limit - d);
	size_t		 e = q ? (size_t)(q - s->in) : limit;

	*next = q ? e + 1 : limit;
	if (q == NULL)
		scan_cut(s, pos, limit);
	return emit_comment(s, pos, *next, d, e, in_mso);
}

/*
 * mso_content - is the comment data in[d..e) an Outlook conditional
 * comment whose condition mentions mso ("[if gte mso 9]>...")? Sets *c to
 * the start of its content.
 */
static int
mso_content(const char *in, size_t d, size_t e, size_t *c)
{
	size_t	 i;
	int	 mso = 0;

	if (e - d < 5 || !ascii_ieq(in + d, "[if", 3) || !IS(in[d + 3], C_WS))
		return 0;
	for (i = d + 3; i + 1 < e; i++) {
		if (in[i] == ']' && in[i + 1] == '>') {
			*c = i + 2;
			return mso;
		}
		if (i + 3 <= e && ascii_ieq(in + i, "mso", 3))
			mso = 1;
	}
	return 0;
}

/*
 * scan_comment - the comment at pos whose data starts at d, after "<!--":
 * set *next past its end. Where the tokenizer ends it: "<!-->", "<!--->",
 * else the first "-->" or "--!>" (dashes of a nested "<!--" count), else
 * the end of input.
 */
static int
scan_comment(struct scan *s, size_t pos, size_t d, size_t limit, int in_mso,
    size_t *next)
{
	const char	*in = s->in, *q;
	size_t		 i = d, e, c = 0;
	int		 rc;

	if (i < limit && in[i] == '>') {
		*next = i + 1;
		return emit_comment(s, pos, *next, d, d, in_mso);
	}
	if (i + 1 < limit && in[i] == '-' && in[i + 1] == '>') {
		*next = i + 2;
		return emit_comment(s, pos, *next, d, d, in_mso);
	}
	for (;;) {
		if ((q = memchr(in + i, '-', limit - i)) == NULL) {
			/* cut by the end: trailing "-", "--" or "--!" are no data */
			e = limit;
			if (e - d >= 3 && memcmp(in + e - 3, "--!", 3) == 0)
				e -= 3;
			else if (e - d >= 2 && memcmp(in + e - 2, "--", 2) == 0)
				e -= 2;
			else if (e - d >= 1 && in[e - 1] == '-')
				e -= 1;
			*next = limit;
			scan_cut(s, pos, limit);
			return emit_comment(s, pos, limit, d, e, in_mso);
		}
		e = (size_t)(q - in);
		if (e + 2 < limit && in[e + 1] == '-') {
			if (in[e + 2] == '>') {
				*next = e + 3;
				break;
			}
			if (e + 3 < limit && in[e + 2] == '!' && in[e + 3] == '>') {
				*next = e + 4;
				break;
			}
		}
		i = e + 1;
	}
	if ((rc = emit_comment(s, pos, *next, d, e, in_mso)) != 0)
		return rc;
	if (!in_mso && !(s->flags & HTML_SCAN_TOKENIZER) &&
	    mso_content(in, d, e, &c))
		return scan_range(s, c, e, 1);
	return 0;
}

/* scan_markup - "<!" at pos: comment, doctype or bogus comment */
static int
scan_markup(struct scan *s, size_t pos, size_t limit, int in_mso, size_t *next)
{
	const char		*in = s->in, *q;
	struct html_token	 t;
	size_t			 i = pos + 2;

	if (limit - i >= 2 && in[i] == '-' && in[i + 1] == '-')
		return scan_comment(s, pos, i + 2, limit, in_mso, next);
	if (limit - i >= 7 && ascii_ieq(in + i, "doctype", 7)) {
		/* '>' ends a doctype even inside its quoted identifiers */
		if ((q = memchr(in + i + 7, '>', limit - i - 7)) == NULL) {
			scan_cut(s, pos, limit);
			*next = limit;
			return 0;
		}
		*next = (size_t)(q - in) + 1;
		memset(&t, 0, sizeof(t));
		t.type = HTML_DOCTYPE;
		t.start = pos;
		t.end = *next;
		t.name = "";
		t.in_mso = in_mso;
		return s->fn(s->arg, &t);
	}
	/* CDATA sections exist only in foreign content: a bogus comment here */
	return scan_bogus(s, pos, i, limit, in_mso, next);
}

/* scan_range - tokenize in[pos..limit) from the data state */
static int
scan_range(struct scan *s, size_t pos, size_t limit, int in_mso)
{
	const char	*in = s->in, *q, *raw_name = NULL;
	enum raw	 raw;
	size_t		 start;
	int		 rc = 0;
	char		 c;

	while (pos < limit && rc == 0) {
		if ((q = memchr(in + pos, '<', limit - pos)) == NULL)
			break;
		pos = (size_t)(q - in);
		if (limit - pos < 2)
			break;
		c = in[pos + 1];
		if (c == '!') {
			rc = scan_markup(s, pos, limit, in_mso, &pos);
		} else if (c == '/') {
			if (limit - pos < 3) {
				/* "</" then anything but a letter or '>' is a comment */
				scan_cut(s, pos, limit);
				break;
			}
			c = in[pos + 2];
			if (IS(c, C_ALPHA))
				rc = scan_tag(s, pos, limit, 1, in_mso, &pos, &raw,
				    &raw_name);
			else if (c == '>')
				pos += 3;	/* "</>" is dropped */
			else
				rc = scan_bogus(s, pos, pos + 2, limit, in_mso, &pos);
		} else if (IS(c, C_ALPHA)) {
			start = pos;
			rc = scan_tag(s, pos, limit, 0, in_mso, &pos, &raw,
			    &raw_name);
			if (rc != 0 || raw == RAW_NONE)
				continue;
			if (raw == RAW_PLAIN)
				pos = limit;
			else if (raw == RAW_SCRIPT)
				pos = script_end(in, pos, limit);
			else
				pos = raw_end(in, pos, limit, raw_name,
				    strlen(raw_name));
			/* no end tag: the element's text runs to the end */
			if (pos == limit)
				scan_cut(s, start, limit);
		} else if (c == '?') {
			rc = scan_bogus(s, pos, pos + 1, limit, in_mso, &pos);
		} else
			pos++;
	}
	return rc;
}

/*
 * scan_run - tokenize in[0..len); *cut (when not NULL) gets where the
 * construct cut by the end of input starts, or len
 */
static int
scan_run(const char *in, size_t len, unsigned flags,
    int (*report)(const char *, size_t, int),
    int (*want)(const char *, size_t), int (*want_attr)(const char *, size_t),
    html_token_fn fn, void *arg, size_t *cut)
{
	struct scan	 s;
	int		 rc;

	memset(&s, 0, sizeof(s));
	s.in = in != NULL ? in : "";
	s.len = s.cut = len;
	s.flags = flags;
	s.report = report;
	s.want = want;
	s.want_attr = want_attr;
	s.fn = fn;
	s.arg = arg;
	rc = scan_range(&s, 0, len, 0);
	if (cut != NULL)
		*cut = s.cut;
	buf_free(&s.text);
	free(s.attrs);
	free(s.off);
	free(s.slots);
	return rc;
}

int
html_scan(const char *in, size_t len, unsigned flags, html_token_fn fn,
    void *arg)
{
	return scan_run(in, len, flags, NULL, NULL, NULL, fn, arg, NULL);
}

/* ---- URLs ---- */

/* scheme_len - length of a valid RFC 3986 scheme before ':', or 0 */
static size_t
scheme_len(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || !IS(u[0], C_ALPHA))
		return 0;
	for (i = 1; i < n; i++) {
		if (u[i] == ':')
			return i;
		if (!IS(u[i], C_ALNUM) && u[i] != '+' && u[i] != '-' && u[i] != '.')
			return 0;
	}
	return 0;
}

/* is_http - an absolute http:// or https:// URL */
static int
is_http(const char *u, size_t n)
{
	size_t k = scheme_len(u, n);

	return ((k == 4 && ascii_ieq(u, "http", 4)) ||
	    (k == 5 && ascii_ieq(u, "https", 5))) &&
	    n >= k + 3 && u[k + 1] == '/' && u[k + 2] == '/';
}

/*
 * url_special - the index of the first byte of u[i..n) that is a control,
 * space or DEL or may open a template placeholder (C_NOURL, C_TPL), or n
 */
static size_t
url_special(const char *u, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i	 sp = _mm_set1_epi8(' '), del = _mm_set1_epi8(0x7f);
	const __m128i	 t1 = _mm_set1_epi8('{'), t2 = _mm_set1_epi8('*');
	const __m128i	 t3 = _mm_set1_epi8('%'), t4 = _mm_set1_epi8('[');
	const __m128i	 t5 = _mm_set1_epi8('<');

	while (n - i >= 16) {
		__m128i		 v = _mm_loadu_si128((const __m128i *)(u + i));
		__m128i		 m;
		unsigned	 bits;

		/* unsigned v <= ' ': the controls and the space */
		m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v),
		    _mm_cmpeq_epi8(v, del));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, t1),
		    _mm_cmpeq_epi8(v, t2)));
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, t3),
		    _mm_or_si128(_mm_cmpeq_epi8(v, t4), _mm_cmpeq_epi8(v, t5))));
		if ((bits = (unsigned)_mm_movemask_epi8(m)) != 0)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#endif
	while (i < n && !IS(u[i], C_NOURL | C_TPL))
		i++;
	return i;
}

/*
 * url_skip - left alone whatever the base: empty, '#...', spaces and
 * controls, template placeholders ({{x}}, *|x|*, %%x%%, [[x]], <%x%>).
 */
static int
url_skip(const char *u, size_t n)
{
	static const char *const tpl[][2] = {
		{ "{{", "}}" }, { "*|", "|*" }, { "%%", "%%" }, { "[[", "]]" },
		{ "<%", "%>" },
	};
	size_t	 i, k;

	if (n == 0 || u[0] == '#')
		return 1;
	for (i = 0; (i = url_special(u, i, n)) < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (IS(c, C_NOURL))
			return 1;
		if (i + 1 >= n)
			continue;
		for (k = 0; k < sizeof(tpl) / sizeof(tpl[0]); k++)
			if (tpl[k][0][0] == c && tpl[k][0][1] == u[i + 1] &&
			    memmem(u + i + 2, n - i - 2, tpl[k][1], 2) != NULL)
				return 1;
	}
	return 0;
}

/*
 * url_clean - the URL an attribute value stands for: ASCII whitespace
 * stripped at both ends, TAB, CR and LF removed inside (as browsers do).
 */
static int
url_clean(const char *v, size_t n, struct buf *out)
{
	size_t i, run;

	buf_reset(out);
	while (n > 0 && IS(v[0], C_WS)) {
		v++;
		n--;
	}
	while (n > 0 && IS(v[n - 1], C_WS))
		n--;
	if (memchr(v, '\n', n) == NULL && memchr(v, '\t', n) == NULL &&
	    memchr(v, '\r', n) == NULL)
		return buf_append(out, v, n);
	for (i = run = 0; i < n; i++) {
		if (v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
			continue;
		if (buf_append(out, v + run, i - run) == -1)
			return -1;
		run = i + 1;
	}
	if (buf_append(out, v + run, n - run) == -1)
		return -1;
	return 0;
}

/*
 * url_whatwg - what a browser (WHATWG URL, special schemes) makes of the
 * part of u[from..*n) before its query: backslashes are slashes, and a
 * run of slashes opening an authority is two. 0, or -1 when a browser
 * would read it otherwise than RFC 3986 resolution below does: no host
 * after "//", or a percent-encoded dot ("%2e" is a dot segment to a
 * browser), and the link stays as written.
 */
static int
url_whatwg(char *u, size_t from, size_t *n)
{
	size_t	 i, k;

	for (i = from; i < *n && u[i] != '?' && u[i] != '#'; i++) {
		if (u[i] == '\\')
			u[i] = '/';
		if (u[i] == '%' && i + 2 < *n && u[i + 1] == '2' &&
		    lower((unsigned char)u[i + 2]) == 'e')
			return -1;
	}
	if (*n - from < 2 || u[from] != '/' || u[from + 1] != '/')
		return 0;
	for (k = from + 2; k < *n && u[k] == '/'; k++)
		;
	if (k == *n || u[k] == '?' || u[k] == '#')
		return -1;
	memmove(u + from + 2, u + k, *n - k);
	*n -= k - from - 2;
	u[*n] = '\0';
	return 0;
}

/* RFC 3986 section 3 components; len == SIZE_MAX: undefined */
struct uri {
	const char	*auth, *path, *query, *frag;
	size_t		 auth_len, path_len, query_len, frag_len;
};

#define UNDEF	SIZE_MAX

/* uri_split - components of a reference with no scheme, or past "scheme:" */
static void
uri_split(const char *u, size_t n, struct uri *r)
{
	size_t i = 0, k;

	r->auth_len = r->query_len = r->frag_len = UNDEF;
	r->auth = r->query = r->frag = NULL;
	if (n >= 2 && u[0] == '/' && u[1] == '/') {
		for (k = 2; k < n && u[k] != '/' && u[k] != '?' && u[k] != '#'; k++)
			;
		r->auth = u + 2;
		r->auth_len = k - 2;
		i = k;
	}
	for (k = i; k < n && u[k] != '?' && u[k] != '#'; k++)
		;
	r->path = u + i;
	r->path_len = k - i;
	if (k < n && u[k] == '?') {
		for (i = ++k; k < n && u[k] != '#'; k++)
			;
		r->query = u + i;
		r->query_len = k - i;
	}
	if (k < n && u[k] == '#') {
		r->frag = u + k + 1;
		r->frag_len = n - k - 1;
	}
}

/* out_pop - remove the last segment and its preceding "/" from out[from..] */
static void
out_pop(struct buf *out, size_t from)
{
	while (out->len > from && out->data[out->len - 1] != '/')
		out->len--;
	if (out->len > from)
		out->len--;
}

/* append_path - append p[0..n) to out with dot segments removed (5.2.4) */
static int
append_path(struct buf *out, const char *p, size_t n)
{
	size_t	 from = out->len, i = 0, k;

	while (i < n) {
		const char	*r = p + i;
		size_t		 m = n - i;

		if (m >= 3 && memcmp(r, "../", 3) == 0)
			i += 3;
		else if (m >= 2 && memcmp(r, "./", 2) == 0)
			i += 2;
		else if (m >= 3 && memcmp(r, "/./", 3) == 0)
			i += 2;
		else if (m == 2 && memcmp(r, "/.", 2) == 0) {
			if (buf_putc(out, '/') == -1)
				return -1;
			break;
		} else if (m >= 4 && memcmp(r, "/../", 4) == 0) {
			out_pop(out, from);
			i += 3;
		} else if (m == 3 && memcmp(r, "/..", 3) == 0) {
			out_pop(out, from);
			if (buf_putc(out, '/') == -1)
				return -1;
			break;
		} else if ((m == 1 && r[0] == '.') ||
		    (m == 2 && memcmp(r, "..", 2) == 0))
			break;
		else {
			for (k = r[0] == '/'; k < m && r[k] != '/'; k++)
				;
			if (buf_append(out, r, k) == -1)
				return -1;
			i += k;
		}
	}
	out->data[out->len] = '\0';
	return 0;
}

/*
 * url_resolve - RFC 3986 section 5.2.2: the target of reference ref (no
 * scheme) against the absolute http(s) base, into out.
 */
static int
url_resolve(const char *base, size_t blen, const char *ref, size_t rlen,
    struct buf *out)
{
	struct uri	 b, r;
	size_t		 k = scheme_len(base, blen), slash;
	const char	*q;
	size_t		 qlen;
	struct buf	 merged = BUF_INIT;
	int		 rc = -1;

	uri_split(base + k + 1, blen - k - 1, &b);
	uri_split(ref, rlen, &r);
	buf_reset(out);
	if (buf_append(out, base, k + 1) == -1 || buf_puts(out, "//") == -1)
		goto out;
	if (r.auth_len != UNDEF) {
		if (buf_append(out, r.auth, r.auth_len) == -1 ||
		    append_path(out, r.path, r.path_len) == -1)
			goto out;
		q = r.query;
		qlen = r.query_len;
	} else {
		if (buf_append(out, b.auth, b.auth_len) == -1)
			goto out;
		q = r.query;
		qlen = r.query_len;
		if (r.path_len == 0) {
			if (buf_append(out, b.path, b.path_len) == -1)
				goto out;
			if (qlen == UNDEF) {
				q = b.query;
				qlen = b.query_len;
			}
		} else if (r.path[0] == '/') {
			if (append_path(out, r.path, r.path_len) == -1)
				goto out;
		} else {
			/* merge (5.2.3): the base path up to its last '/' */
			if (b.path_len == 0) {
				if (buf_putc(&merged, '/') == -1)
					goto out;
			} else {
				for (slash = b.path_len; slash > 0 &&
				    b.path[slash - 1] != '/'; slash--)
					;
				if (buf_append(&merged, b.path, slash) == -1)
					goto out;
			}
			if (buf_append(&merged, r.path, r.path_len) == -1 ||
			    append_path(out, merged.data, merged.len) == -1)
				goto out;
		}
	}
	if (qlen != UNDEF && (buf_putc(out, '?') == -1 ||
	    buf_append(out, q, qlen) == -1))
		goto out;
	if (r.frag_len != UNDEF && (buf_putc(out, '#') == -1 ||
	    buf_append(out, r.frag, r.frag_len) == -1))
		goto out;
	rc = 0;
out:
	buf_free(&merged);
	return rc;
}

/* ---- rewriting ---- */

struct rewrite {
	const char		*in;
	size_t			 len;
	const struct html_opts	*o;
	struct buf		*out;
	size_t			 copied;	/* in[0..copied) is in out */
	struct html_result	 res;
	struct buf		 base;		/* absolute http(s) base URL, or empty */
	int			 base_known;	/* base is set (else: not looked for yet) */
	struct buf		 href, url, repl;
	size_t			 pixel_at;	/* offset in out */
	int			 pixel_rank;	/* 0: none yet; higher is better */
};

/*
 * rw_report - the tags rw_token and rw_base look at (raw name, any case):
 * links, <base>, and where the pixel may go
 */
static int
rw_report(const char *p, size_t n, int end_tag)
{
	if (end_tag)
		return n == 4 && (ascii_ieq(p, "body", 4) || ascii_ieq(p, "head", 4));
	switch (n) {
	case 1:
		return lower((unsigned char)p[0]) == 'a';
	case 4:
		if (ascii_ieq(p, "area", 4) || ascii_ieq(p, "base", 4) ||
		    ascii_ieq(p, "body", 4) || ascii_ieq(p, "html", 4))
			return 1;
		break;
	}
	return n > 2 && lower((unsigned char)p[0]) == 'v' && p[1] == ':';
}

/* the start tags whose attributes the rewriter looks at */
static int
rw_want(const char *name, size_t len)
{
	return (len == 1 && name[0] == 'a') ||
	    (len == 4 && (memcmp(name, "area", 4) == 0 ||
	    memcmp(name, "base", 4) == 0)) ||
	    (len > 2 && name[0] == 'v' && name[1] == ':');
}

/*
 * rw_want_attr - of their attributes, the ones it reads: href and the
 * opt-out markers (is_optout); the others are not decoded at all
 */
static int
rw_want_attr(const char *p, size_t n)
{
	switch (n) {
	case 4:
		return ascii_ieq(p, "href", 4);
	case 11:
		return ascii_ieq(p, "data-mtrack", 11);
	case 12:
		return ascii_ieq(p, "ses:no-track", 12);
	case 13:
		return ascii_ieq(p, "clicktracking", 13);
	case 16:
		return ascii_ieq(p, "data-pm-no-track", 16) ||
		    ascii_ieq(p, "disable-tracking", 16);
	case 20:
		return ascii_ieq(p, "data-msys-clicktrack", 20);
	default:
		return 0;
	}
}

static int
rw_flush(struct rewrite *rw, size_t upto)
{
	if (upto > rw->copied) {
		if (buf_append(rw->out, rw->in + rw->copied, upto - rw->copied) == -1)
			return -1;
		rw->copied = upto;
	}
	return 0;
}

/* rw_mark - remember out's current end as the pixel position, of a rank */
static int
rw_mark(struct rewrite *rw, size_t upto, int rank)
{
	if (rank <= rw->pixel_rank)
		return 0;
	if (rw_flush(rw, upto) == -1)
		return -1;
	rw->pixel_at = rw->out->len;
	rw->pixel_rank = rank;
	return 0;
}

static int
attr_is(const struct html_attr *a, const char *name)
{
	return a->name_len == strlen(name) && memcmp(a->name, name, a->name_len) == 0;
}

static int
value_is(const struct html_attr *a, const char *v)
{
	return a->value_len == strlen(v) && ascii_ieq(a->value, v, a->value_len);
}

/* is_optout - the opt-out markers of the ESPs whose mail we may relay */
static int
is_optout(const struct html_attr *a)
{
	if (a->name_len < 11 || (a->name[0] != 'd' && a->name[0] != 'c' &&
	    a->name[0] != 's'))
		return 0;
	return (attr_is(a, "data-mtrack") && value_is(a, "off")) ||
	    (attr_is(a, "clicktracking") && value_is(a, "off")) ||
	    attr_is(a, "data-pm-no-track") || attr_is(a, "ses:no-track") ||
	    (attr_is(a, "disable-tracking") && value_is(a, "true")) ||
	    (attr_is(a, "data-msys-clicktrack") && value_is(a, "0"));
}

static int	rw_find_base(struct rewrite *);
static int	rw_set_base(struct rewrite *, const struct html_token *);

/*
 * rw_url - the URL to give the callback for an href value, into rw->url:
 * 1, or 0 when the link is not to be tracked.
 */
static int
rw_url(struct rewrite *rw, const char *v, size_t n)
{
	if (url_clean(v, n, &rw->href) == -1)
		return -1;
	v = rw->href.data;
	n = rw->href.len;
	if (url_skip(v, n))
		return 0;
	if (scheme_len(v, n) > 0) {
		struct buf t;

		if (!is_http(v, n))
			return 0;
		/* the cleaned value is the URL: trade the buffers, no copy */
		t = rw->url;
		rw->url = rw->href;
		rw->href = t;
		return 1;
	}
	if (!rw->base_known && rw_find_base(rw) == -1)
		return -1;
	if (rw->base.len == 0 || url_whatwg(rw->href.data, 0, &rw->href.len) ==
	    -1)
		return 0;
	n = rw->href.len;
	if (url_resolve(rw->base.data, rw->base.len, v, n, &rw->url) == -1)
		return -1;
	return 1;
}

/*
 * rw_escape - the replacement s[0..n) (s[n] is NUL) as a double-quoted
 * attribute value
 */
static int
rw_escape(struct buf *out, const char *s, size_t n)
{
	size_t i, run;

	if (buf_putc(out, '"') == -1)
		return -1;
	for (i = run = 0; i < n; i++) {
		/* strcspn stops at a NUL of the replacement too */
		if ((i += strcspn(s + i, "&\"")) >= n)
			break;
		if (s[i] != '&' && s[i] != '"')
			continue;
		if (buf_append(out, s + run, i - run) == -1 ||
		    buf_puts(out, s[i] == '&' ? "&amp;" : "&quot;") == -1)
			return -1;
		run = i + 1;
	}
	if (buf_append(out, s + run, n - run) == -1 || buf_putc(out, '"') == -1)
		return -1;
	return 0;
}

static int
rw_link(struct rewrite *rw, const struct html_token *t)
{
	const struct html_opts	*o = rw->o;
	const struct html_attr	*href = NULL;
	struct html_link	 l;
	size_t			 i, ws;
	unsigned		 optouts = 0;
	int			 rc;

	for (i = 0; i < t->nattrs; i++) {
		if (is_optout(&t->attrs[i]))
			optouts++;
		else if (href == NULL && attr_is(&t->attrs[i], "href"))
			href = &t->attrs[i];
	}
	if (optouts) {
		for (i = 0; i < t->nattrs; i++) {
			if (!is_optout(&t->attrs[i]))
				continue;
			for (ws = t->attrs[i].start; IS(rw->in[ws - 1], C_WS); ws--)
				;
			if (rw_flush(rw, ws) == -1)
				return -1;
			rw->copied = t->attrs[i].end;
		}
		rw->res.optouts_removed += optouts;
		return 0;
	}
	if (href == NULL)
		return 0;
	if ((rc = rw_url(rw, href->value, href->value_len)) <= 0)
		return rc;
	l.url = rw->url.data;
	l.url_len = rw->url.len;
	l.tag = t->name;
	l.in_mso = t->in_mso;
	l.index = rw->res.links_seen++;
	buf_reset(&rw->repl);
	if ((rc = o->link_fn(o->arg, &l, &rw->repl)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	rw->res.links_rewritten++;
	if (rw_flush(rw, href->vstart) == -1 ||
	    rw_escape(rw->out, rw->repl.data ? rw->repl.data : "",
	    rw->repl.len) == -1)
		return -1;
	rw->copied = href->end;
	return 0;
}

static int
name_is(const struct html_token *t, const char *name)
{
	return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

static int
rw_token(void *arg, const struct html_token *t)
{
	struct rewrite		*rw = arg;
	const struct html_opts	*o = rw->o;
	int			 top = o->pixel != NULL && o->pixel_top;
	int			 link, set;

	/* what is inside a conditional comment is hidden from browsers */
	if (!t->in_mso && o->pixel != NULL) {
		if (t->type == HTML_DOCTYPE && top)
			return rw_mark(rw, t->end, 1);
		if (t->type == HTML_START_TAG && top && name_is(t, "html"))
			return rw_mark(rw, t->end, 2);
		if (t->type == HTML_END_TAG && top && name_is(t, "head"))
			return rw_mark(rw, t->end, 3);
		if (t->type == HTML_START_TAG && top && name_is(t, "body"))
			return rw_mark(rw, t->end, 4);
		if (t->type == HTML_END_TAG && !top && name_is(t, "body")) {
			/* the last one wins: rank the same, move the mark */
			rw->pixel_rank = 0;
			return rw_mark(rw, t->start, 1);
		}
	}
	if (t->type != HTML_START_TAG || o->link_fn == NULL)
		return 0;
	/* the first <base href> sets the base unless a link looked for it */
	if (!rw->base_known && (set = rw_set_base(rw, t)) != 0)
		return set == -1 ? -1 : 0;
	link = name_is(t, "a") || name_is(t, "area") ||
	    (t->in_mso && t->name_len > 2 && memcmp(t->name, "v:", 2) == 0);
	return link ? rw_link(rw, t) : 0;
}

/*
 * rw_set_base - the base URL of t when it is the <base> that counts: the
 * first one outside conditional comments with an href. 1 when it is, 0
 * when not, -1 on error.
 */
static int
rw_set_base(struct rewrite *rw, const struct html_token *t)
{
	size_t i;

	if (t->type != HTML_START_TAG || t->in_mso || !name_is(t, "base"))
		return 0;
	for (i = 0; i < t->nattrs; i++) {
		if (!attr_is(&t->attrs[i], "href"))
			continue;
		if (url_clean(t->attrs[i].value, t->attrs[i].value_len,
		    &rw->base) == -1)
			return -1;
		/* "https:\\b.example\\d\\" is https://b.example/d/ to a browser */
		if (url_skip(rw->base.data, rw->base.len) ||
		    scheme_len(rw->base.data, rw->base.len) == 0 ||
		    url_whatwg(rw->base.data, scheme_len(rw->base.data,
		    rw->base.len) + 1, &rw->base.len) == -1 ||
		    !is_http(rw->base.data, rw->base.len))
			buf_reset(&rw->base);
		rw->base_known = 1;
		return 1;
	}
	return 0;
}

/* rw_base - stop at the first <base href> outside conditional comments */
static int
rw_base(void *arg, const struct html_token *t)
{
	return rw_set_base(arg, t);
}

/* has_base_tag - a cheap test that saves a scan of most documents */
static int
has_base_tag(const char *in, size_t len)
{
	const char	*q;
	size_t		 i = 0;

	while ((q = memchr(in + i, '<', len - i)) != NULL) {
		i = (size_t)(q - in) + 1;
		if (len - i >= 4 && ascii_ieq(in + i, "base", 4))
			return 1;
	}
	return 0;
}

/*
 * rw_find_base - a relative link needs the base before the <base> that
 * sets it was reached (it counts for the whole document): look for it
 */
static int
rw_find_base(struct rewrite *rw)
{
	rw->base_known = 1;
	if (has_base_tag(rw->in, rw->len) && scan_run(rw->in, rw->len, 0,
	    rw_report, rw_want, rw_want_attr, rw_base, rw, NULL) == -1)
		return -1;
	return 0;
}

static int
buf_insert(struct buf *b, size_t at, const char *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
html_rewrite(const char *in, size_t len, const struct html_opts *o,
    struct buf *out, struct html_result *res)
{
	static const struct html_opts	 none;
	struct rewrite			 rw;
	size_t				 cut;
	int				 rc = -1;

	if (o == NULL)
		o = &none;
	if (in == NULL)
		in = "";
	memset(&rw, 0, sizeof(rw));
	rw.in = in;
	rw.len = len;
	rw.o = o;
	rw.out = out;
	if (buf_reserve(out, len + o->pixel_len) == -1)
		goto out;
	/* without <body>: at the end, or at the start after a UTF-8 BOM */
	rw.pixel_at = out->len;
	if (o->pixel_top && len >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
		rw.pixel_at += 3;
	if (scan_run(in, len, 0, rw_report, rw_want, rw_want_attr, rw_token,
	    &rw, &cut) != 0)
		goto out;
	if (rw_flush(&rw, len) == -1)
		goto out;
	/*
	 * No </body>: the very end, or, when the end cuts a tag, comment or
	 * raw text element, before it (copied as it was: no link in it):
	 * inside, the pixel would be no element, or turn the tag into one.
	 */
	if (!o->pixel_top && rw.pixel_rank == 0)
		rw.pixel_at = out->len - (len - cut);
	if (o->pixel != NULL) {
		if (buf_insert(out, rw.pixel_at, o->pixel, o->pixel_len) == -1)
			goto out;
		rw.res.pixel_inserted = 1;
	}
	rc = 0;
out:
	if (res != NULL)
		*res = rw.res;
	buf_free(&rw.base);
	buf_free(&rw.href);
	buf_free(&rw.url);
	buf_free(&rw.repl);
	return rc;
}
