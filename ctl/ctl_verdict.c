/*
 * ctl_verdict - "mtrackctl verdict check IP [UA]": the class and reason a
 * request would get from the tracker with this configuration, for an
 * operator asking why a click or open was counted as a machine.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "verdict.h"

static void
verdict_usage(FILE *fp)
{
	fprintf(fp, "usage: mtrackctl verdict check IP [USER-AGENT] [--open] "
	    "[--head] [--no-accept] [--purpose VALUE] [--json]\n"
	    "  IP           the client address the tracker would see\n"
	    "  USER-AGENT   the User-Agent header (none when left out)\n"
	    "  --open       an open (pixel) instead of a click\n"
	    "  --head       a HEAD request instead of GET\n"
	    "  --no-accept  neither Accept nor Accept-Language was sent\n"
	    "  --purpose V  a Purpose or Sec-Purpose header with value V\n"
	    "The timing rules (too-fast, burst, honeypot) depend on what came\n"
	    "before and are not applied here.\n");
}

int
ctl_verdict(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "open", no_argument, NULL, 'o' },
		{ "head", no_argument, NULL, 'H' },
		{ "no-accept", no_argument, NULL, 'a' },
		{ "purpose", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct verdict_nets	 nets = { NULL, 0 };
	struct verdict_opts	 vo;
	struct verdict_in	 in;
	struct verdict		 v;
	struct net		 probe;
	char			 err[512];
	int			 ch, json = 0;

	memset(&in, 0, sizeof(in));
	in.click = 1;
	in.method = "GET";
	in.headers_known = 1;
	in.accept = "*/*";
	in.accept_language = "en";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': in.click = 0; break;
		case 'H': in.method = "HEAD"; break;
		case 'a': in.accept = in.accept_language = NULL; break;
		case 'p': in.purpose = optarg; break;
		case 'j': json = 1; break;
		case 'h': verdict_usage(stdout); return 0;
		default: verdict_usage(stderr); return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3 ||
	    strcmp(argv[optind], "check") != 0) {
		verdict_usage(stderr);
		return 2;
	}
	in.ip = argv[optind + 1];
	if (net_parse(&probe, in.ip) == -1 || strchr(in.ip, '/') != NULL) {
		fprintf(stderr, "mtrackctl: verdict check: \"%s\" is not an IP "
		    "address\n", in.ip);
		return 2;
	}
	in.ua = argc - optind == 3 ? argv[optind + 2] : NULL;
	if (verdict_nets_config(&nets, c->cfg.verdict_networks, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mtrackctl: verdict_networks: %s\n", err);
		verdict_nets_free(&nets);
		return 1;
	}
	memset(&vo, 0, sizeof(vo));
	verdict_decide(&nets, &vo, &in, &v);
	if (json)
		printf("{\"class\":\"%s\",\"reason\":\"%s\"}\n",
		    verdict_class_name(v.cls), v.reason);
	else
		printf("%s %s\n", verdict_class_name(v.cls), v.reason);
	verdict_nets_free(&nets);
	return 0;
}
