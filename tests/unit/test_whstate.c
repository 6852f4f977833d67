/* test_whstate - webhook delivery state: the retry queue in event order, due scans, failed events, endpoint totals */
#include "unit.h"
#include "unit.inc"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "whstate.h"

struct seen {
	char	keys[8][WHSTATE_EVKEY + 1];
	int	n, stop_at;
};

static int
collect(void *arg, const struct whstate_q *q)
{
	struct seen *s = arg;

	memcpy(s->keys[s->n++], q->evkey, WHSTATE_EVKEY + 1);
	return s->n == s->stop_at;
}

static void
test_state(void **state)
{
	struct store_opts	 o;
	struct store		*s;
	struct whstate_q	 q;
	struct whstate_ep	 st, back;
	struct seen		 sn;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	uint64_t		 queued, failed;
	int64_t			 oldest;
	char			 err[256], *dir = unit_tmpdir();
	static const char *const keys[] = { "00066596d2e6a4010002",
	    "00066596d2e6a4010000", "00066596d2e6a4010001" };
	size_t			 i;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.map_size = 64 << 20;
	o.batch_ms = 5;
	o.batch_max = 64;
	if ((s = store_open(dir, &o, 0, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	dbi = store_dbi(s, DB_WEBHOOKS);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, 0, &txn), 0);
	for (i = 0; i < 3; i++) {
		memset(&q, 0, sizeof(q));
		memcpy(q.evkey, keys[i], WHSTATE_EVKEY + 1);
		q.next_us = 100 + (int64_t)i;
		q.first_us = 10 + (int64_t)i;
		q.attempts = (unsigned)i;
		assert_int_equal(whstate_q_put(txn, dbi, "aaaaaaaaaaaaaaaa", &q), 0);
	}
	/* another endpoint's queue is not this one's */
	assert_int_equal(whstate_q_put(txn, dbi, "bbbbbbbbbbbbbbbb", &q), 0);
	memset(&st, 0, sizeof(st));
	st.delivered = 7;
	st.retried = 3;
	st.disabled = 1;
	st.error_us = 42;
	snprintf(st.last_error, sizeof(st.last_error), "status 503");
	assert_int_equal(whstate_ep_put(txn, dbi, "aaaaaaaaaaaaaaaa", &st), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);

	assert_int_equal(mdb_txn_begin(store_env(s), NULL, 0, &txn), 0);
	/* in event order, from the start and after a key, stopped by the callback */
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(whstate_q_scan(txn, dbi, "aaaaaaaaaaaaaaaa", "", 10,
	    collect, &sn), 0);
	assert_int_equal(sn.n, 3);
	assert_string_equal(sn.keys[0], keys[1]);
	assert_string_equal(sn.keys[2], keys[0]);
	memset(&sn, 0, sizeof(sn));
	assert_int_equal(whstate_q_scan(txn, dbi, "aaaaaaaaaaaaaaaa", keys[1], 10,
	    collect, &sn), 0);
	assert_int_equal(sn.n, 2);
	assert_string_equal(sn.keys[0], keys[2]);
	memset(&sn, 0, sizeof(sn));
	sn.stop_at = 1;
	assert_int_equal(whstate_q_scan(txn, dbi, "aaaaaaaaaaaaaaaa", "", 10,
	    collect, &sn), 0);
	assert_int_equal(sn.n, 1);
	/* delivered, given up */
	assert_int_equal(whstate_q_del(txn, dbi, "aaaaaaaaaaaaaaaa", keys[1]), 0);
	assert_int_equal(whstate_q_del(txn, dbi, "aaaaaaaaaaaaaaaa", keys[1]), 0);
	assert_int_equal(whstate_q_del(txn, dbi, "aaaaaaaaaaaaaaaa", keys[2]), 0);
	assert_int_equal(whstate_fail_put(txn, dbi, "aaaaaaaaaaaaaaaa", keys[2],
	    99, 17, "timeout"), 0);
	assert_int_equal(whstate_count(txn, dbi, "aaaaaaaaaaaaaaaa", &queued,
	    &failed, &oldest), 0);
	assert_int_equal(queued, 1);
	assert_int_equal(failed, 1);
	assert_int_equal(oldest, 10);
	assert_int_equal(whstate_ep_get(txn, dbi, "aaaaaaaaaaaaaaaa", &back), 0);
	assert_int_equal(back.delivered, 7);
	assert_int_equal(back.retried, 3);
	assert_int_equal(back.disabled, 1);
	assert_int_equal(back.error_us, 42);
	assert_string_equal(back.last_error, "status 503");
	/* an endpoint never seen: zeros */
	assert_int_equal(whstate_ep_get(txn, dbi, "cccccccccccccccc", &back), 0);
	assert_int_equal(back.delivered, 0);
	assert_int_equal(back.last_error[0], '\0');
	mdb_txn_abort(txn);
	store_close(s);
	unit_rmrf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
