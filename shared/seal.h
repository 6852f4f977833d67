/*
 * seal - sealed links: tokens any tracker opens without a store.
 *
 * A token is the key ID byte, a random 12-byte nonce, the ciphertext and
 * the 16-byte tag of ChaCha20-Poly1305 (nettle) under that key, the key
 * ID byte as associated data, written in base64url without padding. The
 * plaintext carries what a tracker needs to answer and count a hit: the
 * kind (click or open), the honeypot flag, the node, message and link
 * numbers, the link's position, the send time (ms) and, for a click, the
 * destination URL, raw deflate with a preset dictionary of URL pieces
 * when that is shorter. A token that does not open (unknown or retired
 * key, any changed character, another key's token) is simply not one.
 */
#ifndef MTRACK_SEAL_H
#define MTRACK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "seal_keys.h"

#define SEAL_URL_MAX	4096	/* longest URL sealed (REWRITE_URL_MAX) */
#define SEAL_TOKEN_MAX	5600	/* longest token text, in characters */
#define SEAL_MIN_LEN	40	/* shortest token text: a stored ID is 22 */

enum seal_kind { SEAL_CLICK = 1, SEAL_OPEN = 2 };

/* what a token says */
struct seal_msg {
	enum seal_kind	 kind;
	int		 honeypot;	/* the invisible honeypot link */
	uint64_t	 msg;		/* message sequence (node in its top bits) */
	uint64_t	 link;		/* link sequence (clicks; same node) */
	unsigned	 pos;		/* the link's position in its message */
	int64_t		 sent_us;	/* when the message was sent (ms precision) */
	const char	*url;		/* click: the destination (url_len bytes) */
	size_t		 url_len;
};

/*
 * seal_token - append the token of m, sealed with k's sealing key, to out
 * (base64url text). 0, or -1 (a URL longer than SEAL_URL_MAX, numbers of
 * two nodes, out of memory, no randomness).
 */
int	seal_token(const struct seal_keys *k, const struct seal_msg *m,
	    struct buf *out);

/*
 * seal_open - open the token tok[0..len) of kind kind with any key of k.
 * 0 with *m filled and, for a click, the URL put in url (reset first;
 * m->url points into it, valid until url changes); -1 when it is not a
 * token of ours. Never reads a store.
 */
int	seal_open(const struct seal_keys *k, enum seal_kind kind,
	    const char *tok, size_t len, struct seal_msg *m, struct buf *url);

#endif
