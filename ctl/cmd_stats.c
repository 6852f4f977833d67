/*
 * stats - "mtrackctl stats": numbers per message, link, campaign, sending
 * domain, day or hour (shared/stats.h), as a table, JSON or CSV.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "report.h"
#include "stats.h"

static void
usage(void)
{
	fprintf(stderr, "usage: mtrackctl stats [--by total|message|link|"
	    "campaign|domain|day|hour]\n"
	    "        [--since TIME] [--until TIME] [--campaign NAME]"
	    " [--domain DOMAIN]\n"
	    "        [--message MESSAGE-ID] [--json | --csv]\n"
	    CTL_TIME_HELP);
}

int
ctl_stats(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "by", required_argument, NULL, 'b' },
		CTL_FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct stats_query	 q;
	struct store		*s;
	struct store_counts	 n;
	struct report_row	*rows = NULL;
	json_t			*o = NULL, *jrows;
	char			 err[256];
	int			 ch, idx, json = 0, csv = 0, rc = 1, i;
	size_t			 k, nrows = 0;

	stats_query_init(&q);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'v': csv = 1; break;
		case 'b':
			for (i = 0; stats_by_names[i]; i++)
				if (strcmp(optarg, stats_by_names[i]) == 0)
					break;
			if (stats_by_names[i] == NULL) {
				fprintf(stderr, "mtrackctl: --by: unknown \"%s\"\n",
				    optarg);
				return 2;
			}
			q.by = (enum stats_by)i;
			break;
		case 's':
		case 'u':
		case 'C':
		case 'D':
		case 'M':
			if (stats_filter(&q, longopts[idx].name, optarg, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "mtrackctl: %s\n", err);
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || (json && csv)) {
		usage();
		return 2;
	}
	if ((s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	switch (stats_run(s, &q, &rows, &nrows)) {
	case 0:
		break;
	case 1:
		fprintf(stderr, "mtrackctl: no message %s\n", q.message);
		goto out;
	default:
		fprintf(stderr, "mtrackctl: cannot read the store\n");
		goto out;
	}
	if (store_counts(s, &n) == -1) {
		fprintf(stderr, "mtrackctl: cannot read the counters\n");
		goto out;
	}
	if (json) {
		if ((jrows = json_array()) == NULL)
			goto out;
		for (k = 0; k < nrows; k++)
			json_array_append_new(jrows, report_json(&rows[k]));
		o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}",
		    "messages", (json_int_t)n.messages,
		    "links", (json_int_t)n.links,
		    "opens", (json_int_t)n.opens,
		    "clicks", (json_int_t)n.clicks,
		    "by", stats_by_names[q.by],
		    "rows", jrows);
		if (o == NULL || json_dumpf(o, stdout, JSON_INDENT(2)) == -1)
			goto out;
		putchar('\n');
	} else if (csv)
		report_csv(stdout, rows, nrows);
	else
		report_table(stdout, stats_by_names[q.by], rows, nrows);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	json_decref(o);
	free(rows);
	store_close(s);
	return rc;
}
