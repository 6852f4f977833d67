/*
 * hmap - a hash table from NUL-terminated string keys to pointers: open
 * addressing with linear probing, FNV-1a, grown at three quarters full.
 * The one table of mtrack (delta.c's scopes, tally.c's keys).
 *
 * The table does not copy keys: a key must live as long as its entry
 * (keep it in the value's allocation). Values are the caller's; a pointer
 * returned stays valid, an entry's slot moves when the table grows.
 */
#ifndef MTRACK_HMAP_H
#define MTRACK_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

/* hmap_new - an empty table of cap slots (a power of two); NULL (ENOMEM) */
struct hmap	*hmap_new(size_t cap);
/* hmap_free - free the table (fn(value) first for each entry, when fn is not NULL) */
void		 hmap_free(struct hmap *m, void (*fn)(void *val));
/* hmap_clear - forget every entry (fn(value) first, when not NULL), keep the slots */
void		 hmap_clear(struct hmap *m, void (*fn)(void *val));
/* hmap_get - the value of key, or NULL */
void		*hmap_get(const struct hmap *m, const char *key);
/* hmap_put - add key (not in the table) with val; 0 or -1 (ENOMEM) */
int		 hmap_put(struct hmap *m, const char *key, void *val);
/* hmap_count - the number of entries */
size_t		 hmap_count(const struct hmap *m);
/* hmap_each - fn for each entry, in slot order; stops at and returns fn's non-zero value */
int		 hmap_each(const struct hmap *m, int (*fn)(void *arg,
		    const char *key, void *val), void *arg);
/* hmap_hash - the FNV-1a hash of s, continuing from h (start: HMAP_FNV) */
uint64_t	 hmap_hash(const char *s, uint64_t h);
#define HMAP_FNV	0xcbf29ce484222325ULL

#endif
