/*
 * hmap - open-addressing hash table of string keys (see hmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

struct hmap_ent {
	const char	*key;		/* NULL: empty slot */
	uint64_t	 hash;
	void		*val;
};

struct hmap {
	struct hmap_ent	*e;
	size_t		 cap;		/* power of two */
	size_t		 n;
};

uint64_t
hmap_hash(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct hmap *
hmap_new(size_t cap)
{
	struct hmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->cap = cap;
	if ((m->e = calloc(m->cap, sizeof(*m->e))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
hmap_clear(struct hmap *m, void (*fn)(void *))
{
	size_t i;

	if (m->n == 0)
		return;
	for (i = 0; i < m->cap; i++) {
		if (m->e[i].key == NULL)
			continue;
		if (fn)
			fn(m->e[i].val);
		m->e[i].key = NULL;
	}
	m->n = 0;
}

void
hmap_free(struct hmap *m, void (*fn)(void *))
{
	if (m == NULL)
		return;
	hmap_clear(m, fn);
	free(m->e);
	free(m);
}

/* hmap_slot - the slot of key (hash h), or the empty one where it goes */
static struct hmap_ent *
hmap_slot(const struct hmap *m, const char *key, uint64_t h)
{
	size_t j;

	for (j = h & (m->cap - 1); m->e[j].key; j = (j + 1) & (m->cap - 1))
		if (m->e[j].hash == h && strcmp(m->e[j].key, key) == 0)
			break;
	return &m->e[j];
}

static int
hmap_grow(struct hmap *m)
{
	struct hmap_ent	*e;
	size_t		 cap = m->cap * 2, i, j;

	if ((e = calloc(cap, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < m->cap; i++) {
		if (m->e[i].key == NULL)
			continue;
		for (j = m->e[i].hash & (cap - 1); e[j].key;
		    j = (j + 1) & (cap - 1))
			;
		e[j] = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = cap;
	return 0;
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_ent *x = hmap_slot(m, key, hmap_hash(key, HMAP_FNV));

	return x->key ? x->val : NULL;
}

int
hmap_put(struct hmap *m, const char *key, void *val)
{
	uint64_t	 h = hmap_hash(key, HMAP_FNV);
	struct hmap_ent	*x;

	if ((m->n + 1) * 4 > m->cap * 3 && hmap_grow(m) == -1)
		return -1;
	x = hmap_slot(m, key, h);
	x->key = key;
	x->hash = h;
	x->val = val;
	m->n++;
	return 0;
}

size_t
hmap_count(const struct hmap *m)
{
	return m->n;
}

int
hmap_each(const struct hmap *m, int (*fn)(void *, const char *, void *),
    void *arg)
{
	size_t	i;
	int	rc;

	for (i = 0; i < m->cap; i++)
		if (m->e[i].key && (rc = fn(arg, m->e[i].key,
		    m->e[i].val)) != 0)
			return rc;
	return 0;
}
