/*
 * rewrite - what mtrack does to one message: the engine shared by the
 * milter and "mtrackctl rewrite", so a preview is exactly what Postfix
 * sends.
 *
 * Given the whole message (headers, blank line, body), it decides whether
 * the message is tracked, rewrites the links of its HTML parts to tracking
 * links, inserts the open pixel, records the message and its links in the
 * store (durably, before returning), and describes the result as edits of
 * top-level headers plus a new body. When nothing is to change, the body
 * is left alone (changed == 0).
 */
#ifndef MTRACK_REWRITE_H
#define MTRACK_REWRITE_H

/*
 * Links longer than this stay as written: the tracker answers a stored URL
 * in a Location of at most 12 KB, and escaping can triple a URL.
 */
#define REWRITE_URL_MAX	4096
/* the longest reference of a message (the pixel): a sealed open token */
#define REWRITE_MSGID_MAX	64

/*
 * The longest new body: libmilter takes its length as an int. With
 * max_message_size up to 1G, quoted-printable can outgrow it.
 */
#define REWRITE_BODY_MAX	((size_t)INT_MAX)

/*
 * The open pixel's inline style. Out of the flow (position:absolute), it
 * takes no layout space and keeps the margins around it collapsing, at the
 * top as at the bottom: where clients honour position (Apple Mail, iOS
 * Mail, Thunderbird, browsers' webmail that keeps it) a page looks exactly
 * as without it. Clients that drop position (Gmail, Outlook for Windows)
 * still get a 1 px block, never a line box (display:block).
 */
#define REWRITE_PIXEL_STYLE \
	"position:absolute;display:block;border:0;width:1px;height:1px"

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "id.h"
#include "seal_keys.h"
#include "store.h"

/* one top-level header edit, in milter terms */
struct rewrite_hdr {
	char		*name;
	unsigned	 index;	/* 1-based occurrence to change; 0: add a new header */
	char		*value;	/* with its leading space; NULL: delete */
};

#define REWRITE_MAX_HDRS	16

struct rewrite_result {
	int			 changed;	/* body replaced by body */
	struct buf		 body;		/* everything after the blank line */
	struct rewrite_hdr	 hdrs[REWRITE_MAX_HDRS];
	size_t			 nhdrs;
	unsigned		 links;		/* links rewritten */
	unsigned		 parts;		/* HTML parts changed */
	int			 pixel;		/* open pixel inserted */
	char			 msg_id[REWRITE_MSGID_MAX + 1]; /* public ID or sealed token (pixel), "" if none */
	const char		*skip;		/* why not tracked (static), or NULL */
};

/* the envelope, as the MTA saw it, and how to write references */
struct rewrite_info {
	const char		*from;
	const char *const	*rcpt;
	size_t			 nrcpt;
	const char		*queue_id;	/* may be NULL */
	const struct seal_keys	*keys;		/* link_mode = sealed: seal links
						   and the pixel (NULL: stored IDs) */
};

/*
 * rewrite_message - the transform of msg[0..len). Returns 0 with r filled
 * (r->changed 0 and r->skip set when the message stays as it is), or -1
 * when it failed (r->skip says why): the caller must then send the
 * message unchanged. r must be released with rewrite_result_free.
 */
int	rewrite_message(const struct config *cfg, struct store *st,
	    const struct rewrite_info *info, const char *msg, size_t len,
	    struct rewrite_result *r);
void	rewrite_result_free(struct rewrite_result *r);
/* rewrite_body_fits - a new body of len bytes can go to libmilter (REWRITE_BODY_MAX) */
int	rewrite_body_fits(size_t len);

/*
 * rewrite_apply_headers - write the top-level header block hdr[0..len)
 * with the edits of r applied, lines ending in nl; for previews and tests.
 */
int	rewrite_apply_headers(const struct rewrite_result *r, const char *hdr,
	    size_t len, const char *nl, struct buf *out);

#endif
