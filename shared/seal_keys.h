/*
 * seal_keys - the keys of sealed links, from the file named by link_keys.
 *
 * The file holds lines "ID HEX": ID a decimal 1..255, HEX 64 hex digits
 * (a 256-bit key); blank lines and lines starting with '#' are ignored.
 * Every key opens tokens of its ID; the last line's key seals new ones,
 * so a rotation appends a line and old mail keeps working until its key
 * is removed. The file must be a regular file that no "other" user may
 * read or write and the group may not write (chmod 600 or 640): a key
 * others can read lets anyone forge redirects through the tracker.
 */
#ifndef MTRACK_SEAL_KEYS_H
#define MTRACK_SEAL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN	32	/* bytes of a key */
#define SEAL_KEY_LINE	(3 + 1 + 2 * SEAL_KEY_LEN + 1 + 1) /* "ID HEX\n" + NUL */

struct seal_keys {
	uint8_t	key[256][SEAL_KEY_LEN];	/* by ID; only those with have[] */
	uint8_t	have[256];
	int	seal;			/* the ID that seals: the last line's */
	int	count;
};

/*
 * seal_keys_load - read and check the keys file at path. Returns a keyring
 * the caller frees with seal_keys_free, or NULL with "path:line: reason"
 * (or "path: reason") in err. Key bytes never appear in err.
 */
struct seal_keys *seal_keys_load(const char *path, char *err, size_t errlen);
/* seal_keys_parse - the same for text already read (name: for messages) */
struct seal_keys *seal_keys_parse(const char *text, size_t len,
		    const char *name, char *err, size_t errlen);
/* seal_keys_free - wipe and free a keyring (NULL is fine) */
void	seal_keys_free(struct seal_keys *k);
/*
 * seal_keys_line - a new random key line for id (1..255), "ID HEX\n",
 * into out; 0, or -1 when id is out of range or randomness failed
 */
int	seal_keys_line(int id, char out[SEAL_KEY_LINE]);

#endif
