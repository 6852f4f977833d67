/*
 * esc - text from mail and requests made inert for an HTML page.
 */
#ifndef MTRACK_ESC_H
#define MTRACK_ESC_H

#include <stddef.h>

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

#endif
