/*
 * htmlreport - the numbers of stats as one self-contained HTML page:
 * totals, people versus machines by class, opens and clicks over time
 * (hand-made SVG, chart.h), links ranked by people's clicks, campaigns
 * and sending domains side by side, one message's events. Inline CSS, no
 * script, nothing loaded from elsewhere. Every value comes from rows that
 * stats computes (report.h, stats.h); every text from mail or requests
 * goes through esc_html.
 *
 * Values carry data-k (the key of the same value in "stats --json") and,
 * when the text is formatted, data-v (the raw value), so a test or a
 * scraper reads the numbers without parsing the layout.
 */
#ifndef MTRACK_HTMLREPORT_H
#define MTRACK_HTMLREPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "report.h"
#include "stats.h"

/* what the page shows; htmlreport_fill fills it, htmlreport_free frees it */
struct htmlreport {
	char			 filter[640];	/* the filter in words, "" none */
	int64_t			 since, until;	/* the window asked for, 0/INT64_MAX none */
	int64_t			 generated;	/* us */
	struct report_row	 total;
	struct report_row	*time;		/* buckets by name (by day or by hour) */
	size_t			 ntime;
	int			 hourly;	/* time rows are hours, else days */
	struct report_row	*links;		/* ranked by people's clicks */
	size_t			 nlinks;
	struct report_row	*campaigns, *domains;	/* side by side, or none */
	size_t			 ncampaigns, ndomains;
	const char		*message;	/* one message's ID, or NULL */
	json_t			*events;	/* its events (objects as stored,
						   plus "url" for clicks), or NULL */
};

/*
 * htmlreport_fill - everything the page shows for the filters of q (its
 * "by" is not used), each part through stats_run as "mtrackctl stats
 * --by ..." computes it: total, day (hour when the events span three days
 * at most), link, and campaign and domain when q has no campaign, domain
 * or message. For one message, its events too. 0, 1 when the message is
 * unknown, -1 on a store error or out of memory; free with htmlreport_free.
 */
int	htmlreport_fill(struct htmlreport *r, struct store *s,
	    const struct stats_query *q);
/* htmlreport_free - what htmlreport_fill allocated */
void	htmlreport_free(struct htmlreport *r);
/* htmlreport_write - the page into out; 0, or -1 when memory is short */
int	htmlreport_write(struct buf *out, const struct htmlreport *r);

/*
 * htmlreport_bucket - the start (us) of the bucket a time row names:
 * "YYYY-MM-DD" or "YYYY-MM-DDTHH:00"; -1 for anything else
 */
int64_t	htmlreport_bucket(const char *name);

#endif
