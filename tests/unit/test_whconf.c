/* test_whconf - webhook endpoints: webhook_url, the webhooks file, filters, errors without secrets */
#include "unit.h"
#include "unit.inc"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "whconf.h"

#define SECRET	"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static int
load(const char *conf, const char *hooks, struct whconf *w, char *err,
    size_t errlen)
{
	struct config	 c;
	char		*dir = unit_tmpdir(), path[512], hpath[512], *text;
	int		 rc;

	snprintf(hpath, sizeof(hpath), "%s/webhooks", dir);
	snprintf(path, sizeof(path), "%s/conf", dir);
	if (hooks) {
		unit_write(hpath, hooks);
		assert_true(asprintf(&text, "%swebhooks = %s\n", conf, hpath) > 0);
	} else
		assert_non_null(text = strdup(conf));
	unit_write(path, text);
	free(text);
	assert_int_equal(config_load(&c, path, err, errlen), 0);
	rc = whconf_load(w, &c, err, errlen);
	config_free(&c);
	unit_rmrf(dir);
	free(dir);
	return rc;
}

static void
test_sources(void **state)
{
	struct whconf			 w;
	const struct whendpoint		*e;
	char				 err[512];

	(void)state;
	assert_int_equal(load("webhook_url = http://127.0.0.1:1/a, "
	    "https://h.example/b?k=1\nwebhook_secret = " SECRET "\n",
	    "# comment\n\n  https://c.example/c " SECRET " types=click "
	    "classes=human,proxy\n", &w, err, sizeof(err)), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.ep[1].url, "https://h.example/b?k=1");
	assert_int_equal(w.ep[0].key.len, 24);
	assert_int_equal(strlen(w.ep[0].id), WH_ID_LEN);
	assert_string_not_equal(w.ep[0].id, w.ep[1].id);
	e = whconf_find(&w, "https://c.example/c");
	assert_non_null(e);
	assert_ptr_equal(whconf_find(&w, e->id), e);
	assert_true(whconf_wants(e, WH_CLICK, "human"));
	assert_true(whconf_wants(e, WH_CLICK, "proxy"));
	assert_false(whconf_wants(e, WH_CLICK, "scanner"));
	assert_false(whconf_wants(e, WH_OPEN, "human"));
	assert_true(whconf_wants(&w.ep[0], WH_OPEN, "bot"));
	whconf_free(&w);
	/* none configured */
	assert_int_equal(load("", NULL, &w, err, sizeof(err)), 0);
	assert_int_equal(w.n, 0);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *conf, *hooks, *want;
	} t[] = {
		{ "webhook_url = http://127.0.0.1:1/a\n", NULL, "needs webhook_secret" },
		{ "", "http://x.example/ " SECRET " types=sent\n", "webhooks:1: types" },
		{ "", "\nhttp://x.example/ " SECRET " classes=people\n", ":2: classes" },
		{ "", "http://x.example/\n", ":1: want URL SECRET" },
		{ "", "ftp://x.example/ " SECRET "\n", "must start with http" },
		{ "", "http://x.example/ whsec_AAAA\n", "decodes to 3 bytes" },
		{ "", "http://x.example/ " SECRET "\nhttp://x.example/ " SECRET "\n",
		    ":2: endpoint listed twice" },
	};
	struct whconf	w;
	char		err[512];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(t[i].conf, t[i].hooks, &w, err,
		    sizeof(err)), -1);
		if (strstr(err, t[i].want) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, t[i].want);
		assert_null(strstr(err, SECRET + 6));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
