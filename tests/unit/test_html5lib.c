/*
 * test_html5lib - the html scanner against the html5lib tokenizer tests
 * (the .test files of tests/data/html5lib, MIT licence, see LICENSE there).
 *
 * For each test that starts in the data state, the tags and comments
 * html_scan reports must be the StartTag (name, attributes with decoded
 * values, self-closing flag), EndTag (name) and Comment (data) tokens
 * expected, in order. Tests whose input has no
 * '<' also check html_decode against the expected character data, which
 * covers the named and numeric character reference tests.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "html.h"

static unsigned	 n_checked, n_skipped, n_tags, n_text;

/*
 * unescape - the extra \uHHHH round of "doubleEscaped" tests, into UTF-8;
 * -1 on a lone surrogate, which UTF-8 input cannot carry.
 */
static int
unescape(const char *s, size_t n, struct buf *out)
{
	size_t		 i;
	unsigned	 c, lo;
	char		 u[4];

	buf_reset(out);
	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 6 > n || s[i + 1] != 'u' ||
		    sscanf(s + i + 2, "%4x", &c) != 1) {
			assert_int_equal(buf_putc(out, s[i]), 0);
			continue;
		}
		i += 5;
		if (c >= 0xDC00 && c <= 0xDFFF)
			return -1;
		if (c >= 0xD800 && c <= 0xDBFF) {
			if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
			    sscanf(s + i + 3, "%4x", &lo) != 1 ||
			    lo < 0xDC00 || lo > 0xDFFF)
				return -1;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		}
		if (c < 0x80) {
			u[0] = (char)c;
			assert_int_equal(buf_append(out, u, 1), 0);
		} else if (c < 0x800) {
			u[0] = (char)(0xC0 | c >> 6);
			u[1] = (char)(0x80 | (c & 0x3F));
			assert_int_equal(buf_append(out, u, 2), 0);
		} else if (c < 0x10000) {
			u[0] = (char)(0xE0 | c >> 12);
			u[1] = (char)(0x80 | (c >> 6 & 0x3F));
			u[2] = (char)(0x80 | (c & 0x3F));
			assert_int_equal(buf_append(out, u, 3), 0);
		} else {
			u[0] = (char)(0xF0 | c >> 18);
			u[1] = (char)(0x80 | (c >> 12 & 0x3F));
			u[2] = (char)(0x80 | (c >> 6 & 0x3F));
			u[3] = (char)(0x80 | (c & 0x3F));
			assert_int_equal(buf_append(out, u, 4), 0);
		}
	}
	return 0;
}

/* str - a JSON string of a test, unescaped once more if it asks for it */
static json_t *
str(json_t *j, int dbl, int *bad)
{
	struct buf	 b = BUF_INIT;
	json_t		*r;

	if (!dbl)
		return json_incref(j);
	if (unescape(json_string_value(j), json_string_length(j), &b) == -1) {
		*bad = 1;
		buf_free(&b);
		return json_null();
	}
	r = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	assert_non_null(r);
	return r;
}

/*
 * expected - the test's tag and comment tokens: ["StartTag", name,
 * {attrs}(, true)], ["EndTag", name], ["Comment", data]
 */
static json_t *
expected(json_t *output, int dbl, int comments, int *bad)
{
	json_t		*want = json_array(), *tok, *t, *attrs, *v;
	const char	*k, *type;
	size_t		 i;
	struct buf	 kb = BUF_INIT;

	json_array_foreach(output, i, tok) {
		type = json_string_value(json_array_get(tok, 0));
		if (strcmp(type, "StartTag") == 0)
			n_tags++;
		else if (strcmp(type, "EndTag") &&
		    (!comments || strcmp(type, "Comment")))
			continue;
		t = json_array();
		json_array_append_new(t, json_string(type));
		json_array_append_new(t, str(json_array_get(tok, 1), dbl, bad));
		if (strcmp(type, "StartTag")) {
			json_array_append_new(want, t);
			continue;
		}
		attrs = json_object();
		json_object_foreach(json_array_get(tok, 2), k, v) {
			if (dbl && unescape(k, strlen(k), &kb) == -1)
				*bad = 1;
			json_object_set_new(attrs, dbl ? (kb.data ? kb.data : "") : k,
			    str(v, dbl, bad));
		}
		json_array_append_new(t, attrs);
		if (json_array_size(tok) > 3 && json_is_true(json_array_get(tok, 3)))
			json_array_append(t, json_true());
		json_array_append_new(want, t);
	}
	buf_free(&kb);
	return want;
}

struct scanned {
	const char	*in;
	json_t		*tokens;
	int		 comments;
};

/* comment_data - as the tokenizer emits it: CR LF and CR as LF, NUL U+FFFD */
static json_t *
comment_data(const char *s, size_t n)
{
	struct buf	 b = BUF_INIT;
	json_t		*r;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			assert_int_equal(buf_putc(&b, '\n'), 0);
			i += i + 1 < n && s[i + 1] == '\n';
		} else if (s[i] == '\0')
			assert_int_equal(buf_puts(&b, "\xEF\xBF\xBD"), 0);
		else
			assert_int_equal(buf_putc(&b, s[i]), 0);
	}
	r = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	assert_non_null(r);
	return r;
}

static int
collect(void *arg, const struct html_token *t)
{
	struct scanned	*sc = arg;
	json_t		*tok, *attrs;
	size_t		 i;

	tok = json_array();
	if (t->type == HTML_COMMENT && !sc->comments) {
		json_decref(tok);
		return 0;
	}
	if (t->type == HTML_COMMENT) {
		json_array_append_new(tok, json_string("Comment"));
		json_array_append_new(tok, comment_data(sc->in + t->data_start,
		    t->data_end - t->data_start));
		json_array_append_new(sc->tokens, tok);
		return 0;
	}
	if (t->type == HTML_DOCTYPE) {
		json_decref(tok);
		return 0;
	}
	json_array_append_new(tok, json_string(t->type == HTML_START_TAG ?
	    "StartTag" : "EndTag"));
	json_array_append_new(tok, json_stringn(t->name, t->name_len));
	if (t->type == HTML_END_TAG) {
		json_array_append_new(sc->tokens, tok);
		return 0;
	}
	attrs = json_object();
	for (i = 0; i < t->nattrs; i++) {
		/* later duplicates were dropped by the scanner already */
		assert_null(json_object_get(attrs, t->attrs[i].name));
		assert_int_equal(strlen(t->attrs[i].name), t->attrs[i].name_len);
		assert_int_equal(json_object_set_new(attrs, t->attrs[i].name,
		    json_stringn(t->attrs[i].value, t->attrs[i].value_len)), 0);
	}
	json_array_append_new(tok, attrs);
	if (t->self_closing)
		json_array_append(tok, json_true());
	json_array_append_new(sc->tokens, tok);
	return 0;
}

/* text_only - the expected output is character data alone: its text */
static int
text_only(json_t *output, int dbl, struct buf *text, int *bad)
{
	json_t	*tok, *s;
	size_t	 i;

	buf_reset(text);
	json_array_foreach(output, i, tok) {
		if (strcmp(json_string_value(json_array_get(tok, 0)), "Character"))
			return 0;
		s = str(json_array_get(tok, 1), dbl, bad);
		if (!*bad)
			assert_int_equal(buf_append(text, json_string_value(s),
			    json_string_length(s)), 0);
		json_decref(s);
	}
	return 1;
}

/*
 * run_one - 1 if the test passed, 0 if it failed, -1 if skipped. strict: 0
 * when the expected comments and text are coerced to an XML infoset.
 */
static int
run_one(json_t *test, int strict)
{
	json_t		*states = json_object_get(test, "initialStates");
	json_t		*output = json_object_get(test, "output"), *st;
	json_t		*want;
	struct scanned	 got;
	struct buf	 input = BUF_INIT, text = BUF_INIT, dec = BUF_INIT;
	const char	*in;
	size_t		 i, len;
	int		 dbl, bad = 0, data = states == NULL, ok = 1;
	char		*a, *b;

	json_array_foreach(states, i, st)
		if (strcmp(json_string_value(st), "Data state") == 0)
			data = 1;
	if (!data)
		return -1;
	dbl = json_is_true(json_object_get(test, "doubleEscaped"));
	in = json_string_value(json_object_get(test, "input"));
	len = json_string_length(json_object_get(test, "input"));
	if (dbl) {
		if (unescape(in, len, &input) == -1) {
			buf_free(&input);
			return -1;
		}
		in = input.data ? input.data : "";
		len = input.len;
	}
	want = expected(output, dbl, strict, &bad);
	if (bad) {
		json_decref(want);
		buf_free(&input);
		return -1;
	}
	got.in = in;
	got.comments = strict;
	got.tokens = json_array();
	assert_int_equal(html_scan(in, len, HTML_SCAN_TOKENIZER, collect, &got),
	    0);
	if (!json_equal(got.tokens, want)) {
		a = json_dumps(got.tokens, JSON_COMPACT | JSON_ENSURE_ASCII);
		b = json_dumps(want, JSON_COMPACT | JSON_ENSURE_ASCII);
		printf("# %s\n#   got:  %s\n#   want: %s\n",
		    json_string_value(json_object_get(test, "description")), a, b);
		free(a);
		free(b);
		ok = 0;
	}
	if (strict && memchr(in, '<', len) == NULL &&
	    text_only(output, dbl, &text, &bad) && !bad) {
		assert_int_equal(html_decode(in, len, 0, &dec), 0);
		if (dec.len != text.len ||
		    (dec.len && memcmp(dec.data, text.data, dec.len))) {
			printf("# %s: decoded text differs\n",
			    json_string_value(json_object_get(test, "description")));
			ok = 0;
		}
		n_text++;
	}
	json_decref(want);
	json_decref(got.tokens);
	buf_free(&input);
	buf_free(&text);
	buf_free(&dec);
	return ok;
}

static void
test_file(void **state)
{
	const char	*path = *state, *base;
	json_error_t	 err;
	json_t		*root, *tests, *test;
	size_t		 i;
	unsigned	 failed = 0;
	int		 r, strict;

	root = json_load_file(path, JSON_ALLOW_NUL, &err);
	if (root == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	tests = json_object_get(root, "tests");
	/* xmlViolation expects the infoset coercions on comments and text */
	strict = tests != NULL;
	if (tests == NULL)
		tests = json_object_get(root, "xmlViolationTests");
	assert_true(json_is_array(tests));
	json_array_foreach(tests, i, test) {
		r = run_one(test, strict);
		if (r == -1)
			n_skipped++;
		else {
			n_checked++;
			failed += r == 0;
		}
	}
	json_decref(root);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (failed)
		fail_msg("%s: %u test(s) failed", base, failed);
}

static void
test_totals(void **state)
{
	(void)state;
	printf("# html5lib: %u tests checked (%u start tags, %u texts), "
	    "%u skipped\n", n_checked, n_tags, n_text, n_skipped);
	/* every file must have been found and read */
	assert_true(n_checked > 6000);
	assert_true(n_tags > 400);
	assert_true(n_text > 4500);
}

int
main(void)
{
	const char		*top = getenv("MTRACK_TOP");
	char			 pat[4096];
	glob_t			 g;
	struct CMUnitTest	*t;
	size_t			 i, n;
	int			 rc;

	snprintf(pat, sizeof(pat), "%s/tests/data/html5lib/*.test",
	    top ? top : ".");
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc < 13) {
		fprintf(stderr, "%s: html5lib tests not found\n", pat);
		return 1;
	}
	n = g.gl_pathc;
	if ((t = calloc(n + 1, sizeof(*t))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		const char *b = strrchr(g.gl_pathv[i], '/') + 1;
		struct CMUnitTest one = cmocka_unit_test_prestate(test_file,
		    g.gl_pathv[i]);

		one.name = b;
		t[i] = one;
	}
	t[n] = (struct CMUnitTest)cmocka_unit_test(test_totals);
	rc = _cmocka_run_group_tests("html5lib", t, n + 1, NULL, NULL);
	free(t);
	globfree(&g);
	return rc;
}
