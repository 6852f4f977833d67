/*
 * id - public tracking IDs.
 *
 * Records are stored under sequence numbers (keys that grow, written
 * with MDB_APPEND). The public ID is AES-128 of the block
 * (sequence, type tag) under a secret key kept in the store, written in
 * base64url: 22 characters, unguessable without the key, and checked on
 * decode (a forged or mistyped ID fails the 64-bit tag check).
 */
#ifndef MTRACK_ID_H
#define MTRACK_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_LEN		22	/* characters of a public ID */
#define ID_KEY_LEN	16	/* bytes of the secret key */

enum id_type { ID_LINK = 'L', ID_MSG = 'M' };

struct id_key {
	uint8_t	ctx[512];	/* expanded AES key, opaque */
};

/* id_key_init - expand the raw secret key */
void	id_key_init(struct id_key *k, const uint8_t raw[ID_KEY_LEN]);
/* id_random - fill buf with n bytes from the kernel's random source; 0 or -1 */
int	id_random(void *buf, size_t n);
/* id_encode - the public ID of (type, seq) into out[ID_LEN + 1] */
void	id_encode(const struct id_key *k, enum id_type type, uint64_t seq,
	    char out[ID_LEN + 1]);
/* id_decode - the seq of a public ID of that type; 0, or -1 when not one of ours */
int	id_decode(const struct id_key *k, enum id_type type, const char *s,
	    size_t len, uint64_t *seq);

#endif
