/* test_id - public IDs: round trip, uniqueness, forgery rejected */
#include "unit.h"
#include "unit.inc"

#include "id.h"

static void
test_roundtrip(void **state)
{
	struct id_key	k;
	uint8_t		raw[ID_KEY_LEN];
	char		id[ID_LEN + 1];
	uint64_t	seq, s;
	size_t		i;

	(void)state;
	assert_int_equal(id_random(raw, sizeof(raw)), 0);
	id_key_init(&k, raw);
	for (seq = 0; seq < 5000; seq += 7) {
		id_encode(&k, ID_LINK, seq, id);
		assert_int_equal(strlen(id), ID_LEN);
		for (i = 0; i < ID_LEN; i++)
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789-_", id[i]));
		assert_int_equal(id_decode(&k, ID_LINK, id, ID_LEN, &s), 0);
		assert_int_equal(s, seq);
		/* a link ID is not a message ID */
		assert_int_equal(id_decode(&k, ID_MSG, id, ID_LEN, &s), -1);
	}
	id_encode(&k, ID_MSG, UINT64_MAX, id);
	assert_int_equal(id_decode(&k, ID_MSG, id, ID_LEN, &s), 0);
	assert_true(s == UINT64_MAX);
}

static void
test_forgery(void **state)
{
	struct id_key	k, k2;
	uint8_t		raw[ID_KEY_LEN];
	char		id[ID_LEN + 1], bad[ID_LEN + 1];
	uint64_t	s;
	size_t		i;
	int		accepted = 0;

	(void)state;
	assert_int_equal(id_random(raw, sizeof(raw)), 0);
	id_key_init(&k, raw);
	raw[0] ^= 1;
	id_key_init(&k2, raw);
	id_encode(&k, ID_LINK, 42, id);
	/* another store's key does not accept it */
	assert_int_equal(id_decode(&k2, ID_LINK, id, ID_LEN, &s), -1);
	/* every single-character change is rejected */
	for (i = 0; i < ID_LEN; i++) {
		memcpy(bad, id, sizeof(bad));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		accepted += id_decode(&k, ID_LINK, bad, ID_LEN, &s) == 0;
	}
	assert_int_equal(accepted, 0);
	/* wrong length, bad characters */
	assert_int_equal(id_decode(&k, ID_LINK, id, ID_LEN - 1, &s), -1);
	memcpy(bad, id, sizeof(bad));
	bad[3] = '.';
	assert_int_equal(id_decode(&k, ID_LINK, bad, ID_LEN, &s), -1);
	/* random strings are not IDs */
	for (i = 0; i < 20000; i++) {
		uint8_t r[ID_LEN];
		size_t j;

		id_random(r, sizeof(r));
		for (j = 0; j < ID_LEN; j++)
			bad[j] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[r[j] & 63];
		accepted += id_decode(&k, ID_LINK, bad, ID_LEN, &s) == 0;
	}
	assert_int_equal(accepted, 0);
}

static void
test_distinct(void **state)
{
	struct id_key	k;
	uint8_t		raw[ID_KEY_LEN] = { 0 };
	char		a[ID_LEN + 1], b[ID_LEN + 1];
	int		same = 0, i;

	(void)state;
	id_key_init(&k, raw);
	/* neighbours share no visible pattern: about half the bits differ */
	for (i = 0; i < 1000; i++) {
		id_encode(&k, ID_LINK, (uint64_t)i, a);
		id_encode(&k, ID_LINK, (uint64_t)i + 1, b);
		assert_string_not_equal(a, b);
		same += memcmp(a, b, 4) == 0;
	}
	assert_true(same < 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_forgery),
		cmocka_unit_test(test_distinct),
	};

	return cmocka_run_group_tests_name("id", tests, NULL, NULL);
}
