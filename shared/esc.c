/*
 * esc - HTML, terminal and spreadsheet escaping (see esc.h).
 */
#include <stdio.h>
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

int
esc_tty(struct buf *out, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *run = s;
	char		 rep[8];
	size_t		 skip;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != 0x7f && !(c == 0xc2 && p + 1 < end &&
		    (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f))
			continue;
		/* C0, DEL, and the C1 controls as UTF-8 (0xc2 0x80-0x9f) */
		if (c == 0xc2) {
			snprintf(rep, sizeof(rep), "\\u%04x",
			    (unsigned char)p[1]);
			skip = 1;
		} else {
			snprintf(rep, sizeof(rep), "\\x%02x", c);
			skip = 0;
		}
		if (buf_append(out, run, (size_t)(p - run)) == -1 ||
		    buf_puts(out, rep) == -1)
			return -1;
		p += skip;
		run = p + 1;
	}
	return buf_append(out, run, (size_t)(end - run));
}

/* csv_formula - a cell a spreadsheet would run as a formula */
static int
csv_formula(const char *s)
{
	return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	    s[0] == '\t' || s[0] == '\r';
}

void
esc_csv(FILE *fp, const char *s)
{
	int formula = csv_formula(s);

	if (strpbrk(s, ",\"\r\n") == NULL && !formula) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	if (formula)
		fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}
