/* test_hmap - the one hash table: keys held by their values, growth, walks, clearing */
#include "unit.h"
#include "unit.inc"

#include "hmap.h"

struct item {
	int	n;
	char	key[16];
};

static int freed;

static void
item_free(void *v)
{
	freed++;
	free(v);
}

static int
sum_items(void *arg, const char *key, void *val)
{
	struct item *it = val;

	assert_string_equal(key, it->key);
	*(long *)arg += it->n;
	return 0;
}

static int
stop_at_3(void *arg, const char *key, void *val)
{
	(void)arg;
	(void)key;
	return ((struct item *)val)->n == 3 ? 7 : 0;
}

static void
test_hmap(void **state)
{
	struct hmap	*m = hmap_new(4);
	struct item	*it;
	long		 sum = 0;
	int		 i;

	(void)state;
	assert_non_null(m);
	/* from 4 slots to well past 1000: it grows and keeps every entry */
	for (i = 0; i < 1000; i++) {
		it = calloc(1, sizeof(*it));
		assert_non_null(it);
		it->n = i;
		snprintf(it->key, sizeof(it->key), "k%d", i);
		assert_null(hmap_get(m, it->key));
		assert_int_equal(hmap_put(m, it->key, it), 0);
	}
	assert_int_equal(hmap_count(m), 1000);
	it = hmap_get(m, "k577");
	assert_non_null(it);
	assert_int_equal(it->n, 577);
	assert_null(hmap_get(m, "k1000"));
	assert_null(hmap_get(m, ""));
	assert_int_equal(hmap_each(m, sum_items, &sum), 0);
	assert_int_equal(sum, 999L * 1000 / 2);
	assert_int_equal(hmap_each(m, stop_at_3, NULL), 7);
	/* FNV-1a of "a" */
	assert_true(hmap_hash("a", HMAP_FNV) == 0xaf63dc4c8601ec8cULL);
	hmap_clear(m, item_free);
	assert_int_equal(freed, 1000);
	assert_int_equal(hmap_count(m), 0);
	assert_null(hmap_get(m, "k577"));
	hmap_free(m, item_free);
	assert_int_equal(freed, 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
