/*
 * show - "mtrackctl show MESSAGE-ID": a message, its links with their
 * URLs and numbers, and its events.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "query.h"
#include "report.h"
#include "stats.h"

static int
collect_event(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	json_t *o = json_loadb(val, vlen, 0, NULL);

	if (o == NULL)
		return 0;
	json_object_set_new(o, "key", json_stringn(key, klen));
	return json_array_append_new(arg, o) == 0 ? 0 : -1;
}

int
ctl_show(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct store		*s = NULL;
	struct buf		 b = BUF_INIT;
	struct report_row	 mrow, *lrows = NULL;
	json_t			*msg = NULL, *links, *events = NULL, *x, *out = NULL;
	json_t			*jl;
	const char		*seq16;
	char			 key[17], when[21];
	const char		*mid;
	uint64_t		 mseq;
	size_t			 i, nl = 0;
	int			 ch, json = 0, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j') {
			fprintf(stderr, "usage: mtrackctl show MESSAGE-ID [--json]\n");
			return 2;
		}
		json = 1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: mtrackctl show MESSAGE-ID [--json]\n");
		return 2;
	}
	if ((s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	if (stats_msgseq(s, argv[optind], &mseq) != 0) {
		ctl_eprint("mtrackctl: no message ", argv[optind]);
		goto out;
	}
	db_hex16(key, mseq);
	if (query_get(s, DB_MESSAGES, key, &b) != 0 ||
	    (msg = json_loadb(b.data, b.len, 0, NULL)) == NULL) {
		fprintf(stderr, "mtrackctl: message record %s is missing\n", key);
		goto out;
	}
	memset(&mrow, 0, sizeof(mrow));
	mid = json_string_value(json_object_get(msg, "message_id"));
	snprintf(mrow.name, sizeof(mrow.name), "%s", mid ? mid : argv[optind]);
	db_scope_seq(mrow.scope, 'm', strtoull(key, NULL, 16));
	mrow.sent = 1;
	if (report_from_counters(s, &mrow) == -1)
		goto out;
	links = json_object_get(msg, "link_seqs");
	if ((lrows = calloc(json_array_size(links) + 1, sizeof(*lrows))) == NULL ||
	    (jl = json_array()) == NULL)
		goto out;
	json_array_foreach(links, i, x) {
		if ((seq16 = json_string_value(x)) == NULL)
			continue;
		buf_reset(&b);
		if (store_get_link(s, strtoull(seq16, NULL, 16), &b, NULL) != 0 ||
		    b.data == NULL)
			continue;
		snprintf(lrows[nl].name, sizeof(lrows[nl].name), "%s", b.data);
		db_scope_seq(lrows[nl].scope, 'l', strtoull(seq16, NULL, 16));
		report_from_counters(s, &lrows[nl]);
		json_array_append_new(jl, report_json(&lrows[nl]));
		nl++;
	}
	if ((events = json_array()) == NULL ||
	    query_events(s, 0, INT64_MAX, strtoull(key, NULL, 16),
	    collect_event, events) == -1)
		goto out;
	if (json) {
		out = json_pack("{s:O, s:o, s:o, s:O}", "message", msg,
		    "stats", report_json(&mrow), "links", jl, "events", events);
		if (out == NULL || json_dumpf(out, stdout, JSON_INDENT(2)) == -1)
			goto out;
		putchar('\n');
	} else {
		json_int_t t = 0;

		json_unpack(msg, "{s?I}", "time", &t);
		report_iso(t, when);
		mid = json_string_value(json_object_get(msg, "message_id"));
		ctl_tprint("message   ", mid ? mid : argv[optind], "\n");
		printf("sent      %s\n", when);
		ctl_tprint("from      ", json_string_value(json_object_get(msg,
		    "from")), "\n");
		ctl_tprint("campaign  ", json_string_value(json_object_get(msg,
		    "campaign")), "\n");
		printf("links     %zu\n\n", nl);
		report_table(stdout, "message", &mrow, 1);
		putchar('\n');
		report_table(stdout, "link", lrows, nl);
		printf("\n%-20s %-5s %-8s %-16s %-39s %s\n", "TIME", "TYPE",
		    "CLASS", "REASON", "IP", "USER-AGENT");
		json_array_foreach(events, i, x) {
			const char *type = "", *cls = "", *reason = "", *ip = "",
			    *ua = "";

			t = 0;
			json_unpack(x, "{s?I, s?s, s?s, s?s, s?s, s?s}", "time",
			    &t, "type", &type, "class", &cls, "reason", &reason,
			    "ip", &ip, "ua", &ua);
			report_iso(t, when);
			printf("%-20s %-5s %-8s %-16s %-39s ", when, type, cls,
			    reason, ip ? ip : "-");
			ctl_tprint("", ua ? ua : "-", "\n");
		}
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	json_decref(out);
	json_decref(msg);
	json_decref(events);
	free(lrows);
	buf_free(&b);
	store_close(s);
	return rc;
}
