/* test_whsign - Standard Webhooks signatures: the spec's test vector, bad secrets, masking */
#include "unit.h"
#include "unit.inc"

#include <string.h>

#include "whsign.h"

/* the reference libraries' test vector */
static void
test_vector(void **state)
{
	struct whsign_key	k;
	char			err[128], sig[WHSIGN_SIG_LEN];
	const char		*body = "{\"test\": 2432232314}";

	(void)state;
	assert_int_equal(whsign_key_parse(&k,
	    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", err, sizeof(err)), 0);
	assert_int_equal(k.len, 24);
	whsign_sign(&k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
	    strlen(body), sig);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* one byte of the body changed: another signature */
	whsign_sign(&k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232315}", strlen(body), sig);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* and another timestamp */
	whsign_sign(&k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body,
	    strlen(body), sig);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void
test_bad_secrets(void **state)
{
	static const char *const bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",	/* no prefix */
		"whsec_",				/* empty */
		"whsec_!!!!not-base64!!!!",
		"whsec_AAAA",				/* 3 bytes */
		NULL,
	};
	struct whsign_key	k;
	char			err[128];
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(whsign_key_parse(&k, bad[i], err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		if (bad[i] && strlen(bad[i]) > 8)
			assert_null(strstr(err, bad[i] + 6));
	}
}

static void
test_mask(void **state)
{
	char out[64];

	(void)state;
	whsign_mask("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", out, sizeof(out));
	assert_string_equal(out, "whsec_**** (24 bytes)");
	whsign_mask("nonsense", out, sizeof(out));
	assert_string_equal(out, "****");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_bad_secrets),
		cmocka_unit_test(test_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
