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

#include <jansson.h>

#include "ctl.h"
#include "query.h"
#include "report.h"

struct ex {
	struct store	*s;
	char		 last[17];	/* message cache: one entry */
	json_t		*msg;
	uint64_t	 n;
};

static int
export_one(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct ex	*x = arg;
	json_t		*o, *v;
	const char	*msg;
	char		*line;

	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	json_object_set_new(o, "key", json_stringn(key, klen));
	if ((msg = json_string_value(json_object_get(o, "msg"))) != NULL) {
		if (strcmp(msg, x->last) != 0) {
			struct buf b = BUF_INIT;

			json_decref(x->msg);
			x->msg = query_get(x->s, DB_MESSAGES, msg, &b) == 0 ?
			    json_loadb(b.data, b.len, 0, NULL) : NULL;
			snprintf(x->last, sizeof(x->last), "%s", msg);
			buf_free(&b);
		}
		if (x->msg) {
			if ((v = json_object_get(x->msg, "message_id")))
				json_object_set(o, "message_id", v);
			if ((v = json_object_get(x->msg, "campaign")))
				json_object_set(o, "campaign", v);
		}
	}
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line == NULL)
		return -1;
	if (puts(line) == EOF) {
		free(line);
		return -1;
	}
	free(line);
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
	json_decref(x.msg);
	store_close(x.s);
	return rc;
}
