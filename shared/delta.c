/*
 * delta - open-addressing hash of scopes, each with its metrics' changes
 * (see delta.h).
 */
#include <stdlib.h>
#include <string.h>

#include "delta.h"

struct delta_ent {
	char			*scope;		/* NULL: empty slot */
	uint64_t		 hash;
	struct delta_rec	*rec;
};

struct delta {
	struct delta_ent	*e;
	size_t			 cap;		/* power of two */
	size_t			 n;
};

static uint64_t
delta_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct delta *
delta_new(void)
{
	struct delta *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->cap = 1024;
	if ((d->e = calloc(d->cap, sizeof(*d->e))) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void
delta_reset(struct delta *d)
{
	size_t i;

	if (d->n == 0)
		return;
	for (i = 0; i < d->cap; i++) {
		if (d->e[i].scope == NULL)
			continue;
		/* the scope name and its record are one allocation */
		if (d->e[i].rec->f != d->e[i].rec->in)
			free(d->e[i].rec->f);
		free(d->e[i].rec);
		d->e[i].scope = NULL;
	}
	d->n = 0;
}

void
delta_free(struct delta *d)
{
	if (d == NULL)
		return;
	delta_reset(d);
	free(d->e);
	free(d);
}

static int
delta_grow(struct delta *d)
{
	struct delta_ent	*e;
	size_t			 cap = d->cap * 2, i, j;

	if ((e = calloc(cap, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < d->cap; i++) {
		if (d->e[i].scope == NULL)
			continue;
		for (j = d->e[i].hash & (cap - 1); e[j].scope;
		    j = (j + 1) & (cap - 1))
			;
		e[j] = d->e[i];
	}
	free(d->e);
	d->e = e;
	d->cap = cap;
	return 0;
}

static struct delta_ent *
delta_slot(const struct delta *d, const char *scope, uint64_t h)
{
	size_t j;

	for (j = h & (d->cap - 1); d->e[j].scope; j = (j + 1) & (d->cap - 1))
		if (d->e[j].hash == h && strcmp(d->e[j].scope, scope) == 0)
			break;
	return &d->e[j];
}

struct delta_rec *
delta_find(const struct delta *d, const char *scope)
{
	struct delta_ent *x = delta_slot(d, scope, delta_hash(scope));

	return x->scope ? x->rec : NULL;
}

struct delta_rec *
delta_scope(struct delta *d, const char *scope)
{
	uint64_t		 h = delta_hash(scope);
	struct delta_ent	*x;
	size_t			 len;

	x = delta_slot(d, scope, h);
	if (x->scope)
		return x->rec;
	if ((d->n + 1) * 4 > d->cap * 3) {
		if (delta_grow(d) == -1)
			return NULL;
		x = delta_slot(d, scope, h);
	}
	len = strlen(scope) + 1;
	/* the record, then the scope's name */
	if ((x->rec = malloc(sizeof(*x->rec) + len)) == NULL)
		return NULL;
	x->rec->n = 0;
	x->rec->cap = DELTA_INLINE;
	x->rec->f = x->rec->in;
	x->scope = memcpy(x->rec + 1, scope, len);
	x->hash = h;
	d->n++;
	return x->rec;
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
	return d->n;
}

int
delta_each(const struct delta *d, int (*fn)(void *, const char *,
    const struct delta_rec *), void *arg)
{
	size_t	i;
	int	rc;

	for (i = 0; i < d->cap; i++)
		if (d->e[i].scope && (rc = fn(arg, d->e[i].scope,
		    d->e[i].rec)) != 0)
			return rc;
	return 0;
}
