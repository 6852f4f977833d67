/*
 * tally - keys with a sum, a minimum or a maximum, in a hash table
 * (hmap.h; see tally.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "tally.h"

/* a key's value; the key follows the struct, in the same allocation */
struct tally_val {
	enum tally_op	op;
	int64_t		v;
};

struct tally {
	struct hmap	*m;		/* key -> struct tally_val */
};

struct tally *
tally_new(void)
{
	struct tally *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	if ((t->m = hmap_new(256)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
tally_reset(struct tally *t)
{
	hmap_clear(t->m, free);
}

void
tally_free(struct tally *t)
{
	if (t == NULL)
		return;
	hmap_free(t->m, free);
	free(t);
}

int
tally_put(struct tally *t, const char *key, enum tally_op op, int64_t v)
{
	struct tally_val	*x;
	size_t			 len;

	if ((x = hmap_get(t->m, key)) != NULL) {
		if (x->op == TALLY_SUM)
			x->v += v;
		else if (x->op == TALLY_MIN ? v < x->v : v > x->v)
			x->v = v;
		return 0;
	}
	len = strlen(key) + 1;
	if ((x = malloc(sizeof(*x) + len)) == NULL)
		return -1;
	x->op = op;
	x->v = v;
	if (hmap_put(t->m, memcpy(x + 1, key, len), x) == -1) {
		free(x);
		return -1;
	}
	return 0;
}

int
tally_get(const struct tally *t, const char *key, int64_t *v)
{
	const struct tally_val *x = hmap_get(t->m, key);

	if (x == NULL)
		return 0;
	*v = x->v;
	return 1;
}

int
tally_insert(struct tally *t, const char *key)
{
	size_t before = hmap_count(t->m);

	if (tally_put(t, key, TALLY_SUM, 1) == -1)
		return -1;
	return hmap_count(t->m) != before;
}

/* the callback of tally_each and its argument */
struct tally_walk {
	int	(*fn)(void *, const char *, enum tally_op, int64_t);
	void	*arg;
};

static int
tally_walk1(void *arg, const char *key, void *val)
{
	struct tally_walk	*w = arg;
	const struct tally_val	*x = val;

	return w->fn(w->arg, key, x->op, x->v);
}

int
tally_each(const struct tally *t, int (*fn)(void *, const char *,
    enum tally_op, int64_t), void *arg)
{
	struct tally_walk w = { fn, arg };

	return hmap_each(t->m, tally_walk1, &w);
}

size_t
tally_count(const struct tally *t)
{
	return hmap_count(t->m);
}
