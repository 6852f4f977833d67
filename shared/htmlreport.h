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

/* what the page shows; rows belong to the caller */
struct htmlreport {
	const char		*filter;	/* the filter in words, "" none */
	int64_t			 since, until;	/* the window asked for, 0/INT64_MAX none */
	int64_t			 generated;	/* us */
	struct report_row	 total;
	const struct report_row	*time;		/* buckets by name (by day or by hour) */
	size_t			 ntime;
	int			 hourly;	/* time rows are hours, else days */
	const struct report_row	*links;		/* ranked by people's clicks */
	size_t			 nlinks;
	const struct report_row	*campaigns, *domains;	/* side by side, or none */
	size_t			 ncampaigns, ndomains;
	const char		*message;	/* one message's ID, or NULL */
	json_t			*events;	/* its events (objects as stored,
						   plus "url" for clicks), or NULL */
};

/* htmlreport_write - the page into out; 0, or -1 when memory is short */
int	htmlreport_write(struct buf *out, const struct htmlreport *r);

/*
 * htmlreport_bucket - the start (us) of the bucket a time row names:
 * "YYYY-MM-DD" or "YYYY-MM-DDTHH:00"; -1 for anything else
 */
int64_t	htmlreport_bucket(const char *name);

#endif
