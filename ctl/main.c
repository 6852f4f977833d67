/*
 * mtrackctl - preview a rewrite, read the numbers, manage the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "esc.h"
#include "log.h"
#include "mime.h"

static const struct {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*help;		/* the usage line */
	const char	*detail;	/* what it does, its options */
} ctl_cmds[] = {
	{ "rewrite", ctl_rewrite,
	  "rewrite [--from ADDR] [--to ADDR]... [--dry-run] [--quiet] < in.eml > out.eml",
	  "The milter's transform of one message, written to standard output.\n"
	  "  --from ADDR  the envelope sender (the outbound policy sees it)\n"
	  "  --to ADDR    an envelope recipient (repeat for several)\n"
	  "  --dry-run    record nothing: the preview's links are not in the store\n"
	  "               and answer 404 at the tracker\n"
	  "  --quiet      no summary line on standard error\n"
	  "Without --dry-run the message and its links are recorded exactly as\n"
	  "the milter records them (and count as sent).\n" },
	{ "stats", ctl_stats,
	  "stats [--by total|message|link|url|campaign|domain|day|hour]"
	  " [--since T] [--until T] [--campaign C] [--domain D] [--message ID]"
	  " [--json|--csv]",
	  "Numbers per grouping: sent, opens and clicks (total, unique, people,\n"
	  "machines by class), click-to-open rate.\n"
	  "  --by url     the same URL across messages added up (with --campaign:\n"
	  "               which link of a campaign worked)\n"
	  "  --csv        CSV (RFC 4180); cells that start with = + - @ get a\n"
	  "               leading ' so spreadsheets do not run them as formulas\n"
	  CTL_TIME_HELP },
	{ "report", ctl_report,
	  "report [--campaign C | --domain D | --message ID] [--since T] [--until T] --html",
	  "One self-contained HTML page with charts, on standard output.\n"
	  CTL_TIME_HELP },
	{ "show", ctl_show, "show MESSAGE-ID [--json]",
	  "One message: its record, links and events. The Message-ID may be\n"
	  "given with or without its angle brackets.\n" },
	{ "export", ctl_export,
	  "export [--since T] [--until T] [--campaign C] [--domain D]"
	  " [--type click|open] [--class CLASS] [--time us|rfc3339] [--csv]",
	  "Events in time order, as JSON lines (or CSV), each with its message's\n"
	  "Message-ID and campaign. \"time\" is microseconds since the epoch and\n"
	  "\"date\" the same time in RFC 3339 (UTC); --time rfc3339 puts the RFC\n"
	  "3339 form in \"time\" (microseconds kept in \"time_us\").\n"
	  "  --class CLASS  human, proxy, prefetch, scanner or bot\n"
	  CTL_TIME_HELP },
	{ "prune", ctl_prune, "prune --older-than AGE [--dry-run] [--yes]",
	  "Delete messages sent before AGE ago, their links and events (campaign,\n"
	  "domain and day counters keep their history).\n"
	  "  AGE        N days (7, 0.5), or Nd / Nh / Nm, or a date\n"
	  "             (YYYY-MM-DD[THH:MM[:SS]], @EPOCH): before that time\n"
	  "  --dry-run  say what would go, delete nothing\n"
	  "  --yes      do it even when it removes every message (otherwise\n"
	  "             asked on a terminal, refused elsewhere)\n" },
	{ "verdict", ctl_verdict,
	  "verdict check IP [USER-AGENT] [--open] [--head] [--no-accept] [--purpose V] [--json]",
	  "The class and reason a request of that shape would get from the\n"
	  "tracker with this configuration's networks and rules (the timing\n"
	  "rules, which depend on earlier hits, aside).\n" },
	{ "domain", ctl_domain,
	  "domain add DOMAIN | check DOMAIN [--resolver IP[:PORT]] [--json] | list",
	  "Tracking domains: add one to the store, check its DNS, TLS and\n"
	  "HTTP answers, list them.\n" },
	{ "collect", ctl_collect, "collect",
	  "Until SIGTERM: read every node's messages and events from the NATS\n"
	  "stream (stream_url) into this store, each exactly once (docs/scale.md).\n" },
	{ "keygen", ctl_keygen, "keygen ID",
	  "Print a new line for the link_keys file: ID (1-255) and 64 hex digits\n"
	  "of a fresh random key. Append it: the last line seals, all open.\n" },
	{ "webhook", ctl_webhook,
	  "webhook list | test URL | replay --since TIME [--endpoint URL]",
	  "Webhook endpoints: their delivered, pending and failed counts and last\n"
	  "error; a signed sample event and the answer; events queued again\n"
	  "(docs/webhooks.md).\n" },
	{ "help", NULL, "help [COMMAND]", "This text, or one command's.\n" },
};
#define NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: mtrackctl [-c FILE] [-n] COMMAND [-c FILE] [options]\n"
	    "  -c FILE    configuration file (default: $MTRACK_CONF, else "
	    CONFIG_DEFAULT_PATH " when it exists, else built-in defaults)\n"
	    "  -n         check the configuration, print it, and exit\n"
	    "  --version  print the version and exit\n"
	    "commands (mtrackctl COMMAND --help for one):\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  mtrackctl %s\n", ctl_cmds[i].help);
}

/* cmd_find - the index of a command name, or NCMDS */
static size_t
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(name, ctl_cmds[i].name) == 0)
			break;
	return i;
}

/* cmd_help - one command's usage and options, on standard output */
static int
cmd_help(size_t i)
{
	printf("usage: mtrackctl %s\n%s", ctl_cmds[i].help, ctl_cmds[i].detail);
	return 0;
}

/* wants_help - --help or -h among a command's arguments */
static int
wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

/* ctl_tty - s (NULL: "-") made safe for a terminal, on fp */
static void
ctl_tty(FILE *fp, const char *s)
{
	struct buf b = BUF_INIT;

	if (s == NULL)
		s = "-";
	if (esc_tty(&b, s, strlen(s)) == 0 && b.len)
		fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}

void
ctl_tprint(const char *prefix, const char *s, const char *suffix)
{
	fputs(prefix, stdout);
	ctl_tty(stdout, s);
	fputs(suffix, stdout);
}

void
ctl_eprint(const char *prefix, const char *s)
{
	fputs(prefix, stderr);
	ctl_tty(stderr, s);
	fputc('\n', stderr);
}

struct store *
ctl_store(struct ctl *c, int flags)
{
	struct store_opts	 o;
	struct store		*s;
	char			 err[512];

	store_opts_config(&o, &c->cfg);
	if ((s = store_open(c->cfg.db_path, &o, flags |
	    store_flags_config(&c->cfg), err, sizeof(err))) == NULL)
		fprintf(stderr, "mtrackctl: store %s: %s\n", c->cfg.db_path, err);
	return s;
}

/* take "-c FILE" wherever it stands: before or after the command */
static int
find_conf(int argc, char **argv, const char **path, int *check)
{
	int i, j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i == 1) {
			*check = 1;
		} else if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return -1;
			*path = argv[i + 1];
		} else
			continue;
		/* remove the option from argv */
		int drop = argv[i][1] == 'n' ? 1 : 2;
		for (j = i; j + drop <= argc; j++)
			argv[j] = argv[j + drop];
		argc -= drop;
		i--;
	}
	return argc;
}

int
main(int argc, char **argv)
{
	struct ctl	 c;
	char		 err[512];
	int		 check = 0, rc;
	size_t		 i;

	memset(&c, 0, sizeof(c));
	if ((argc = find_conf(argc, argv, &c.conf_path, &check)) < 0) {
		usage(stderr);
		return 2;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
		printf("mtrackctl %s\n", MTRACK_VERSION);
		return 0;
	}
	c.conf_path = config_path(c.conf_path);
	if (config_load(&c.cfg, c.conf_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "mtrackctl: %s\n", err);
		return 2;
	}
	log_open("mtrackctl", 0, (enum log_level)c.cfg.log_level);
	if (check) {
		config_dump(&c.cfg, stdout);
		config_free(&c.cfg);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		config_free(&c.cfg);
		return 2;
	}
	if ((i = cmd_find(argv[1])) == NCMDS) {
		fprintf(stderr, "mtrackctl: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		config_free(&c.cfg);
		return 2;
	}
	if (ctl_cmds[i].fn == NULL || wants_help(argc - 1, argv + 1)) {
		config_free(&c.cfg);
		if (ctl_cmds[i].fn != NULL)
			return cmd_help(i);
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)
			return cmd_help(i);
		if ((i = cmd_find(argv[2])) == NCMDS) {
			fprintf(stderr, "mtrackctl: help: unknown command \"%s\"\n",
			    argv[2]);
			return 2;
		}
		return cmd_help(i);
	}
	mime_init();
	rc = ctl_cmds[i].fn(&c, argc - 1, argv + 1);
	config_free(&c.cfg);
	return rc;
}
