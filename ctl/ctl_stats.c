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
	fprintf(stderr, "usage: mtrackctl stats [--by total|message|link|url|"
	    "campaign|domain|day|hour]\n"
	    "        [--since TIME] [--until TIME] [--campaign NAME]"
	    " [--domain DOMAIN]\n"
	    "        [--message MESSAGE-ID] [--json | --csv]\n"
	    CTL_TIME_HELP);
}

/* the output formats */
enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

/* what the name of a row needs when it is printed */
struct ctl_stats_out {
	struct store	*s;
	enum stats_by	 by;
	struct buf	 url;
};

/* ctl_stats_args - the options into *q and *fmt; 0, or 2 (usage) */
static int
ctl_stats_args(int argc, char **argv, struct stats_query *q, enum fmt *fmt)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'v' },
		{ "by", required_argument, NULL, 'b' },
		CTL_FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	char	err[256];
	int	ch, idx, i, json = 0, csv = 0;

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
			q->by = (enum stats_by)i;
			break;
		case 's':
		case 'u':
		case 'C':
		case 'D':
		case 'M':
			if (stats_filter(q, longopts[idx].name, optarg, err,
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
	*fmt = json ? FMT_JSON : csv ? FMT_CSV : FMT_TABLE;
	return 0;
}

/*
 * ctl_stats_url - the whole URL of a link row (the row's name is cut at
 * 511 bytes; JSON and CSV carry all of it), else the row's name
 */
static const char *
ctl_stats_url(const struct report_row *r, void *arg)
{
	struct ctl_stats_out *o = arg;

	if (o->by != STATS_BY_LINK && o->by != STATS_BY_URL)
		return r->name;
	buf_reset(&o->url);
	if (strncmp(r->scope, "l:", 2) != 0 || store_get_link(o->s,
	    strtoull(r->scope + 2, NULL, 16), &o->url, NULL) != 0 ||
	    o->url.data == NULL)
		return r->name;
	return o->url.data;
}

/* ctl_stats_print - the rows, with the global counters in JSON; 0 or -1 */
static int
ctl_stats_print(struct store *s, enum stats_by by,
    const struct report_row *r, size_t nr, enum fmt fmt)
{
	struct store_counts	 n;
	struct ctl_stats_out	 so = { s, by, BUF_INIT };
	json_t			*o, *rows, *row;
	size_t			 k;
	int			 rc;

	if (store_counts(s, &n) == -1) {
		fprintf(stderr, "mtrackctl: cannot read the counters\n");
		return -1;
	}
	if (fmt == FMT_CSV)
		report_csv(stdout, r, nr, ctl_stats_url, &so);
	else if (fmt == FMT_TABLE)
		report_table(stdout, stats_by_names[by], r, nr);
	if (fmt != FMT_JSON) {
		buf_free(&so.url);
		return 0;
	}
	if ((rows = json_array()) == NULL)
		return -1;
	for (k = 0; k < nr; k++) {
		row = report_json(&r[k]);
		if (row && (by == STATS_BY_LINK || by == STATS_BY_URL))
			json_object_set_new(row, "name",
			    json_string(ctl_stats_url(&r[k], &so)));
		json_array_append_new(rows, row);
	}
	buf_free(&so.url);
	o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}",
	    "messages", (json_int_t)n.messages,
	    "links", (json_int_t)n.links,
	    "opens", (json_int_t)n.opens,
	    "clicks", (json_int_t)n.clicks,
	    "by", stats_by_names[by],
	    "rows", rows);
	rc = o == NULL || json_dumpf(o, stdout, JSON_INDENT(2)) == -1 ? -1 : 0;
	if (rc == 0)
		putchar('\n');
	json_decref(o);
	return rc;
}

int
ctl_stats(struct ctl *c, int argc, char **argv)
{
	struct stats_query	 q;
	struct store		*s;
	struct report_row	*rows = NULL;
	size_t			 nrows = 0;
	enum fmt		 fmt;
	int			 rc = 1;

	stats_query_init(&q);
	if (ctl_stats_args(argc, argv, &q, &fmt) != 0)
		return 2;
	if ((s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	switch (stats_run(s, &q, &rows, &nrows)) {
	case 0:
		if (ctl_stats_print(s, q.by, rows, nrows, fmt) == 0)
			rc = fflush(stdout) == 0 ? 0 : 1;
		break;
	case 1:
		fprintf(stderr, "mtrackctl: no message %s\n", q.message);
		break;
	default:
		fprintf(stderr, "mtrackctl: cannot read the store\n");
		break;
	}
	free(rows);
	store_close(s);
	return rc;
}
