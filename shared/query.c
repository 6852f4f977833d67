/*
 * query - read-only walks over the store (see query.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "log.h"
#include "query.h"

/* a walk that reached the end of its time range stops with this */
#define Q_END	0x7e11

/* walk keys >= from (all when NULL) while they start with prefix */
static int
q_walk(struct store *s, enum db db, const char *from, size_t flen,
    const char *prefix, size_t plen, query_kv_fn fn, void *arg)
{
	MDB_txn		*txn;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	int		 rc, ret = -1;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	if (mdb_cursor_open(txn, store_dbi(s, db), &cur) != 0)
		goto out;
	k.mv_data = (void *)from;
	k.mv_size = flen;
	rc = mdb_cursor_get(cur, &k, &v, flen ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((ret = fn(arg, k.mv_data, k.mv_size, v.mv_data,
		    v.mv_size)) != 0)
			goto out;
	}
	ret = rc == MDB_NOTFOUND || rc == 0 ? 0 : -1;
out:
	if (cur)
		mdb_cursor_close(cur);
	store_read_end(s, txn);
	return ret;
}

int
query_counters(struct store *s, const char *prefix, query_kv_fn fn, void *arg)
{
	size_t n = strlen(prefix);

	return q_walk(s, DB_COUNTERS, prefix, n, prefix, n, fn, arg);
}

int
query_messages(struct store *s, query_kv_fn fn, void *arg)
{
	return q_walk(s, DB_MESSAGES, NULL, 0, NULL, 0, fn, arg);
}

int
query_get(struct store *s, enum db db, const char *key, struct buf *val)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	int		 rc;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	rc = mdb_get(txn, store_dbi(s, db), &k, &v);
	if (rc == 0 && buf_append(val, v.mv_data, v.mv_size) == -1)
		rc = ENOMEM;
	store_read_end(s, txn);
	return rc == 0 ? 0 : rc == MDB_NOTFOUND ? 1 : -1;
}

struct evwalk {
	struct store	*s;
	MDB_txn		*txn;
	MDB_dbi		 events;
	int64_t		 to_us;
	query_kv_fn	 fn;
	void		*arg;
};

/* an index entry (msg + event key): the event itself */
static int
q_index(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct evwalk	*w = arg;
	MDB_val		 k, v;

	(void)val;
	(void)vlen;
	if (klen != DB_IKEY_LEN)
		return 0;
	if ((int64_t)db_hex16_parse(key + DB_SEQ_LEN) >= w->to_us)
		return Q_END;
	k.mv_data = (void *)(key + DB_SEQ_LEN);
	k.mv_size = DB_EVKEY_LEN;
	if (mdb_get(w->txn, w->events, &k, &v) != 0)
		return 0;
	return w->fn(w->arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
}

/* an event by time: stop at to_us */
static int
q_event(void *arg, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct evwalk	*w = arg;

	if (klen < DB_SEQ_LEN)
		return 0;
	if ((int64_t)db_hex16_parse(key) >= w->to_us)
		return Q_END;
	return w->fn(w->arg, key, klen, val, vlen);
}

int
query_events(struct store *s, int64_t from_us, int64_t to_us, uint64_t msg,
    query_kv_fn fn, void *arg)
{
	struct evwalk	 w;
	char		 from[DB_IKEY_LEN + 1], prefix[DB_SEQ_LEN + 1];
	int		 rc;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.to_us = to_us;
	w.fn = fn;
	w.arg = arg;
	if (from_us < 0)
		from_us = 0;
	if (msg == 0) {
		db_hex16(from, (uint64_t)from_us);
		rc = q_walk(s, DB_EVENTS, from, DB_SEQ_LEN, NULL, 0, q_event, &w);
		return rc == Q_END ? 0 : rc;
	}
	/* by message: the msgevents index, read in one more transaction */
	w.events = store_dbi(s, DB_EVENTS);
	if ((w.txn = store_read_begin(s)) == NULL)
		return -1;
	db_hex16(prefix, msg);
	db_ikey_from(from, msg, from_us);
	rc = q_walk(s, DB_MSGEVENTS, from, DB_IKEY_LEN, prefix, DB_SEQ_LEN,
	    q_index, &w);
	store_read_end(s, w.txn);
	return rc == Q_END ? 0 : rc;
}
