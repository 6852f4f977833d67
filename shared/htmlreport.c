/*
 * htmlreport - the report page (see htmlreport.h).
 *
 * The page is written top to bottom into one buffer: head and style,
 * totals, the two charts over time, links, campaigns and domains, one
 * message's events. Each step returns 0 or -1 (memory).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart.h"
#include "esc.h"
#include "htmlreport.h"
#include "query.h"
#include "verdict.h"

#define HR_LINKS	50	/* links shown at most */
#define HR_HOUR		3600000000LL
#define HR_DAY		(24 * HR_HOUR)
#define HR_BUCKETS	4000	/* time buckets drawn at most */
#define HR_MINHOURS	24	/* an axis of hours spans a day at least */
#define HR_MINDAYS	7	/* an axis of days a week */

static const char hr_style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"color:#111827;background:#f9fafb;margin:0;padding:24px;max-width:1100px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
	".sub{color:#4b5563;margin:0}"
	".cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}"
	".card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;"
	"padding:10px 14px;min-width:140px}"
	".card h3{font-size:12px;font-weight:600;color:#6b7280;margin:0 0 4px;"
	"text-transform:uppercase;letter-spacing:.04em}"
	".card .big{font-size:24px;font-weight:650}"
	".card small{color:#4b5563;display:block}"
	"table{border-collapse:collapse;background:#fff;border:1px solid #e5e7eb}"
	"th,td{padding:4px 10px;border-bottom:1px solid #f0f1f3;text-align:right;"
	"vertical-align:top}"
	"th{background:#f3f4f6;font-weight:600}"
	"td.t,th.t{text-align:left}td.url{text-align:left;max-width:520px;"
	"overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:12px}"
	".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}"
	"figure{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:8px;"
	"padding:8px}figcaption{font-weight:600;margin:0 0 4px 6px}"
	"svg.chart{width:100%;height:auto;display:block}"
	".c-human{color:#1d4ed8}.c-proxy,.c-prefetch{color:#92400e}"
	".c-scanner,.c-bot{color:#b91c1c}"
	".groups{margin-top:12px}details{margin-top:6px}footer{margin-top:32px;color:#6b7280;font-size:12px}";

/* hr_count - a count with thousands separators */
static void
hr_count(uint64_t v, char *out, size_t n)
{
	char	d[24];
	size_t	len, i, o = 0;

	len = (size_t)snprintf(d, sizeof(d), "%" PRIu64, v);
	for (i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = d[i];
	}
	out[o] = '\0';
}

/* hr_num - a number as an element carrying its stats --json key */
static int
hr_num(struct buf *o, const char *tag, const char *key, uint64_t v)
{
	char t[32];

	hr_count(v, t, sizeof(t));
	return buf_printf(o, "<%s data-k=\"%s\" data-v=\"%" PRIu64 "\">%s</%s>",
	    tag, key, v, t, tag);
}

static uint64_t
hr_machines(const uint64_t *cls)
{
	uint64_t	n = 0;
	int		i;

	for (i = VERDICT_HUMAN + 1; i < VERDICT_NCLASS; i++)
		n += cls[i];
	return n;
}

static void
hr_time(int64_t us, const char *fmt, char *out, size_t n)
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;

	out[0] = '\0';
	gmtime_r(&t, &tm);
	strftime(out, n, fmt, &tm);
}

static int
hr_head(struct buf *o, const struct htmlreport *r)
{
	char	g[32], a[32], b[32];

	hr_time(r->generated, "%Y-%m-%d %H:%M UTC", g, sizeof(g));
	if (buf_printf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src"
	    " 'none'; style-src 'unsafe-inline'\">"
	    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	    "<title>mtrack report: ") == -1 ||
	    esc_html_str(o, r->filter[0] ? r->filter : "all mail") == -1 ||
	    buf_printf(o, "</title><style>%s</style></head>\n<body><header>"
	    "<h1>mtrack report</h1><p class=\"sub\" id=\"filter\">",
	    hr_style) == -1 ||
	    esc_html_str(o, r->filter[0] ? r->filter : "all mail") == -1)
		return -1;
	if (r->since > 0 || (r->until > 0 && r->until != INT64_MAX)) {
		hr_time(r->since, "%Y-%m-%d %H:%M", a, sizeof(a));
		hr_time(r->until - 1, "%Y-%m-%d %H:%M", b, sizeof(b));
		if (buf_printf(o, ", from %s to %s UTC", r->since > 0 ? a :
		    "the start", r->until != INT64_MAX ? b : "now") == -1)
			return -1;
	}
	return buf_printf(o, "</p><p class=\"sub\">generated %s; the numbers "
	    "of <code>mtrackctl stats</code></p></header>\n", g);
}

/* hr_card - a card with a title, a big number and up to two small ones */
static int
hr_card(struct buf *o, const char *title, const char *k, uint64_t v,
    const char *l1, const char *k1, uint64_t v1, const char *l2,
    const char *k2, uint64_t v2)
{
	if (buf_printf(o, "<div class=\"card\"><h3>%s</h3><div class=\"big\">",
	    title) == -1 || hr_num(o, "span", k, v) == -1 ||
	    buf_puts(o, "</div>") == -1)
		return -1;
	if (l1 && (buf_printf(o, "<small>%s ", l1) == -1 ||
	    hr_num(o, "span", k1, v1) == -1 || buf_puts(o, "</small>") == -1))
		return -1;
	if (l2 && (buf_printf(o, "<small>%s ", l2) == -1 ||
	    hr_num(o, "span", k2, v2) == -1 || buf_puts(o, "</small>") == -1))
		return -1;
	return buf_puts(o, "</div>");
}

static int
hr_totals(struct buf *o, const struct report_row *t)
{
	char	c[32];
	int	i;

	if (buf_puts(o, "<section id=\"totals\"><div class=\"cards\">") == -1 ||
	    hr_card(o, "Sent", "sent", t->sent, NULL, NULL, 0, NULL, NULL,
	    0) == -1 ||
	    hr_card(o, "Opens", "opens", t->opens, "unique", "unique_opens",
	    t->uopens, NULL, NULL, 0) == -1 ||
	    hr_card(o, "Clicks", "clicks", t->clicks, "unique", "unique_clicks",
	    t->uclicks, NULL, NULL, 0) == -1 ||
	    hr_card(o, "People opened", "unique_opens_human", t->uopens_h,
	    "opens by people", "opens_human", t->ocls[VERDICT_HUMAN],
	    "by machines", "opens_machine", hr_machines(t->ocls)) == -1 ||
	    hr_card(o, "People clicked", "unique_clicks_human", t->uclicks_h,
	    "clicks by people", "clicks_human", t->ccls[VERDICT_HUMAN],
	    "by machines", "clicks_machine", hr_machines(t->ccls)) == -1)
		return -1;
	if (t->uopens) {
		double v = (double)t->uclicks / (double)t->uopens;

		snprintf(c, sizeof(c), "%.1f%%", 100.0 * v);
		if (buf_printf(o, "<div class=\"card\"><h3>Click-to-open</h3>"
		    "<div class=\"big\" data-k=\"click_to_open\" data-v=\"%.6f\">"
		    "%s</div><small>unique clicks / unique opens</small></div>",
		    v, c) == -1)
			return -1;
	} else if (buf_puts(o, "<div class=\"card\"><h3>Click-to-open</h3>"
	    "<div class=\"big\" data-k=\"click_to_open\" data-v=\"null\">-</div>"
	    "<small>no opens</small></div>") == -1)
		return -1;
	if (buf_puts(o, "</div><h2>People and machines</h2><table id=\"classes\">"
	    "<tr><th class=\"t\">class</th><th>opens</th><th>clicks</th></tr>")
	    == -1)
		return -1;
	for (i = 0; i < VERDICT_NCLASS; i++) {
		const char *n = verdict_class_name(i);
		char k[40];

		if (buf_printf(o, "<tr><td class=\"t c-%s\">%s</td>", n,
		    i == VERDICT_HUMAN ? "people" : n) == -1)
			return -1;
		snprintf(k, sizeof(k), "opens_by_class.%s", n);
		if (hr_num(o, "td", k, t->ocls[i]) == -1)
			return -1;
		snprintf(k, sizeof(k), "clicks_by_class.%s", n);
		if (hr_num(o, "td", k, t->ccls[i]) == -1 ||
		    buf_puts(o, "</tr>") == -1)
			return -1;
	}
	return buf_puts(o, "</table></section>\n");
}

int64_t
htmlreport_bucket(const char *name)
{
	struct tm	 tm;
	const char	*e;

	memset(&tm, 0, sizeof(tm));
	if ((e = strptime(name, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*e == 'T' && ((e = strptime(e + 1, "%H:%M", &tm)) == NULL))
		return -1;
	if (*e)
		return -1;
	return (int64_t)timegm(&tm) * 1000000;
}

static const char *const hr_pm[] = { "people", "machines" };

/*
 * hr_time_charts - opens and clicks over time, one bar per bucket from
 * the first row's to the last row's (buckets without events are drawn
 * empty: the axis is time), and the numbers in a table under them
 */
static int
hr_time_charts(struct buf *o, const struct htmlreport *r)
{
	struct chart_bar	*ob = NULL, *cb = NULL;
	struct chart		 ch;
	char			(*lab)[24] = NULL;
	int64_t			 step = r->hourly ? HR_HOUR : HR_DAY, t0, t1, t;
	size_t			 n = 0, i, k = 0;
	int			 rc = -1;

	if (buf_printf(o, "<section id=\"time\"><h2>Over time, per %s (UTC)</h2>"
	    "<div class=\"charts\">", r->hourly ? "hour" : "day") == -1)
		return -1;
	t0 = r->ntime ? htmlreport_bucket(r->time[0].name) : -1;
	t1 = r->ntime ? htmlreport_bucket(r->time[r->ntime - 1].name) : -1;
	/* short spans end on the last bucket: the bars keep their width */
	if (t0 >= 0 && t1 >= t0 && (t1 - t0) / step < (r->hourly ?
	    HR_MINHOURS : HR_MINDAYS))
		t0 = t1 - step * ((r->hourly ? HR_MINHOURS : HR_MINDAYS) - 1);
	if (t0 >= 0 && t1 >= t0 && (t1 - t0) / step < HR_BUCKETS)
		n = (size_t)((t1 - t0) / step) + 1;
	if (n && ((ob = calloc(n, sizeof(*ob))) == NULL ||
	    (cb = calloc(n, sizeof(*cb))) == NULL ||
	    (lab = calloc(n, sizeof(*lab))) == NULL))
		goto out;
	for (i = 0; i < n; i++) {
		t = t0 + (int64_t)i * step;
		hr_time(t, !r->hourly ? "%b %d" : t % HR_DAY ? "%H:00" :
		    "%b %d", lab[i], sizeof(lab[i]));
		ob[i].label = cb[i].label = lab[i];
		for (; k < r->ntime && htmlreport_bucket(r->time[k].name) <= t;
		    k++) {
			if (htmlreport_bucket(r->time[k].name) != t)
				continue;
			ob[i].v[0] = r->time[k].ocls[VERDICT_HUMAN];
			ob[i].v[1] = hr_machines(r->time[k].ocls);
			cb[i].v[0] = r->time[k].ccls[VERDICT_HUMAN];
			cb[i].v[1] = hr_machines(r->time[k].ccls);
		}
	}
	memset(&ch, 0, sizeof(ch));
	ch.series = hr_pm;
	ch.nseries = 2;
	ch.nbars = n;
	ch.title = "Opens over time, people and machines";
	ch.bars = ob;
	if (buf_puts(o, "<figure id=\"opens-time\"><figcaption>Opens</figcaption>")
	    == -1 || chart_svg(o, &ch) == -1 || buf_puts(o, "</figure>") == -1)
		goto out;
	ch.title = "Clicks over time, people and machines";
	ch.bars = cb;
	if (buf_puts(o, "<figure id=\"clicks-time\"><figcaption>Clicks"
	    "</figcaption>") == -1 || chart_svg(o, &ch) == -1 ||
	    buf_puts(o, "</figure></div><details><summary>the numbers</summary>"
	    "<table id=\"buckets\"><tr><th class=\"t\">bucket</th><th>sent</th>"
	    "<th>opens by people</th><th>by machines</th><th>clicks by people"
	    "</th><th>by machines</th></tr>") == -1)
		goto out;
	for (i = 0; i < r->ntime; i++) {
		const struct report_row *x = &r->time[i];

		if (buf_puts(o, "<tr data-bucket=\"") == -1 ||
		    esc_html_str(o, x->name) == -1 ||
		    buf_puts(o, "\"><td class=\"t\">") == -1 ||
		    esc_html_str(o, x->name) == -1 || buf_puts(o, "</td>") == -1 ||
		    hr_num(o, "td", "sent", x->sent) == -1 ||
		    hr_num(o, "td", "opens_human", x->ocls[VERDICT_HUMAN]) == -1 ||
		    hr_num(o, "td", "opens_machine", hr_machines(x->ocls)) == -1 ||
		    hr_num(o, "td", "clicks_human", x->ccls[VERDICT_HUMAN]) == -1 ||
		    hr_num(o, "td", "clicks_machine", hr_machines(x->ccls)) == -1 ||
		    buf_puts(o, "</tr>") == -1)
			goto out;
	}
	rc = buf_puts(o, "</table></details></section>\n");
out:
	free(ob);
	free(cb);
	free(lab);
	return rc;
}

/* hr_share - part of whole as "12.5%" (data-v the fraction), "-" when whole is 0 */
static int
hr_share(struct buf *o, uint64_t part, uint64_t whole)
{
	if (whole == 0)
		return buf_puts(o, "<td class=\"share\">-</td>");
	return buf_printf(o, "<td class=\"share\" data-v=\"%.6f\">%.1f%%</td>",
	    (double)part / (double)whole, 100.0 * (double)part / (double)whole);
}

static int
hr_links(struct buf *o, const struct htmlreport *r)
{
	uint64_t	people = r->total.ccls[VERDICT_HUMAN];
	size_t		i, n, clicked;

	/* ranked: the links nobody clicked come last, and are only counted */
	for (clicked = 0; clicked < r->nlinks && r->links[clicked].clicks;
	    clicked++)
		;
	n = clicked < HR_LINKS ? clicked : HR_LINKS;

	if (buf_puts(o, "<section><h2>Links, by people's clicks</h2>"
	    "<table id=\"links\"><tr><th>#</th><th class=\"t\">URL</th>"
	    "<th>place</th><th>clicks by people</th><th>people</th>"
	    "<th>by machines</th><th>all clicks</th><th>share of people's "
	    "clicks</th></tr>") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		const struct report_row *l = &r->links[i];

		if (buf_printf(o, "<tr><td>%zu</td><td class=\"url\">", i + 1)
		    == -1 || esc_html_str(o, l->name) == -1 ||
		    buf_puts(o, "</td>") == -1 ||
		    (l->pos ? buf_printf(o, "<td>%u</td>", l->pos) :
		    buf_puts(o, "<td>-</td>")) == -1 ||
		    hr_num(o, "td", "clicks_human", l->ccls[VERDICT_HUMAN]) == -1 ||
		    hr_num(o, "td", "unique_clicks_human", l->uclicks_h) == -1 ||
		    hr_num(o, "td", "clicks_machine", hr_machines(l->ccls)) == -1 ||
		    hr_num(o, "td", "clicks", l->clicks) == -1 ||
		    hr_share(o, l->ccls[VERDICT_HUMAN], people) == -1 ||
		    buf_puts(o, "</tr>") == -1)
			return -1;
	}
	if (n == 0 && buf_puts(o, "<tr><td colspan=\"8\" class=\"t\">no "
	    "clicks</td></tr>") == -1)
		return -1;
	if (n < r->nlinks && buf_printf(o, "<tr><td colspan=\"8\" class=\"t\" "
	    "id=\"more-links\">%s%zu more links, %zu of them without clicks"
	    "</td></tr>", n ? "and " : "", r->nlinks - n,
	    r->nlinks - clicked) == -1)
		return -1;
	return buf_puts(o, "</table></section>\n");
}

/* hr_groups - campaigns or sending domains side by side: a chart, a table */
static int
hr_groups(struct buf *o, const char *id, const char *what,
    const struct report_row *g, size_t n)
{
	struct chart_bar	*bars;
	struct chart		 ch;
	char			 title[64];
	size_t			 i;
	int			 rc = -1;

	if (n == 0)
		return 0;
	if ((bars = calloc(n, sizeof(*bars))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		bars[i].label = g[i].name;
		bars[i].v[0] = g[i].ccls[VERDICT_HUMAN];
		bars[i].v[1] = hr_machines(g[i].ccls);
	}
	snprintf(title, sizeof(title), "Clicks by %s, people and machines", what);
	memset(&ch, 0, sizeof(ch));
	ch.title = title;
	ch.series = hr_pm;
	ch.nseries = 2;
	ch.bars = bars;
	ch.nbars = n;
	if (buf_printf(o, "<section id=\"%s\"><h2>By %s</h2><div class=\"charts\">"
	    "<figure><figcaption>Clicks</figcaption>", id, what) == -1 ||
	    chart_svg(o, &ch) == -1 ||
	    buf_printf(o, "</figure></div><table class=\"groups\"><tr><th class=\"t\">"
	    "%s</th><th>sent</th><th>opens</th><th>unique</th><th>by people</th>"
	    "<th>clicks</th><th>unique</th><th>by people</th><th>people "
	    "clicked</th><th>click-to-open</th></tr>", what) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		if (buf_puts(o, "<tr data-name=\"") == -1 ||
		    esc_html_str(o, g[i].name) == -1 ||
		    buf_puts(o, "\"><td class=\"t\">") == -1 ||
		    esc_html_str(o, g[i].name) == -1 ||
		    buf_puts(o, "</td>") == -1 ||
		    hr_num(o, "td", "sent", g[i].sent) == -1 ||
		    hr_num(o, "td", "opens", g[i].opens) == -1 ||
		    hr_num(o, "td", "unique_opens", g[i].uopens) == -1 ||
		    hr_num(o, "td", "opens_human", g[i].ocls[VERDICT_HUMAN]) == -1 ||
		    hr_num(o, "td", "clicks", g[i].clicks) == -1 ||
		    hr_num(o, "td", "unique_clicks", g[i].uclicks) == -1 ||
		    hr_num(o, "td", "clicks_human", g[i].ccls[VERDICT_HUMAN]) == -1 ||
		    hr_num(o, "td", "unique_clicks_human", g[i].uclicks_h) == -1 ||
		    hr_share(o, g[i].uclicks, g[i].uopens) == -1 ||
		    buf_puts(o, "</tr>") == -1)
			goto out;
	}
	rc = buf_puts(o, "</table></section>\n");
out:
	free(bars);
	return rc;
}

/* hr_cell - a string member of an event as a cell ("-" when absent) */
static int
hr_cell(struct buf *o, json_t *ev, const char *key, const char *cls)
{
	const char *v = json_string_value(json_object_get(ev, key));

	if (buf_printf(o, "<td class=\"%s\">", cls) == -1 ||
	    esc_html_str(o, v && *v ? v : "-") == -1)
		return -1;
	return buf_puts(o, "</td>");
}

static int
hr_events(struct buf *o, const struct htmlreport *r)
{
	json_t	*ev;
	size_t	 i;
	char	 when[32];

	if (buf_puts(o, "<section id=\"events\"><h2>Events of ") == -1 ||
	    esc_html_str(o, r->message) == -1 ||
	    buf_puts(o, "</h2><table id=\"timeline\"><tr><th class=\"t\">time "
	    "(UTC)</th><th class=\"t\">event</th><th class=\"t\">verdict</th>"
	    "<th class=\"t\">reason</th><th class=\"t\">source</th>"
	    "<th class=\"t\">User-Agent</th><th class=\"t\">link</th></tr>") == -1)
		return -1;
	json_array_foreach(r->events, i, ev) {
		json_int_t	 t = json_integer_value(json_object_get(ev, "time"));
		const char	*cls = json_string_value(json_object_get(ev, "class"));
		char		 c[24];

		hr_time(t, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		snprintf(c, sizeof(c), "t c-%s", cls && verdict_class_parse(cls) >=
		    0 ? cls : "human");
		if (buf_printf(o, "<tr><td class=\"t\">%s</td>", when) == -1 ||
		    hr_cell(o, ev, "type", "t") == -1 ||
		    hr_cell(o, ev, "class", c) == -1 ||
		    hr_cell(o, ev, "reason", "t") == -1 ||
		    hr_cell(o, ev, "ip", "t") == -1 ||
		    hr_cell(o, ev, "ua", "t ua") == -1 ||
		    hr_cell(o, ev, "url", "url") == -1 ||
		    buf_puts(o, "</tr>") == -1)
			return -1;
	}
	return buf_puts(o, "</table></section>\n");
}

int
htmlreport_write(struct buf *o, const struct htmlreport *r)
{
	if (hr_head(o, r) == -1 || hr_totals(o, &r->total) == -1 ||
	    hr_time_charts(o, r) == -1 || hr_links(o, r) == -1 ||
	    hr_groups(o, "campaigns", "campaign", r->campaigns,
	    r->ncampaigns) == -1 ||
	    hr_groups(o, "domains", "sending domain", r->domains,
	    r->ndomains) == -1)
		return -1;
	if (r->message && r->events && hr_events(o, r) == -1)
		return -1;
	return buf_puts(o, "<footer>mtrack: people are the class \"human\"; "
	    "machines are image proxies, prefetches, security scanners and "
	    "bots.</footer></body></html>\n");
}

/* what hr_event needs */
struct hr_ev {
	struct store	*s;
	json_t		*events;
};

/* hr_rank - links by people's clicks, then all clicks, then by name */
static int
hr_rank(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->ccls[VERDICT_HUMAN] != y->ccls[VERDICT_HUMAN])
		return x->ccls[VERDICT_HUMAN] > y->ccls[VERDICT_HUMAN] ? -1 : 1;
	if (x->clicks != y->clicks)
		return x->clicks > y->clicks ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* hr_rows - the rows of q grouped by "by" */
static int
hr_rows(struct store *s, const struct stats_query *q, enum stats_by by,
    struct report_row **rows, size_t *n)
{
	struct stats_query	g = *q;

	g.by = by;
	return stats_run(s, &g, rows, n);
}

/* hr_event - one event of the message, with the URL of a click */
static int
hr_event(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct hr_ev	*e = arg;
	struct buf	 url = BUF_INIT;
	json_t		*o;
	const char	*link;

	(void)key;
	(void)klen;
	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	link = json_string_value(json_object_get(o, "link"));
	if (link && store_get_link(e->s, strtoull(link, NULL, 16), &url,
	    NULL) == 0 && url.data)
		json_object_set_new(o, "url", json_string(url.data));
	buf_free(&url);
	return json_array_append_new(e->events, o) == 0 ? 0 : -1;
}

int
htmlreport_fill(struct htmlreport *r, struct store *s,
    const struct stats_query *q)
{
	struct report_row	*t = NULL;
	struct hr_ev		 e;
	int64_t			 first, last;
	size_t			 n = 0;
	int			 rc;

	memset(r, 0, sizeof(*r));
	stats_filter_text(q, r->filter, sizeof(r->filter));
	r->since = q->since;
	r->until = q->until;
	r->generated = (int64_t)time(NULL) * 1000000;
	if ((rc = hr_rows(s, q, STATS_BY_TOTAL, &t, &n)) != 0)
		goto fail;
	if (n)
		r->total = t[0];
	free(t);
	if ((rc = hr_rows(s, q, STATS_BY_DAY, &r->time, &r->ntime)) != 0)
		goto fail;
	/*
	 * a few days: hours show the shape of the first hours after sending.
	 * Only those days can have events or sendings: the hours are read in
	 * them (the rows are the same, and a store's other events are not read)
	 */
	if (r->ntime && (last = htmlreport_bucket(r->time[r->ntime - 1].name)) -
	    (first = htmlreport_bucket(r->time[0].name)) <= 2 * HR_DAY) {
		struct stats_query h = *q;

		if (h.since < first)
			h.since = first;
		if (h.until > last + HR_DAY)
			h.until = last + HR_DAY;
		free(r->time);
		r->time = NULL;
		r->hourly = 1;
		if ((rc = hr_rows(s, &h, STATS_BY_HOUR, &r->time,
		    &r->ntime)) != 0)
			goto fail;
	}
	if ((rc = hr_rows(s, q, STATS_BY_LINK, &r->links, &r->nlinks)) != 0)
		goto fail;
	if (r->nlinks > 1)
		qsort(r->links, r->nlinks, sizeof(*r->links), hr_rank);
	if (q->campaign == NULL && q->domain == NULL && q->message == NULL &&
	    ((rc = hr_rows(s, q, STATS_BY_CAMPAIGN, &r->campaigns,
	    &r->ncampaigns)) != 0 || (rc = hr_rows(s, q, STATS_BY_DOMAIN,
	    &r->domains, &r->ndomains)) != 0))
		goto fail;
	if (q->message) {
		uint64_t seq;

		r->message = q->message;
		e.s = s;
		rc = -1;
		if ((e.events = r->events = json_array()) == NULL ||
		    (rc = stats_msgseq(s, q->message, &seq)) != 0 ||
		    (rc = query_events(s, q->since, q->until, seq, hr_event,
		    &e)) != 0)
			goto fail;
	}
	return 0;
fail:
	htmlreport_free(r);
	return rc == 1 ? 1 : -1;
}

void
htmlreport_free(struct htmlreport *r)
{
	free(r->time);
	free(r->links);
	free(r->campaigns);
	free(r->domains);
	json_decref(r->events);
	memset(r, 0, sizeof(*r));
}
