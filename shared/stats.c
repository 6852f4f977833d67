/*
 * stats - numbers per message, link, campaign, sending domain, day or
 * hour (see stats.h), for mtrackctl stats and report and the tracker's
 * /report.
 *
 * Counters kept by the writer answer at once (no event is read) for a
 * whole scope. Only a time window combined with a grouping that has no
 * per-day counters (campaign, domain, total with a campaign filter, ...),
 * and the grouping by hour, read the events of that window.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "query.h"
#include "report.h"
#include "stats.h"
#include "tally.h"

/* the groupings by their short names inside this file */
enum by { BY_TOTAL = STATS_BY_TOTAL, BY_MESSAGE = STATS_BY_MESSAGE,
    BY_LINK = STATS_BY_LINK, BY_CAMPAIGN = STATS_BY_CAMPAIGN,
    BY_DOMAIN = STATS_BY_DOMAIN, BY_DAY = STATS_BY_DAY,
    BY_HOUR = STATS_BY_HOUR, BY_URL = STATS_BY_URL };
const char *const stats_by_names[] = { "total", "message", "link",
    "campaign", "domain", "day", "hour", "url", NULL };

struct st {
	struct store		*s;
	enum by			 by;
	int64_t			 since, until;	/* [since, until) us */
	const char		*campaign, *domain, *message;
	uint64_t		 msgseq;	/* of --message */
	struct report_row	*rows;
	size_t			 nrows, caprows;
	struct tally		*seen;		/* event path: unique keys */
	struct tally		*index;		/* event path: row by name */
	struct minfo		*mc;		/* event path: message cache */
	size_t			 mccap;
};

/* what the event path needs of a message */
struct minfo {
	uint64_t		seq;
	struct store_msghead	h;
};

static struct report_row *
row_add(struct st *t, const char *name, const char *scope)
{
	struct report_row *v;

	if (t->nrows == t->caprows) {
		size_t cap = t->caprows ? t->caprows * 2 : 16;

		if ((v = realloc(t->rows, cap * sizeof(*v))) == NULL)
			return NULL;
		t->rows = v;
		t->caprows = cap;
	}
	v = &t->rows[t->nrows++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->scope, sizeof(v->scope), "%s", scope);
	return v;
}

/* row_get - the row of a name, made on first use (event path) */
static struct report_row *
row_get(struct st *t, const char *name)
{
	int64_t	i;

	if (t->index == NULL && (t->index = tally_new()) == NULL)
		return NULL;
	if (tally_get(t->index, name, &i))
		return &t->rows[i];
	if (row_add(t, name, "") == NULL ||
	    tally_put(t->index, name, TALLY_SUM, (int64_t)t->nrows - 1) == -1)
		return NULL;
	return &t->rows[t->nrows - 1];
}

/* message records as the filters see them */
static int
minfo_parse(const char *json, size_t len, struct minfo *m)
{
	m->seq = 0;
	return store_msghead_parse(json, len, &m->h);
}

static const struct minfo *
minfo_get(struct st *t, uint64_t seq)
{
	struct minfo	*m;
	struct buf	 b = BUF_INIT;
	char		 key[DB_SEQ_LEN + 1];

	if (t->mc == NULL) {
		t->mccap = 16384;
		if ((t->mc = calloc(t->mccap, sizeof(*t->mc))) == NULL)
			return NULL;
	}
	m = &t->mc[seq % t->mccap];
	if (m->seq == seq && seq != 0)
		return m;
	db_hex16(key, seq);
	memset(m, 0, sizeof(*m));
	if (query_get(t->s, DB_MESSAGES, key, &b) == 0)
		minfo_parse(b.data, b.len, m);
	m->seq = seq;
	buf_free(&b);
	return m;
}

/* the message passes --campaign, --domain, --message */
static int
minfo_match(const struct st *t, const struct minfo *m)
{
	if (t->campaign && strcmp(m->h.campaign, t->campaign) != 0)
		return 0;
	if (t->domain && strcmp(m->h.domain, t->domain) != 0)
		return 0;
	if (t->message && m->seq != t->msgseq)
		return 0;
	return 1;
}

static void
day_name(int64_t us, char out[11])
{
	time_t		tt = (time_t)(us / 1000000);
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void
hour_name(int64_t us, char *out, size_t n)
{
	time_t		tt = (time_t)(us / 1000000);
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%dT%H:00", &tm);
}

/* the row name of a message (and link) in the chosen grouping */
static void
group_name(struct st *t, const struct minfo *m, int64_t when, uint64_t link,
    char *out, size_t n)
{
	switch (t->by) {
	case BY_TOTAL:
		snprintf(out, n, "total");
		break;
	case BY_DAY:
		day_name(when, out);
		break;
	case BY_HOUR:
		hour_name(when, out, n);
		break;
	case BY_CAMPAIGN:
		snprintf(out, n, "%s", m->h.campaign[0] ? m->h.campaign : "-");
		break;
	case BY_DOMAIN:
		snprintf(out, n, "%s", m->h.domain[0] ? m->h.domain : "-");
		break;
	case BY_MESSAGE:
		snprintf(out, n, "%s", m->h.message_id[0] ? m->h.message_id : "-");
		break;
	case BY_LINK:
	case BY_URL: {
		struct buf	b = BUF_INIT;

		snprintf(out, n, "%s", store_get_link(t->s, link, &b, NULL) == 0 &&
		    b.data ? b.data : "-");
		buf_free(&b);
		break;
	}
	}
}

/* an event's fields the event path reads; strings point into the record */
struct evf {
	int64_t		 time;
	int		 click;
	const char	*msg, *link, *ip, *cls;	/* NUL-terminated copies in buf */
	char		 buf[160];
};

/* span "TEXT" at *p (no escapes): into buf at *o; 0 or -1 */
static int
ev_str(const char **p, const char *end, char *buf, size_t *o, size_t bufsz,
    const char **out)
{
	const char *q = *p, *e;

	if (q + 4 <= end && memcmp(q, "null", 4) == 0) {
		*out = NULL;
		*p = q + 4;
		return 0;
	}
	if (q >= end || *q++ != '"' || (e = memchr(q, '"', (size_t)(end - q))) ==
	    NULL || memchr(q, '\\', (size_t)(e - q)) != NULL ||
	    *o + (size_t)(e - q) + 1 > bufsz)
		return -1;
	memcpy(buf + *o, q, (size_t)(e - q));
	buf[*o + (size_t)(e - q)] = '\0';
	*out = buf + *o;
	*o += (size_t)(e - q) + 1;
	*p = e + 1;
	return 0;
}

/*
 * ev_fast - the fields of a record as the writer writes it (fixed order,
 * compact); -1 for anything else (rewritten records), read with jansson.
 * "class" is found from the end: a bare `,"` never occurs inside a JSON
 * string, so the last `,"class":` is the member.
 */
/* skip - the literal lit at *p: 1 and past it, else 0 */
static int
skip(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

static int
ev_fast(const char *v, size_t len, struct evf *f)
{
	const char	*p = v, *end = v + len, *c;
	size_t		 o = 0;

	if (!skip(&p, end, "{\"time\":") || p == end || *p < '0' || *p > '9')
		return -1;
	for (f->time = 0; p < end && *p >= '0' && *p <= '9'; p++)
		f->time = f->time * 10 + (*p - '0');
	if (skip(&p, end, ",\"type\":\"click\",\"link\":"))
		f->click = 1;
	else if (skip(&p, end, ",\"type\":\"open\",\"ref\":"))
		f->click = 0;
	else
		return -1;
	if (ev_str(&p, end, f->buf, &o, sizeof(f->buf), &f->link) == -1 ||
	    f->link == NULL)
		return -1;
	if (!f->click)
		f->link = NULL;
	if (!skip(&p, end, ",\"msg\":") ||
	    ev_str(&p, end, f->buf, &o, sizeof(f->buf), &f->msg) == -1 ||
	    f->msg == NULL || !skip(&p, end, ",\"ip\":") ||
	    ev_str(&p, end, f->buf, &o, sizeof(f->buf), &f->ip) == -1)
		return -1;
	for (c = end - 9; c > p && memcmp(c, ",\"class\":", 9) != 0; c--)
		;
	if (c <= p)
		return -1;
	c += 9;
	if (ev_str(&c, end, f->buf, &o, sizeof(f->buf), &f->cls) == -1 ||
	    !skip(&c, end, ",\"reason\":") || end[-1] != '}')
		return -1;
	return 0;
}

/* event path: one event into its row */
static int
ev_fold(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct st		*t = arg;
	const struct minfo	*m;
	struct report_row	*r;
	json_t			*o;
	struct evf		 f;
	const char		*type, *cls = "human", *ip = "-", *msg, *link = NULL;
	json_int_t		 tm;
	char			 name[512], ukey[700];
	int			 c, click, human;
	uint64_t		 mseq;

	(void)key;
	(void)klen;
	o = NULL;
	if (ev_fast(val, vlen, &f) == 0) {
		tm = f.time;
		msg = f.msg;
		link = f.link;
		cls = f.cls ? f.cls : "human";
		ip = f.ip ? f.ip : "-";
		click = f.click;
	} else {
		if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
			return 0;
		if (json_unpack(o, "{s:s, s:s, s:I, s?s, s?s, s?s}", "type",
		    &type, "msg", &msg, "time", &tm, "class", &cls, "ip", &ip,
		    "link", &link) != 0)
			goto out;
		click = strcmp(type, "click") == 0;
	}
	mseq = strtoull(msg, NULL, 16);
	if ((m = minfo_get(t, mseq)) == NULL || !minfo_match(t, m))
		goto out;
	if ((t->by == BY_LINK || t->by == BY_URL) && !click)
		goto out;
	group_name(t, m, tm, link ? strtoull(link, NULL, 16) : 0, name,
	    sizeof(name));
	if ((r = row_get(t, name)) == NULL)
		goto out;
	c = verdict_class_parse(cls ? cls : "human");
	human = c == VERDICT_HUMAN;
	if (c < 0)
		c = VERDICT_BOT;
	if (click) {
		r->clicks++;
		r->ccls[c]++;
	} else {
		r->opens++;
		r->ocls[c]++;
	}
	if (r->first == 0 || tm < r->first)
		r->first = tm;
	if (tm > r->last)
		r->last = tm;
	/* unique as the writer counts it: per recipient or per source */
	snprintf(ukey, sizeof(ukey), "%s\x1f%c:%s:%s", name, click ? 'c' : 'o',
	    (t->by == BY_LINK || t->by == BY_URL) && link ? link : msg,
	    m->h.nrcpt == 1 ? "rcpt" :
	    ip ? ip : "-");
	if (tally_insert(t->seen, ukey) == 1) {
		if (click)
			r->uclicks++;
		else
			r->uopens++;
	}
	if (human) {
		strcat(ukey, ":h");
		if (tally_insert(t->seen, ukey) == 1) {
			if (click)
				r->uclicks_h++;
			else
				r->uopens_h++;
		}
	}
out:
	json_decref(o);
	return 0;
}

/*
 * msg_sent_links - event path by link or URL: each link of a message sent
 * in the window was sent once with it
 */
static int
msg_sent_links(struct st *t, const char *val, size_t vlen)
{
	struct report_row	*r;
	json_t			*o, *lk, *x;
	char			 name[512];
	size_t			 i;

	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	lk = json_object_get(o, "link_seqs");
	json_array_foreach(lk, i, x) {
		if (!json_is_string(x))
			continue;
		group_name(t, NULL, 0, strtoull(json_string_value(x), NULL, 16),
		    name, sizeof(name));
		if ((r = row_get(t, name)) != NULL) {
			r->sent++;
			if (r->scope[0] == '\0')
				db_scope_seq(r->scope, 'l',
				    strtoull(json_string_value(x), NULL, 16));
		}
	}
	json_decref(o);
	return 0;
}

/* event path: messages sent in the window count as sent */
static int
msg_sent(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct st		*t = arg;
	struct minfo		 m;
	struct report_row	*r;
	char			 name[512];

	(void)klen;
	if (minfo_parse(val, vlen, &m) == -1)
		return 0;
	m.seq = strtoull(key, NULL, 16);
	if (m.h.time_us < t->since || m.h.time_us >= t->until || !minfo_match(t, &m))
		return 0;
	if (t->by == BY_LINK || t->by == BY_URL)
		return msg_sent_links(t, val, vlen);
	group_name(t, &m, m.h.time_us, 0, name, sizeof(name));
	if ((r = row_get(t, name)) != NULL)
		r->sent++;
	return 0;
}

/* counter path: a row for each scope record under a prefix ("c:", "d:", "t:") */
static int
scope_row(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct st		*t = arg;
	struct report_row	*r;
	char			 scope[300];

	if (klen >= sizeof(scope) || klen < 2)
		return 0;
	memcpy(scope, key, klen);
	scope[klen] = '\0';
	if ((r = row_add(t, scope + 2, scope)) == NULL)
		return -1;
	report_fold_record(r, val, vlen);
	return 0;
}

/* counter path: one row per message (or per link of each message) */
static int
msg_rows(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct st		*t = arg;
	struct minfo		 m;
	struct report_row	*r;
	json_t			*o, *lk, *x;
	char			 scope[64];
	size_t			 i;

	(void)klen;
	if (minfo_parse(val, vlen, &m) == -1)
		return 0;
	m.seq = strtoull(key, NULL, 16);
	if (!minfo_match(t, &m) || m.h.time_us < t->since || m.h.time_us >= t->until)
		return 0;
	if (t->by == BY_MESSAGE) {
		db_scope_seq(scope, 'm', m.seq);
		if ((r = row_add(t, m.h.message_id[0] ? m.h.message_id : key,
		    scope)) == NULL)
			return -1;
		r->sent = 1;
		return report_from_counters(t->s, r);
	}
	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	lk = json_object_get(o, "link_seqs");
	json_array_foreach(lk, i, x) {
		struct buf	 b = BUF_INIT;

		if (!json_is_string(x))
			continue;
		if (store_get_link(t->s, strtoull(json_string_value(x), NULL,
		    16), &b, NULL) == 0 && b.data) {
			db_scope_seq(scope, 'l', strtoull(json_string_value(x),
			    NULL, 16));
			if ((r = row_add(t, b.data, scope)) != NULL) {
				r->pos = (unsigned)i + 1;
				report_from_counters(t->s, r);
				r->sent = 1;	/* with its message */
			}
		}
		buf_free(&b);
	}
	json_decref(o);
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_row *)a)->name,
	    ((const struct report_row *)b)->name);
}


/* row_sum - x added into r */
static void	row_sum(struct report_row *r, const struct report_row *x);

/*
 * rows_merge - rows of the same name (the same URL in several messages)
 * summed into one, in name order; the first keeps its scope (a link of
 * that URL), the place in a message means nothing any more
 */
static void
rows_merge(struct st *t)
{
	size_t k, w = 0;

	qsort(t->rows, t->nrows, sizeof(*t->rows), row_cmp);
	for (k = 0; k < t->nrows; k++) {
		if (w > 0 && strcmp(t->rows[w - 1].name, t->rows[k].name) == 0) {
			row_sum(&t->rows[w - 1], &t->rows[k]);
			t->rows[w - 1].pos = 0;
			continue;
		}
		t->rows[w++] = t->rows[k];
	}
	t->nrows = w;
}

/* window_days - the first and last day of the time window, as day names */
static void
window_days(const struct st *t, char from[16], char to[16])
{
	day_name(t->since, from);
	day_name(t->until == INT64_MAX ? INT64_MAX / 2 : t->until - 1, to);
}

/* row_sum - x added into r */
static void
row_sum(struct report_row *r, const struct report_row *x)
{
	int i;

	r->sent += x->sent;
	r->opens += x->opens;
	r->clicks += x->clicks;
	r->uopens += x->uopens;
	r->uclicks += x->uclicks;
	r->uopens_h += x->uopens_h;
	r->uclicks_h += x->uclicks_h;
	for (i = 0; i < VERDICT_NCLASS; i++) {
		r->ocls[i] += x->ocls[i];
		r->ccls[i] += x->ccls[i];
	}
	if (x->first && (!r->first || x->first < r->first))
		r->first = x->first;
	if (x->last > r->last)
		r->last = x->last;
}

/* rows_keep - keep the rows whose name passes keep(name, arg) */
static void
rows_keep(struct st *t, int (*keep)(const char *name, const void *arg),
    const void *arg)
{
	size_t k, w = 0;

	for (k = 0; k < t->nrows; k++)
		if (keep(t->rows[k].name, arg))
			t->rows[w++] = t->rows[k];
	t->nrows = w;
}

/* in_days - a day name within the window's days (arg: from, to) */
static int
in_days(const char *name, const void *arg)
{
	const char *const *d = arg;

	return strcmp(name, d[0]) >= 0 && strcmp(name, d[1]) <= 0;
}

static int
is_name(const char *name, const void *arg)
{
	return strcmp(name, arg) == 0;
}

/* total_counters - one row "total" from the counters of one scope (or all) */
static int
total_counters(struct st *t)
{
	struct report_row	*r;
	char			 scope[300] = "";

	if (t->campaign)
		snprintf(scope, sizeof(scope), DB_SCOPE_CAMPAIGN "%s",
		    t->campaign);
	else if (t->domain)
		snprintf(scope, sizeof(scope), DB_SCOPE_DOMAIN "%s", t->domain);
	else if (t->message)
		db_scope_seq(scope, 'm', t->msgseq);
	if ((r = row_add(t, "total", scope)) == NULL ||
	    report_from_counters(t->s, r) == -1)
		return -1;
	if (t->message)
		r->sent = 1;
	return 0;
}

/* total_days - one row "total": the day counters of the window, summed */
static int
total_days(struct st *t)
{
	struct st		 d = *t;
	struct report_row	*r;
	char			 from[16], to[16];
	size_t			 k;
	int			 rc = -1;

	d.rows = NULL;
	d.nrows = d.caprows = 0;
	if (query_counters(t->s, DB_SCOPE_DAY, scope_row, &d) == -1)
		goto out;
	window_days(t, from, to);
	if ((r = row_add(t, "total", "")) == NULL)
		goto out;
	for (k = 0; k < d.nrows; k++)
		if (strcmp(d.rows[k].name, from) >= 0 &&
		    strcmp(d.rows[k].name, to) <= 0)
			row_sum(r, &d.rows[k]);
	rc = 0;
out:
	free(d.rows);
	return rc;
}

/* rows_days - a row per day from the day counters, within the window */
static int
rows_days(struct st *t, int timed)
{
	char		 from[16], to[16];
	const char	*d[2] = { from, to };

	if (query_counters(t->s, DB_SCOPE_DAY, scope_row, t) == -1)
		return -1;
	if (timed) {
		window_days(t, from, to);
		rows_keep(t, in_days, d);
	}
	return 0;
}

/* rows_scopes - a row per campaign or sending domain from their counters */
static int
rows_scopes(struct st *t)
{
	const char *want = t->by == BY_CAMPAIGN ? t->campaign : t->domain;

	if (query_counters(t->s, t->by == BY_CAMPAIGN ? DB_SCOPE_CAMPAIGN :
	    DB_SCOPE_DOMAIN, scope_row, t) == -1)
		return -1;
	if (want)
		rows_keep(t, is_name, want);
	return 0;
}

/*
 * rows_counters - the rows from the counters kept by the writer, when
 * they answer the question; *events set when only the events can
 * (a window or a filter the counters have no scope for). 0 or -1.
 */
static int
rows_counters(struct st *t, int *events)
{
	int entity = (t->campaign != NULL) + (t->domain != NULL) +
	    (t->message != NULL);
	int timed = t->since != 0 || t->until != INT64_MAX;

	*events = 0;
	switch (t->by) {
	case BY_TOTAL:
		if (!timed && entity <= 1)
			return total_counters(t);
		if (timed && entity == 0)
			return total_days(t);
		break;
	case BY_DAY:
		if (!entity)
			return rows_days(t, timed);
		break;
	case BY_CAMPAIGN:
	case BY_DOMAIN:
		if (!timed && entity == (t->by == BY_CAMPAIGN ?
		    t->campaign != NULL : t->domain != NULL))
			return rows_scopes(t);
		break;
	case BY_MESSAGE:
	case BY_LINK:
		return query_messages(t->s, msg_rows, t);
	case BY_URL:
		if (query_messages(t->s, msg_rows, t) == -1)
			return -1;
		rows_merge(t);
		return 0;
	case BY_HOUR:
		break;
	}
	*events = 1;
	return 0;
}

/* rows_events - the rows from the events of the window, in name order */
static int
rows_events(struct st *t)
{
	if ((t->seen = tally_new()) == NULL)
		return -1;
	if (query_events(t->s, t->since, t->until, t->message ? t->msgseq : 0,
	    ev_fold, t) == -1 || query_messages(t->s, msg_sent, t) == -1)
		return -1;
	/* in the order the counters give: by name (no rows: no array) */
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof(*t->rows), row_cmp);
	return 0;
}

int
stats_msgseq(struct store *s, const char *message_id, uint64_t *seq)
{
	struct buf	 b = BUF_INIT;
	char		 alt[DB_MSGID_MAX + 3];
	size_t		 len = strlen(message_id);
	int		 rc;

	if ((rc = query_get(s, DB_MSGIDS, message_id, &b)) == 1 && len > 0 &&
	    len <= DB_MSGID_MAX) {
		/* the header keeps its angle brackets; people often drop them */
		if (message_id[0] == '<' && message_id[len - 1] == '>' &&
		    len > 2)
			snprintf(alt, sizeof(alt), "%.*s", (int)(len - 2),
			    message_id + 1);
		else
			snprintf(alt, sizeof(alt), "<%s>", message_id);
		rc = query_get(s, DB_MSGIDS, alt, &b);
	}
	if (rc == 0)
		*seq = strtoull(b.data, NULL, 16);
	buf_free(&b);
	return rc;
}

int
stats_run(struct store *s, const struct stats_query *q,
    struct report_row **rows, size_t *nrows)
{
	struct st	t;
	int		rc = 0, events;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.by = (enum by)q->by;
	t.since = q->since;
	t.until = q->until;
	t.campaign = q->campaign;
	t.domain = q->domain;
	t.message = q->message;
	if (t.message)
		rc = stats_msgseq(t.s, t.message, &t.msgseq);
	if (rc == 0 && (rows_counters(&t, &events) == -1 ||
	    (events && rows_events(&t) == -1)))
		rc = -1;
	tally_free(t.seen);
	tally_free(t.index);
	free(t.mc);
	if (rc != 0) {
		free(t.rows);
		t.rows = NULL;
		t.nrows = 0;
	}
	*rows = t.rows;
	*nrows = t.nrows;
	return rc;
}

void
stats_query_init(struct stats_query *q)
{
	memset(q, 0, sizeof(*q));
	q->by = STATS_BY_TOTAL;
	q->until = INT64_MAX;
}

int
stats_filter(struct stats_query *q, const char *name, const char *value,
    char *err, size_t errlen)
{
	const char	**entity = NULL, *p;
	int64_t		 *when = NULL;

	if (strcmp(name, "campaign") == 0)
		entity = &q->campaign;
	else if (strcmp(name, "domain") == 0)
		entity = &q->domain;
	else if (strcmp(name, "message") == 0)
		entity = &q->message;
	else if (strcmp(name, "since") == 0)
		when = &q->since;
	else if (strcmp(name, "until") == 0)
		when = &q->until;
	else {
		snprintf(err, errlen, "unknown filter \"%.32s\"", name);
		return -1;
	}
	for (p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "%s: a control byte", name);
			return -1;
		}
	if (when) {
		if ((when == &q->since ? q->since != 0 : q->until != INT64_MAX) ||
		    report_time(value, when) == -1) {
			snprintf(err, errlen, "%s: bad or repeated time \"%.64s\"",
			    name, value);
			return -1;
		}
		return 0;
	}
	if (*entity != NULL) {
		snprintf(err, errlen, "%s: given twice", name);
		return -1;
	}
	if (*value == '\0' || strlen(value) > 255) {
		snprintf(err, errlen, "%s: empty or longer than 255 bytes", name);
		return -1;
	}
	*entity = value;
	return 0;
}

void
stats_filter_text(const struct stats_query *q, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s%s%s%s", q->campaign ? "campaign " : "",
	    q->campaign ? q->campaign : "", q->campaign && (q->domain ||
	    q->message) ? ", " : "", q->domain ? "sending domain " : "",
	    q->domain ? q->domain : "", q->domain && q->message ? ", " : "",
	    q->message ? "message " : "", q->message ? q->message : "");
}
