/*
 * stats - the numbers of "mtrackctl stats", the report page and the
 * tracker's /report: rows per message, link, campaign, sending domain,
 * day or hour, with filters. One code path for all three.
 *
 * Counters kept by the writer answer at once (no event is read) for a
 * whole scope. Only a time window combined with a grouping that has no
 * per-day counters (campaign, domain, total with a campaign filter, ...),
 * and the grouping by hour, read the events of the window.
 */
#ifndef MTRACK_STATS_H
#define MTRACK_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "store.h"

enum stats_by { STATS_BY_TOTAL, STATS_BY_MESSAGE, STATS_BY_LINK,
    STATS_BY_CAMPAIGN, STATS_BY_DOMAIN, STATS_BY_DAY, STATS_BY_HOUR,
    STATS_BY_URL };

/* the names of enum stats_by, NULL-terminated ("total", ...) */
extern const char *const stats_by_names[];

/* what to count; strings belong to the caller */
struct stats_query {
	enum stats_by	 by;
	int64_t		 since, until;		/* [since, until) us */
	const char	*campaign, *domain, *message;	/* NULL: any */
};

/* stats_query_init - every message, all time, one total row */
void	stats_query_init(struct stats_query *q);
/*
 * stats_filter - set the filter name ("campaign", "domain", "message",
 * "since", "until") from text, as the command line and the query string
 * give it: each at most once; times as report_time reads them; names of
 * 1 to 255 bytes without control bytes. q keeps value. 0, or -1 with the
 * reason in err.
 */
int	stats_filter(struct stats_query *q, const char *name, const char *value,
	    char *err, size_t errlen);
/* stats_filter_text - the filters in words ("campaign spring"), "" for none */
void	stats_filter_text(const struct stats_query *q, char *out, size_t n);
/*
 * stats_run - the rows of q, in the order stats prints them (by name);
 * *rows is malloc'd (free() it, also when *nrows is 0). 0, 1 when the
 * message of q->message is unknown, -1 on a store error or out of memory.
 */
int	stats_run(struct store *s, const struct stats_query *q,
	    struct report_row **rows, size_t *nrows);
/*
 * stats_msgseq - the sequence number of a Message-ID, given with or
 * without its angle brackets: 0, 1 unknown, -1
 */
int	stats_msgseq(struct store *s, const char *message_id, uint64_t *seq);

#endif
