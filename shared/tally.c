/*
 * tally - open-addressing hash of counter changes (see tally.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tally.h"

struct tally_ent {
	char		*key;		/* NULL: empty slot */
	uint64_t	 hash;
	enum tally_op	 op;
	int64_t		 v;
};

struct tally {
	struct tally_ent	*e;
	size_t			 cap;	/* power of two */
	size_t			 n;
};

static uint64_t
tally_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct tally *
tally_new(void)
{
	struct tally *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->cap = 256;
	if ((t->e = calloc(t->cap, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
tally_reset(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++) {
		free(t->e[i].key);
		t->e[i].key = NULL;
	}
	t->n = 0;
}

void
tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	tally_reset(t);
	free(t->e);
	free(t);
}

static int
tally_grow(struct tally *t)
{
	struct tally_ent	*old = t->e, *e;
	size_t			 oldcap = t->cap, i, j;

	if ((e = calloc(oldcap * 2, sizeof(*e))) == NULL)
		return -1;
	t->e = e;
	t->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		for (j = old[i].hash & (t->cap - 1); e[j].key;
		    j = (j + 1) & (t->cap - 1))
			;
		e[j] = old[i];
	}
	free(old);
	return 0;
}

int
tally_put(struct tally *t, const char *key, enum tally_op op, int64_t v)
{
	uint64_t	 h = tally_hash(key);
	size_t		 j;

	if ((t->n + 1) * 4 > t->cap * 3 && tally_grow(t) == -1)
		return -1;
	for (j = h & (t->cap - 1); t->e[j].key; j = (j + 1) & (t->cap - 1)) {
		struct tally_ent *x = &t->e[j];

		if (x->hash != h || strcmp(x->key, key) != 0)
			continue;
		if (x->op == TALLY_SUM)
			x->v += v;
		else if (x->op == TALLY_MIN ? v < x->v : v > x->v)
			x->v = v;
		return 0;
	}
	if ((t->e[j].key = strdup(key)) == NULL)
		return -1;
	t->e[j].hash = h;
	t->e[j].op = op;
	t->e[j].v = v;
	t->n++;
	return 0;
}

int
tally_get(const struct tally *t, const char *key, int64_t *v)
{
	uint64_t	 h = tally_hash(key);
	size_t		 j;

	for (j = h & (t->cap - 1); t->e[j].key; j = (j + 1) & (t->cap - 1))
		if (t->e[j].hash == h && strcmp(t->e[j].key, key) == 0) {
			*v = t->e[j].v;
			return 1;
		}
	return 0;
}

int
tally_insert(struct tally *t, const char *key)
{
	size_t before = t->n;

	if (tally_put(t, key, TALLY_SUM, 1) == -1)
		return -1;
	return t->n != before;
}

int
tally_each(const struct tally *t, int (*fn)(void *, const char *,
    enum tally_op, int64_t), void *arg)
{
	size_t	i;
	int	rc;

	for (i = 0; i < t->cap; i++)
		if (t->e[i].key &&
		    (rc = fn(arg, t->e[i].key, t->e[i].op, t->e[i].v)) != 0)
			return rc;
	return 0;
}

size_t
tally_count(const struct tally *t)
{
	return t->n;
}
