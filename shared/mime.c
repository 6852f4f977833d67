/*
 * mime - GMime walk into byte ranges; transfer encodings (see mime.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <gmime/gmime.h>

#include "mime.h"

void
mime_init(void)
{
	g_mime_init();
}

static void
lower_copy(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* end of the header line that starts at off: after its last line end */
static size_t
header_line_end(const char *msg, size_t len, size_t off)
{
	size_t i;

	for (i = off; i < len; i++)
		if (msg[i] == '\n' && !(i + 1 < len &&
		    (msg[i + 1] == ' ' || msg[i + 1] == '\t')))
			return i + 1;
	return len;
}

/*
 * cte_value_clean - the raw value of a Content-Transfer-Encoding header is
 * exactly one of the five encodings, with only white space, folding and
 * one comment around it: what any reader takes the same way GMime does.
 */
static int
cte_value_clean(const char *v, size_t n)
{
	static const char *const names[] = { "7bit", "8bit", "binary",
	    "quoted-printable", "base64" };
	size_t	i = 0, start, len, k;
	int	depth = 0;

	/* the line end of the header itself */
	if (n >= 2 && v[n - 2] == '\r' && v[n - 1] == '\n')
		n -= 2;
	else if (n >= 1 && v[n - 1] == '\n')
		n -= 1;
	while (i < n && (v[i] == ' ' || v[i] == '\t' || ((v[i] == '\r' ||
	    v[i] == '\n') && i + 1 < n && (v[i] == '\n' || v[i + 1] == '\n'))))
		i++;
	start = i;
	while (i < n && (isalnum((unsigned char)v[i]) || v[i] == '-'))
		i++;
	len = i - start;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == len &&
		    strncasecmp(v + start, names[k], len) == 0)
			break;
	if (k == sizeof(names) / sizeof(names[0]))
		return 0;
	for (; i < n; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (v[i] == '\r' && !(i + 1 < n && v[i + 1] == '\n'))
			return 0;	/* a bare CR */
		else if (depth == 0 && v[i] != ' ' && v[i] != '\t' &&
		    v[i] != '\r' && v[i] != '\n')
			return 0;
	}
	return depth == 0;
}

struct walk {
	struct mime_msg	*m;
	const char	*msg;
	size_t		 len;
	int		 error;
};

/*
 * part_cte_find - where the part's Content-Transfer-Encoding header is
 * (cte_start, cte_end). It is replaced in place when the encoding
 * changes: a part whose header is ambiguous (twice, an unknown value, a
 * name spelt loosely, an offset that does not point at it) is not touched
 * at all (enc MIME_ENC_OTHER).
 */
static void
part_cte_find(const struct walk *w, GMimeObject *obj, struct mime_part *p)
{
	static const char	 cte[] = "Content-Transfer-Encoding:";
	GMimeHeaderList		*hl = g_mime_object_get_header_list(obj);
	int			 i, n = hl ? g_mime_header_list_get_count(hl) : 0;

	for (i = 0; i < n; i++) {
		GMimeHeader	*h = g_mime_header_list_get_header_at(hl, i);
		gint64		 off = g_mime_header_get_offset(h);

		if (strcasecmp(g_mime_header_get_name(h),
		    "Content-Transfer-Encoding") != 0)
			continue;
		if (p->cte_start >= 0 || off < 0 || (size_t)off >= p->hdr_end ||
		    p->hdr_end - (size_t)off < sizeof(cte) - 1 ||
		    strncasecmp(w->msg + off, cte, sizeof(cte) - 1) != 0 ||
		    g_mime_part_get_content_encoding(GMIME_PART(obj)) ==
		    GMIME_CONTENT_ENCODING_DEFAULT) {
			p->enc = MIME_ENC_OTHER;
			return;
		}
		p->cte_start = (ssize_t)off;
		p->cte_end = header_line_end(w->msg, p->hdr_end, (size_t)off);
		if (!cte_value_clean(w->msg + off + sizeof(cte) - 1,
		    p->cte_end - (size_t)off - (sizeof(cte) - 1))) {
			p->enc = MIME_ENC_OTHER;
			return;
		}
	}
}

static void
walk_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk		*w = data;
	struct mime_part	*p, *v;
	GMimeContentType	*ct;
	GMimeDataWrapper	*dw;
	GMimeStream		*st;
	const char		*disp;

	(void)parent;
	if (w->error)
		return;
	if (GMIME_IS_MULTIPART_SIGNED(obj) || GMIME_IS_MULTIPART_ENCRYPTED(obj) ||
	    GMIME_IS_APPLICATION_PKCS7_MIME(obj)) {
		w->m->sealed = 1;
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	if ((v = g_try_realloc(w->m->parts, (w->m->nparts + 1) *
	    sizeof(*v))) == NULL) {
		w->error = 1;
		return;
	}
	w->m->parts = v;
	p = &w->m->parts[w->m->nparts];
	memset(p, 0, sizeof(*p));
	p->gpart = obj;
	p->cte_start = -1;
	ct = g_mime_object_get_content_type(obj);
	lower_copy(p->type, sizeof(p->type),
	    ct ? g_mime_content_type_get_media_type(ct) : "text");
	lower_copy(p->subtype, sizeof(p->subtype),
	    ct ? g_mime_content_type_get_media_subtype(ct) : "plain");
	lower_copy(p->charset, sizeof(p->charset),
	    g_mime_object_get_content_type_parameter(obj, "charset"));
	disp = g_mime_object_get_disposition(obj);
	p->attachment = disp && strcasecmp(disp, "attachment") == 0;
	switch (g_mime_part_get_content_encoding(GMIME_PART(obj))) {
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT: p->enc = MIME_ENC_7BIT; break;
	case GMIME_CONTENT_ENCODING_8BIT: p->enc = MIME_ENC_8BIT; break;
	case GMIME_CONTENT_ENCODING_BINARY: p->enc = MIME_ENC_BINARY; break;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: p->enc = MIME_ENC_QP; break;
	case GMIME_CONTENT_ENCODING_BASE64: p->enc = MIME_ENC_BASE64; break;
	default: p->enc = MIME_ENC_OTHER; break;
	}
	p->top = (GMimeObject *)g_mime_message_get_mime_part(
	    GMIME_MESSAGE(w->m->gmsg)) == obj;

	/* the raw content: a substream of the input, thanks to persistence */
	dw = g_mime_part_get_content(GMIME_PART(obj));
	st = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	if (st == NULL || st->bound_start < 0 || st->bound_end < st->bound_start ||
	    (size_t)st->bound_end > w->len) {
		p->body_start = p->body_end = 0;
		p->enc = MIME_ENC_OTHER;	/* never touched */
	} else {
		p->body_start = (size_t)st->bound_start;
		p->body_end = (size_t)st->bound_end;
		p->raw = w->msg + p->body_start;
	}
	/* the header block ends before the blank line that precedes content */
	p->hdr_end = p->body_start;
	if (p->hdr_end >= 2 && w->msg[p->hdr_end - 1] == '\n' &&
	    w->msg[p->hdr_end - 2] == '\r')
		p->hdr_end -= 2;
	else if (p->hdr_end >= 1 && w->msg[p->hdr_end - 1] == '\n')
		p->hdr_end -= 1;
	part_cte_find(w, obj, p);
	w->m->nparts++;
}

int
mime_parse(struct mime_msg *m, const char *msg, size_t len, const char **why)
{
	GMimeParser	*parser = NULL;
	GMimeStream	*st;
	GMimeObject	*top;
	struct walk	 w;
	gint64		 hend;

	memset(m, 0, sizeof(*m));
	/*
	 * A stream over the caller's bytes without a copy: the byte array
	 * borrows them, the stream does not own the array, and mime_free
	 * frees the array but not the bytes. GMime only reads from it.
	 */
	if (len > G_MAXUINT) {
		*why = "message too large";
		return -1;
	}
	m->bytes = g_byte_array_new_take((guint8 *)(uintptr_t)msg, len);
	st = g_mime_stream_mem_new_with_byte_array(m->bytes);
	if (st)
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	if (st == NULL) {
		g_byte_array_free(m->bytes, FALSE);
		m->bytes = NULL;
		*why = "out of memory";
		return -1;
	}
	m->stream = st;
	parser = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m->gmsg = g_mime_parser_construct_message(parser, NULL);
	hend = g_mime_parser_get_headers_end(parser);
	g_object_unref(parser);
	if (m->gmsg == NULL) {
		*why = "not a MIME message";
		goto fail;
	}
	if (hend < 0 || (size_t)hend > len) {
		*why = "no end of headers";
		goto fail;
	}
	m->hdr_end = (size_t)hend;
	m->body_start = m->hdr_end;
	if (m->body_start < len && msg[m->body_start] == '\r')
		m->body_start++;
	if (m->body_start < len && msg[m->body_start] == '\n')
		m->body_start++;
	{
		/* the line ends of the message: those of its first line */
		const char *lf = memchr(msg, '\n', len);

		m->nl = lf && lf > msg && lf[-1] == '\r' ? "\r\n" : "\n";
	}
	top = g_mime_message_get_mime_part(GMIME_MESSAGE(m->gmsg));
	if (top == NULL) {
		*why = "message has no body part";
		goto fail;
	}
	memset(&w, 0, sizeof(w));
	w.m = m;
	w.msg = msg;
	w.len = len;
	/* foreach visits the top-level part itself, then its descendants */
	g_mime_message_foreach(GMIME_MESSAGE(m->gmsg), walk_part, &w);
	if (w.error) {
		*why = "out of memory";
		goto fail;
	}
	return 0;
fail:
	mime_free(m);
	return -1;
}

void
mime_free(struct mime_msg *m)
{
	g_free(m->parts);
	if (m->gmsg)
		g_object_unref(m->gmsg);
	if (m->stream)
		g_object_unref(m->stream);
	if (m->bytes)
		g_byte_array_free(m->bytes, FALSE);
	memset(m, 0, sizeof(*m));
}

char *
mime_header(const struct mime_msg *m, const char *name)
{
	const char	*v;
	char		*copy, *o;

	v = g_mime_object_get_header(GMIME_OBJECT(m->gmsg), name);
	if (v == NULL)
		return NULL;
	if ((copy = strdup(v)) == NULL)
		return NULL;
	/* unfold: a header value is one line */
	for (o = copy; *o; o++)
		if (*o == '\r' || *o == '\n' || *o == '\t')
			*o = ' ';
	return copy;
}

/* gmime_decode - the content as GMime's own decoder gives it */
static int
gmime_decode(GMimeDataWrapper *dw, struct buf *out)
{
	GMimeStream	*mem;
	GByteArray	*ba;
	int		 rc = -1;

	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(dw, mem) >= 0) {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		rc = buf_append(out, ba->data, ba->len);
	}
	g_object_unref(mem);
	return rc;
}

/* the value of a hexadecimal digit (either case); 16: not one */
static const unsigned char hexval[256] = {
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
	16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
};

/*
 * qp_decode - quoted-printable as GMime decodes it: "=" and two hex
 * digits (either case) is the byte, "=" before LF or CR LF a soft break,
 * any other "=ab" is kept as it is (b is not looked at again), and an "="
 * or "=a" cut by the end is dropped. Writes at most n bytes to o; returns
 * how many.
 */
static size_t
qp_decode(const char *s, size_t n, char *o)
{
	const char	*e = s + n;
	char		*start = o;
	unsigned	 hi, lo;
#ifdef __SSE2__
	const __m128i	 eq = _mm_set1_epi8('=');
#endif

	while (s < e) {
#ifdef __SSE2__
		/*
		 * 16 bytes at a time up to the next '='. The output never runs
		 * ahead of the input, so a whole block stored at o stays
		 * within the n bytes of room.
		 */
		if (e - s >= 16) {
			__m128i		v = _mm_loadu_si128((const __m128i *)s);
			unsigned	m = (unsigned)_mm_movemask_epi8(
			    _mm_cmpeq_epi8(v, eq));

			_mm_storeu_si128((__m128i *)o, v);
			if (m == 0) {
				s += 16;
				o += 16;
				continue;
			}
			s += __builtin_ctz(m);
			o += __builtin_ctz(m);
		} else
#endif
		if (*s != '=') {
			*o++ = *s++;
			continue;
		}
		/* s is at an '=' */
		if (e - s < 2)
			break;
		if (s[1] == '\n') {
			s += 2;
			continue;
		}
		if (e - s < 3)
			break;
		hi = hexval[(unsigned char)s[1]];
		lo = hexval[(unsigned char)s[2]];
		if ((hi | lo) < 16)
			*o++ = (char)(hi << 4 | lo);
		else if (s[1] != '\r' || s[2] != '\n') {
			o[0] = '=';
			o[1] = s[1];
			o[2] = s[2];
			o += 3;
		}
		s += 3;
	}
	return (size_t)(o - start);
}

/*
 * b64val - one more than the value of a base64 character; '=' counts
 * as 0, as in GMime; 0: not of the alphabet, skipped
 */
static const unsigned char b64val[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,
	['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64,
	['='] = 1,
};

/*
 * b64_decode - base64 as GMime decodes it when the padding is regular:
 * bytes outside the alphabet are skipped, an incomplete last quartet is
 * dropped, and '=' is only the last one or two characters of the last
 * quartet. Writes at most n / 4 * 3 + 3 bytes to o and returns 0 with
 * their count in *olen, or returns -1 for any other padding: what GMime
 * makes of that depends on where its reads of the stream end.
 */
static int
b64_decode(const char *s, size_t n, char *o, size_t *olen)
{
	const unsigned char	*p = (const unsigned char *)s, *e = p + n;
	char			*start = o;
	uint32_t		 v = 0;
	size_t			 k = 0, pad = 0;
	unsigned char		 c;

	for (; p < e; p++) {
		if ((c = b64val[*p]) == 0)
			continue;
		if (*p == '=')
			pad++;
		else if (pad)
			return -1;
		v = v << 6 | (uint32_t)(c - 1);
		if ((++k & 3) == 0) {
			o[0] = (char)(v >> 16);
			o[1] = (char)(v >> 8);
			o[2] = (char)v;
			o += 3;
		}
	}
	if (pad) {
		if (pad > 2 || (k & 3) != 0)
			return -1;
		o -= pad;
	}
	*olen = (size_t)(o - start);
	return 0;
}

/*
 * b64_whole - every quartet complete and '=' only at the end of the last
 * one: decoding loses no character, and encoding again gives the same data
 */
static int
b64_whole(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s, *e = p + n;
	size_t			 k = 0, pad = 0;

	for (; p < e; p++) {
		if (b64val[*p] == 0)
			continue;
		if (*p == '=')
			pad++;
		else if (pad)
			return 0;
		k++;
	}
	return (k & 3) == 0 && pad <= 2;
}

int
mime_intact(const struct mime_part *p)
{
	if (p->enc != MIME_ENC_BASE64)
		return 1;
	return p->raw != NULL && b64_whole(p->raw, p->body_end - p->body_start);
}

int
mime_charset_wide(const char *cs)
{
	static const char *const wide[] = { "utf-16", "utf16", "utf-32",
	    "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4", "utf-7", "utf7",
	    "iso-2022", "unicode", "hz-gb-2312", NULL };
	size_t i;

	for (i = 0; wide[i]; i++)
		if (strncmp(cs, wide[i], strlen(wide[i])) == 0)
			return 1;
	return 0;
}

int
mime_decode(const struct mime_part *p, struct buf *out)
{
	GMimeDataWrapper	*dw;
	size_t			 n, len;

	dw = g_mime_part_get_content(GMIME_PART(p->gpart));
	if (dw == NULL)
		return -1;
	if (p->raw == NULL)
		return gmime_decode(dw, out);
	n = p->body_end - p->body_start;
	switch (g_mime_data_wrapper_get_encoding(dw)) {
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		if (buf_reserve(out, n) == -1)
			return -1;
		out->len += qp_decode(p->raw, n, out->data + out->len);
		break;
	case GMIME_CONTENT_ENCODING_BASE64:
		if (buf_reserve(out, n / 4 * 3 + 3) == -1)
			return -1;
		if (b64_decode(p->raw, n, out->data + out->len, &len) == -1)
			return gmime_decode(dw, out);
		out->len += len;
		break;
	case GMIME_CONTENT_ENCODING_UUENCODE:
		return gmime_decode(dw, out);
	default:
		/* 7bit, 8bit, binary: GMime reads the content as it is */
		return buf_append(out, p->raw, n);
	}
	out->data[out->len] = '\0';
	return 0;
}

const char *
mime_enc_name(enum mime_enc enc)
{
	switch (enc) {
	case MIME_ENC_7BIT: return "7bit";
	case MIME_ENC_8BIT: return "8bit";
	case MIME_ENC_BINARY: return "binary";
	case MIME_ENC_QP: return "quoted-printable";
	case MIME_ENC_BASE64: return "base64";
	default: return "x-unknown";
	}
}

int
mime_fits(enum mime_enc enc, const char *data, size_t len)
{
	size_t	i, col = 0;

	if (enc == MIME_ENC_QP || enc == MIME_ENC_BASE64 ||
	    enc == MIME_ENC_BINARY)
		return 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n') {
			col = 0;
			continue;
		}
		if (c == 0 || (c >= 0x80 && enc == MIME_ENC_7BIT))
			return 0;
		/* 998 octets plus CRLF: the limit of RFC 5322 */
		if (++col > 998)
			return 0;
	}
	return 1;
}

/*
 * qp_lit - bytes a quoted-printable line holds as they are (white space
 * too, but not at the end of a line)
 */
static const unsigned char qp_lit[256] = {
	['\t'] = 1, [' ' ... '<'] = 1, ['>' ... '~'] = 1,
};

/*
 * qp_copy - copy to o the longest prefix of d[0..n) that qp_lit lets
 * through; returns its length. d[0..avail) may be read (avail >= n).
 * Whole 16-byte blocks are stored and only the prefix counts: o must have
 * room for n + 15 bytes.
 */
static size_t
qp_copy(char *o, const unsigned char *d, size_t n, size_t avail)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i	 sp = _mm_set1_epi8(' '), del = _mm_set1_epi8(0x7f);
	const __m128i	 eq = _mm_set1_epi8('=');

	/* blocks may run past n, not past avail */
	while (i < n && avail - i >= 16) {
		__m128i		 v = _mm_loadu_si128((const __m128i *)(d + i));
		unsigned	 bad;

		_mm_storeu_si128((__m128i *)(o + i), v);
		/* signed compare: bytes from 0x80 up are negative, below ' ' */
		bad = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmplt_epi8(v, sp), _mm_or_si128(_mm_cmpeq_epi8(v, del),
		    _mm_cmpeq_epi8(v, eq))));
		if (bad == 0) {
			i += 16;
			continue;
		}
		i += (size_t)__builtin_ctz(bad);
		if (i >= n || d[i] != '\t')
			return i < n ? i : n;
		i++;
	}
	if (i >= n)
		return n;
#else
	(void)avail;
#endif
	for (; i < n && qp_lit[d[i]]; i++)
		o[i] = (char)d[i];
	return i;
}

/* qp_nl - write the line end nl (1 or 2 bytes) */
static char *
qp_nl(char *o, const char *nl, size_t nllen)
{
	o[0] = nl[0];
	if (nllen == 2)
		o[1] = nl[1];
	return o + nllen;
}

/*
 * qp_space_end - white space that ends a line (o: past the line's last
 * byte, col its length) as =XX, after a soft break when it would pass 76
 */
static char *
qp_space_end(char *o, const char *line, size_t col, const char *nl,
    size_t nllen)
{
	static const char	hex[] = "0123456789ABCDEF";
	unsigned char		w;

	if (o == line || (o[-1] != ' ' && o[-1] != '\t'))
		return o;
	w = (unsigned char)*--o;
	if (col - 1 + 3 > 75) {
		*o++ = '=';
		o = qp_nl(o, nl, nllen);
	}
	*o++ = '=';
	*o++ = hex[w >> 4];
	*o++ = hex[w & 15];
	return o;
}

/*
 * qp_encode - lines of at most 76 characters (a soft break's '=' counted),
 * hard line breaks where the data has nl, white space before them and at
 * the end encoded, no line starting with a literal '.' or '-'. Runs of
 * literal bytes are copied whole.
 */
static int
qp_encode(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 nllen = strlen(nl), i = 0, col = 0, n;
	unsigned char		 nl0 = (unsigned char)nl[0];
	char			*o, *line;

	/*
	 * worst case: every byte as =XX, plus a soft break per 25 bytes;
	 * qp_copy's block stores stay within it (15 bytes past a run at
	 * most, while 16 bytes of input are left)
	 */
	if (len > (SIZE_MAX - 64) / 4 || buf_reserve(out, len * 4 + 64) == -1)
		return -1;
	o = out->data + out->len;
	line = o;
	while (i < len) {
		unsigned char c = d[i];

		if (qp_lit[c]) {
			/* a soft break keeps lines at 76 characters with its '=' */
			if (col >= 75) {
				*o++ = '=';
				o = qp_nl(o, nl, nllen);
				line = o;
				col = 0;
			}
			/*
			 * A line never starts with a literal '.' (some relays
			 * mangle it) or '-' (decoded dashes that meet a soft
			 * break could read as a MIME boundary).
			 */
			if (col == 0 && (c == '.' || c == '-')) {
				*o++ = '=';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
				col = 3;
				i++;
				continue;
			}
			n = qp_copy(o, d + i, len - i < 75 - col ? len - i :
			    75 - col, len - i);
			o += n;
			col += n;
			i += n;
			continue;
		}
		if (c == nl0 && len - i >= nllen &&
		    (nllen == 1 || d[i + 1] == (unsigned char)nl[1])) {
			/* white space before a line break must be encoded */
			o = qp_space_end(o, line, col, nl, nllen);
			o = qp_nl(o, nl, nllen);
			line = o;
			col = 0;
			i += nllen;
			continue;
		}
		if (col + 3 > 75) {
			*o++ = '=';
			o = qp_nl(o, nl, nllen);
			line = o;
			col = 0;
		}
		*o++ = '=';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
		col += 3;
		i++;
	}
	/* trailing white space at the very end is encoded too, within 76 */
	o = qp_space_end(o, line, col, nl, nllen);
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

/* b64_encode - 76-character lines, each ending in nl, the last one too */
static int
b64_encode(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			i, col = 0, nllen = strlen(nl), groups;
	char			*o;

	groups = len / 3 + 1;
	if (groups > (SIZE_MAX - 64) / (4 + nllen) ||
	    buf_reserve(out, groups * 4 + (groups / 19 + 1) * nllen) == -1)
		return -1;
	o = out->data + out->len;
	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		o[0] = b64[v >> 18 & 63];
		o[1] = b64[v >> 12 & 63];
		o[2] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		o[3] = i + 2 < len ? b64[v & 63] : '=';
		o += 4;
		col += 4;
		if (col == 76 && i + 3 < len) {
			memcpy(o, nl, nllen);
			o += nllen;
			col = 0;
		}
	}
	memcpy(o, nl, nllen);
	o += nllen;
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int
mime_encode(enum mime_enc enc, const char *nl, const char *data, size_t len,
    struct buf *out)
{
	switch (enc) {
	case MIME_ENC_QP:
		return qp_encode(nl, (const unsigned char *)data, len, out);
	case MIME_ENC_BASE64:
		return b64_encode(nl, (const unsigned char *)data, len, out);
	default:
		return buf_append(out, data, len);
	}
}
