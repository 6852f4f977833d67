/*
 * report - rows of numbers for stats and show: filling them from counters
 * or from events, and writing them as a table, JSON or CSV.
 */
#ifndef MTRACK_REPORT_H
#define MTRACK_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"
#include "verdict.h"

struct report_row {
	char		 name[512];	/* what the row is about */
	char		 scope[300];	/* counter scope ("c:spring"), "" global */
	uint64_t	 sent;
	uint64_t	 opens, uopens, uopens_h;
	uint64_t	 clicks, uclicks, uclicks_h;
	uint64_t	 ocls[VERDICT_NCLASS], ccls[VERDICT_NCLASS];
	int64_t		 first, last;	/* event times, us; 0 none */
	unsigned	 pos;		/* a link's place in its message, 1...; 0 unknown */
};

/* report_fold - add one counter "metric" value into a row */
void	report_fold(struct report_row *r, const char *metric, size_t mlen,
	    uint64_t v);
/* report_fold_record - every field of a counter record (counter.h) into r */
void	report_fold_record(struct report_row *r, const char *val, size_t vlen);
/* report_from_counters - fill r from the counter record of its scope */
int	report_from_counters(struct store *s, struct report_row *r);
/* report_json - one row as a JSON object (new reference) */
json_t	*report_json(const struct report_row *r);
/* report_table - rows as an aligned table with a header */
void	report_table(FILE *fp, const char *what, const struct report_row *rows,
	    size_t n);
/*
 * report_csv - rows as CSV with a header. name (NULL: the row's name) gives
 * the text of a row's name column, e.g. a whole URL the row cut; what it
 * returns must live until the next call.
 */
void	report_csv(FILE *fp, const struct report_row *rows, size_t n,
	    const char *(*name)(const struct report_row *, void *), void *arg);
/* report_time - parse "YYYY-MM-DD[THH:MM[:SS]][Z]", "@EPOCH" or "N(d|h|m)" ago; 0 or -1 */
int	report_time(const char *s, int64_t *us);
/* report_iso - a time in us as "YYYY-MM-DDTHH:MM:SSZ" into out[21] ("" when 0) */
void	report_iso(int64_t us, char out[21]);

#endif
