/*
 * ctl_prune - "mtrackctl prune --older-than DAYS": delete messages, links and
 * events past retention.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "prune.h"

int
ctl_prune(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct prune_counts	 n;
	struct store		*s;
	char			*end;
	double			 days = -1;
	int			 ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'o' || (days = strtod(optarg, &end)) < 0 || *end ||
		    end == optarg) {
			days = -1;
			break;
		}
	}
	if (days < 0 || optind != argc) {
		fprintf(stderr, "usage: mtrackctl prune --older-than DAYS\n");
		return 2;
	}
	if ((s = ctl_store(c, 0)) == NULL)
		return 1;
	rc = prune_before(s, (int64_t)time(NULL) * 1000000 -
	    (int64_t)(days * 86400e6), &n);
	store_close(s);
	if (rc == -1) {
		fprintf(stderr, "mtrackctl: prune failed\n");
		return 1;
	}
	printf("pruned messages=%" PRIu64 " links=%" PRIu64 " events=%" PRIu64
	    " counters=%" PRIu64 "\n", n.messages, n.links, n.events, n.counters);
	return 0;
}
