/*
 * export - "mtrackctl export": events as JSON lines (or CSV), in time
 * order, for log shippers and warehouses. Each line is the stored event
 * with its key, an RFC 3339 form of its time and its message's Message-ID
 * and campaign added; filters by time, campaign, sending domain, type and
 * class.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "esc.h"
#include "query.h"
#include "report.h"
#include "verdict.h"

struct ex {
	struct store	*s;
	char		 last[17];	/* message cache: one entry */
	json_t		*msg;
	uint64_t	 n;
	const char	*campaign, *domain, *type, *cls;	/* filters */
	int		 rfc3339;	/* "time" as text, "time_us" the number */
	int		 csv;
};

/* the CSV columns, in order: fields of the exported object */
static const char *const ex_cols[] = { "time", "time_us", "type", "class",
    "reason", "message_id", "campaign", "domain", "msg", "link", "ip", "ua",
    "method", "host", "key", NULL };

static void
usage(void)
{
	fprintf(stderr, "usage: mtrackctl export [--since T] [--until T]"
	    " [--campaign C] [--domain D] [--type click|open] [--class CLASS]"
	    " [--time us|rfc3339] [--csv]\n");
}

/* ex_date - a time in us as RFC 3339 with microseconds, UTC, into out[48] */
static void
ex_date(int64_t us, char out[48])
{
	time_t		tt = (time_t)(us / 1000000);
	struct tm	tm;
	char		s[24];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 48, "%s.%06dZ", s, (int)(us % 1000000));
}

/* ex_message - the record of message msg16 (a one-entry cache), or NULL */
static json_t *
ex_message(struct ex *x, const char *msg16)
{
	struct buf b = BUF_INIT;

	if (strcmp(msg16, x->last) == 0)
		return x->msg;
	json_decref(x->msg);
	x->msg = query_get(x->s, DB_MESSAGES, msg16, &b) == 0 ?
	    json_loadb(b.data, b.len, 0, NULL) : NULL;
	snprintf(x->last, sizeof(x->last), "%s", msg16);
	buf_free(&b);
	return x->msg;
}

/* ex_str - a string field of o, or "" */
static const char *
ex_str(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "";
}

/* ex_csv_cell - one CSV cell (RFC 4180; formula cells neutralised) */
static void
ex_csv_cell(json_t *v)
{
	char		 num[32];
	const char	*s = num;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else
		num[0] = '\0';
	esc_csv(stdout, s);
}

static int
export_one(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct ex	*x = arg;
	json_t		*o, *v, *m = NULL;
	json_int_t	 t = 0;
	const char	*msg;
	char		*line, date[48];
	size_t		 i;

	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	if ((x->type && strcmp(ex_str(o, "type"), x->type) != 0) ||
	    (x->cls && strcmp(ex_str(o, "class"), x->cls) != 0))
		goto skip;
	json_object_set_new(o, "key", json_stringn(key, klen));
	if ((msg = json_string_value(json_object_get(o, "msg"))) != NULL)
		m = ex_message(x, msg);
	if ((x->campaign && strcmp(ex_str(m, "campaign"), x->campaign) != 0) ||
	    (x->domain && strcmp(ex_str(m, "domain"), x->domain) != 0))
		goto skip;
	if (m) {
		if ((v = json_object_get(m, "message_id")))
			json_object_set(o, "message_id", v);
		if ((v = json_object_get(m, "campaign")))
			json_object_set(o, "campaign", v);
		if ((v = json_object_get(m, "domain")))
			json_object_set(o, "domain", v);
	}
	json_unpack(o, "{s?I}", "time", &t);
	ex_date(t, date);
	if (x->rfc3339 || x->csv) {
		json_object_set_new(o, "time", json_string(date));
		json_object_set_new(o, "time_us", json_integer(t));
	} else
		json_object_set_new(o, "date", json_string(date));
	if (x->csv) {
		for (i = 0; ex_cols[i]; i++) {
			if (i)
				putchar(',');
			ex_csv_cell(json_object_get(o, ex_cols[i]));
		}
		fputs("\r\n", stdout);
	} else {
		if ((line = json_dumps(o, JSON_COMPACT)) == NULL) {
			json_decref(o);
			return -1;
		}
		if (puts(line) == EOF) {
			free(line);
			json_decref(o);
			return -1;
		}
		free(line);
	}
	x->n++;
skip:
	json_decref(o);
	return 0;
}

/* ex_args - the options into x and the window; 0, or 2 after a message */
static int
ex_args(struct ex *x, int argc, char **argv, int64_t *since, int64_t *until)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "campaign", required_argument, NULL, 'C' },
		{ "domain", required_argument, NULL, 'D' },
		{ "type", required_argument, NULL, 'T' },
		{ "class", required_argument, NULL, 'K' },
		{ "time", required_argument, NULL, 't' },
		{ "csv", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, idx;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (ch) {
		case 's':
		case 'u':
			if (report_time(optarg, ch == 's' ? since : until) == -1) {
				fprintf(stderr, "mtrackctl: export --%s: \"%s\" is "
				    "no time\n" CTL_TIME_HELP,
				    longopts[idx].name, optarg);
				return 2;
			}
			break;
		case 'C': x->campaign = optarg; break;
		case 'D': x->domain = optarg; break;
		case 'T':
			if (strcmp(optarg, "click") && strcmp(optarg, "open")) {
				fprintf(stderr, "mtrackctl: export --type: \"%s\": "
				    "want click or open\n", optarg);
				return 2;
			}
			x->type = optarg;
			break;
		case 'K':
			if (verdict_class_parse(optarg) < 0) {
				fprintf(stderr, "mtrackctl: export --class: \"%s\":"
				    " want human, proxy, prefetch, scanner or bot\n",
				    optarg);
				return 2;
			}
			x->cls = optarg;
			break;
		case 't':
			if (strcmp(optarg, "us") && strcmp(optarg, "rfc3339")) {
				fprintf(stderr, "mtrackctl: export --time: \"%s\": "
				    "want us or rfc3339\n", optarg);
				return 2;
			}
			x->rfc3339 = strcmp(optarg, "rfc3339") == 0;
			break;
		case 'v': x->csv = 1; break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mtrackctl: export: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage();
		return 2;
	}
	return 0;
}

int
ctl_export(struct ctl *c, int argc, char **argv)
{
	struct ex	x;
	int64_t		since = 0, until = INT64_MAX;
	size_t		i;
	int		rc = 1;

	memset(&x, 0, sizeof(x));
	if (ex_args(&x, argc, argv, &since, &until) != 0)
		return 2;
	if ((x.s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	if (x.csv) {
		for (i = 0; ex_cols[i]; i++)
			printf("%s%s", i ? "," : "", ex_cols[i]);
		fputs("\r\n", stdout);
	}
	if (query_events(x.s, since, until, 0, export_one, &x) == 0 &&
	    fflush(stdout) == 0)
		rc = 0;
	json_decref(x.msg);
	store_close(x.s);
	return rc;
}
