/*
 * report - rows of numbers and their output (see report.h).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counter.h"
#include "esc.h"
#include "query.h"
#include "report.h"

void
report_fold(struct report_row *r, const char *metric, size_t mlen,
    uint64_t v)
{
	char	m[64];
	int	c;

	if (mlen >= sizeof(m))
		return;
	memcpy(m, metric, mlen);
	m[mlen] = '\0';
	if (!strcmp(m, "sent") || !strcmp(m, "messages"))
		r->sent += v;
	else if (!strcmp(m, "opens"))
		r->opens += v;
	else if (!strcmp(m, "clicks"))
		r->clicks += v;
	else if (!strcmp(m, "uopens"))
		r->uopens += v;
	else if (!strcmp(m, "uclicks"))
		r->uclicks += v;
	else if (!strcmp(m, "uopens.human"))
		r->uopens_h += v;
	else if (!strcmp(m, "uclicks.human"))
		r->uclicks_h += v;
	else if (!strcmp(m, "first")) {
		if (r->first == 0 || (int64_t)v < r->first)
			r->first = (int64_t)v;
	} else if (!strcmp(m, "last")) {
		if ((int64_t)v > r->last)
			r->last = (int64_t)v;
	} else if (!strncmp(m, "opens.", 6) &&
	    (c = verdict_class_parse(m + 6)) >= 0)
		r->ocls[c] += v;
	else if (!strncmp(m, "clicks.", 7) &&
	    (c = verdict_class_parse(m + 7)) >= 0)
		r->ccls[c] += v;
}

int
report_from_counters(struct store *s, struct report_row *r)
{
	struct buf	 b = BUF_INIT;
	int		 rc;

	rc = query_get(s, DB_COUNTERS, r->scope[0] ? r->scope : DB_SCOPE_ALL, &b);
	if (rc == 0)
		report_fold_record(r, b.data, b.len);
	buf_free(&b);
	return rc == -1 ? -1 : 0;
}

/* report_fold_record - every field of a counter record into a row */
void
report_fold_record(struct report_row *r, const char *val, size_t vlen)
{
	struct counter	c;
	size_t		i;

	counter_parse(&c, val, vlen);
	for (i = 0; i < c.n; i++)
		report_fold(r, c.f[i].name, strlen(c.f[i].name), c.f[i].v);
}

void
report_iso(int64_t us, char out[21])
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;

	out[0] = '\0';
	if (us <= 0)
		return;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t
machines(const uint64_t *cls)
{
	uint64_t	n = 0;
	int		i;

	for (i = 1; i < VERDICT_NCLASS; i++)
		n += cls[i];
	return n;
}

json_t *
report_json(const struct report_row *r)
{
	json_t	*o, *oc, *cc;
	char	 f[21], l[21];
	int	 i;

	report_iso(r->first, f);
	report_iso(r->last, l);
	oc = json_object();
	cc = json_object();
	for (i = 0; i < VERDICT_NCLASS; i++) {
		json_object_set_new(oc, verdict_class_name(i),
		    json_integer((json_int_t)r->ocls[i]));
		json_object_set_new(cc, verdict_class_name(i),
		    json_integer((json_int_t)r->ccls[i]));
	}
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:o, s:o, s:o, s:o, s:o}",
	    "name", r->name,
	    "sent", (json_int_t)r->sent,
	    "opens", (json_int_t)r->opens,
	    "unique_opens", (json_int_t)r->uopens,
	    "opens_human", (json_int_t)r->ocls[VERDICT_HUMAN],
	    "opens_machine", (json_int_t)machines(r->ocls),
	    "unique_opens_human", (json_int_t)r->uopens_h,
	    "clicks", (json_int_t)r->clicks,
	    "unique_clicks", (json_int_t)r->uclicks,
	    "clicks_human", (json_int_t)r->ccls[VERDICT_HUMAN],
	    "clicks_machine", (json_int_t)machines(r->ccls),
	    "unique_clicks_human", (json_int_t)r->uclicks_h,
	    "click_to_open", r->uopens ? json_real((double)r->uclicks /
	    (double)r->uopens) : json_null(),
	    "opens_by_class", oc,
	    "clicks_by_class", cc,
	    "first", f[0] ? json_string(f) : json_null(),
	    "last", l[0] ? json_string(l) : json_null());
	return o;
}

static void
ctor_text(const struct report_row *r, char *out, size_t n)
{
	if (r->uopens)
		snprintf(out, n, "%.1f%%", 100.0 * (double)r->uclicks /
		    (double)r->uopens);
	else
		snprintf(out, n, "-");
}

void
report_table(FILE *fp, const char *what, const struct report_row *rows,
    size_t n)
{
	size_t		i, w = strlen(what);
	char		ctor[16], f[21], l[21];
	struct buf	name = BUF_INIT;

	for (i = 0; i < n; i++) {
		buf_reset(&name);
		if (esc_tty(&name, rows[i].name, strlen(rows[i].name)) == 0 &&
		    name.len > w)
			w = name.len;
	}
	if (w > 60)
		w = 60;
	fprintf(fp, "%-*s %8s %8s %8s %8s %8s %8s %8s %8s %8s %7s  %-20s %-20s\n",
	    (int)w, what, "SENT", "OPENS", "U-OPENS", "HUMAN", "MACHINE",
	    "CLICKS", "U-CLICKS", "HUMAN", "MACHINE", "CTOR", "FIRST", "LAST");
	for (i = 0; i < n; i++) {
		const struct report_row *r = &rows[i];

		ctor_text(r, ctor, sizeof(ctor));
		report_iso(r->first, f);
		report_iso(r->last, l);
		/* names come from mail: no control byte reaches the terminal */
		buf_reset(&name);
		if (esc_tty(&name, r->name, strlen(r->name)) == -1 ||
		    buf_append(&name, "", 1) == -1)
			break;
		fprintf(fp, "%-*.*s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8"
		    PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
		    " %8" PRIu64 " %7s  %-20s %-20s\n", (int)w, (int)w, name.data,
		    r->sent, r->opens, r->uopens, r->ocls[VERDICT_HUMAN],
		    machines(r->ocls), r->clicks, r->uclicks,
		    r->ccls[VERDICT_HUMAN], machines(r->ccls), ctor,
		    f[0] ? f : "-", l[0] ? l : "-");
	}
	buf_free(&name);
}

void
report_csv(FILE *fp, const struct report_row *rows, size_t n,
    const char *(*name)(const struct report_row *, void *), void *arg)
{
	size_t	i;
	int	c;
	char	f[21], l[21], ctor[16];

	fputs("name,sent,opens,unique_opens,opens_human,opens_machine,"
	    "unique_opens_human,clicks,unique_clicks,clicks_human,"
	    "clicks_machine,unique_clicks_human,click_to_open", fp);
	/* the machine classes: people have their columns above */
	for (c = VERDICT_HUMAN + 1; c < VERDICT_NCLASS; c++)
		fprintf(fp, ",opens_%s", verdict_class_name(c));
	for (c = VERDICT_HUMAN + 1; c < VERDICT_NCLASS; c++)
		fprintf(fp, ",clicks_%s", verdict_class_name(c));
	fputs(",first,last\r\n", fp);
	for (i = 0; i < n; i++) {
		const struct report_row *r = &rows[i];

		esc_csv(fp, name ? name(r, arg) : r->name);
		if (r->uopens)
			snprintf(ctor, sizeof(ctor), "%.4f", (double)r->uclicks /
			    (double)r->uopens);
		else
			ctor[0] = '\0';
		fprintf(fp, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
		    PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%"
		    PRIu64 ",%" PRIu64 ",%s", r->sent, r->opens, r->uopens,
		    r->ocls[VERDICT_HUMAN], machines(r->ocls), r->uopens_h,
		    r->clicks, r->uclicks, r->ccls[VERDICT_HUMAN],
		    machines(r->ccls), r->uclicks_h, ctor);
		for (c = VERDICT_HUMAN + 1; c < VERDICT_NCLASS; c++)
			fprintf(fp, ",%" PRIu64, r->ocls[c]);
		for (c = VERDICT_HUMAN + 1; c < VERDICT_NCLASS; c++)
			fprintf(fp, ",%" PRIu64, r->ccls[c]);
		report_iso(r->first, f);
		report_iso(r->last, l);
		fprintf(fp, ",%s,%s\r\n", f, l);
	}
}

int
report_time(const char *s, int64_t *us)
{
	struct tm	 tm;
	const char	*e;
	char		*end;
	long long	 n;

	if (*s == '@') {
		n = strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end)
			return -1;
		*us = n * 1000000;
		return 0;
	}
	n = strtoll(s, &end, 10);
	if (end != s && end[0] && !end[1] && strchr("dhm", end[0])) {
		int64_t unit = end[0] == 'd' ? 86400 : end[0] == 'h' ? 3600 : 60;

		*us = ((int64_t)time(NULL) - n * unit) * 1000000;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*e == 'T' || *e == ' ') {
		const char *e2 = strptime(e + 1, "%H:%M:%S", &tm);

		if (e2 == NULL && (e2 = strptime(e + 1, "%H:%M", &tm)) == NULL)
			return -1;
		e = e2;
	}
	if (*e == 'Z')
		e++;
	if (*e)
		return -1;
	*us = (int64_t)timegm(&tm) * 1000000;
	return 0;
}
