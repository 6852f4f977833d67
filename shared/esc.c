/*
 * esc - HTML escaping (see esc.h).
 */
#include <string.h>

#include "esc.h"

int
esc_html(struct buf *out, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *run = s;
	const char	*rep;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if (c >= 0x20 && c != 0x7f)
				continue;
			rep = "\xef\xbf\xbd";
			break;
		}
		if (buf_append(out, run, (size_t)(p - run)) == -1 ||
		    buf_puts(out, rep) == -1)
			return -1;
		run = p + 1;
	}
	return buf_append(out, run, (size_t)(end - run));
}

int
esc_html_str(struct buf *out, const char *s)
{
	return s ? esc_html(out, s, strlen(s)) : 0;
}
