/*
 * stats - "mtrackctl stats": the counters, as a table or JSON.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"

int
ctl_stats(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct store_counts	 n;
	struct store		*st;
	json_t			*o;
	int			 ch, json = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (ch != 'j') {
			fprintf(stderr, "usage: mtrackctl stats [--json]\n");
			return 2;
		}
		json = 1;
	}
	if ((st = ctl_store(c, 0)) == NULL)
		return 1;
	if (store_counts(st, &n) == -1) {
		fprintf(stderr, "mtrackctl: cannot read the counters\n");
		goto out;
	}
	if (json) {
		o = json_pack("{s:I, s:I, s:I, s:I}",
		    "messages", (json_int_t)n.messages,
		    "links", (json_int_t)n.links,
		    "opens", (json_int_t)n.opens,
		    "clicks", (json_int_t)n.clicks);
		if (o == NULL || json_dumpf(o, stdout, JSON_INDENT(2)) == -1) {
			json_decref(o);
			goto out;
		}
		json_decref(o);
		putchar('\n');
	} else {
		printf("%-10s %12" PRIu64 "\n", "messages", n.messages);
		printf("%-10s %12" PRIu64 "\n", "links", n.links);
		printf("%-10s %12" PRIu64 "\n", "opens", n.opens);
		printf("%-10s %12" PRIu64 "\n", "clicks", n.clicks);
	}
	rc = 0;
out:
	store_close(st);
	return rc;
}
