/*
 * counter - one record of counters per scope: "name=value" fields
 * separated by spaces, sorted by name, e.g.
 *   clicks=6 clicks.human=1 first=1767225600000010 opens=4 uopens=1
 * so mdb_dump shows them, and a scope touched by a batch of events is
 * read and written once per commit.
 */
#ifndef MTRACK_COUNTER_H
#define MTRACK_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "tally.h"

#define COUNTER_FIELDS	48
#define COUNTER_NAME	24

struct counter {
	size_t	n;
	struct {
		char		name[COUNTER_NAME];
		uint64_t	v;
	} f[COUNTER_FIELDS];
};

/* counter_parse - read a record (len bytes, not NUL-terminated); bad fields are skipped */
void		counter_parse(struct counter *c, const char *s, size_t len);
/* counter_get - a field's value, 0 when absent */
uint64_t	counter_get(const struct counter *c, const char *name);
/* counter_apply - fold v into a field (sum, never below 0; min; max); -1 when full or the name too long */
int		counter_apply(struct counter *c, const char *name, size_t nlen,
		    enum tally_op op, int64_t v);
/* counter_format - the record as text into out; its length (out is NUL-terminated) */
size_t		counter_format(const struct counter *c, char *out, size_t outsz);

#endif
