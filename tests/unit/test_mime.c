/*
 * test_mime - the transfer encodings: mime_decode gives the bytes GMime's
 * own decoder gives (malformed input included), and the writers give the
 * bytes of plain byte-by-byte reference writers.
 */
#include "unit.h"
#include "unit.inc"

#include <gmime/gmime.h>

#include "mime.h"

/* ---- decoding: GMime is the reference ---- */

/* gmime_decoded - the content of part p as GMime's data wrapper decodes it */
static void
gmime_decoded(const struct mime_part *p, struct buf *out)
{
	GMimeDataWrapper	*dw = g_mime_part_get_content(GMIME_PART(p->gpart));
	GMimeStream		*mem = g_mime_stream_mem_new();
	GByteArray		*ba;

	assert_non_null(dw);
	assert_true(g_mime_data_wrapper_write_to_stream(dw, mem) >= 0);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	assert_int_equal(buf_append(out, ba->data, ba->len), 0);
	g_object_unref(mem);
}

/* check_decode - a one-part message with body, cte and line ends nl */
static void
check_decode(const char *cte, const char *body, size_t len, const char *nl)
{
	struct buf	 msg = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	struct mime_msg	 m;
	const char	*why;
	size_t		 i;

	assert_int_equal(buf_printf(&msg, "From: a@example.com%sMIME-Version: 1.0%s"
	    "Content-Type: text/html; charset=utf-8%s"
	    "Content-Transfer-Encoding: %s%s%s", nl, nl, nl, cte, nl, nl), 0);
	assert_int_equal(buf_append(&msg, body, len), 0);
	assert_int_equal(mime_parse(&m, msg.data, msg.len, &why), 0);
	for (i = 0; i < m.nparts; i++) {
		buf_reset(&a);
		buf_reset(&b);
		assert_int_equal(mime_decode(&m.parts[i], &a), 0);
		gmime_decoded(&m.parts[i], &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fail_msg("%s body of %zu bytes (%s): %zu bytes decoded,"
			    " GMime %zu", cte, len, nl[1] ? "CRLF" : "LF", a.len,
			    b.len);
	}
	mime_free(&m);
	buf_free(&msg);
	buf_free(&a);
	buf_free(&b);
}

static void
check_decode_both(const char *cte, const char *body, size_t len)
{
	check_decode(cte, body, len, "\n");
	check_decode(cte, body, len, "\r\n");
}

static void
test_decode_cases(void **state)
{
	static const char *const qp[] = {
		"", "plain", "a=3Db", "a=3db", "=\n", "=\r\n", "x=\nx", "x=\r\ny",
		"=", "=4", "x=", "x=4", "=\r", "=G1", "==41", "=4=41", "=\rX",
		"= \n", "=A=B", "=E2=82=AC", "soft=\n=\nbreaks", "a=\r\r\nb",
		"tail  \n", "\x80\xff=FF\x00=00", "0123456789abcdef=3D0123456789abcdef",
		"0123456789abcde=3D0123456789abcdef=", "0123456789abcdef0123=",
		"0123456789abcdef0123=4", "0123456789abcdef=\n0123456789abcdef=\r\n",
	};
	static const char *const b64[] = {
		"", "QQ==", "QUI=", "QUJD", "QUJDRA==", "QQ", "QUI", "QUJDR",
		"QQ==\n", "QU\nI=", "Q Q = =", "QQ==QUJD", "QQ=QQ", "QQ===",
		"====", "=QUJD", "QUJD=", "QUJDRA=\n=", "QUJD\r\nRA==\r\n", "!QUJD*",
		"QU=JD", "QUJD==", "Q===",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(qp) / sizeof(qp[0]); i++)
		check_decode_both("quoted-printable", qp[i], strlen(qp[i]));
	for (i = 0; i < sizeof(b64) / sizeof(b64[0]); i++)
		check_decode_both("base64", b64[i], strlen(b64[i]));
	check_decode_both("8bit", "caf\xc3\xa9=3D\n", 9);
	check_decode_both("binary", "a\0b\r\n", 5);
}

/* random quoted-printable-like text, malformed sequences included */
static void
test_decode_random_qp(void **state)
{
	static const char *const tok[] = {
		"=", "=\n", "=\r\n", "=3D", "=3d", "=G", "=\r", "= \n", " \n",
		"\t", "\r", "\n", "abc", ".", "-", "A", "=4", "==41", "=E2=82=AC",
		"\x80", "hello world ", "0123456789abcdef", "=A=B", "x",
	};
	struct buf	 body = BUF_INIT;
	unsigned	 seed = 1;
	int		 n, k;

	(void)state;
	for (n = 0; n < 400; n++) {
		buf_reset(&body);
		for (k = rand_r(&seed) % 80; k > 0; k--)
			assert_int_equal(buf_puts(&body, tok[rand_r(&seed) %
			    (sizeof(tok) / sizeof(tok[0]))]), 0);
		check_decode_both("quoted-printable", body.data ? body.data : "",
		    body.len);
	}
	buf_free(&body);
}

/*
 * base64 whose padding falls around GMime's 4 KiB reads, and irregular
 * padding, which GMime decodes differently depending on where reads end
 */
static void
test_decode_base64_blocks(void **state)
{
	static const char	 alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf		 body = BUF_INIT;
	unsigned		 seed = 7;
	size_t			 len, k;
	int			 pad, shape;

	(void)state;
	for (len = 4084; len <= 4108; len++)
		for (pad = 0; pad <= 2; pad++)
			for (shape = 0; shape < 4; shape++) {
				buf_reset(&body);
				for (k = 0; k < len; k++) {
					if (shape == 1 && k && k % 76 == 0)
						assert_int_equal(buf_puts(&body,
						    "\r\n"), 0);
					assert_int_equal(buf_putc(&body,
					    alpha[rand_r(&seed) % 64]), 0);
				}
				body.len -= (size_t)pad;
				for (k = 0; k < (size_t)pad; k++)
					assert_int_equal(buf_putc(&body, '='), 0);
				if (shape == 2)
					assert_int_equal(buf_puts(&body, "\n\n"), 0);
				if (shape == 3)
					assert_int_equal(buf_puts(&body, "QUJD"), 0);
				check_decode("base64", body.data, body.len, "\n");
			}
	buf_free(&body);
}

/* ---- writing: plain reference writers ---- */

/* ref_qp - the quoted-printable writer, one byte at a time */
static void
ref_qp(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 nllen = strlen(nl), i, col = 0, line = out->len;

	for (i = 0; i < len; i++) {
		unsigned char c = d[i];

		if (c == (unsigned char)nl[0] && len - i >= nllen &&
		    (nllen == 1 || d[i + 1] == (unsigned char)nl[1])) {
			if (out->len > line && (out->data[out->len - 1] == ' ' ||
			    out->data[out->len - 1] == '\t')) {
				unsigned char w = (unsigned char)out->data[--out->len];

				col--;
				if (col + 3 > 75)
					assert_int_equal(buf_printf(out, "=%s", nl), 0);
				assert_int_equal(buf_printf(out, "=%c%c", hex[w >> 4],
				    hex[w & 15]), 0);
			}
			assert_int_equal(buf_puts(out, nl), 0);
			line = out->len;
			col = 0;
			i += nllen - 1;
			continue;
		}
		{
			int	lit = (c >= 33 && c <= 126 && c != '=') || c == ' ' ||
			    c == '\t';
			size_t	need = lit ? 1 : 3;

			if (col + need > 75) {
				assert_int_equal(buf_printf(out, "=%s", nl), 0);
				line = out->len;
				col = 0;
			}
			if (lit && col == 0 && (c == '.' || c == '-'))
				lit = 0;
			if (lit) {
				assert_int_equal(buf_putc(out, c), 0);
				col++;
			} else {
				assert_int_equal(buf_printf(out, "=%c%c", hex[c >> 4],
				    hex[c & 15]), 0);
				col += 3;
			}
		}
	}
	if (out->len > line && (out->data[out->len - 1] == ' ' ||
	    out->data[out->len - 1] == '\t')) {
		unsigned char w = (unsigned char)out->data[--out->len];

		col--;
		if (col + 3 > 75)
			assert_int_equal(buf_printf(out, "=%s", nl), 0);
		assert_int_equal(buf_printf(out, "=%c%c", hex[w >> 4], hex[w & 15]),
		    0);
	}
}

/* ref_b64 - the base64 writer, one group at a time */
static void
ref_b64(const char *nl, const unsigned char *d, size_t len, struct buf *out)
{
	static const char	b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			i, col = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		assert_int_equal(buf_putc(out, b64[v >> 18 & 63]), 0);
		assert_int_equal(buf_putc(out, b64[v >> 12 & 63]), 0);
		assert_int_equal(buf_putc(out, i + 1 < len ? b64[v >> 6 & 63] :
		    '='), 0);
		assert_int_equal(buf_putc(out, i + 2 < len ? b64[v & 63] : '='), 0);
		col += 4;
		if (col == 76 && i + 3 < len) {
			assert_int_equal(buf_puts(out, nl), 0);
			col = 0;
		}
	}
	assert_int_equal(buf_puts(out, nl), 0);
}

static void
check_encode(const unsigned char *d, size_t len)
{
	static const char *const nls[] = { "\n", "\r\n" };
	struct buf	 a = BUF_INIT, b = BUF_INIT;
	size_t		 k;

	for (k = 0; k < 2; k++) {
		/* something before, as when appending to a message body */
		assert_int_equal(buf_puts(&a, "x"), 0);
		assert_int_equal(buf_puts(&b, "x"), 0);
		assert_int_equal(mime_encode(MIME_ENC_QP, nls[k], (const char *)d,
		    len, &a), 0);
		ref_qp(nls[k], d, len, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fail_msg("QP of %zu bytes (%s) differs from the reference",
			    len, k ? "CRLF" : "LF");
		assert_int_equal(a.data[a.len], '\0');
		buf_reset(&a);
		buf_reset(&b);
		assert_int_equal(mime_encode(MIME_ENC_BASE64, nls[k],
		    (const char *)d, len, &a), 0);
		ref_b64(nls[k], d, len, &b);
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fail_msg("base64 of %zu bytes (%s) differs from the"
			    " reference", len, k ? "CRLF" : "LF");
		buf_reset(&a);
		buf_reset(&b);
	}
	buf_free(&a);
	buf_free(&b);
}

static void
test_encode_random(void **state)
{
	static const char *const tok[] = {
		" ", "\t", "\n", "\r", "\r\n", ".", "-", "=", "a", "Z", "\x7f",
		"\xe9", "  \n", "\t\r\n", ".\n", "-\r\n",
		"0123456789abcdefghijklmnopqrstuvwxyz",
		"<td style=\"padding:0 24px\">", "&amp;", "\x01",
	};
	struct buf	 d = BUF_INIT;
	unsigned	 seed = 3;
	int		 n, k;

	(void)state;
	check_encode((const unsigned char *)"", 0);
	for (n = 0; n < 3000; n++) {
		buf_reset(&d);
		for (k = rand_r(&seed) % (n < 2000 ? 40 : 400); k > 0; k--)
			assert_int_equal(buf_puts(&d, tok[rand_r(&seed) %
			    (sizeof(tok) / sizeof(tok[0]))]), 0);
		check_encode((const unsigned char *)(d.data ? d.data : ""), d.len);
	}
	/* every byte value, long runs of literal bytes, lines of every length */
	for (n = 0; n < 200; n++) {
		buf_reset(&d);
		for (k = 0; k < 256 + n; k++)
			assert_int_equal(buf_putc(&d, k < 256 ? k : 'a' + k % 26), 0);
		for (k = 0; k < n; k++)
			assert_int_equal(buf_putc(&d, 'x'), 0);
		assert_int_equal(buf_puts(&d, n % 2 ? " \r\n" : " "), 0);
		check_encode((const unsigned char *)d.data, d.len);
	}
	buf_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_cases),
		cmocka_unit_test(test_decode_random_qp),
		cmocka_unit_test(test_decode_base64_blocks),
		cmocka_unit_test(test_encode_random),
	};

	mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
