/* test_htmlreport - HTML escaping, the SVG charts, the report page */
#include "unit.h"
#include "unit.inc"

#include "chart.h"
#include "esc.h"
#include "htmlreport.h"

static char *
esc(const char *s, size_t n)
{
	static struct buf b = BUF_INIT;

	buf_reset(&b);
	assert_int_equal(esc_html(&b, s, n), 0);
	return b.data ? b.data : (char *)"";
}

static void
test_esc(void **state)
{
	(void)state;
	assert_string_equal(esc("<script>alert(1)</script>", 25),
	    "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_string_equal(esc("a\"b'c&d", 7), "a&quot;b&#39;c&amp;d");
	assert_string_equal(esc("&amp;", 5), "&amp;amp;");
	/* control bytes, a NUL inside, DEL: U+FFFD, never raw */
	assert_string_equal(esc("x\x01y\0z\x7f\r\n\t", 9),
	    "x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd");
	/* UTF-8 passes as it is */
	assert_string_equal(esc("Gr\xc3\xbc\xc3\x9f" "e", 7), "Gr\xc3\xbc\xc3\x9f" "e");
	assert_string_equal(esc("", 0), "");
	{
		struct buf b = BUF_INIT;

		assert_int_equal(esc_html_str(&b, NULL), 0);
		assert_int_equal(b.len, 0);
		buf_free(&b);
	}
}

static void
test_step(void **state)
{
	(void)state;
	assert_int_equal(chart_step(0, 4), 1);
	assert_int_equal(chart_step(3, 4), 1);
	assert_int_equal(chart_step(7, 4), 2);
	assert_int_equal(chart_step(17, 4), 5);
	assert_int_equal(chart_step(40, 4), 10);
	assert_int_equal(chart_step(41, 4), 20);
	assert_int_equal(chart_step(1000001, 4), 500000);
	assert_true(chart_step(UINT64_MAX, 4) >= UINT64_MAX / 4 / 10);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* ten e-acute, two bytes each */
#define E10	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"

static void
test_chart(void **state)
{
	static const char *const series[] = { "people", "<machines>" };
	struct chart_bar	 bars[3] = {
		{ "Mon", { 3, 1 } }, { "<b>", { 0, 0 } }, { "Wed", { 0, 7 } }
	};
	struct chart		 c = { "Clicks \"now\"", series, 2, bars, 3 };
	struct buf		 b = BUF_INIT;

	(void)state;
	assert_int_equal(chart_svg(&b, &c), 0);
	assert_non_null(strstr(b.data, "<svg class=\"chart\""));
	assert_int_equal(count(b.data, "<svg"), 1);
	assert_int_equal(count(b.data, "</svg>"), 1);
	/* one rect per non-zero part, with its tooltip */
	assert_int_equal(count(b.data, "class=\"bar s0\""), 1);
	assert_int_equal(count(b.data, "class=\"bar s1\""), 2);
	assert_non_null(strstr(b.data, "<title>Wed: &lt;machines&gt; 7</title>"));
	assert_non_null(strstr(b.data, ">&lt;b&gt;</text>"));
	assert_non_null(strstr(b.data, "aria-label=\"Clicks &quot;now&quot;\""));
	assert_null(strstr(b.data, "<b>"));
	/* a y axis from 0 to 8 (step 2) */
	assert_non_null(strstr(b.data, ">8</text>"));
	assert_int_equal(count(b.data, "class=\"ytick\""), 5);
	buf_free(&b);

	/* a long label is cut (not inside a UTF-8 sequence) with an ellipsis:
	 * three bars leave room for 23 characters, the cut falls on byte 22 */
	bars[0].label = "x" E10 E10 E10;
	buf_free(&b);
	assert_int_equal(chart_svg(&b, &c), 0);
	assert_non_null(strstr(b.data, ">x" E10 "\xe2\x80\xa6</text>"));
	assert_non_null(strstr(b.data, "<title>x" E10 E10 E10 ": people 3"));
	buf_free(&b);

	/* no bars: the axes and a note */
	c.nbars = 0;
	assert_int_equal(chart_svg(&b, &c), 0);
	assert_non_null(strstr(b.data, "no events"));
	assert_null(strstr(b.data, "class=\"bar"));
	buf_free(&b);
	c.nseries = 0;
	assert_int_equal(chart_svg(&b, &c), -1);
	buf_free(&b);
}

static void
test_bucket(void **state)
{
	(void)state;
	assert_int_equal(htmlreport_bucket("1970-01-02"), 86400LL * 1000000);
	assert_int_equal(htmlreport_bucket("1970-01-01T01:00"), 3600LL * 1000000);
	assert_int_equal(htmlreport_bucket("yesterday"), -1);
	assert_int_equal(htmlreport_bucket("1970-01-01x"), -1);
}

#define EVIL	"<script>alert(\"x\")</script>'&"

static void
test_page(void **state)
{
	struct report_row	 days[2], links[1], camps[2];
	struct htmlreport	 r;
	struct buf		 b = BUF_INIT;
	json_t			*ev;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(days, 0, sizeof(days));
	memset(links, 0, sizeof(links));
	memset(camps, 0, sizeof(camps));
	snprintf(r.filter, sizeof(r.filter), "campaign " EVIL);
	r.until = INT64_MAX;
	r.generated = 1767225600LL * 1000000;
	r.total.sent = 12345;
	r.total.opens = 10;
	r.total.uopens = 4;
	r.total.uclicks = 1;
	r.total.ocls[VERDICT_HUMAN] = 6;
	r.total.ocls[VERDICT_PROXY] = 4;
	r.total.ccls[VERDICT_HUMAN] = 2;
	r.total.ccls[VERDICT_BOT] = 1;
	snprintf(days[0].name, sizeof(days[0].name), "2026-01-01");
	days[0].ocls[VERDICT_HUMAN] = 5;
	snprintf(days[1].name, sizeof(days[1].name), "2026-01-04");
	days[1].ccls[VERDICT_SCANNER] = 9;
	r.time = days;
	r.ntime = 2;
	snprintf(links[0].name, sizeof(links[0].name), "https://x.example/?a=1&b=" EVIL);
	links[0].ccls[VERDICT_HUMAN] = 1;
	links[0].clicks = 1;
	links[0].pos = 3;
	r.links = links;
	r.nlinks = 1;
	snprintf(camps[0].name, sizeof(camps[0].name), EVIL);
	snprintf(camps[1].name, sizeof(camps[1].name), "spring");
	r.campaigns = camps;
	r.ncampaigns = 2;
	r.message = "<" EVIL "@example.com>";
	r.events = ev = json_pack("[{s:I, s:s, s:s, s:s, s:s, s:s, s:s}]", "time",
	    (json_int_t)1767225600000000, "type", "click", "class", "bot",
	    "reason", "curl", "ip", "127.0.0.1", "ua", EVIL, "url",
	    "javascript:" EVIL);
	assert_non_null(r.events);
	assert_int_equal(htmlreport_write(&b, &r), 0);

	/* nothing from the data forms markup */
	assert_null(strstr(b.data, "<script"));
	assert_null(strstr(b.data, "alert(\""));
	assert_null(strstr(b.data, "href="));
	assert_int_equal(count(b.data, "&lt;script&gt;alert(&quot;x&quot;)"), 9);
	/* the numbers with their stats --json keys */
	assert_non_null(strstr(b.data, "data-k=\"sent\" data-v=\"12345\">12,345<"));
	assert_non_null(strstr(b.data, "data-k=\"opens_machine\" data-v=\"4\""));
	assert_non_null(strstr(b.data, "data-k=\"opens_by_class.proxy\" data-v=\"4\""));
	assert_non_null(strstr(b.data, "data-k=\"click_to_open\" data-v=\"0.250000\">25.0%<"));
	/* a week on the axis, ending on the last day; bars only where counts are */
	assert_int_equal(count(b.data, "<svg class=\"chart\""), 3);
	assert_non_null(strstr(b.data, ">Dec 29</text>"));
	assert_non_null(strstr(b.data, ">Jan 04</text>"));
	assert_int_equal(count(b.data, "class=\"bar s"), 2);
	/* a link's place and share */
	assert_non_null(strstr(b.data, "<td>3</td>"));
	assert_non_null(strstr(b.data, "data-v=\"0.500000\">50.0%"));
	/* the message's events */
	assert_non_null(strstr(b.data, "<td class=\"t c-bot\">bot</td>"));
	assert_non_null(strstr(b.data, "</html>\n"));
	buf_free(&b);

	json_decref(ev);

	/* nothing at all: still a page */
	memset(&r, 0, sizeof(r));
	assert_int_equal(htmlreport_write(&b, &r), 0);
	assert_non_null(strstr(b.data, "all mail"));
	assert_non_null(strstr(b.data, "no clicks"));
	assert_non_null(strstr(b.data, "data-k=\"click_to_open\" data-v=\"null\""));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_esc),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_page),
	};

	return cmocka_run_group_tests_name("htmlreport", tests, NULL, NULL);
}
