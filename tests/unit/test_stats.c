/* test_stats - the filters of stats, report and /report, checked and named */
#include "unit.h"
#include "unit.inc"

#include "stats.h"

static void
test_filter(void **state)
{
	static const struct {
		const char	*name, *value;
		int		 ok;
	} cases[] = {
		{ "campaign", "spring", 1 },
		{ "campaign", "<script>alert(\"x\")</script>'&", 1 },
		{ "domain", "example.com", 1 },
		{ "message", "<a@example.com>", 1 },
		{ "since", "2026-01-01", 1 },
		{ "since", "2026-01-01T10:00", 1 },
		{ "until", "@1767225600", 1 },
		{ "since", "7d", 1 },
		{ "bogus", "1", 0 },
		{ "Campaign", "spring", 0 },
		{ "campaign", "", 0 },
		{ "campaign", "a\x01" "b", 0 },
		{ "campaign", "a\tb", 0 },
		{ "campaign", "a\x7f", 0 },
		{ "since", "yesterday", 0 },
		{ "until", "2026-13-45", 0 },
		{ "since", "1w", 0 },
	};
	struct stats_query	q;
	char			err[256], big[300];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stats_query_init(&q);
		err[0] = '\0';
		if (stats_filter(&q, cases[i].name, cases[i].value, err,
		    sizeof(err)) != (cases[i].ok ? 0 : -1))
			fail_msg("%s=%s: want %s (%s)", cases[i].name,
			    cases[i].value, cases[i].ok ? "ok" : "refused", err);
		if (!cases[i].ok && err[0] == '\0')
			fail_msg("%s=%s: no reason", cases[i].name, cases[i].value);
	}

	/* each at most once; several different ones together */
	stats_query_init(&q);
	assert_int_equal(q.until, INT64_MAX);
	assert_int_equal(stats_filter(&q, "campaign", "a", err, sizeof(err)), 0);
	assert_int_equal(stats_filter(&q, "campaign", "b", err, sizeof(err)), -1);
	assert_string_equal(q.campaign, "a");
	assert_int_equal(stats_filter(&q, "domain", "example.com", err,
	    sizeof(err)), 0);
	assert_int_equal(stats_filter(&q, "since", "@60", err, sizeof(err)), 0);
	assert_int_equal(q.since, 60000000);
	assert_int_equal(stats_filter(&q, "since", "@120", err, sizeof(err)), -1);
	assert_int_equal(stats_filter(&q, "until", "@120", err, sizeof(err)), 0);
	assert_int_equal(stats_filter(&q, "until", "@180", err, sizeof(err)), -1);
	assert_int_equal(q.until, 120000000);

	/* names of 255 bytes at most */
	memset(big, 'x', sizeof(big));
	big[255] = '\0';
	stats_query_init(&q);
	assert_int_equal(stats_filter(&q, "campaign", big, err, sizeof(err)), 0);
	big[255] = 'x';
	big[256] = '\0';
	stats_query_init(&q);
	assert_int_equal(stats_filter(&q, "campaign", big, err, sizeof(err)), -1);
}

static void
test_text(void **state)
{
	struct stats_query	q;
	char			t[200], err[64];

	(void)state;
	stats_query_init(&q);
	stats_filter_text(&q, t, sizeof(t));
	assert_string_equal(t, "");
	assert_int_equal(stats_filter(&q, "message", "<a@b>", err, sizeof(err)), 0);
	stats_filter_text(&q, t, sizeof(t));
	assert_string_equal(t, "message <a@b>");
	assert_int_equal(stats_filter(&q, "campaign", "spring", err, sizeof(err)), 0);
	assert_int_equal(stats_filter(&q, "domain", "example.com", err, sizeof(err)), 0);
	stats_filter_text(&q, t, sizeof(t));
	assert_string_equal(t, "campaign spring, sending domain example.com, "
	    "message <a@b>");
	assert_string_equal(stats_by_names[STATS_BY_HOUR], "hour");
	assert_string_equal(stats_by_names[STATS_BY_URL], "url");
	assert_null(stats_by_names[STATS_BY_URL + 1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
