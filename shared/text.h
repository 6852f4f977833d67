/*
 * text - links in text/plain: bare http(s) URLs, as mail clients link them.
 */
#ifndef MTRACK_TEXT_H
#define MTRACK_TEXT_H

#include <stddef.h>

#include "buf.h"
#include "html.h"

/*
 * text_rewrite - append in[0..len) to out with every bare http:// or
 * https:// URL (scheme in any case, passed as written) passed to fn (tag
 * "text") and, when fn returns 1, replaced
 * by the URL it wrote. A URL ends at white space, a control byte, <, >,
 * ", or the end; trailing . , ; : ! ? ' and an unbalanced ) are not part
 * of it (they end sentences). *n counts the URLs rewritten. 0 or -1.
 */
int	text_rewrite(const char *in, size_t len, html_link_fn fn, void *arg,
	    struct buf *out, unsigned *n);

#endif
