/*
 * mime - GMime walk into byte ranges; transfer encodings (see mime.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

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

static void
walk_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct walk		*w = data;
	struct mime_part	*p, *v;
	GMimeContentType	*ct;
	GMimeHeaderList		*hl;
	GMimeDataWrapper	*dw;
	GMimeStream		*st;
	const char		*disp;
	int			 i, n;

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
	}
	/* the header block ends before the blank line that precedes content */
	p->hdr_end = p->body_start;
	if (p->hdr_end >= 2 && w->msg[p->hdr_end - 1] == '\n' &&
	    w->msg[p->hdr_end - 2] == '\r')
		p->hdr_end -= 2;
	else if (p->hdr_end >= 1 && w->msg[p->hdr_end - 1] == '\n')
		p->hdr_end -= 1;
	/*
	 * The Content-Transfer-Encoding header is replaced in place when the
	 * encoding changes: a part whose header is ambiguous (twice, an
	 * unknown value, a name spelt loosely, an offset that does not point
	 * at it) is not touched at all.
	 */
	hl = g_mime_object_get_header_list(obj);
	n = hl ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < n; i++) {
		GMimeHeader	*h = g_mime_header_list_get_header_at(hl, i);
		gint64		 off = g_mime_header_get_offset(h);
		static const char cte[] = "Content-Transfer-Encoding:";

		if (strcasecmp(g_mime_header_get_name(h),
		    "Content-Transfer-Encoding") != 0)
			continue;
		if (p->cte_start >= 0 || off < 0 || (size_t)off >= p->hdr_end ||
		    p->hdr_end - (size_t)off < sizeof(cte) - 1 ||
		    strncasecmp(w->msg + off, cte, sizeof(cte) - 1) != 0 ||
		    g_mime_part_get_content_encoding(GMIME_PART(obj)) ==
		    GMIME_CONTENT_ENCODING_DEFAULT) {
			p->enc = MIME_ENC_OTHER;
			break;
		}
		p->cte_start = (ssize_t)off;
		p->cte_end = header_line_end(w->msg, p->hdr_end, (size_t)off);
		if (!cte_value_clean(w->msg + off + sizeof(cte) - 1,
		    p->cte_end - (size_t)off - (sizeof(cte) - 1))) {
			p->enc = MIME_ENC_OTHER;
			break;
		}
	}
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

int
mime_decode(const struct mime_part *p, struct buf *out)
{
	GMimeDataWrapper	*dw;
	GMimeStream		*mem;
	GByteArray		*ba;
	int			 rc = -1;

	dw = g_mime_part_get_content(GMIME_PART(p->gpart));
	if (dw == NULL)
		return -1;
	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(dw, mem) >= 0) {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		rc = buf_append(out, ba->data, ba->len);
	}
	g_object_unref(mem);
	return rc;
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

static int
qp_encode(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 nllen = strlen(nl), i, col = 0;
	char			*o, *line;

	/* worst case: every byte as =XX, plus a soft break per 25 bytes */
	if (len > (SIZE_MAX - 64) / 4 || buf_reserve(out, len * 4 + 64) == -1)
		return -1;
	o = out->data + out->len;
	line = o;
	for (i = 0; i < len; i++) {
		unsigned char c = d[i];

		if (c == (unsigned char)nl[0] && len - i >= nllen &&
		    (nllen == 1 || d[i + 1] == (unsigned char)nl[1])) {
			/* white space before a line break must be encoded */
			if (o > line && (o[-1] == ' ' || o[-1] == '\t')) {
				unsigned char w = (unsigned char)o[-1];

				o--;
				col--;
				if (col + 3 > 75) {
					*o++ = '=';
					memcpy(o, nl, nllen);
					o += nllen;
				}
				*o++ = '=';
				*o++ = hex[w >> 4];
				*o++ = hex[w & 15];
			}
			memcpy(o, nl, nllen);
			o += nllen;
			line = o;
			col = 0;
			i += nllen - 1;
			continue;
		}
		{
			int	lit = (c >= 33 && c <= 126 && c != '=') || c == ' ' ||
			    c == '\t';
			size_t	need = lit ? 1 : 3;

			/* a soft break keeps lines at 76 characters with its '=' */
			if (col + need > 75) {
				*o++ = '=';
				memcpy(o, nl, nllen);
				o += nllen;
				line = o;
				col = 0;
			}
			/*
			 * A line never starts with a literal '.' (some relays
			 * mangle it) or '-' (decoded dashes that meet a soft
			 * break could read as a MIME boundary).
			 */
			if (lit && col == 0 && (c == '.' || c == '-'))
				lit = 0;
			if (lit) {
				*o++ = (char)c;
				col++;
			} else {
				*o++ = '=';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
				col += 3;
			}
		}
	}
	/* trailing white space at the very end is encoded too, within 76 */
	if (o > line && (o[-1] == ' ' || o[-1] == '\t')) {
		unsigned char w = (unsigned char)o[-1];

		o--;
		col--;
		if (col + 3 > 75) {
			*o++ = '=';
			memcpy(o, nl, nllen);
			o += nllen;
		}
		*o++ = '=';
		*o++ = hex[w >> 4];
		*o++ = hex[w & 15];
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

static int
b64_encode(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			i, col = 0;
	char			q[4];

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		if (buf_append(out, q, 4))
			return -1;
		col += 4;
		if (col == 76 && i + 3 < len) {
			if (buf_puts(out, nl))
				return -1;
			col = 0;
		}
	}
	return buf_puts(out, nl);
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
