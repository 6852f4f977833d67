/*
 * report - "mtrackctl report --html": the numbers of stats as one
 * self-contained HTML page on stdout (htmlreport.h), the page the
 * tracker serves at /report on its admin listener.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "htmlreport.h"
#include "stats.h"

static void
usage(void)
{
	fprintf(stderr, "usage: mtrackctl report [--campaign NAME | --domain"
	    " DOMAIN | --message MESSAGE-ID]\n"
	    "        [--since TIME] [--until TIME] --html > report.html\n"
	    CTL_TIME_HELP);
}

int
ctl_report(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "html", no_argument, NULL, 'h' },
		CTL_FILTER_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	struct stats_query	 q;
	struct htmlreport	 r;
	struct store		*s;
	struct buf		 b = BUF_INIT;
	char			 err[256];
	int			 ch, idx, html = 0, rc = 1;

	stats_query_init(&q);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		if (ch == 'h') {
			html = 1;
			continue;
		}
		if (ch == '?') {
			usage();
			return 2;
		}
		if (stats_filter(&q, longopts[idx].name, optarg, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "mtrackctl: %s\n", err);
			return 2;
		}
	}
	if (optind != argc || !html) {
		usage();
		return 2;
	}
	if ((s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	switch (htmlreport_fill(&r, s, &q)) {
	case 0:
		break;
	case 1:
		fprintf(stderr, "mtrackctl: no message %s\n", q.message);
		goto out;
	default:
		fprintf(stderr, "mtrackctl: cannot read the store\n");
		goto out;
	}
	if (htmlreport_write(&b, &r) == -1) {
		fprintf(stderr, "mtrackctl: out of memory\n");
		goto out;
	}
	if (fwrite(b.data, 1, b.len, stdout) == b.len && fflush(stdout) == 0)
		rc = 0;
out:
	htmlreport_free(&r);
	buf_free(&b);
	store_close(s);
	return rc;
}
