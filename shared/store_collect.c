/*
 * store_collect - a collector's store takes the records of other nodes
 * (store.h: store_collect, store_parked).
 *
 * Each record comes with the key its node gave it, which no other node
 * uses (store_node.h): a key the store holds already is a record seen
 * before, skipped in the same transaction that would apply it. An event
 * whose message is not here yet waits in "parked" (message seq + event
 * key -> the event record) and is applied, counters and all, by the
 * commit that brings its message. The counting is the writer's own
 * (store_writer_msg, store_writer_event).
 */
#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "log.h"
#include "record.h"
#include "store_impl.h"

/* held - the store has key in database d already */
static int
held(struct store *s, MDB_txn *txn, enum db d, const char *key, size_t len)
{
	MDB_val k, v;

	k.mv_data = (void *)key;
	k.mv_size = len;
	return mdb_get(txn, s->dbi[d], &k, &v) == 0;
}

/* parked_key - message seq + event key, as in "msgevents" */
static void
parked_key(char out[DB_IKEY_LEN], const char msg16[DB_SEQ_LEN],
    const char *evkey)
{
	memcpy(out, msg16, DB_SEQ_LEN);
	memcpy(out + DB_SEQ_LEN, evkey, DB_EVKEY_LEN);
}

/* unpark - the events parked for msg16: applied now that it is here, and removed */
static int
unpark(struct store *s, MDB_txn *txn, const char msg16[DB_SEQ_LEN])
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct record_ev	 r;
	char			 evkey[DB_EVKEY_LEN + 1];
	int			 rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_PARKED], &c)) != 0)
		return rc;
	k.mv_data = (void *)msg16;
	k.mv_size = DB_SEQ_LEN;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != DB_IKEY_LEN ||
		    memcmp(k.mv_data, msg16, DB_SEQ_LEN) != 0)
			break;
		memcpy(evkey, (char *)k.mv_data + DB_SEQ_LEN, DB_EVKEY_LEN);
		evkey[DB_EVKEY_LEN] = '\0';
		if (record_ev_parse(v.mv_data, v.mv_size, &r) == -1) {
			rc = EINVAL;
			break;
		}
		r.e.key = evkey;
		rc = store_writer_event(s, txn, &r.e);
		record_ev_free(&r);
		if (rc != 0 || (rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* park - keep an event until its message comes */
static int
park(struct store *s, MDB_txn *txn, const struct store_event *e,
    const char msg16[DB_SEQ_LEN + 1])
{
	char	ref[DB_SEQ_LEN + 1], pkey[DB_IKEY_LEN];
	MDB_val	k, v;

	db_hex16(ref, e->seq);
	buf_reset(&s->evbuf);
	if (store_record_event(&s->evbuf, e, ref, msg16) == -1)
		return ENOMEM;
	parked_key(pkey, msg16, e->key);
	k.mv_data = pkey;
	k.mv_size = DB_IKEY_LEN;
	v.mv_data = s->evbuf.data;
	v.mv_size = s->evbuf.len;
	return mdb_put(txn, s->dbi[DB_PARKED], &k, &v, 0);
}

/* collect_msg - a message once, its links, and the events that waited for it */
static int
collect_msg(struct store *s, MDB_txn *txn, struct store_rec *r)
{
	char	msg16[DB_SEQ_LEN + 1];
	int	rc;

	db_hex16(msg16, r->msg->seq);
	if (held(s, txn, DB_MESSAGES, msg16, DB_SEQ_LEN)) {
		r->result = STORE_REC_DUPLICATE;
		return 0;
	}
	if ((rc = store_writer_msg(s, txn, r->msg)) != 0)
		return rc;
	/* the counters' cache may remember it missing */
	store_count_forget(s, r->msg->seq);
	r->result = STORE_REC_APPLIED;
	return unpark(s, txn, msg16);
}

/* collect_event - an event once, parked while its message is missing */
static int
collect_event(struct store *s, MDB_txn *txn, struct store_rec *r)
{
	char	msg16[DB_SEQ_LEN + 1], pkey[DB_IKEY_LEN];

	if (r->ev->key == NULL || strlen(r->ev->key) != DB_EVKEY_LEN) {
		r->result = STORE_REC_BAD;
		return 0;
	}
	db_hex16(msg16, r->ev->msg);
	parked_key(pkey, msg16, r->ev->key);
	if (held(s, txn, DB_EVENTS, r->ev->key, DB_EVKEY_LEN) ||
	    held(s, txn, DB_PARKED, pkey, DB_IKEY_LEN)) {
		r->result = STORE_REC_DUPLICATE;
		return 0;
	}
	if (!store_count_msginfo(s, txn, r->ev->msg)->found) {
		r->result = STORE_REC_PARKED;
		return park(s, txn, r->ev, msg16);
	}
	r->result = STORE_REC_APPLIED;
	return store_writer_event(s, txn, r->ev);
}

int
store_collect_apply(struct store *s, MDB_txn *txn, struct store_rec *r,
    size_t n)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (r[i].msg)
			rc = collect_msg(s, txn, &r[i]);
		else if (r[i].ev)
			rc = collect_event(s, txn, &r[i]);
		else
			r[i].result = STORE_REC_BAD;
	}
	return rc;
}

int
store_collect(struct store *s, struct store_rec *recs, size_t n)
{
	struct wjob	j;
	int		rc;

	memset(&j, 0, sizeof(j));
	j.recs = recs;
	j.nrecs = n;
	if ((rc = store_writer_submit(s, &j)) != 0) {
		log_warnx("store op=collect records=%zu error=\"%s\"", n,
		    mdb_strerror(rc));
		errno = EIO;
		return -1;
	}
	return 0;
}

int
store_parked(struct store *s, uint64_t *n)
{
	MDB_txn		*txn;
	MDB_stat	 st;
	int		 rc;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	rc = mdb_stat(txn, s->dbi[DB_PARKED], &st);
	store_read_end(s, txn);
	if (rc != 0)
		return -1;
	*n = st.ms_entries;
	return 0;
}
