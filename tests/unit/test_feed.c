/* test_feed - the store's outbox: appended with records only when on, read after a cursor, trimmed below the cursors, consumers synced */
#include "unit.h"
#include "unit.inc"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "store.h"

static char *dir;

static struct store *
open_store(int feed, int flags)
{
	struct store_opts	 o;
	char			 err[256];
	struct store		*s;

	memset(&o, 0, sizeof(o));
	o.map_size = 64 << 20;
	o.batch_ms = 5;
	o.batch_max = 4096;
	if ((s = store_open(dir, &o, flags | (feed ? STORE_FEED : 0), err,
	    sizeof(err))) == NULL)
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

/* put_message - one message with one link; its seq */
static uint64_t
put_message(struct store *s, const char *msgid)
{
	struct store_msg	m;
	struct store_link	l;
	const char		*rcpt[] = { "r@example.org" };
	uint64_t		seq, lseq;

	assert_int_equal(store_reserve(s, ID_MSG, 1, &seq), 0);
	assert_int_equal(store_reserve(s, ID_LINK, 1, &lseq), 0);
	l.seq = lseq;
	l.url = "https://example.com/x";
	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.time_us = 1795766400000000;
	m.message_id = msgid;
	m.from = "s@example.com";
	m.rcpt = rcpt;
	m.nrcpt = 1;
	m.links = &l;
	m.nlinks = 1;
	assert_int_equal(store_put_message(s, &m), 0);
	return seq;
}

static void
put_events(struct store *s, uint64_t msg, int n)
{
	struct store_event	e;
	int			i;

	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.type = i % 2 ? STORE_EV_OPEN : STORE_EV_CLICK;
		e.seq = msg;
		e.msg = msg;
		e.ip = "192.0.2.1";
		e.method = "GET";
		assert_int_equal(store_put_event(s, &e), 0);
	}
	assert_int_equal(store_flush(s), 0);
}

static void
test_off(void **state)
{
	struct store		*s = open_store(0, STORE_EVENTS);
	struct feed_entry	*e;
	size_t			 n;
	uint64_t		 last;

	(void)state;
	put_events(s, put_message(s, "<off@example.com>"), 3);
	assert_int_equal(feed_read(s, 0, 10, &e, &n), 0);
	assert_int_equal(n, 0);
	feed_entries_free(e, n);
	assert_int_equal(feed_last(s, &last), 0);
	assert_int_equal(last, 0);
	store_close(s);
}

static void
test_append_read(void **state)
{
	struct store		*s = open_store(1, STORE_EVENTS);
	struct feed_entry	*e;
	size_t			 n, i;
	uint64_t		 msg, last, cur;

	(void)state;
	msg = put_message(s, "<on@example.com>");
	put_events(s, msg, 5);
	assert_int_equal(feed_last(s, &last), 0);
	assert_int_equal(last, 6);
	assert_int_equal(feed_read(s, 0, 100, &e, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(e[0].seq, 1);
	assert_int_equal(e[0].kind, 'm');
	assert_int_equal(strlen(e[0].key), 16);
	assert_non_null(strstr(e[0].rec, "<on@example.com>"));
	for (i = 1; i < n; i++) {
		assert_int_equal(e[i].seq, i + 1);
		assert_int_equal(e[i].kind, 'e');
		assert_int_equal(strlen(e[i].key), 20);
		assert_non_null(e[i].rec);
		assert_non_null(strstr(e[i].rec, i % 2 ? "\"click\"" : "\"open\""));
		/* keys grow with the feed */
		if (i > 1)
			assert_true(strcmp(e[i].key, e[i - 1].key) > 0);
	}
	feed_entries_free(e, n);
	/* after a cursor, and at most max */
	assert_int_equal(feed_read(s, 4, 1, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].seq, 5);
	feed_entries_free(e, n);
	assert_int_equal(feed_read(s, 6, 10, &e, &n), 0);
	assert_int_equal(n, 0);
	feed_entries_free(e, n);

	/* a new consumer starts at the end; its cursor survives a restart */
	assert_int_equal(feed_cursor_get(s, "wh:a", &cur), 1);
	assert_int_equal(feed_register(s, "wh:a", &cur), 0);
	assert_int_equal(cur, 6);
	assert_int_equal(feed_cursor_set(s, "wh:a", 2), 0);
	assert_int_equal(feed_register(s, "wh:a", &cur), 0);
	assert_int_equal(cur, 2);
	store_close(s);
	s = open_store(1, STORE_EVENTS);
	assert_int_equal(feed_cursor_get(s, "wh:a", &cur), 0);
	assert_int_equal(cur, 2);
	/* the sequence goes on after a restart */
	put_events(s, msg, 1);
	assert_int_equal(feed_last(s, &last), 0);
	assert_int_equal(last, 7);
	store_close(s);
}

/* trimmed at or below the smallest cursor, by the writer's next fold */
static void
test_trim_sync(void **state)
{
	struct store		*s = open_store(1, STORE_EVENTS);
	struct feed_entry	*e;
	size_t			 n;
	uint64_t		 msg, cur;
	char			 b[] = "wh:b", *keep[] = { b };

	(void)state;
	msg = put_message(s, "<trim@example.com>");
	put_events(s, msg, 9);			/* seq 1..10 */
	/* no consumer registered: nothing trimmed */
	put_events(s, msg, 1);			/* 11 */
	assert_int_equal(feed_read(s, 0, 100, &e, &n), 0);
	assert_int_equal(n, 11);
	feed_entries_free(e, n);
	assert_int_equal(feed_cursor_set(s, "wh:a", 3), 0);
	assert_int_equal(feed_cursor_set(s, "wh:b", 8), 0);
	assert_int_equal(feed_cursor_set(s, "nats", 9), 0);
	put_events(s, msg, 1);			/* 12, and a fold */
	assert_int_equal(feed_read(s, 0, 100, &e, &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(e[0].seq, 4);
	feed_entries_free(e, n);
	/* wh:a removed from the configuration: wh:b holds, nats untouched */
	assert_int_equal(feed_sync(s, "wh:", keep, 1), 0);
	assert_int_equal(feed_cursor_get(s, "wh:a", &cur), 1);
	assert_int_equal(feed_cursor_get(s, "nats", &cur), 0);
	put_events(s, msg, 1);			/* 13 */
	assert_int_equal(feed_read(s, 0, 100, &e, &n), 0);
	assert_int_equal(e[0].seq, 9);
	assert_int_equal(n, 5);
	feed_entries_free(e, n);
	/* every consumer past the end: all trimmed, the sequence still grows */
	assert_int_equal(feed_cursor_set(s, "wh:b", 13), 0);
	assert_int_equal(feed_cursor_set(s, "nats", 13), 0);
	put_events(s, msg, 1);			/* 14 */
	put_events(s, msg, 1);			/* 15 */
	assert_int_equal(feed_read(s, 0, 100, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].seq, 14);
	feed_entries_free(e, n);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim_sync, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
