/*
 * counter - counter records (see counter.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "counter.h"

static int
counter_find(const struct counter *c, const char *name, size_t nlen)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strncmp(c->f[i].name, name, nlen) == 0 &&
		    c->f[i].name[nlen] == '\0')
			return (int)i;
	return -1;
}

void
counter_parse(struct counter *c, const char *s, size_t len)
{
	const char	*p = s, *end = s + len, *eq, *sp, *d;
	size_t		 nlen, vlen;
	uint64_t	 v;

	c->n = 0;
	while (p < end && c->n < COUNTER_FIELDS) {
		while (p < end && *p == ' ')
			p++;
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
			sp = end;
		eq = memchr(p, '=', (size_t)(sp - p));
		if (eq && (nlen = (size_t)(eq - p)) > 0 && nlen < COUNTER_NAME &&
		    (vlen = (size_t)(sp - eq - 1)) > 0 && vlen < 24) {
			memcpy(c->f[c->n].name, p, nlen);
			c->f[c->n].name[nlen] = '\0';
			/* the digits, as strtoull would read them */
			for (v = 0, d = eq + 1; d < sp && *d >= '0' && *d <= '9';
			    d++)
				v = v * 10 + (uint64_t)(*d - '0');
			c->f[c->n].v = v;
			c->n++;
		}
		p = sp;
	}
}

uint64_t
counter_get(const struct counter *c, const char *name)
{
	int i = counter_find(c, name, strlen(name));

	return i < 0 ? 0 : c->f[i].v;
}

/* name_after - whether the field name a sorts after name (nlen bytes) */
static int
name_after(const char *a, const char *name, size_t nlen)
{
	int cmp = strncmp(a, name, nlen);

	return cmp > 0 || (cmp == 0 && a[nlen] != '\0');
}

int
counter_apply(struct counter *c, const char *name, size_t nlen,
    enum tally_op op, int64_t v)
{
	int		i = counter_find(c, name, nlen);
	uint64_t	cur;

	if (i < 0) {
		size_t at;

		if (c->n == COUNTER_FIELDS || nlen >= COUNTER_NAME)
			return -1;
		/* in name order, so that counter_format seldom sorts */
		for (at = c->n; at > 0 && name_after(c->f[at - 1].name, name,
		    nlen); at--)
			;
		memmove(&c->f[at + 1], &c->f[at], (c->n - at) *
		    sizeof(c->f[0]));
		c->n++;
		i = (int)at;
		memcpy(c->f[i].name, name, nlen);
		c->f[i].name[nlen] = '\0';
		c->f[i].v = op == TALLY_SUM ? 0 : (uint64_t)v;
		if (op != TALLY_SUM)
			return 0;
	}
	cur = c->f[i].v;
	switch (op) {
	case TALLY_SUM:
		cur = v < 0 && (uint64_t)-v > cur ? 0 : cur + (uint64_t)v;
		break;
	case TALLY_MIN:
		if ((uint64_t)v < cur)
			cur = (uint64_t)v;
		break;
	case TALLY_MAX:
		if ((uint64_t)v > cur)
			cur = (uint64_t)v;
		break;
	}
	c->f[i].v = cur;
	return 0;
}

static int
field_cmp(const void *a, const void *b)
{
	return strcmp(a, b);	/* name is the first member */
}

size_t
counter_format(const struct counter *c, char *out, size_t outsz)
{
	struct counter	 sorted;
	const struct counter *s = c;
	size_t		 i, o = 0, nl;

	for (i = 1; i < c->n; i++)
		if (strcmp(c->f[i - 1].name, c->f[i].name) > 0)
			break;
	if (i < c->n) {
		sorted = *c;
		qsort(sorted.f, sorted.n, sizeof(sorted.f[0]), field_cmp);
		s = &sorted;
	}
	for (i = 0; i < s->n; i++) {
		nl = strlen(s->f[i].name);
		if (o + nl + 24 + 2 >= outsz)
			break;
		if (o)
			out[o++] = ' ';
		memcpy(out + o, s->f[i].name, nl);
		o += nl;
		out[o++] = '=';
		o += buf_dec(out + o, s->f[i].v);
	}
	out[o] = '\0';
	return o;
}
