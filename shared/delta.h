/*
 * delta - the counter changes of one write batch, grouped by scope, so
 * that the writer reads and writes each scope's record once per commit
 * and an event finds each of its scopes with one hash lookup.
 *
 * A scope ("*", "m:SEQ", "c:NAME" ...) holds any number of metrics;
 * each is a sum, a minimum or a maximum (chosen by its first change).
 * Scope names are copied: the table owns its memory. A record returned
 * by delta_scope stays valid until delta_reset or delta_free.
 */
#ifndef MTRACK_DELTA_H
#define MTRACK_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "counter.h"
#include "tally.h"

#define DELTA_INLINE	12	/* metrics held without another allocation */

struct delta_field {
	char		name[COUNTER_NAME];
	enum tally_op	op;
	int64_t		v;
};

struct delta_rec {
	size_t			 n, cap;
	struct delta_field	*f;		/* in[] or allocated */
	struct delta_field	 in[DELTA_INLINE];
};

struct delta;

struct delta	*delta_new(void);
void		 delta_free(struct delta *d);
/* delta_reset - forget every scope, keep the table */
void		 delta_reset(struct delta *d);
/* delta_scope - the record of scope, added empty when new; NULL on ENOMEM */
struct delta_rec *delta_scope(struct delta *d, const char *scope);
/* delta_find - the record of scope, or NULL when the batch has none */
struct delta_rec *delta_find(const struct delta *d, const char *scope);
/* delta_add - fold v into a metric of r; -1 when the name is too long or on ENOMEM */
int		 delta_add(struct delta_rec *r, const char *metric,
		    enum tally_op op, int64_t v);
/* delta_value - a metric's gathered value into *v: 1, or 0 when absent */
int		 delta_value(const struct delta_rec *r, const char *metric,
		    int64_t *v);
/* delta_size - the number of scopes */
size_t		 delta_size(const struct delta *d);
/* delta_each - fn for each scope; stops at and returns fn's non-zero value */
int		 delta_each(const struct delta *d, int (*fn)(void *arg,
		    const char *scope, const struct delta_rec *r), void *arg);

#endif
