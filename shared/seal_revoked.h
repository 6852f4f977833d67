/*
 * seal_revoked - the revocation list of links (link_revoked = FILE).
 *
 * A sealed link needs no record, so pruning records cannot withdraw it.
 * The tracker keeps this list in memory (sorted, searched in O(log n),
 * no store lookup) and answers a listed message or link as an unknown
 * ID. Lines: a sequence number of a message or a link, 16 hex digits, as
 * `mtrackctl export` prints them ("msg", "link") and as the store's keys
 * read; blank lines and '#' comments are ignored.
 */
#ifndef MTRACK_SEAL_REVOKED_H
#define MTRACK_SEAL_REVOKED_H

#include <stddef.h>
#include <stdint.h>

struct seal_revoked {
	uint64_t	*v;	/* sorted */
	size_t		 n;
};

/*
 * seal_revoked_load - read the list at path into r (emptied first);
 * 0, or -1 with "path:line: reason" in err (r is then empty)
 */
int	seal_revoked_load(struct seal_revoked *r, const char *path, char *err,
	    size_t errlen);
/* seal_revoked_has - seq is listed */
int	seal_revoked_has(const struct seal_revoked *r, uint64_t seq);
/* seal_revoked_free - release the list */
void	seal_revoked_free(struct seal_revoked *r);

#endif
