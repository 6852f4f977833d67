/*
 * html - byte-faithful HTML link rewriting.
 *
 * A scanner that follows the HTML5 tokenization rules (tags, attributes,
 * comments, doctype, bogus comments, RAWTEXT/RCDATA/script data/PLAINTEXT)
 * without building a tree, and a rewriter on top of it that changes only
 * the href values of links and inserts an open pixel: every other byte of
 * the document is copied unchanged.
 *
 * What the scanner does not model: the tree builder (foreign content such
 * as <svg><style>, <noscript> with scripting on, <template>). Outlook
 * conditional comments whose condition mentions mso (<!--[if mso]> ...
 * <![endif]-->) are tokenized as HTML and their tokens marked in_mso.
 */
#ifndef MTRACK_HTML_H
#define MTRACK_HTML_H

#include <stddef.h>

#include "buf.h"

/* ---- rewriting ---- */

struct html_link {
	const char	*url;	/* decoded, whitespace-stripped, absolute (after
				   <base href> resolution) http(s) URL, NUL-terminated */
	size_t		 url_len;
	const char	*tag;	/* lower-case tag name: "a", "area", "v:roundrect"... */
	int		 in_mso;/* inside an mso conditional comment */
	unsigned	 index;	/* 0-based, in document order, among the links
				   given to the callback */
};

/*
 * html_link_fn - decide about one link. Return 1 with the replacement URL
 * (raw, not escaped) appended to repl (empty on entry) to rewrite it, 0 to
 * leave it unchanged, -1 on error (html_rewrite then fails). l and its
 * strings live until the callback returns.
 */
typedef int (*html_link_fn)(void *arg, const struct html_link *l,
    struct buf *repl);

struct html_opts {
	html_link_fn	 link_fn;	/* NULL: no link is touched */
	void		*arg;
	const char	*pixel;		/* bytes inserted verbatim; NULL: none */
	size_t		 pixel_len;
	/*
	 * 0: before the last </body> end tag outside comments and raw text,
	 * else at the very end; when the end cuts a tag, an attribute, a
	 * comment or a raw text element (no end tag), before that instead.
	 * 1: right after the first <body> start tag; without one, after the
	 * first </head>, else after the first <html> start tag, else after
	 * the doctype, else at the start (after a UTF-8 BOM).
	 */
	int		 pixel_top;
};

struct html_result {
	unsigned	 links_seen;	  /* links given to the callback */
	unsigned	 links_rewritten; /* of those, the ones it rewrote */
	unsigned	 optouts_removed; /* opt-out attributes removed */
	int		 pixel_inserted;
};

/*
 * html_rewrite - append to out the document in[0..len) with its links
 * rewritten and the pixel inserted.
 *
 * Links are the href of <a> and <area>, and of any v:* tag inside an mso
 * conditional comment; of duplicate attributes the first one counts. The
 * callback gets only absolute http:// and https:// URLs: relative ones are
 * resolved (RFC 3986, after WHATWG's backslashes-are-slashes; see
 * url_whatwg) against the first <base href> when that is absolute
 * http(s), else left alone, as are other schemes, fragments, empty values,
 * template placeholders ({{ }}, *| |*, %% %%, [[ ]], <% %>) and URLs
 * holding spaces or control characters. A rewritten value is written
 * double-quoted with & and " escaped.
 *
 * A link tag carrying an opt-out marker (data-mtrack="off",
 * clicktracking=off, data-pm-no-track, ses:no-track, disable-tracking=true,
 * data-msys-clicktrack="0"; values ignore case) is not given to the
 * callback and loses the marker with the whitespace before it (only when
 * link_fn is set).
 *
 * A tag cut by the end of input is copied as it is. With no rewrite, no
 * marker and no pixel, out receives exactly in. o may be NULL (copy).
 * res (may be NULL) receives the counts. Returns 0, or -1 on ENOMEM or
 * callback error; out then holds unspecified bytes past its old length.
 * Time and memory are linear in len.
 */
int	html_rewrite(const char *in, size_t len, const struct html_opts *o,
	    struct buf *out, struct html_result *res);

/* ---- scanning ---- */

struct html_attr {
	const char	*name;		/* lower-case, NUL-terminated */
	size_t		 name_len;
	const char	*value;		/* decoded (HTML_DECODE_ATTR), NUL-terminated */
	size_t		 value_len;
	size_t		 start;		/* input offset of the name */
	size_t		 vstart;	/* of the raw value, quote included; == end if none */
	size_t		 end;		/* one past the value (quote included) or the name */
};

enum html_token_type {
	HTML_START_TAG,
	HTML_END_TAG,
	HTML_COMMENT,		/* also bogus comments: "<?x>", "</ x>", "<!x>" */
	HTML_DOCTYPE
};

struct html_token {
	enum html_token_type	 type;
	size_t			 start;	/* input offset of '<' */
	size_t			 end;	/* one past '>' */
	const char		*name;	/* tags: lower-case, NUL-terminated;
					   else "" */
	size_t			 name_len;
	const struct html_attr	*attrs;	/* start tags: in input order, later
					   duplicates dropped; else none */
	size_t			 nattrs;
	size_t			 data_start;	/* comments: offsets of the raw */
	size_t			 data_end;	/* data (no NUL or CR mapping) */
	int			 self_closing;
	int			 in_mso;
};

/*
 * html_token_fn - called for each complete tag and doctype, and for each
 * comment (also one cut by the end of input), in input order.
 * t and everything it points to live until the callback returns. Return 0
 * to go on; any other value stops html_scan, which returns it.
 */
typedef int (*html_token_fn)(void *arg, const struct html_token *t);

/*
 * HTML_SCAN_TOKENIZER: the tokenizer alone, as the html5lib tests expect:
 * start tags never switch to raw text and conditional comments stay
 * comments.
 */
#define HTML_SCAN_TOKENIZER	0x1

/*
 * html_scan - tokenize in[0..len). A tag cut by the end of input is not
 * reported. Returns 0, -1 (ENOMEM) or the callback's non-zero value.
 */
int	html_scan(const char *in, size_t len, unsigned flags,
	    html_token_fn fn, void *arg);

/* ---- character references ---- */

/* HTML_DECODE_ATTR: attribute value rules (else text in the data state) */
#define HTML_DECODE_ATTR	0x1

/*
 * html_decode - append s[0..len) to out with character references decoded
 * to UTF-8 and CR LF / CR turned into LF, as the tokenizer does; in
 * attribute values NUL becomes U+FFFD. Returns 0 or -1 (ENOMEM).
 */
int	html_decode(const char *s, size_t len, unsigned flags, struct buf *out);

/* longest named character reference, ';' included */
#define HTML_ENTITY_NAME_MAX	32

/*
 * html_entity_lookup - the UTF-8 expansion of the named character
 * reference name[0..len) (without '&', with its ';' if any), or NULL.
 * The result is static and not NUL-terminated; its length goes to
 * *utf8_len. Defined in html_entities.c (generated).
 */
const char *html_entity_lookup(const char *name, size_t len, size_t *utf8_len);

#endif
