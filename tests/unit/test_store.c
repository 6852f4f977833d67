/* test_store - LMDB store: schema, group commit, counters, persistence */
#include "unit.h"
#include "unit.inc"

#include <inttypes.h>
#include <pthread.h>

#include <lmdb.h>

#include <jansson.h>

#include "counter.h"
#include "query.h"
#include "store.h"

static char *dir;

static struct store *
open_store(int flags)
{
	struct store_opts	o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096 };
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
	struct store_linkinfo	 li;
	uint64_t		 first, mseq;
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

	assert_int_equal(store_get_link(s, first, &url, &li), 0);
	assert_string_equal(url.data, "https://example.com/a?x=1&y=2");
	assert_true(li.msg == mseq);
	assert_true(li.sent_us == 1700000000000000);
	assert_false(li.honeypot);
	buf_reset(&url);
	assert_int_equal(store_get_link(s, first + 1, &url, NULL), 0);
	assert_string_equal(url.data, "http://example.com/\xc3\xa9t\xc3\xa9");
	assert_int_equal(store_get_link(s, first + 3, &url, NULL), 1);
	assert_int_equal(store_get_message(s, mseq, NULL), 0);
	{
		int64_t sent = 0;

		assert_int_equal(store_get_message(s, mseq, &sent), 0);
		assert_true(sent == 1700000000000000);
	}
	assert_int_equal(store_get_message(s, mseq + 1, NULL), 1);
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


/* counter - one field, "SCOPE|METRIC", of the counter records; 0 when absent */
static uint64_t
counter(struct store *s, const char *key)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	MDB_dbi		 dbi;
	struct counter	 c;
	const char	*bar = strchr(key, '|');
	uint64_t	 n = 0;

	assert_non_null(bar);
	dbi = store_dbi(s, DB_COUNTERS);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, MDB_RDONLY, &txn), 0);
	k.mv_data = (void *)key;
	k.mv_size = (size_t)(bar - key);
	if (mdb_get(txn, dbi, &k, &v) == 0) {
		counter_parse(&c, v.mv_data, v.mv_size);
		n = counter_get(&c, bar + 1);
	}
	mdb_txn_abort(txn);
	return n;
}

static void
ev(struct store *s, enum store_ev type, uint64_t seq, uint64_t msg,
    const char *ip, const char *cls, const char *reason, int64_t t)
{
	struct store_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.seq = seq;
	e.msg = msg;
	e.ip = ip;
	e.ua = "ua";
	e.method = "GET";
	e.verdict = cls;
	e.reason = reason;
	e.time_us = t;
	assert_int_equal(store_put_event(s, &e), 0);
}

static void
test_scoped_counters(void **state)
{
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096, .honeypot_window_us = 60000000, .burst_window_us = 1000000 };
	struct store		*s;
	struct store_msg	 m;
	struct store_link	 l[2];
	const char		*rcpt[] = { "a@example.net", "b@example.net" };
	uint64_t		 first, mseq, hp;
	char			 err[256], key[128];
	int64_t			 t0 = 1767225600000000;	/* 2026-01-01 00:00 UTC */

	(void)state;
	s = store_open(dir, &o, 0, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(store_reserve(s, ID_LINK, 3, &first), 0);
	assert_int_equal(store_reserve(s, ID_MSG, 1, &mseq), 0);
	hp = first + 2;
	l[0].seq = first;
	l[0].url = "https://example.com/1";
	l[1].seq = first + 1;
	l[1].url = "https://example.com/2";
	memset(&m, 0, sizeof(m));
	m.seq = mseq;
	m.time_us = t0;
	m.from = "news@example.com";
	m.rcpt = rcpt;
	m.nrcpt = 2;	/* two recipients: unique means per source */
	m.links = l;
	m.nlinks = 2;
	m.pixel = 1;
	m.campaign = "spring";
	m.domain = "example.com";
	m.honeypot = hp;
	assert_int_equal(store_put_message(s, &m), 0);
	assert_int_equal(counter(s, "c:spring|sent"), 1);
	assert_true(counter(s, "*|messages") >= 1);
	assert_int_equal(counter(s, "d:example.com|sent"), 1);
	assert_int_equal(counter(s, "t:2026-01-01|sent"), 1);

	/* two people open twice, a proxy once; one person clicks twice */
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.1", "human", "-", t0 + 10);
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.1", "human", "-", t0 + 20);
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.2", "human", "-", t0 + 30);
	ev(s, STORE_EV_OPEN, mseq, mseq, "66.249.80.1", "proxy", "gmail-proxy",
	    t0 + 40);
	ev(s, STORE_EV_CLICK, first, mseq, "10.0.0.1", "human", "-", t0 + 50);
	ev(s, STORE_EV_CLICK, first, mseq, "10.0.0.1", "human", "-", t0 + 60);
	assert_int_equal(store_flush(s), 0);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|opens", mseq);
	assert_int_equal(counter(s, key), 4);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|opens.human", mseq);
	assert_int_equal(counter(s, key), 3);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|uopens", mseq);
	assert_int_equal(counter(s, key), 3);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|uopens.human", mseq);
	assert_int_equal(counter(s, key), 2);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks", first);
	assert_int_equal(counter(s, key), 2);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|uclicks", first);
	assert_int_equal(counter(s, key), 1);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|first", mseq);
	assert_true(counter(s, key) == (uint64_t)t0 + 10);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|last", mseq);
	assert_true(counter(s, key) == (uint64_t)t0 + 60);
	assert_int_equal(counter(s, "c:spring|opens"), 4);
	assert_int_equal(counter(s, "c:spring|uclicks.human"), 1);
	assert_int_equal(counter(s, "d:example.com|clicks"), 2);
	assert_int_equal(counter(s, "t:2026-01-01|opens.proxy"), 1);

	/* the honeypot: 10.0.0.1's earlier hits on the message become scanner */
	ev(s, STORE_EV_CLICK, hp, mseq, "10.0.0.1", "scanner", "honeypot",
	    t0 + 70);
	assert_int_equal(store_flush(s), 0);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|clicks.human", mseq);
	assert_int_equal(counter(s, key), 0);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|clicks.scanner", mseq);
	assert_int_equal(counter(s, key), 3);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|opens.human", mseq);
	assert_int_equal(counter(s, key), 1);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|opens.scanner", mseq);
	assert_int_equal(counter(s, key), 2);
	assert_int_equal(counter(s, "c:spring|clicks.scanner"), 3);
	/* 10.0.0.1 was one of two people who opened: one is left */
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|uopens.human", mseq);
	assert_int_equal(counter(s, key), 1);
	/* and the only person who clicked: none is left, in every scope */
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|uclicks.human", mseq);
	assert_int_equal(counter(s, key), 0);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|uclicks.human", first);
	assert_int_equal(counter(s, key), 0);
	assert_int_equal(counter(s, "c:spring|uclicks.human"), 0);
	assert_int_equal(counter(s, "d:example.com|uclicks.human"), 0);
	assert_int_equal(counter(s, "t:2026-01-01|uclicks.human"), 0);
	assert_int_equal(counter(s, "t:2026-01-01|uopens.human"), 1);

	/*
	 * A burst: 10.0.0.3's third link within the window (1 s) makes its two
	 * earlier people's clicks on the message scanner/burst too; its open,
	 * another source's click in the window and its own click before the
	 * window stay
	 */
	ev(s, STORE_EV_CLICK, first, mseq, "10.0.0.3", "human", "-",
	    t0 + 1000000);
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.3", "human", "-", t0 + 2500000);
	ev(s, STORE_EV_CLICK, first, mseq, "10.0.0.3", "human", "-",
	    t0 + 2600000);
	ev(s, STORE_EV_CLICK, first + 1, mseq, "10.0.0.4", "human", "-",
	    t0 + 2700000);
	assert_int_equal(store_flush(s), 0);	/* in an earlier batch, and */
	ev(s, STORE_EV_CLICK, first + 1, mseq, "10.0.0.3", "human", "-",
	    t0 + 2800000);			/* in the burst's own batch */
	ev(s, STORE_EV_CLICK, first, mseq, "10.0.0.3", "scanner", "burst",
	    t0 + 3000000);
	assert_int_equal(store_flush(s), 0);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|clicks.human", mseq);
	assert_int_equal(counter(s, key), 2);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|clicks.scanner", mseq);
	assert_int_equal(counter(s, key), 6);
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|opens.human", mseq);
	assert_int_equal(counter(s, key), 2);
	assert_int_equal(counter(s, "c:spring|clicks.scanner"), 6);
	assert_int_equal(counter(s, "t:2026-01-01|clicks.human"), 2);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks.scanner", first + 1);
	assert_int_equal(counter(s, key), 1);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks.human", first + 1);
	assert_int_equal(counter(s, key), 1);
	store_close(s);
}

static int
find_ua(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	json_t	*o = json_loadb(val, vlen, 0, NULL);
	char	**ua = arg;

	(void)key;
	(void)klen;
	assert_non_null(o);	/* every stored event is valid JSON */
	if (json_string_value(json_object_get(o, "ua")) &&
	    strstr(json_string_value(json_object_get(o, "ua")), "odd"))
		*ua = strdup(json_string_value(json_object_get(o, "ua")));
	json_decref(o);
	return 0;
}

static void
test_event_json(void **state)
{
	struct store	*s;
	char		*ua = NULL;

	(void)state;
	s = open_store(0);
	/* invalid UTF-8 (a lone 0xff, a surrogate) is kept as Latin-1 */
	ev(s, STORE_EV_CLICK, 1, 1, "10.9.9.9", "human", "-", 1767225600000000);
	{
		struct store_event e;

		memset(&e, 0, sizeof(e));
		e.type = STORE_EV_OPEN;
		e.seq = e.msg = 1;
		e.ip = "10.9.9.9";
		e.ua = "odd \xff \xed\xa0\x80 \"q\" \\ \x01 caf\xc3\xa9";
		e.time_us = 1767225600000001;
		assert_int_equal(store_put_event(s, &e), 0);
	}
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(query_events(s, 0, INT64_MAX, 0, find_ua, &ua), 0);
	assert_non_null(ua);
	assert_string_equal(ua, "odd \xc3\xbf \xc3\xad\xc2\xa0\xc2\x80 \"q\" \\ \x01 caf\xc3\xa9");
	free(ua);
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
	MDB_dbi		 dbi;
	size_t		 i;
	int		 n = 0;

	(void)state;
	s = open_store(STORE_RDONLY);
	env = store_env(s);
	dbi = store_dbi(s, DB_EVENTS);
	assert_string_equal(db_name(DB_EVENTS), "events");
	assert_null(db_name(DB_COUNT));
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

static int
count_ev(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(int *)arg)++;
	return 0;
}

static int
by_message(struct store *s, uint64_t msg)
{
	int n = 0;

	assert_int_equal(query_events(s, 0, INT64_MAX, msg, count_ev, &n), 0);
	return n;
}

/*
 * the index of a message's events is written after the events; entries
 * a crash lost are put again at the next start
 */
static void
test_index_recover(void **state)
{
	struct store		*s;
	struct store_msg	 m;
	struct store_link	 l;
	const char		*rcpt[] = { "a@example.net" };
	uint64_t		 link, mseq;
	MDB_dbi			 dbi, pdbi;
	MDB_txn			*txn;
	MDB_cursor		*cur;
	MDB_val			 k, v;
	struct buf		 rec = BUF_INIT;
	unsigned char		 seq[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	int			 i;

	(void)state;
	s = open_store(0);
	assert_int_equal(store_reserve(s, ID_LINK, 1, &link), 0);
	assert_int_equal(store_reserve(s, ID_MSG, 1, &mseq), 0);
	l.seq = link;
	l.url = "https://example.com/r";
	memset(&m, 0, sizeof(m));
	m.seq = mseq;
	m.time_us = 1;
	m.rcpt = rcpt;
	m.nrcpt = 1;
	m.links = &l;
	m.nlinks = 1;
	assert_int_equal(store_put_message(s, &m), 0);
	for (i = 0; i < 50; i++)
		ev(s, i % 2 ? STORE_EV_CLICK : STORE_EV_OPEN, i % 2 ? link :
		    mseq, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(by_message(s, mseq), 50);
	/*
	 * As if the writer had died with the entries still pending: they
	 * leave the index for one "pending" record.
	 */
	dbi = store_dbi(s, DB_MSGEVENTS);
	pdbi = store_dbi(s, DB_PENDING);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, 0, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		assert_int_equal(k.mv_size, 36);
		buf_puts(&rec, "i:");
		buf_append(&rec, k.mv_data, k.mv_size);
		buf_putc(&rec, '\n');
	}
	mdb_cursor_close(cur);
	k.mv_data = seq;
	k.mv_size = sizeof(seq);
	v.mv_data = rec.data;
	v.mv_size = rec.len;
	assert_int_equal(mdb_put(txn, pdbi, &k, &v, 0), 0);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	buf_free(&rec);
	assert_int_equal(by_message(s, mseq), 0);
	store_close(s);
	s = open_store(STORE_EVENTS);
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(by_message(s, mseq), 51);
	/* after a clean stop nothing is pending: the next start does nothing */
	store_close(s);
	s = open_store(STORE_EVENTS);
	dbi = store_dbi(s, DB_MSGEVENTS);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, 0, &txn), 0);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	store_close(s);
	s = open_store(STORE_EVENTS);
	ev(s, STORE_EV_OPEN, mseq, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(by_message(s, mseq), 1);
	store_close(s);
}

static uint64_t
entries(struct store *s, enum db db)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	MDB_dbi		 dbi;

	dbi = store_dbi(s, db);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	return st.ms_entries;
}

/* a message of nlinks links to nrcpt recipients: its seq, its first link's */
static void
put_msg(struct store *s, int nrcpt, int nlinks, uint64_t *mseq, uint64_t *link)
{
	static const char	*rcpt[] = { "a@example.net", "b@example.net" };
	struct store_link	 l[16];
	struct store_msg	 m;
	int			 i;

	assert_true(nlinks <= 16);
	assert_int_equal(store_reserve(s, ID_LINK, (uint64_t)nlinks, link), 0);
	assert_int_equal(store_reserve(s, ID_MSG, 1, mseq), 0);
	for (i = 0; i < nlinks; i++) {
		l[i].seq = *link + (uint64_t)i;
		l[i].url = "https://example.com/p";
	}
	memset(&m, 0, sizeof(m));
	m.seq = *mseq;
	m.time_us = 1;
	m.rcpt = rcpt;
	m.nrcpt = (size_t)nrcpt;
	m.links = l;
	m.nlinks = (size_t)nlinks;
	assert_int_equal(store_put_message(s, &m), 0);
}

/*
 * link counters wait for a fold under load, their changes kept in
 * "pending" meanwhile: what a flush shows is exact, nothing stays pending
 */
static void
test_link_pending(void **state)
{
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 64 };
	struct store		*s;
	uint64_t		 mseq, link, m1, l1;
	char			 err[256], key[80], ip[32];
	int			 i;

	(void)state;
	s = store_open(dir, &o, STORE_EVENTS, err, sizeof(err));
	assert_non_null(s);
	put_msg(s, 2, 10, &mseq, &link);
	put_msg(s, 1, 4, &m1, &l1);
	/* batches of 64 behind a long queue: most do not fold */
	for (i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i % 7, i % 3);
		ev(s, STORE_EV_CLICK, link + (uint64_t)(i % 10), mseq, ip,
		    i % 5 ? "human" : "bot", "-", 0);
		ev(s, STORE_EV_CLICK, l1 + (uint64_t)(i % 4), m1, ip, "human",
		    "-", 0);
	}
	assert_int_equal(store_flush(s), 0);
	assert_int_equal(entries(s, DB_PENDING), 0);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks",
		    link + (uint64_t)i);
		assert_int_equal(counter(s, key), 500);
		snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks.bot",
		    link + (uint64_t)i);
		assert_int_equal(counter(s, key), i % 5 ? 0 : 500);
		/* per source: i % 7 and i % 3 of i = k (mod 10) give 21 */
		snprintf(key, sizeof(key), "l:%016" PRIx64 "|uclicks",
		    link + (uint64_t)i);
		assert_int_equal(counter(s, key), 21);
	}
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks",
		    l1 + (uint64_t)i);
		assert_int_equal(counter(s, key), 1250);
		snprintf(key, sizeof(key), "l:%016" PRIx64 "|uclicks",
		    l1 + (uint64_t)i);
		assert_int_equal(counter(s, key), 1);
	}
	snprintf(key, sizeof(key), "m:%016" PRIx64 "|clicks", mseq);
	assert_int_equal(counter(s, key), 5000);
	store_close(s);
}

/* what a crash left in "pending" is applied at the next start */
static void
test_pending_recover(void **state)
{
	struct store		*s;
	uint64_t		 mseq, link;
	MDB_dbi			 dbi;
	MDB_txn			*txn;
	MDB_val			 k, v;
	unsigned char		 seq[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	char			 line[128], key[80];

	(void)state;
	s = open_store(0);
	put_msg(s, 1, 1, &mseq, &link);
	snprintf(line, sizeof(line), "l:%016" PRIx64 "\tclicks\t0\t7\n"
	    "l:%016" PRIx64 "\tuclicks\t2\t1\n", link, link);
	dbi = store_dbi(s, DB_PENDING);
	assert_int_equal(mdb_txn_begin(store_env(s), NULL, 0, &txn), 0);
	k.mv_data = seq;
	k.mv_size = 8;
	v.mv_data = line;
	v.mv_size = strlen(line);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	store_close(s);
	s = open_store(STORE_EVENTS);
	ev(s, STORE_EV_CLICK, link, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|clicks", link);
	assert_int_equal(counter(s, key), 8);
	snprintf(key, sizeof(key), "l:%016" PRIx64 "|uclicks", link);
	assert_int_equal(counter(s, key), 1);
	assert_int_equal(entries(s, DB_PENDING), 0);
	store_close(s);
}

/* one process writes events to a store */
static void
test_events_lock(void **state)
{
	struct store	*s, *t;
	struct store_opts o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096 };
	char		 err[256];

	(void)state;
	s = open_store(STORE_EVENTS);
	t = store_open(dir, &o, STORE_EVENTS, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "another process writes events"));
	t = open_store(0);	/* the milter, mtrackctl: no such lock */
	store_close(t);
	store_close(s);
	s = open_store(STORE_EVENTS);
	store_close(s);
}

static void
test_open_errors(void **state)
{
	struct store_opts	o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096 };
	char			err[256];

	(void)state;
	assert_null(store_open("/proc/mtrack-cannot-exist", &o, 0, err,
	    sizeof(err)));
	assert_true(strlen(err) > 0);
	assert_null(store_open("/nonexistent-dir-mtrack", &o, STORE_RDONLY, err,
	    sizeof(err)));
}

/* first_event_key - the key of the first event record, into out[21] */
static void
first_event_key(struct store *s, char out[21])
{
	MDB_txn		*txn;
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_dbi		 dbi = store_dbi(s, DB_EVENTS);

	assert_int_equal(mdb_txn_begin(store_env(s), NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
	assert_int_equal(k.mv_size, 20);
	memcpy(out, k.mv_data, 20);
	out[20] = '\0';
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
}

/* node numbers: in every key; a store belongs to one node (or to all) */
static void
test_node(void **state)
{
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096 };
	struct store		*s;
	char			*d = unit_tmpdir(), *e = unit_tmpdir();
	char			 err[256], key[21];
	uint64_t		 mseq, link;

	(void)state;
	/* node 0: the numbers and keys of a single host, as ever */
	assert_non_null(s = store_open(d, &o, STORE_EVENTS, err, sizeof(err)));
	put_msg(s, 1, 1, &mseq, &link);
	assert_true(mseq < 1000 && link < 1000000);
	ev(s, STORE_EV_CLICK, link, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	first_event_key(s, key);
	assert_memory_equal(key + 16, "00", 2);
	store_close(s);
	/* another node may not write into it; a collector may */
	o.node = 3;
	assert_null(store_open(d, &o, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "holds records of node 0"));
	assert_non_null(strstr(err, "node = 3"));
	assert_non_null(s = store_open(d, &o, STORE_RDONLY, err, sizeof(err)));
	store_close(s);
	assert_non_null(s = store_open(d, &o, STORE_ANYNODE, err, sizeof(err)));
	store_close(s);
	assert_non_null(s = store_open(d, &o, 0, err, sizeof(err)));
	store_close(s);
	/* node 3 from the start: its numbers and event keys say so */
	assert_non_null(s = store_open(e, &o, STORE_EVENTS, err, sizeof(err)));
	put_msg(s, 1, 1, &mseq, &link);
	assert_int_equal(mseq >> 56, 3);
	assert_int_equal(link >> 56, 3);
	ev(s, STORE_EV_CLICK, link, mseq, "10.0.0.1", "human", "-", 0);
	assert_int_equal(store_flush(s), 0);
	first_event_key(s, key);
	assert_memory_equal(key + 16, "03", 2);
	store_close(s);
	o.node = 4;
	assert_null(store_open(e, &o, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "holds records of node 3"));
	o.node = 256;
	assert_null(store_open(e, &o, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "out of range"));
	unit_rmrf(d);
	unit_rmrf(e);
	free(d);
	free(e);
}

/* the key builders: the shapes store.h documents */
static void
test_db_keys(void **state)
{
	char	k[64];

	(void)state;
	db_hex16(k, 0x1234abcdULL);
	assert_string_equal(k, "000000001234abcd");
	assert_int_equal(db_hex16_parse("00000000000000ff..."), 255);
	db_scope_seq(k, 'm', 255);
	assert_string_equal(k, "m:00000000000000ff");
	db_event_key(k, 1767225600000000LL, 3);
	assert_string_equal(k, "00064748462040000003");
	db_ikey_from(k, 2, 16);
	assert_string_equal(k, "000000000000000200000000000000100000");
	assert_int_equal(db_uniq_key(k, sizeof(k), 'c', "0000000000000002",
	    "10.0.0.1", 1), 0);
	assert_string_equal(k, "c:0000000000000002:10.0.0.1:h");
	assert_int_equal(db_uniq_key(k, sizeof(k), 'o', "0000000000000002",
	    NULL, 0), 0);
	assert_string_equal(k, "o:0000000000000002:");
	assert_int_equal(db_uniq_key(k, 8, 'o', "0000000000000002", NULL, 0),
	    -1);
	assert_string_equal(db_name(DB_MSGEVENTS), "msgevents");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_db_keys),
		cmocka_unit_test(test_message_and_links),
		cmocka_unit_test(test_events_concurrent),
		cmocka_unit_test(test_readable_records),
		cmocka_unit_test(test_scoped_counters),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_index_recover),
		cmocka_unit_test(test_link_pending),
		cmocka_unit_test(test_pending_recover),
		cmocka_unit_test(test_events_lock),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_node),
	};

	return cmocka_run_group_tests_name("store", tests, setup, teardown);
}
