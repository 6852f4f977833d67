/* test_store - LMDB store: schema, group commit, counters, persistence */
#include "unit.h"
#include "unit.inc"

#include <pthread.h>

#include <lmdb.h>

#include "store.h"

static char *dir;

static struct store *
open_store(int flags)
{
	struct store_opts	o = { 64 << 20, 10, 4096 };
	char			err[256];
	struct store		*s = store_open(dir, &o, flags, err, sizeof(err));

	if (s == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

static int
setup(void **state)
{
	(void)state;
	dir = unit_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unit_rmrf(dir);
	free(dir);
	return 0;
}

static void
test_message_and_links(void **state)
{
	struct store		*s;
	struct store_msg	 m;
	struct store_link	 l[3];
	struct store_counts	 c;
	struct buf		 url = BUF_INIT;
	const char		*rcpt[] = { "a@example.net", "b@example.net" };
	uint64_t		 first, mseq, msg;
	char			 id[ID_LEN + 1];
	uint64_t		 back;

	(void)state;
	s = open_store(0);
	assert_int_equal(store_reserve(s, ID_LINK, 3, &first), 0);
	assert_true(first >= 1);
	assert_int_equal(store_reserve(s, ID_MSG, 1, &mseq), 0);
	l[0].seq = first;
	l[0].url = "https://example.com/a?x=1&y=2";
	l[1].seq = first + 1;
	l[1].url = "http://example.com/\xc3\xa9t\xc3\xa9";
	l[2].seq = first + 2;
	l[2].url = "https://example.com/latin1-\xe9";	/* not UTF-8: kept */
	memset(&m, 0, sizeof(m));
	m.seq = mseq;
	m.time_us = 1700000000000000;
	m.message_id = "<abc@example.com>";
	m.from = "news@example.com";
	m.rcpt = rcpt;
	m.nrcpt = 2;
	m.links = l;
	m.nlinks = 3;
	m.pixel = 1;
	assert_int_equal(store_put_message(s, &m), 0);

	assert_int_equal(store_get_link(s, first, &url, &msg), 0);
	assert_string_equal(url.data, "https://example.com/a?x=1&y=2");
	assert_true(msg == mseq);
	buf_reset(&url);
	assert_int_equal(store_get_link(s, first + 1, &url, NULL), 0);
	assert_string_equal(url.data, "http://example.com/\xc3\xa9t\xc3\xa9");
	assert_int_equal(store_get_link(s, first + 3, &url, NULL), 1);
	assert_int_equal(store_has_message(s, mseq), 0);
	assert_int_equal(store_has_message(s, mseq + 1), 1);
	assert_int_equal(store_counts(s, &c), 0);
	assert_int_equal(c.messages, 1);
	assert_int_equal(c.links, 3);

	/* the ID key persists: an ID made now decodes after reopening */
	id_encode(store_key(s), ID_LINK, first, id);
	store_close(s);
	s = open_store(0);
	assert_int_equal(id_decode(store_key(s), ID_LINK, id, ID_LEN, &back), 0);
	assert_true(back == first);
	/* reservations never hand out a number twice, even across opens */
	assert_int_equal(store_reserve(s, ID_LINK, 1, &back), 0);
	assert_true(back > first + 2);
	store_close(s);
	buf_free(&url);
}

struct evarg {
	struct store	*s;
	int		 n;
	int		 kind;
};

static void *
put_events(void *p)
{
	struct evarg		*a = p;
	struct store_event	 e;
	int			 i;

	memset(&e, 0, sizeof(e));
	e.type = a->kind ? STORE_EV_CLICK : STORE_EV_OPEN;
	e.ip = "127.0.0.1";
	e.ua = "test-agent/1.0";
	e.method = "GET";
	e.host = "track.example.com";
	for (i = 0; i < a->n; i++) {
		e.seq = (uint64_t)i + 1;
		e.msg = 1;
		if (store_put_event(a->s, &e) != 0)
			return (void *)1;
	}
	return NULL;
}

static void
test_events_concurrent(void **state)
{
	struct store		*s;
	struct store_counts	 c0, c;
	struct store_wstats	 w;
	struct evarg		 a[4];
	pthread_t		 t[4];
	void			*r;
	int			 i;

	(void)state;
	s = open_store(0);
	assert_int_equal(store_counts(s, &c0), 0);
	for (i = 0; i < 4; i++) {
		a[i].s = s;
		a[i].n = 5000;
		a[i].kind = i & 1;
		assert_int_equal(pthread_create(&t[i], NULL, put_events, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &r);
		assert_null(r);
	}
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_counts(s, &c), 0);
	assert_int_equal(c.opens - c0.opens, 10000);
	assert_int_equal(c.clicks - c0.clicks, 10000);
	store_writer_stats(s, &w);
	/* group commit: far fewer commits than events */
	assert_true(w.commits < 20000);
	assert_int_equal(w.failed, 0);
	store_close(s);

	/* closing drains the queue: events queued just before close are kept */
	s = open_store(0);
	a[0].s = s;
	a[0].n = 3000;
	a[0].kind = 1;
	assert_null(put_events(&a[0]));
	store_close(s);
	s = open_store(STORE_RDONLY);
	assert_int_equal(store_counts(s, &c), 0);
	assert_int_equal(c.clicks - c0.clicks, 13000);
	store_close(s);
}

static void
test_readable_records(void **state)
{
	struct store	*s;
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	unsigned int	 dbi;
	size_t		 i;
	int		 n = 0;

	(void)state;
	s = open_store(STORE_RDONLY);
	env = store_env(s);
	assert_int_equal(store_dbi(s, "events", &dbi), 0);
	assert_int_equal(store_dbi(s, "nosuch", &dbi), -1);
	assert_int_equal(store_dbi(s, "events", &dbi), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	/* keys: 20 hex digits, in time order; values: JSON text */
	while (mdb_cursor_get(cur, &k, &v, n ? MDB_NEXT : MDB_FIRST) == 0 &&
	    n < 50) {
		assert_int_equal(k.mv_size, 20);
		for (i = 0; i < k.mv_size; i++)
			assert_non_null(strchr("0123456789abcdef",
			    ((char *)k.mv_data)[i]));
		assert_int_equal(((char *)v.mv_data)[0], '{');
		assert_non_null(memmem(v.mv_data, v.mv_size, "\"ua\":", 5));
		n++;
	}
	assert_int_equal(n, 50);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	store_close(s);
}

static void
test_open_errors(void **state)
{
	struct store_opts	o = { 64 << 20, 10, 4096 };
	char			err[256];

	(void)state;
	assert_null(store_open("/proc/mtrack-cannot-exist", &o, 0, err,
	    sizeof(err)));
	assert_true(strlen(err) > 0);
	assert_null(store_open("/nonexistent-dir-mtrack", &o, STORE_RDONLY, err,
	    sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_and_links),
		cmocka_unit_test(test_events_concurrent),
		cmocka_unit_test(test_readable_records),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
