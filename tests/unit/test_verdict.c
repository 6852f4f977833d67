/* test_verdict - people or machines: every rule, the recent-hits table, the tally */
#include "unit.h"
#include "unit.inc"

#include "tally.h"
#include "verdict.h"

#define FF	"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
#define SEC	1000000LL

static const struct {
	int		 click;
	const char	*ua, *method, *purpose, *ip;
	int64_t		 age_us;	/* since sending */
	int		 honeypot, source;
	unsigned	 burst;
	const char	*cls, *reason;
} cases[] = {
	{ 1, FF, "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "human", "-" },
	{ 0, FF, "GET", NULL, "10.0.0.1", 1 * SEC, 0, 0, 1, "human", "-" },	/* opens may be fast */
	{ 1, FF, "GET", NULL, "10.0.0.1", 1 * SEC, 0, 0, 1, "scanner", "too-fast" },
	{ 1, FF, "GET", NULL, "10.0.0.1", 0, 0, 0, 1, "human", "-" },		/* send time unknown */
	{ 1, FF, "GET", NULL, "10.0.0.1", 60 * SEC, 1, 0, 1, "scanner", "honeypot" },
	{ 1, FF, "GET", NULL, "10.0.0.1", 60 * SEC, 0, 1, 1, "scanner", "honeypot-source" },
	{ 1, FF, "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 3, "scanner", "burst" },
	{ 1, FF, "GET", NULL, "40.92.1.2", 60 * SEC, 0, 0, 1, "scanner", "microsoft-eop" },
	{ 0, "Mozilla/5.0", "GET", NULL, "17.58.1.1", 60 * SEC, 0, 0, 1, "proxy", "apple-mpp" },
	{ 0, "Mozilla/5.0", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "proxy", "apple-mpp" },
	{ 0, "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
	  "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "proxy", "gmail-proxy" },
	{ 0, "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
	  "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "proxy", "yahoo-proxy" },
	{ 1, "curl/7.88.1", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "curl" },
	{ 1, "python-requests/2.31", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "python" },
	{ 1, "Go-http-client/1.1", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "go" },
	{ 1, "Mozilla/5.0 HeadlessChrome/120", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "headless" },
	{ 1, "Googlebot/2.1", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "bot" },
	{ 1, "Mozilla/5.0 SafeLinks", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "scanner", "safelinks" },
	{ 1, "Barracuda Sentinel", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "scanner", "barracuda" },
	{ 1, "", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "empty-ua" },
	{ 1, NULL, "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "bot", "empty-ua" },
	{ 1, FF, "HEAD", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "head" },
	{ 1, FF, "GET", "prefetch;anonymous-client-ip", "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "purpose-prefetch" },
	{ 1, FF, "GET", "preview", "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "purpose-prefetch" },
	/* link previews and office link checks; Outlook's own image fetch is a person */
	{ 1, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "link-preview" },
	{ 1, "facebookexternalhit/1.1 Facebot Twitterbot/1.0", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "link-preview" },
	{ 1, "WhatsApp/2.23.20.0 A", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "link-preview" },
	{ 1, "Microsoft Office Existence Discovery", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "office-link-check" },
	{ 1, "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "prefetch", "office-link-check" },
	{ 0, "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "human", "-" },
	{ 1, "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) LinkedInApp/9.29", "GET", NULL, "10.0.0.1", 60 * SEC, 0, 0, 1, "human", "-" },
};

static void
test_rules(void **state)
{
	struct verdict_nets	 vn = { NULL, 0 };
	struct verdict_opts	 o = { 2 * SEC, 3 };
	struct verdict_in	 in;
	struct verdict		 v;
	char			 err[256], *dir = unit_tmpdir(), path[512];
	size_t			 i;

	(void)state;
	snprintf(path, sizeof(path), "%s/nets", dir);
	unit_write(path, "# test\n40.92.0.0/15 scanner microsoft-eop\n"
	    "17.0.0.0/8 proxy apple-mpp\n\n2a01:111:f400::/48 scanner microsoft-eop\n");
	assert_int_equal(verdict_nets_load(&vn, path, err, sizeof(err)), 0);
	assert_int_equal(vn.n, 3);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.click = cases[i].click;
		in.ua = cases[i].ua;
		in.method = cases[i].method;
		in.purpose = cases[i].purpose;
		in.ip = cases[i].ip;
		in.now_us = 1000 * SEC;
		in.sent_us = cases[i].age_us ? in.now_us - cases[i].age_us : 0;
		in.honeypot = cases[i].honeypot;
		in.honeypot_source = cases[i].source;
		in.burst = cases[i].burst;
		in.headers_known = 1;
		in.accept = "*/*";
		verdict_decide(&vn, &o, &in, &v);
		if (strcmp(verdict_class_name(v.cls), cases[i].cls) != 0 ||
		    strcmp(v.reason, cases[i].reason) != 0)
			fail_msg("case %zu: %s/%s, want %s/%s", i,
			    verdict_class_name(v.cls), v.reason, cases[i].cls,
			    cases[i].reason);
	}
	/* neither Accept nor Accept-Language: a script, unless nothing is known */
	memset(&in, 0, sizeof(in));
	in.click = 1;
	in.ua = FF;
	in.method = "GET";
	in.ip = "10.0.0.1";
	verdict_decide(&vn, &o, &in, &v);
	assert_string_equal(v.reason, "-");
	in.headers_known = 1;
	verdict_decide(&vn, &o, &in, &v);
	assert_string_equal(v.reason, "no-browser-headers");
	in.accept_language = "en";
	verdict_decide(&vn, &o, &in, &v);
	assert_string_equal(v.reason, "-");
	verdict_nets_free(&vn);
	/* verdict_networks: empty is the built-in list, "none" none, files and "builtin" */
	{
		char w_none[] = "none", w_builtin[] = "builtin";
		char *none[] = { w_none, NULL }, *both[] = { path, w_builtin, NULL };
		char *bad[] = { w_none, path, NULL };
		size_t nbuiltin;

		assert_int_equal(verdict_nets_config(&vn, NULL, err, sizeof(err)), 0);
		nbuiltin = vn.n;
		assert_true(nbuiltin >= 10);
		verdict_nets_free(&vn);
		assert_int_equal(verdict_nets_config(&vn, none, err, sizeof(err)), 0);
		assert_int_equal(vn.n, 0);
		assert_int_equal(verdict_nets_config(&vn, both, err, sizeof(err)), 0);
		assert_int_equal(vn.n, 3 + nbuiltin);
		verdict_nets_free(&vn);
		assert_int_equal(verdict_nets_config(&vn, bad, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "stands alone"));
		verdict_nets_free(&vn);
	}
	/* a bad file names its line */
	unit_write(path, "10.0.0.0/8 human ok\n10.0.0.0/8 robot x\n");
	assert_int_equal(verdict_nets_load(&vn, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nets:2: unknown class \"robot\""));
	verdict_nets_free(&vn);
	unit_write(path, "10.0.0.300 bot x\n");
	assert_int_equal(verdict_nets_load(&vn, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: bad network"));
	verdict_nets_free(&vn);
	{
		char shipped[4096];

		snprintf(shipped, sizeof(shipped), "%s/contrib/networks/scanners.txt",
		    getenv("MTRACK_TOP") ? getenv("MTRACK_TOP") : ".");
		assert_int_equal(verdict_nets_load(&vn, shipped, err,
		    sizeof(err)), 0);
		assert_true(vn.n >= 10);
		verdict_nets_free(&vn);
	}
	unit_rmrf(dir);
	free(dir);
}

static void
test_recent(void **state)
{
	struct verdict_recent	*r = verdict_recent_new(1024, 1 * SEC, 60 * SEC);
	unsigned		 burst;
	int			 flagged;

	(void)state;
	assert_non_null(r);
	verdict_recent_hit(r, 7, "10.0.0.1", 1, 0, 100 * SEC, &burst, &flagged);
	assert_int_equal(burst, 1);
	assert_false(flagged);
	/* the same link again is not a new one */
	verdict_recent_hit(r, 7, "10.0.0.1", 1, 0, 100 * SEC + 10, &burst, &flagged);
	assert_int_equal(burst, 1);
	verdict_recent_hit(r, 7, "10.0.0.1", 2, 0, 100 * SEC + 20, &burst, &flagged);
	assert_int_equal(burst, 2);
	/* another source, another message: their own counts */
	verdict_recent_hit(r, 7, "10.0.0.2", 3, 0, 100 * SEC + 30, &burst, &flagged);
	assert_int_equal(burst, 1);
	verdict_recent_hit(r, 8, "10.0.0.1", 3, 0, 100 * SEC + 30, &burst, &flagged);
	assert_int_equal(burst, 1);
	verdict_recent_hit(r, 7, "10.0.0.1", 3, 0, 100 * SEC + 40, &burst, &flagged);
	assert_int_equal(burst, 3);
	/* after the window: starts again */
	verdict_recent_hit(r, 7, "10.0.0.1", 4, 0, 103 * SEC, &burst, &flagged);
	assert_int_equal(burst, 1);
	/* the honeypot marks the source for its window */
	verdict_recent_hit(r, 7, "10.0.0.1", 9, 1, 104 * SEC, &burst, &flagged);
	assert_true(flagged);
	verdict_recent_hit(r, 7, "10.0.0.1", 0, 0, 150 * SEC, &burst, &flagged);
	assert_true(flagged);
	verdict_recent_hit(r, 7, "10.0.0.1", 0, 0, 170 * SEC, &burst, &flagged);
	assert_false(flagged);
	verdict_recent_free(r);
}

static int
sum_keys(void *arg, const char *key, enum tally_op op, int64_t v)
{
	int64_t *acc = arg;

	(void)key;
	(void)op;
	*acc += v;
	return 0;
}

static void
test_tally(void **state)
{
	struct tally	*t = tally_new();
	char		 key[32];
	int64_t		 acc = 0;
	int		 i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%d", i % 1000);
		assert_int_equal(tally_put(t, key, TALLY_SUM, 1), 0);
	}
	assert_int_equal(tally_count(t), 1000);
	assert_int_equal(tally_each(t, sum_keys, &acc), 0);
	assert_int_equal(acc, 10000);
	assert_int_equal(tally_put(t, "min", TALLY_MIN, 5), 0);
	assert_int_equal(tally_put(t, "min", TALLY_MIN, 3), 0);
	assert_int_equal(tally_put(t, "min", TALLY_MIN, 9), 0);
	assert_int_equal(tally_put(t, "max", TALLY_MAX, 5), 0);
	assert_int_equal(tally_put(t, "max", TALLY_MAX, 9), 0);
	acc = 0;
	tally_reset(t);
	assert_int_equal(tally_count(t), 0);
	assert_int_equal(tally_put(t, "min", TALLY_MIN, 5), 0);
	assert_int_equal(tally_put(t, "min", TALLY_MIN, 3), 0);
	assert_int_equal(tally_each(t, sum_keys, &acc), 0);
	assert_int_equal(acc, 3);
	assert_int_equal(tally_insert(t, "x"), 1);
	assert_int_equal(tally_insert(t, "x"), 0);
	tally_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_recent),
		cmocka_unit_test(test_tally),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
