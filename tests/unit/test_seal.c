/* test_seal - sealed links: keys file, round trips, tampering, rotation */
#include "unit.h"
#include "unit.inc"

#include <sys/stat.h>

#include "seal.h"
#include "seal_keys.h"
#include "seal_revoked.h"

#define K1 "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define K2 "2 A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF\n"
#define K1B "1 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n"

static struct seal_keys *
keys(const char *text)
{
	char			 err[256];
	struct seal_keys	*k = seal_keys_parse(text, strlen(text), "keys",
				     err, sizeof(err));

	if (k == NULL)
		fail_msg("seal_keys_parse: %s", err);
	return k;
}

static const char *const urls[] = {
	"https://example.com/news?id=1&src=mail",
	"https://www.example.com/products/summer-sale?utm_source=newsletter"
	    "&utm_medium=email&utm_campaign=2026-06-summer",
	"http://example.com/\xc3\xa9t\xc3\xa9",
	"https://example.com/latin1-\xe9",
	"x",
};

static void
click(struct seal_msg *m, const char *url)
{
	memset(m, 0, sizeof(*m));
	m->kind = SEAL_CLICK;
	m->msg = (UINT64_C(7) << 56) | 12345;
	m->link = (UINT64_C(7) << 56) | 987654321;
	m->pos = 3;
	m->sent_us = INT64_C(1795766400123456);
	m->url = url;
	m->url_len = strlen(url);
}

static void
test_roundtrip(void **state)
{
	struct seal_keys	*k = keys(K1);
	struct seal_msg		 m, o;
	struct buf		 tok = BUF_INIT, url = BUF_INIT;
	size_t			 i, j;

	(void)state;
	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		click(&m, urls[i]);
		m.honeypot = (int)(i & 1);
		buf_reset(&tok);
		assert_int_equal(seal_token(k, &m, &tok), 0);
		for (j = 0; j < tok.len; j++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789-_", tok.data[j]));
		assert_true(tok.len >= SEAL_MIN_LEN);
		assert_int_equal(seal_open(k, SEAL_CLICK, tok.data, tok.len, &o,
		    &url), 0);
		assert_int_equal(o.kind, SEAL_CLICK);
		assert_true(o.msg == m.msg && o.link == m.link);
		assert_int_equal(o.pos, 3);
		assert_int_equal(o.honeypot, m.honeypot);
		assert_true(o.sent_us == INT64_C(1795766400123000));
		assert_int_equal(o.url_len, m.url_len);
		assert_string_equal(o.url, urls[i]);
		/* a click token is not an open token */
		assert_int_equal(seal_open(k, SEAL_OPEN, tok.data, tok.len, &o,
		    &url), -1);
	}
	/* an open: no link, no URL */
	memset(&m, 0, sizeof(m));
	m.kind = SEAL_OPEN;
	m.msg = 42;
	m.sent_us = 1000;
	buf_reset(&tok);
	assert_int_equal(seal_token(k, &m, &tok), 0);
	assert_int_equal(seal_open(k, SEAL_OPEN, tok.data, tok.len, &o, &url), 0);
	assert_true(o.msg == 42 && o.sent_us == 1000 && o.kind == SEAL_OPEN);
	assert_int_equal(seal_open(k, SEAL_CLICK, tok.data, tok.len, &o, &url),
	    -1);
	buf_free(&tok);
	buf_free(&url);
	seal_keys_free(k);
}

/* every change of one character, and every cut, fails to open */
static void
test_tamper(void **state)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	struct seal_keys	*k = keys(K1);
	struct seal_msg		 m, o;
	struct buf		 tok = BUF_INIT, url = BUF_INIT;
	char			 bad[SEAL_TOKEN_MAX + 8];
	size_t			 i, c;

	(void)state;
	click(&m, urls[1]);
	assert_int_equal(seal_token(k, &m, &tok), 0);
	for (i = 0; i < tok.len; i++)
		for (c = 0; c < 64; c += 7) {
			memcpy(bad, tok.data, tok.len + 1);
			if (bad[i] == b64[c])
				continue;
			bad[i] = b64[c];
			assert_int_equal(seal_open(k, SEAL_CLICK, bad, tok.len,
			    &o, &url), -1);
		}
	for (i = 0; i < tok.len; i++)
		assert_int_equal(seal_open(k, SEAL_CLICK, tok.data, i, &o, &url),
		    -1);
	/* what nettle's decoder would forgive is still not a token */
	snprintf(bad, sizeof(bad), "%s=", tok.data);
	assert_int_equal(seal_open(k, SEAL_CLICK, bad, tok.len + 1, &o, &url), -1);
	snprintf(bad, sizeof(bad), " %s", tok.data);
	assert_int_equal(seal_open(k, SEAL_CLICK, bad, tok.len + 1, &o, &url), -1);
	snprintf(bad, sizeof(bad), "%sA", tok.data);
	assert_int_equal(seal_open(k, SEAL_CLICK, bad, tok.len + 1, &o, &url), -1);
	/* a stored ID's length, garbage */
	assert_int_equal(seal_open(k, SEAL_CLICK, "AAAAAAAAAAAAAAAAAAAAAA", 22,
	    &o, &url), -1);
	memset(bad, 'A', 200);
	assert_int_equal(seal_open(k, SEAL_CLICK, bad, 200, &o, &url), -1);
	assert_int_equal(seal_open(NULL, SEAL_CLICK, tok.data, tok.len, &o,
	    &url), -1);
	buf_free(&tok);
	buf_free(&url);
	seal_keys_free(k);
}

/* the last key seals, all open; retired and foreign keys do not */
static void
test_rotation(void **state)
{
	struct seal_keys	*old = keys(K1), *both = keys(K1 K2);
	struct seal_keys	*retired = keys(K2), *other = keys(K1B);
	struct seal_msg		 m, o;
	struct buf		 t1 = BUF_INIT, t2 = BUF_INIT, url = BUF_INIT;

	(void)state;
	assert_int_equal(both->seal, 2);
	click(&m, urls[0]);
	assert_int_equal(seal_token(old, &m, &t1), 0);
	assert_int_equal(seal_token(both, &m, &t2), 0);
	assert_int_equal(seal_open(both, SEAL_CLICK, t1.data, t1.len, &o, &url), 0);
	assert_string_equal(o.url, urls[0]);
	assert_int_equal(seal_open(both, SEAL_CLICK, t2.data, t2.len, &o, &url), 0);
	assert_int_equal(seal_open(retired, SEAL_CLICK, t1.data, t1.len, &o,
	    &url), -1);
	assert_int_equal(seal_open(retired, SEAL_CLICK, t2.data, t2.len, &o,
	    &url), 0);
	assert_int_equal(seal_open(other, SEAL_CLICK, t1.data, t1.len, &o,
	    &url), -1);
	assert_int_equal(seal_open(old, SEAL_CLICK, t2.data, t2.len, &o,
	    &url), -1);
	buf_free(&t1);
	buf_free(&t2);
	buf_free(&url);
	seal_keys_free(old);
	seal_keys_free(both);
	seal_keys_free(retired);
	seal_keys_free(other);
}

/* the bounds: URL length, one node per token; tokens differ (nonce) */
static void
test_bounds(void **state)
{
	struct seal_keys	*k = keys(K1);
	struct seal_msg		 m, o;
	struct buf		 tok = BUF_INIT, tok2 = BUF_INIT, url = BUF_INIT;
	char			*big = malloc(SEAL_URL_MAX + 2);
	size_t			 i;

	(void)state;
	assert_non_null(big);
	/* incompressible: the longest token */
	for (i = 0; i < SEAL_URL_MAX + 1; i++)
		big[i] = (char)('!' + (i * 7919 + i / 3) % 90);
	big[SEAL_URL_MAX + 1] = '\0';
	click(&m, big);
	assert_int_equal(seal_token(k, &m, &tok), -1);
	m.url_len = SEAL_URL_MAX;
	assert_int_equal(seal_token(k, &m, &tok), 0);
	assert_true(tok.len <= SEAL_TOKEN_MAX);
	assert_int_equal(seal_open(k, SEAL_CLICK, tok.data, tok.len, &o, &url), 0);
	assert_int_equal(o.url_len, SEAL_URL_MAX);
	assert_memory_equal(o.url, big, SEAL_URL_MAX);
	click(&m, urls[0]);
	m.link = 5;	/* node 0, the message node 7 */
	assert_int_equal(seal_token(k, &m, &tok), -1);
	click(&m, urls[0]);
	buf_reset(&tok);
	assert_int_equal(seal_token(k, &m, &tok), 0);
	assert_int_equal(seal_token(k, &m, &tok2), 0);
	assert_int_equal(tok.len, tok2.len);
	assert_memory_not_equal(tok.data, tok2.data, tok.len);
	/* a compressible URL gets a token shorter than its raw length needs */
	click(&m, urls[1]);
	buf_reset(&tok);
	assert_int_equal(seal_token(k, &m, &tok), 0);
	assert_true(tok.len < (1 + 12 + 16 + 16 + strlen(urls[1])) * 4 / 3);
	free(big);
	buf_free(&tok);
	buf_free(&tok2);
	buf_free(&url);
	seal_keys_free(k);
}

/* bad lines name the line and the reason */
static void
test_keys_parse(void **state)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "", "keys: no key" },
		{ "# only a comment\n\n", "keys: no key" },
		{ "0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		    "keys:1: key ID out of range 1-255" },
		{ K1 "256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		    "keys:2: key ID out of range 1-255" },
		{ "\n" K1 "3 0001020304\n", "keys:3: the key must be 64 hex digits" },
		{ "3 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
		    "keys:1: the key must be 64 hex digits" },
		{ "3 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\n",
		    "keys:1: the key must be 64 hex digits (text after it)" },
		{ K1 K2 K1B, "keys:3: key ID listed twice" },
		{ "x " K1, "keys:1: want \"ID HEX\"" },
		{ "1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		    "keys:1: want \"ID HEX\": a space after the ID" },
	};
	struct seal_keys	*k;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		k = seal_keys_parse(bad[i].text, strlen(bad[i].text), "keys",
		    err, sizeof(err));
		assert_null(k);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			    bad[i].want);
		/* never the key itself */
		assert_null(strstr(err, "0001020304"));
	}
	k = keys("# keys\n\n" K2 "  " K1 "\r\n");
	assert_int_equal(k->count, 2);
	assert_int_equal(k->seal, 1);
	assert_int_equal(k->key[2][0], 0xa0);
	seal_keys_free(k);
}

/* the file: permissions, and a new line from keygen */
static void
test_keys_file(void **state)
{
	struct seal_keys	*k;
	char			*d = unit_tmpdir(), path[512], line[SEAL_KEY_LINE];
	char			 err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/keys", d);
	assert_int_equal(seal_keys_line(0, line), -1);
	assert_int_equal(seal_keys_line(256, line), -1);
	assert_int_equal(seal_keys_line(17, line), 0);
	assert_int_equal(strlen(line), 3 + 64 + 1);
	unit_write(path, line);
	assert_int_equal(chmod(path, 0644), 0);
	assert_null(seal_keys_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "bad permissions 0644"));
	assert_int_equal(chmod(path, 0660), 0);
	assert_null(seal_keys_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "bad permissions 0660"));
	assert_int_equal(chmod(path, 0640), 0);
	assert_non_null(k = seal_keys_load(path, err, sizeof(err)));
	assert_int_equal(k->seal, 17);
	seal_keys_free(k);
	assert_int_equal(chmod(path, 0600), 0);
	assert_non_null(k = seal_keys_load(path, err, sizeof(err)));
	seal_keys_free(k);
	assert_null(seal_keys_load(d, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	snprintf(path, sizeof(path), "%s/none", d);
	assert_null(seal_keys_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "No such file"));
	unit_rmrf(d);
	free(d);
}

/* the revocation list: sorted numbers, bad lines named */
static void
test_revoked(void **state)
{
	struct seal_revoked	 r;
	char			*d = unit_tmpdir(), path[512], err[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/revoked", d);
	unit_write(path, "# withdrawn\n\n0300000000000007\n  000000000000002a\n"
	    "00000000000000FF \r\n");
	assert_int_equal(seal_revoked_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 3);
	assert_true(seal_revoked_has(&r, (UINT64_C(3) << 56) | 7));
	assert_true(seal_revoked_has(&r, 42));
	assert_true(seal_revoked_has(&r, 255));
	assert_false(seal_revoked_has(&r, 7));
	assert_false(seal_revoked_has(&r, 0));
	seal_revoked_free(&r);
	assert_false(seal_revoked_has(&r, 42));
	unit_write(path, "000000000000002a\n2a\n");
	assert_int_equal(seal_revoked_load(&r, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "revoked:2: want a sequence number"));
	assert_int_equal(r.n, 0);
	unit_write(path, "000000000000002a0\n");
	assert_int_equal(seal_revoked_load(&r, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "revoked:1:"));
	unit_rmrf(d);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_keys_parse),
		cmocka_unit_test(test_keys_file),
		cmocka_unit_test(test_revoked),
	};

	return cmocka_run_group_tests_name("seal", tests, NULL, NULL);
}
