/*
 * text - bare URLs in plain text (see text.h).
 */
#include <string.h>
#include <strings.h>

#include "text.h"

/* url_end - one past the last byte of the URL that starts at p */
static size_t
url_end(const char *p, size_t len)
{
	size_t	i, open = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
			break;
		if (c == '(')
			open++;
		else if (c == ')') {
			if (open == 0)
				break;
			open--;
		}
	}
	while (i > 0 && strchr(".,;:!?'", p[i - 1]) != NULL)
		i--;
	return i;
}

int
text_rewrite(const char *in, size_t len, html_link_fn fn, void *arg,
    struct buf *out, unsigned *n)
{
	struct html_link	 l;
	struct buf		 url = BUF_INIT, repl = BUF_INIT;
	size_t			 i = 0, from = 0, end, skip;
	unsigned		 idx = 0;
	int			 rc = -1, r;

	*n = 0;
	while (i < len) {
		const char *p;

		/* the scheme is case-insensitive: Http:// and HTTPS:// too */
		while (i < len && (in[i] | 0x20) != 'h')
			i++;
		if (i == len)
			break;
		p = in + i;
		skip = len - i >= 8 && strncasecmp(p, "https://", 8) == 0 ? 8 :
		    len - i >= 7 && strncasecmp(p, "http://", 7) == 0 ? 7 : 0;
		/* a URL starts a word: not inside "xhttp://" */
		if (skip == 0 || (i > 0 && (((unsigned char)in[i - 1] >= 'a' &&
		    (unsigned char)in[i - 1] <= 'z') || ((unsigned char)in[i - 1]
		    >= 'A' && (unsigned char)in[i - 1] <= 'Z') ||
		    (in[i - 1] >= '0' && in[i - 1] <= '9')))) {
			i++;
			continue;
		}
		end = url_end(p, len - i);
		if (end <= skip) {
			i += skip;
			continue;
		}
		buf_reset(&url);
		buf_reset(&repl);
		if (buf_append(&url, p, end) == -1)
			goto out;
		memset(&l, 0, sizeof(l));
		l.url = url.data;
		l.url_len = url.len;
		l.tag = "text";
		l.index = idx++;
		if ((r = fn(arg, &l, &repl)) == -1)
			goto out;
		if (r == 1) {
			if (buf_append(out, in + from, i - from) == -1 ||
			    buf_append(out, repl.data, repl.len) == -1)
				goto out;
			from = i + end;
			(*n)++;
		}
		i += end;
	}
	if (buf_append(out, in + from, len - from) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&url);
	buf_free(&repl);
	return rc;
}
