/*
 * esc - text from mail and requests made inert for an HTML page, a
 * terminal and a spreadsheet.
 */
#ifndef MTRACK_ESC_H
#define MTRACK_ESC_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

/*
 * esc_html - append s[0..len) to out as HTML text, safe both between tags
 * and inside a quoted attribute value: & < > " ' become character
 * references, control bytes (C0, DEL; tab and newline too) become U+FFFD.
 * 0, or -1 when memory is short (out then holds a prefix).
 */
int	esc_html(struct buf *out, const char *s, size_t len);
/* esc_html_str - esc_html of a C string (NULL: nothing) */
int	esc_html_str(struct buf *out, const char *s);

/*
 * esc_tty - append s[0..len) to out for a terminal: control bytes (C0,
 * DEL) become \xNN and the C1 controls (U+0080-U+009F in UTF-8) \u00NN,
 * so no escape or OSC sequence from mail reaches the terminal. 0 or -1.
 */
int	esc_tty(struct buf *out, const char *s, size_t len);
/*
 * esc_csv - s as one CSV cell on fp: quoted when it needs to be (RFC 4180),
 * and a cell a spreadsheet would run as a formula (it starts with = + - @,
 * tab or CR) gets a single quote before it (OWASP's advice)
 */
void	esc_csv(FILE *fp, const char *s);

#endif
