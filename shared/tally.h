/*
 * tally - counter changes gathered over one write batch, so that a counter
 * touched by a thousand events is written once per commit.
 *
 * Each key holds a sum, a minimum or a maximum (chosen by the first call
 * for that key). Keys are copied; the tally owns its memory.
 */
#ifndef MTRACK_TALLY_H
#define MTRACK_TALLY_H

#include <stddef.h>
#include <stdint.h>

enum tally_op { TALLY_SUM, TALLY_MIN, TALLY_MAX };

struct tally;

struct tally	*tally_new(void);
void		 tally_free(struct tally *t);
/* tally_reset - forget every key, keep the memory */
void		 tally_reset(struct tally *t);
/* tally_put - fold v into key with op; 0 or -1 (ENOMEM) */
int		 tally_put(struct tally *t, const char *key, enum tally_op op,
		    int64_t v);
/* tally_get - the value gathered for key into *v: 1, or 0 when key is absent */
int		 tally_get(const struct tally *t, const char *key, int64_t *v);
/* tally_insert - add key as a set member: 1 when new, 0 when present, -1 (ENOMEM) */
int		 tally_insert(struct tally *t, const char *key);
/* tally_each - call fn for each key; stops at and returns fn's non-zero value */
int		 tally_each(const struct tally *t, int (*fn)(void *arg,
		    const char *key, enum tally_op op, int64_t v), void *arg);
/* tally_count - the number of keys */
size_t		 tally_count(const struct tally *t);

#endif
