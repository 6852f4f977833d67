/*
 * ctl_prune - "mtrackctl prune --older-than AGE [--dry-run] [--yes]":
 * delete messages, links and events past retention, or say what would go.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "ctl.h"
#include "prune.h"
#include "report.h"

#define PRUNE_DAYS_MAX	36500.0		/* a hundred years */

/*
 * ctl_prune_age - AGE as a time: N days (a decimal number), the forms of
 * --since (Nd, Nh, Nm ago, a date, @EPOCH). 0, or -1 with the reason.
 */
static int
ctl_prune_age(const char *arg, int64_t *before_us, char *err, size_t errlen)
{
	char	*end;
	double	 days;

	days = strtod(arg, &end);
	if (end != arg && *end == '\0') {
		if (!isfinite(days) || days < 0 || days > PRUNE_DAYS_MAX) {
			snprintf(err, errlen, "--older-than: \"%s\": days must be "
			    "a number from 0 to %.0f", arg, PRUNE_DAYS_MAX);
			return -1;
		}
		*before_us = (int64_t)time(NULL) * 1000000 -
		    (int64_t)(days * 86400e6);
		return 0;
	}
	if (arg[0] == '-' || report_time(arg, before_us) == -1) {
		snprintf(err, errlen, "--older-than: \"%s\" is no age: want N "
		    "days, Nd, Nh, Nm, YYYY-MM-DD[THH:MM[:SS]] or @EPOCH", arg);
		return -1;
	}
	return 0;
}

/* ctl_prune_nmessages - the message records in the store; 0 or -1 */
static int
ctl_prune_nmessages(struct store *s, uint64_t *n)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	int		 rc;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	rc = mdb_stat(txn, store_dbi(s, DB_MESSAGES), &st);
	store_read_end(s, txn);
	*n = st.ms_entries;
	return rc == 0 ? 0 : -1;
}

/* ctl_prune_confirm - may it remove every message? 1 yes, 0 no */
static int
ctl_prune_confirm(uint64_t n)
{
	char line[16];

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "mtrackctl: prune would remove every message "
		    "(%" PRIu64 "): refused without --yes\n", n);
		return 0;
	}
	fprintf(stderr, "mtrackctl: prune removes every message (%" PRIu64
	    "), its links and events. Type yes to go on: ", n);
	if (fgets(line, sizeof(line), stdin) == NULL ||
	    strcmp(line, "yes\n") != 0) {
		fprintf(stderr, "mtrackctl: nothing pruned\n");
		return 0;
	}
	return 1;
}

int
ctl_prune(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 }
	};
	struct prune_counts	 n;
	struct store		*s;
	char			 err[256];
	int64_t			 before = 0;
	uint64_t		 total;
	int			 ch, rc, dry = 0, yes = 0, have = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			if (ctl_prune_age(optarg, &before, err, sizeof(err))) {
				fprintf(stderr, "mtrackctl: prune %s\n", err);
				return 2;
			}
			have = 1;
			break;
		case 'n': dry = 1; break;
		case 'y': yes = 1; break;
		default:
			fprintf(stderr, "usage: mtrackctl prune --older-than AGE"
			    " [--dry-run] [--yes]\n");
			return 2;
		}
	}
	if (!have || optind != argc) {
		fprintf(stderr, "mtrackctl: prune: %s\nusage: mtrackctl prune "
		    "--older-than AGE [--dry-run] [--yes]\n", !have ?
		    "--older-than AGE is required" : "unexpected argument");
		return 2;
	}
	if ((s = ctl_store(c, 0)) == NULL)
		return 1;
	rc = 0;
	if (dry || !yes) {
		if ((rc = prune_count(s, before, &n)) == 0 && !dry &&
		    (rc = ctl_prune_nmessages(s, &total)) == 0 &&
		    n.messages == total && total > 0 && !ctl_prune_confirm(total)) {
			store_close(s);
			return 2;
		}
	}
	if (rc == 0 && !dry)
		rc = prune_before(s, before, &n);
	store_close(s);
	if (rc == -1) {
		fprintf(stderr, "mtrackctl: prune failed\n");
		return 1;
	}
	printf("%s messages=%" PRIu64 " links=%" PRIu64 " events=%" PRIu64
	    " counters=%" PRIu64 "\n", dry ? "would prune" : "pruned",
	    n.messages, n.links, n.events, n.counters);
	return 0;
}
