/*
 * mtrackctl - preview a rewrite, read the numbers, manage the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "mime.h"

static const struct {
	const char	*name;
	int		(*fn)(struct ctl *, int, char **);
	const char	*help;
} ctl_cmds[] = {
	{ "rewrite", ctl_rewrite, "rewrite [--from ADDR] [--to ADDR]... < in.eml > out.eml" },
	{ "stats", ctl_stats, "stats [--by total|message|link|campaign|domain|day]"
	    " [--since T] [--until T] [--campaign C] [--domain D] [--message ID]"
	    " [--json|--csv]" },
	{ "show", ctl_show, "show MESSAGE-ID [--json]" },
	{ "export", ctl_export, "export [--since TIME] [--until TIME]" },
	{ "prune", ctl_prune, "prune --older-than DAYS" },
	{ "verdict", ctl_verdict, "verdict check IP [USER-AGENT] [--open] [--head] [--no-accept] [--purpose V] [--json]" },
	{ "domain", ctl_domain, "domain add DOMAIN | check DOMAIN [--resolver IP[:PORT]] [--json] | list" },
};
#define NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: mtrackctl [-c FILE] [-n] COMMAND [-c FILE] [options]\n"
	    "  -c FILE  configuration file (default: built-in defaults)\n"
	    "  -n       check the configuration, print it, and exit\n"
	    "commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  mtrackctl %s\n", ctl_cmds[i].help);
}

struct store *
ctl_store(struct ctl *c, int flags)
{
	struct store_opts	 o;
	struct store		*s;
	char			 err[512];

	store_opts_config(&o, &c->cfg);
	if ((s = store_open(c->cfg.db_path, &o, flags, err, sizeof(err))) == NULL)
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
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			break;
	if (i == NCMDS) {
		fprintf(stderr, "mtrackctl: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		config_free(&c.cfg);
		return 2;
	}
	mime_init();
	rc = ctl_cmds[i].fn(&c, argc - 1, argv + 1);
	config_free(&c.cfg);
	return rc;
}
