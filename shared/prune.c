/*
 * prune - retention (see prune.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "log.h"
#include "prune.h"

#define PRUNE_CHUNK	200	/* messages per transaction */

struct dbs {
	MDB_dbi	messages, msgids, links, events, msgevents, counters, uniq;
};

/* delete every key of dbi that starts with prefix; adds to *n */
static int
del_prefix(MDB_txn *txn, MDB_dbi dbi, const char *prefix, uint64_t *n)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 plen = strlen(prefix);
	int		 rc;

	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return rc;
	k.mv_data = (void *)prefix;
	k.mv_size = plen;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= plen &&
	    memcmp(k.mv_data, prefix, plen) == 0) {
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		if (n)
			(*n)++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc == 0)
			continue;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* the events of a message, through its index entries */
static int
del_events(MDB_txn *txn, const struct dbs *d, const char *msg16, uint64_t *n)
{
	MDB_cursor	*cur;
	MDB_val		 k, v, ek;
	int		 rc;

	if ((rc = mdb_cursor_open(txn, d->msgevents, &cur)) != 0)
		return rc;
	k.mv_data = (void *)msg16;
	k.mv_size = DB_SEQ_LEN;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == DB_IKEY_LEN &&
	    memcmp(k.mv_data, msg16, DB_SEQ_LEN) == 0) {
		ek.mv_data = (char *)k.mv_data + DB_SEQ_LEN;
		ek.mv_size = DB_EVKEY_LEN;
		if (mdb_del(txn, d->events, &ek, NULL) == 0)
			(*n)++;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
		if (rc != 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* prune_one - everything of one message record */
static int
prune_one(MDB_txn *txn, const struct dbs *d, const char *msg16, json_t *o,
    struct prune_counts *n)
{
	json_t		*lk, *x;
	const char	*mid = NULL;
	char		 pre[64];
	MDB_val		 k;
	size_t		 i;
	int		 rc;

	lk = json_object_get(o, "link_seqs");
	json_array_foreach(lk, i, x) {
		const char *l = json_string_value(x);

		if (l == NULL)
			continue;
		k.mv_data = (void *)l;
		k.mv_size = strlen(l);
		if (mdb_del(txn, d->links, &k, NULL) == 0)
			n->links++;
		db_scope_seq(pre, 'l', strtoull(l, NULL, 16));
		k.mv_data = pre;
		k.mv_size = strlen(pre);
		if (mdb_del(txn, d->counters, &k, NULL) == 0)
			n->counters++;
		if (db_uniq_key(pre, sizeof(pre), 'l', l, NULL, 0) == 0 &&
		    (rc = del_prefix(txn, d->uniq, pre, NULL)) != 0)
			return rc;
	}
	if ((x = json_object_get(o, "honeypot")) && json_is_string(x)) {
		k.mv_data = (void *)json_string_value(x);
		k.mv_size = strlen(k.mv_data);
		mdb_del(txn, d->links, &k, NULL);
	}
	if ((rc = del_events(txn, d, msg16, &n->events)) != 0)
		return rc;
	db_scope_seq(pre, 'm', db_hex16_parse(msg16));
	k.mv_data = pre;
	k.mv_size = strlen(pre);
	if (mdb_del(txn, d->counters, &k, NULL) == 0)
		n->counters++;
	db_uniq_key(pre, sizeof(pre), 'o', msg16, NULL, 0);
	if ((rc = del_prefix(txn, d->uniq, pre, NULL)) != 0)
		return rc;
	db_uniq_key(pre, sizeof(pre), 'c', msg16, NULL, 0);
	if ((rc = del_prefix(txn, d->uniq, pre, NULL)) != 0)
		return rc;
	if (json_unpack(o, "{s:s}", "message_id", &mid) == 0 && *mid) {
		k.mv_data = (void *)mid;
		k.mv_size = strlen(mid) > DB_MSGID_MAX ? DB_MSGID_MAX :
		    strlen(mid);
		mdb_del(txn, d->msgids, &k, NULL);
	}
	k.mv_data = (void *)msg16;
	k.mv_size = DB_SEQ_LEN;
	if ((rc = mdb_del(txn, d->messages, &k, NULL)) == 0)
		n->messages++;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * prune_run - prune_before, or with dry the same work in transactions that
 * are aborted: the counts of what would go, exactly, and nothing gone
 */
static int
prune_run(struct store *s, int64_t before_us, int dry, struct prune_counts *n)
{
	MDB_env		*env = store_env(s);
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	struct dbs	 d;
	json_t		*o;
	json_int_t	 t;
	char		 next[DB_SEQ_LEN + 1] = "", msg16[DB_SEQ_LEN + 1];
	int		 rc = 0, done = 0, count;

	memset(n, 0, sizeof(*n));
	d.messages = store_dbi(s, DB_MESSAGES);
	d.msgids = store_dbi(s, DB_MSGIDS);
	d.links = store_dbi(s, DB_LINKS);
	d.events = store_dbi(s, DB_EVENTS);
	d.msgevents = store_dbi(s, DB_MSGEVENTS);
	d.counters = store_dbi(s, DB_COUNTERS);
	d.uniq = store_dbi(s, DB_UNIQ);
	/*
	 * Messages are keyed by sequence, which follows sending time only
	 * roughly (processes reserve blocks): look at every record, a chunk
	 * of messages per transaction.
	 */
	while (!done) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
		    (rc = mdb_cursor_open(txn, d.messages, &cur)) != 0)
			goto fail;
		k.mv_data = next;
		k.mv_size = strlen(next);
		rc = mdb_cursor_get(cur, &k, &v, k.mv_size ? MDB_SET_RANGE :
		    MDB_FIRST);
		count = 0;
		while (rc == 0 && count < PRUNE_CHUNK) {
			if (k.mv_size != DB_SEQ_LEN) {
				rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
				continue;
			}
			memcpy(msg16, k.mv_data, DB_SEQ_LEN);
			msg16[DB_SEQ_LEN] = '\0';
			t = INT64_MAX;
			o = json_loadb(v.mv_data, v.mv_size, 0, NULL);
			if (o)
				json_unpack(o, "{s?I}", "time", &t);
			if (o && t < before_us) {
				/* the cursor is not used across the deletions */
				mdb_cursor_close(cur);
				cur = NULL;
				rc = prune_one(txn, &d, msg16, o, n);
				json_decref(o);
				if (rc != 0)
					goto fail;
				count++;
				if ((rc = mdb_cursor_open(txn, d.messages,
				    &cur)) != 0)
					goto fail;
				k.mv_data = msg16;
				k.mv_size = DB_SEQ_LEN;
				rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
				continue;
			}
			json_decref(o);
			count++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc == 0) {
			snprintf(next, sizeof(next), "%.*s", (int)k.mv_size,
			    (char *)k.mv_data);
		} else if (rc == MDB_NOTFOUND)
			done = 1;
		else
			goto fail;
		mdb_cursor_close(cur);
		cur = NULL;
		if (dry)
			mdb_txn_abort(txn);
		else if ((rc = mdb_txn_commit(txn)) != 0) {
			txn = NULL;
			goto fail;
		}
		txn = NULL;
	}
	return 0;
fail:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	log_warnx("prune error=\"%s\"", mdb_strerror(rc));
	return -1;
}

int
prune_before(struct store *s, int64_t before_us, struct prune_counts *n)
{
	return prune_run(s, before_us, 0, n);
}

int
prune_count(struct store *s, int64_t before_us, struct prune_counts *n)
{
	return prune_run(s, before_us, 1, n);
}
