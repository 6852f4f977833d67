/*
 * test_text - bare URLs in text/plain (shared/text.c).
 */
#include "unit.h"
#include "unit.inc"

#include <string.h>

#include "text.h"

struct seen {
	char	 urls[8][128];
	size_t	 n;
};

/* record - remember the URL as passed, replace it by "<N>" */
static int
record(void *arg, const struct html_link *l, struct buf *repl)
{
	struct seen	*s = arg;
	char		 tag[16];

	assert_true(s->n < 8 && l->url_len < sizeof(s->urls[0]));
	memcpy(s->urls[s->n], l->url, l->url_len);
	s->urls[s->n][l->url_len] = '\0';
	snprintf(tag, sizeof(tag), "<%zu>", s->n++);
	return buf_append(repl, tag, strlen(tag)) == -1 ? -1 : 1;
}

/* rewrite - text_rewrite of in; the output as a NUL-terminated buf */
static void
rewrite(const char *in, struct seen *s, struct buf *out, unsigned *n)
{
	memset(s, 0, sizeof(*s));
	buf_reset(out);
	assert_int_equal(text_rewrite(in, strlen(in), record, s, out, n), 0);
	assert_int_equal(buf_append(out, "", 1), 0);
}

static void
test_scheme_case(void **state)
{
	struct seen	s;
	struct buf	out = BUF_INIT;
	unsigned	n;

	(void)state;
	rewrite("a HTTP://Example.COM/A?B=1 b Https://x.example/Y, "
	    "hTtPs://z.example/ c http://l.example/", &s, &out, &n);
	assert_int_equal(n, 4);
	/* the URL goes to the store as written: case and all */
	assert_string_equal(s.urls[0], "HTTP://Example.COM/A?B=1");
	assert_string_equal(s.urls[1], "Https://x.example/Y");
	assert_string_equal(s.urls[2], "hTtPs://z.example/");
	assert_string_equal(s.urls[3], "http://l.example/");
	assert_string_equal(out.data, "a <0> b <1>, <2> c <3>");
	buf_free(&out);
}

static void
test_not_a_url(void **state)
{
	struct seen	s;
	struct buf	out = BUF_INIT;
	unsigned	n;
	const char	*in = "xHTTP://no.example/ HTTPS:// Hello H httpx://a "
	    "ftp://b.example/ H";

	(void)state;
	rewrite(in, &s, &out, &n);
	assert_int_equal(n, 0);
	assert_string_equal(out.data, in);
	rewrite("HTTP://a.example/(b)). End", &s, &out, &n);
	assert_int_equal(n, 1);
	assert_string_equal(s.urls[0], "HTTP://a.example/(b)");
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme_case),
		cmocka_unit_test(test_not_a_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

