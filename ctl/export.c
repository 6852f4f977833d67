/*
 * export - "mtrackctl export --since TIME": events as JSON lines, in time
 * order, for log shippers and warehouses. Each line is the stored event
 * with its key and its message's Message-ID and campaign added.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "query.h"
#include "record.h"
#include "report.h"

struct ex {
	struct store		*s;
	struct record_cache	 cache;
	struct buf		 line;
	uint64_t		 n;
};

static int
export_one(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct ex *x = arg;

	buf_reset(&x->line);
	/* a record that is not JSON is left out, as before */
	if (record_event(x->s, &x->cache, key, klen, val, vlen,
	    &x->line) == -1)
		return 0;
	if (puts(x->line.data) == EOF)
		return -1;
	x->n++;
	return 0;
}

int
ctl_export(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct ex	x;
	int64_t		since = 0, until = INT64_MAX;
	int		ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((ch != 's' && ch != 'u') || report_time(optarg, ch == 's' ?
		    &since : &until) == -1) {
			fprintf(stderr, "usage: mtrackctl export [--since TIME]"
			    " [--until TIME]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: mtrackctl export [--since TIME]"
		    " [--until TIME]\n");
		return 2;
	}
	memset(&x, 0, sizeof(x));
	if ((x.s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	if (query_events(x.s, since, until, 0, export_one, &x) == 0 &&
	    fflush(stdout) == 0)
		rc = 0;
	record_cache_free(&x.cache);
	buf_free(&x.line);
	store_close(x.s);
	return rc;
}
