/* test_collect - records of other nodes into a collector's store: JSON round trip, once by key, events before their message */
#include "unit.h"
#include "unit.inc"

#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "record.h"
#include "store.h"

/* one node's store: two messages (one with a honeypot link), clicks and opens */
static struct store *
node_store(const char *dir, int node, uint64_t *m1, uint64_t *m2)
{
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 10,
	    .batch_max = 4096, .node = node };
	struct store_link	 l[3];
	struct store_msg	 m;
	struct store_event	 e;
	const char		*rcpt1[] = { "a@example.net" };
	const char		*rcpt2[] = { "b@example.net", "c@example.net" };
	uint64_t		 first;
	char			 err[256];
	struct store		*s;
	int			 i;

	assert_non_null(s = store_open(dir, &o, STORE_EVENTS, err,
	    sizeof(err)));
	assert_int_equal(store_reserve(s, ID_LINK, 3, &first), 0);
	assert_int_equal(store_reserve(s, ID_MSG, 1, m1), 0);
	l[0].seq = first;
	l[0].url = "https://example.com/a?x=1&y=\"2\"";
	l[1].seq = first + 1;
	l[1].url = "https://example.com/hidden";
	l[2].seq = first + 2;
	l[2].url = "https://example.com/b";
	memset(&m, 0, sizeof(m));
	m.seq = *m1;
	m.time_us = 1700000000000000;
	m.message_id = "<one@example.com>";
	m.from = "news@example.com";
	m.rcpt = rcpt1;
	m.nrcpt = 1;
	m.links = l;
	m.nlinks = 3;
	m.pixel = 1;
	m.campaign = "spring";
	m.domain = "example.com";
	m.honeypot = first + 1;
	assert_int_equal(store_put_message(s, &m), 0);
	assert_int_equal(store_reserve(s, ID_LINK, 1, &first), 0);
	assert_int_equal(store_reserve(s, ID_MSG, 1, m2), 0);
	m.seq = *m2;
	m.message_id = "<two@example.com>";
	m.rcpt = rcpt2;
	m.nrcpt = 2;
	m.nlinks = 1;
	m.links = l + 2;
	l[2].seq = first;
	m.honeypot = 0;
	m.campaign = "autumn";
	assert_int_equal(store_put_message(s, &m), 0);
	for (i = 0; i < 6; i++) {
		memset(&e, 0, sizeof(e));
		e.type = i % 2 ? STORE_EV_OPEN : STORE_EV_CLICK;
		e.time_us = 1700000100000000 + i;
		e.msg = i < 3 ? *m1 : *m2;
		e.seq = e.type == STORE_EV_OPEN ? e.msg : i < 3 ? l[0].seq :
		    first;
		e.ip = i == 4 ? "10.0.0.2" : "10.0.0.1";
		e.method = "GET";
		e.verdict = i == 2 ? "bot" : "human";
		e.reason = i == 2 ? "curl" : "-";
		assert_int_equal(store_put_event(s, &e), 0);
	}
	assert_int_equal(store_flush(s), 0);
	return s;
}

struct recs {
	struct store	*s;
	struct record_cache cache;
	char		*json[32];
	int		 n;
};

static int
take_event(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct recs	*r = arg;
	struct buf	 b = BUF_INIT;

	assert_int_equal(record_event(r->s, &r->cache, key, klen, val, vlen,
	    &b), 0);
	r->json[r->n++] = b.data;
	return 0;
}

static void
collect_one(struct store *c, const char *json, int is_msg, int want)
{
	struct record_msg	rm;
	struct record_ev	re;
	struct store_rec	r;

	memset(&r, 0, sizeof(r));
	if (is_msg) {
		assert_int_equal(record_msg_parse(json, strlen(json), &rm), 0);
		r.msg = &rm.m;
	} else {
		assert_int_equal(record_ev_parse(json, strlen(json), &re), 0);
		r.ev = &re.e;
	}
	assert_int_equal(store_collect(c, &r, 1), 0);
	assert_int_equal(r.result, want);
	if (is_msg)
		record_msg_free(&rm);
	else
		record_ev_free(&re);
}

static char *
counters(struct store *s, const char *scope)
{
	struct buf b = BUF_INIT;

	assert_int_equal(query_get(s, DB_COUNTERS, scope, &b), 0);
	return b.data;
}

static void
test_collect(void **state)
{
	char			*d1 = unit_tmpdir(), *dc = unit_tmpdir();
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 10, .batch_max = 4096 };
	struct store		*src, *c;
	struct store_counts	 a, b;
	struct buf		 m1j = BUF_INIT, m2j = BUF_INIT;
	struct recs		 r;
	uint64_t		 m1, m2, parked;
	char			 k1[17], k2[17], err[256], *x, *y;
	const char		*scopes[] = { "*", "c:spring", "c:autumn",
	    "d:example.com", "t:2023-11-14" };
	int			 i;

	(void)state;
	src = node_store(d1, 7, &m1, &m2);
	snprintf(k1, sizeof(k1), "%016llx", (unsigned long long)m1);
	snprintf(k2, sizeof(k2), "%016llx", (unsigned long long)m2);
	assert_int_equal(record_message(src, k1, &m1j), 0);
	assert_int_equal(record_message(src, k2, &m2j), 0);
	assert_int_equal(record_message(src, "0700000000009999", &m1j), 1);
	assert_non_null(strstr(m1j.data, "\"link_records\":["));
	memset(&r, 0, sizeof(r));
	r.s = src;
	assert_int_equal(query_events(src, 0, INT64_MAX, 0, take_event, &r), 0);
	assert_int_equal(r.n, 6);
	assert_non_null(strstr(r.json[0], "\"message_id\":\"<one@example.com>\""));
	record_cache_free(&r.cache);

	assert_non_null(c = store_open(dc, &o, STORE_EVENTS | STORE_ANYNODE,
	    err, sizeof(err)));
	/* events first: parked, not counted, not twice */
	for (i = 0; i < 6; i++)
		collect_one(c, r.json[i], 0, STORE_REC_PARKED);
	collect_one(c, r.json[0], 0, STORE_REC_DUPLICATE);
	assert_int_equal(store_parked(c, &parked), 0);
	assert_int_equal(parked, 6);
	assert_int_equal(store_counts(c, &b), 0);
	assert_int_equal(b.clicks + b.opens, 0);
	/* the messages bring them in */
	collect_one(c, m1j.data, 1, STORE_REC_APPLIED);
	collect_one(c, m2j.data, 1, STORE_REC_APPLIED);
	assert_int_equal(store_parked(c, &parked), 0);
	assert_int_equal(parked, 0);
	/* everything again: nothing changes */
	collect_one(c, m1j.data, 1, STORE_REC_DUPLICATE);
	for (i = 0; i < 6; i++)
		collect_one(c, r.json[i], 0, STORE_REC_DUPLICATE);
	assert_int_equal(store_counts(src, &a), 0);
	assert_int_equal(store_counts(c, &b), 0);
	assert_int_equal(a.messages, b.messages);
	assert_int_equal(a.links, b.links);
	assert_int_equal(a.clicks, b.clicks);
	assert_int_equal(a.opens, b.opens);
	assert_int_equal(b.clicks + b.opens, 6);
	for (i = 0; i < 5; i++) {
		x = counters(src, scopes[i]);
		y = counters(c, scopes[i]);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	/* the link records came with the message, the honeypot's too */
	{
		struct buf		u = BUF_INIT;
		struct store_linkinfo	li;
		struct record_msg	rm;

		assert_int_equal(record_msg_parse(m1j.data, m1j.len, &rm), 0);
		assert_int_equal(rm.m.nlinks, 3);
		assert_int_equal(store_get_link(c, rm.m.links[1].seq, &u, &li), 0);
		assert_string_equal(u.data, "https://example.com/hidden");
		assert_true(li.honeypot);
		record_msg_free(&rm);
		buf_free(&u);
	}
	/* a record that is not one */
	{
		struct record_ev re;

		assert_int_equal(record_ev_parse("{\"type\":\"click\"}", 16, &re), -1);
	}
	for (i = 0; i < r.n; i++)
		free(r.json[i]);
	buf_free(&m1j);
	buf_free(&m2j);
	store_close(c);
	store_close(src);
	unit_rmrf(d1);
	unit_rmrf(dc);
	free(d1);
	free(dc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect),
	};

	return cmocka_run_group_tests_name("collect", tests, NULL, NULL);
}
