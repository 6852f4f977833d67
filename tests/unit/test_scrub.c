/* test_scrub - raw_retention_days: old events lose IP and User-Agent, nothing else */
#include "unit.h"
#include "unit.inc"

#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "store.h"

#define DAY_US		(86400LL * 1000000)
/* more than two chunks of store_scrub_events */
#define N_OLD		25000
#define N_NEW		50

static char *dir;

static struct store *
open_store(int flags)
{
	struct store_opts	o;
	char			err[256];
	struct store		*s;

	memset(&o, 0, sizeof(o));
	o.map_size = 256 << 20;
	o.batch_ms = 10;
	o.batch_max = 4096;
	if ((s = store_open(dir, &o, flags, err, sizeof(err))) == NULL)
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

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* put - one event at time t */
static void
put(struct store *s, int64_t t, enum store_ev type, const char *ip,
    const char *ua)
{
	struct store_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.time_us = t;
	e.seq = 1;
	e.msg = 1;
	e.ip = ip;
	e.ua = ua;
	e.method = "GET";
	e.host = "track.example.com";
	assert_int_equal(store_put_event(s, &e), 0);
}

struct tally {
	size_t	old_scrubbed, old_raw, new_raw, new_scrubbed, other_lost;
};

/* walk - every event: are ip and ua null, and the other fields intact? */
static void
walk(struct store *s, int64_t cut, struct tally *t)
{
	MDB_txn		*txn;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	MDB_dbi		 dbi;
	json_t		*o, *ip, *ua;
	json_int_t	 time;
	const char	*method, *host, *type;
	int		 rc, op = MDB_FIRST;

	memset(t, 0, sizeof(*t));
	dbi = store_dbi(s, DB_EVENTS);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		o = json_loadb(v.mv_data, v.mv_size, 0, NULL);
		assert_non_null(o);
		ip = json_object_get(o, "ip");
		ua = json_object_get(o, "ua");
		assert_non_null(ip);
		assert_non_null(ua);
		if (json_unpack(o, "{s:I, s:s, s:s, s:s}", "time", &time,
		    "method", &method, "host", &host, "type", &type) != 0 ||
		    strcmp(method, "GET") != 0 ||
		    strcmp(host, "track.example.com") != 0)
			t->other_lost++;
		if (time < cut) {
			if (json_is_null(ip) && json_is_null(ua))
				t->old_scrubbed++;
			else
				t->old_raw++;
		} else {
			if (json_is_string(ip))
				t->new_raw++;
			else
				t->new_scrubbed++;
		}
		json_decref(o);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
}

static void
test_scrub(void **state)
{
	struct store		*s;
	struct store_counts	 c0, c1;
	struct tally		 t;
	int64_t			 now = now_us(), cut = now - 30 * DAY_US;
	uint64_t		 n;
	int			 i, dead = -1;

	(void)state;
	s = open_store(0);
	/* 40 to 31 days old, one with no User-Agent recorded at all */
	for (i = 0; i < N_OLD; i++)
		put(s, now - 40 * DAY_US + (int64_t)i * 1000, i & 1 ?
		    STORE_EV_CLICK : STORE_EV_OPEN, "192.0.2.7",
		    i == 7 ? NULL : "Mozilla/5.0 (old)");
	/* right at the cut: not older, kept */
	put(s, cut, STORE_EV_CLICK, "192.0.2.8", "at-the-cut");
	for (i = 0; i < N_NEW; i++)
		put(s, now - DAY_US + i, STORE_EV_OPEN, "2001:db8::1",
		    "Mozilla/5.0 (new)");
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_counts(s, &c0), 0);

	assert_int_equal(store_scrub_events(s, cut, &n), 0);
	assert_int_equal(n, N_OLD);
	walk(s, cut, &t);
	assert_int_equal(t.old_scrubbed, N_OLD);
	assert_int_equal(t.old_raw, 0);
	assert_int_equal(t.new_raw, N_NEW + 1);
	assert_int_equal(t.new_scrubbed, 0);
	assert_int_equal(t.other_lost, 0);
	/* the counts are the counts: nothing removed */
	assert_int_equal(store_counts(s, &c1), 0);
	assert_memory_equal(&c0, &c1, sizeof(c0));

	/* again: nothing left to do */
	assert_int_equal(store_scrub_events(s, cut, &n), 0);
	assert_int_equal(n, 0);
	/* a cut before every event, and none at all, change nothing */
	assert_int_equal(store_scrub_events(s, now - 365 * DAY_US, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_scrub_events(s, 0, &n), 0);
	assert_int_equal(n, 0);

	/* new events keep being written while old ones are scrubbed */
	put(s, now - 35 * DAY_US, STORE_EV_CLICK, "192.0.2.9", "late");
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(store_scrub_events(s, cut, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_reader_check(s, &dead), 0);
	assert_int_equal(dead, 0);
	store_close(s);

	/* a read-only store refuses */
	s = open_store(STORE_RDONLY);
	assert_int_equal(store_scrub_events(s, cut, &n), -1);
	walk(s, cut, &t);
	assert_int_equal(t.old_scrubbed, N_OLD + 1);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrub),
	};

	return cmocka_run_group_tests_name("scrub", tests, setup, teardown);
}
