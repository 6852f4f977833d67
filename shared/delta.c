/*
 * delta - scopes in a hash table (hmap.h), each with its metrics' changes
 * (see delta.h).
 */
#include <stdlib.h>
#include <string.h>

#include "delta.h"
#include "hmap.h"

struct delta {
	struct hmap	*m;		/* scope -> struct delta_rec */
};

struct delta *
delta_new(void)
{
	struct delta *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	if ((d->m = hmap_new(1024)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/* delta_rec_free - a record and its scope's name: one allocation */
static void
delta_rec_free(void *v)
{
	struct delta_rec *r = v;

	if (r->f != r->in)
		free(r->f);
	free(r);
}

void
delta_reset(struct delta *d)
{
	hmap_clear(d->m, delta_rec_free);
}

void
delta_free(struct delta *d)
{
	if (d == NULL)
		return;
	hmap_free(d->m, delta_rec_free);
	free(d);
}

struct delta_rec *
delta_find(const struct delta *d, const char *scope)
{
	return hmap_get(d->m, scope);
}

struct delta_rec *
delta_scope(struct delta *d, const char *scope)
{
	struct delta_rec	*r;
	size_t			 len;

	if ((r = hmap_get(d->m, scope)) != NULL)
		return r;
	len = strlen(scope) + 1;
	/* the record, then the scope's name */
	if ((r = malloc(sizeof(*r) + len)) == NULL)
		return NULL;
	r->n = 0;
	r->cap = DELTA_INLINE;
	r->f = r->in;
	if (hmap_put(d->m, memcpy(r + 1, scope, len), r) == -1) {
		free(r);
		return NULL;
	}
	return r;
}

int
delta_add(struct delta_rec *r, const char *metric, enum tally_op op,
    int64_t v)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->f[i].name, metric) != 0)
			continue;
		if (r->f[i].op == TALLY_SUM)
			r->f[i].v += v;
		else if (r->f[i].op == TALLY_MIN ? v < r->f[i].v : v > r->f[i].v)
			r->f[i].v = v;
		return 0;
	}
	if (strlen(metric) >= COUNTER_NAME)
		return -1;
	if (r->n == r->cap) {
		struct delta_field *f = malloc(r->cap * 2 * sizeof(*f));

		if (f == NULL)
			return -1;
		memcpy(f, r->f, r->n * sizeof(*f));
		if (r->f != r->in)
			free(r->f);
		r->f = f;
		r->cap *= 2;
	}
	memcpy(r->f[i].name, metric, strlen(metric) + 1);
	r->f[i].op = op;
	r->f[i].v = v;
	r->n++;
	return 0;
}

int
delta_value(const struct delta_rec *r, const char *metric, int64_t *v)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].name, metric) == 0) {
			*v = r->f[i].v;
			return 1;
		}
	return 0;
}

size_t
delta_size(const struct delta *d)
{
	return hmap_count(d->m);
}

/* the callback of delta_each and its argument */
struct delta_walk {
	int	(*fn)(void *, const char *, const struct delta_rec *);
	void	*arg;
};

static int
delta_walk1(void *arg, const char *scope, void *val)
{
	struct delta_walk *w = arg;

	return w->fn(w->arg, scope, val);
}

int
delta_each(const struct delta *d, int (*fn)(void *, const char *,
    const struct delta_rec *), void *arg)
{
	struct delta_walk w = { fn, arg };

	return hmap_each(d->m, delta_walk1, &w);
}
