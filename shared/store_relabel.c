/*
 * store_relabel - earlier events re-labelled by what a later one showed
 * (store_impl.h): a source that follows a message's honeypot link is a
 * scanner, and so were its earlier events on that message; a source whose
 * clicks on a message make a burst was a scanner from the burst's first
 * click. Their counts move from their class to "scanner", and a unique
 * person they counted is taken back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "store_impl.h"

/*
 * relabel_uniques - a person counted once as unique through this source
 * is no person: take it back (per source only; with one recipient others
 * may have seen the message too)
 */
static int
relabel_uniques(struct store *s, MDB_txn *txn, const struct scopes *sc,
    int click, const char *msg16, const char *link, const char *ip)
{
	char	ukey[96];
	MDB_val	uk;
	int	rc = 0;

	db_uniq_key(ukey, sizeof(ukey), click ? 'c' : 'o', msg16, ip, 1);
	uk.mv_data = ukey;
	uk.mv_size = strlen(ukey);
	if (mdb_del(txn, s->dbi[DB_UNIQ], &uk, NULL) == 0) {
		struct scopes ms;

		store_count_scopes_nolink(sc, click, &ms);
		rc = store_count_add(s->delta, &ms, click ? "uclicks.human" :
		    "uopens.human", TALLY_SUM, -1);
	}
	if (rc == 0 && click && link) {
		db_uniq_key(ukey, sizeof(ukey), 'l', link, ip, 1);
		uk.mv_data = ukey;
		uk.mv_size = strlen(ukey);
		if (mdb_del(txn, s->dbi[DB_UNIQ], &uk, NULL) == 0)
			rc = store_count_add1(s->delta, sc->v[2],
			    "uclicks.human", TALLY_SUM, -1);
	}
	return rc;
}

/* what a sweep re-labels, and as what */
struct relabel {
	const char	*reason;	/* the new reason (class: scanner) */
	int		 human_clicks;	/* only clicks counted as people */
};

static const struct relabel relabel_honeypot = { "honeypot-source", 0 };
static const struct relabel relabel_burst = { "burst", 1 };

/*
 * relabel_event - the event of key evkey, when ip's and not yet a
 * scanner's (with how->human_clicks: a person's click), becomes a
 * scanner's: its counts, its uniques, its record
 */
static int
relabel_event(struct store *s, MDB_txn *txn, uint64_t msg, const char *msg16,
    const char *evkey, const char *ip, const struct relabel *how)
{
	const char		*cls, *type, *eip, *link = NULL;
	const struct msginfo	*mi;
	struct scopes		 sc;
	char			 ekey[DB_EVKEY_LEN + 1], metric[48];
	MDB_val			 ek, ev;
	json_t			*o;
	json_int_t		 t;
	int			 click, rc;

	memcpy(ekey, evkey, DB_EVKEY_LEN);
	ekey[DB_EVKEY_LEN] = '\0';
	ek.mv_data = ekey;
	ek.mv_size = DB_EVKEY_LEN;
	if (mdb_get(txn, s->dbi[DB_EVENTS], &ek, &ev) != 0 ||
	    (o = json_loadb(ev.mv_data, ev.mv_size, 0, NULL)) == NULL)
		return 0;
	if (json_unpack(o, "{s:s, s:s, s:s, s:I}", "class", &cls,
	    "type", &type, "ip", &eip, "time", &t) != 0 ||
	    strcmp(eip, ip) != 0 || strcmp(cls, "scanner") == 0 ||
	    (how->human_clicks && (strcmp(cls, "human") != 0 ||
	    strcmp(type, "click") != 0))) {
		json_decref(o);
		return 0;
	}
	click = strcmp(type, "click") == 0;
	json_unpack(o, "{s?s}", "link", &link);
	mi = store_count_msginfo(s, txn, msg);
	store_count_scopes(mi, click, link ? strtoull(link, NULL, 16) : 0, msg,
	    t, &sc);
	snprintf(metric, sizeof(metric), "%s.%s", click ? "clicks" : "opens",
	    cls);
	rc = store_count_add(s->delta, &sc, metric, TALLY_SUM, -1);
	snprintf(metric, sizeof(metric), "%s.scanner", click ? "clicks" :
	    "opens");
	if (rc == 0)
		rc = store_count_add(s->delta, &sc, metric, TALLY_SUM, 1);
	if (rc == 0 && strcmp(cls, "human") == 0 && mi->nrcpt != 1)
		rc = relabel_uniques(s, txn, &sc, click, msg16, link, ip);
	json_object_set_new(o, "class", json_string("scanner"));
	json_object_set_new(o, "reason", json_string(how->reason));
	if (rc == 0)
		rc = store_record_json(txn, s->dbi[DB_EVENTS], ekey, o, 0);
	json_decref(o);
	return rc;
}

/*
 * relabel_sweep - ip's events on msg from window_us before time_us on,
 * but self, re-labelled as how says
 */
static int
relabel_sweep(struct store *s, MDB_txn *txn, uint64_t msg, const char *ip,
    int64_t time_us, const char self[DB_EVKEY_LEN], int64_t window_us,
    const struct relabel *how)
{
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	char		 from[DB_IKEY_LEN + 1], msg16[DB_SEQ_LEN + 1];
	int		 rc;

	if (ip == NULL || window_us <= 0)
		return 0;
	/*
	 * The events not yet in the index, this batch's too, first; and the
	 * link counters not folded (a sum never goes below 0: the order counts)
	 */
	if ((rc = store_pending_fold_index(s, txn)) != 0 ||
	    (rc = store_pending_links(s, txn)) != 0)
		return rc;
	s->fold_now = 1;	/* and what the batch adds after them */
	db_hex16(msg16, msg);
	db_ikey_from(from, msg, time_us - window_us);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_MSGEVENTS], &cur)) != 0)
		return rc;
	k.mv_data = from;
	k.mv_size = DB_IKEY_LEN;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *evkey = (const char *)k.mv_data + DB_SEQ_LEN;

		if (k.mv_size != DB_IKEY_LEN ||
		    memcmp(k.mv_data, msg16, DB_SEQ_LEN) != 0)
			break;
		if (memcmp(evkey, self, DB_EVKEY_LEN) == 0)
			continue;
		if ((rc = relabel_event(s, txn, msg, msg16, evkey, ip,
		    how)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_relabel_honeypot(struct store *s, MDB_txn *txn, uint64_t msg,
    const char *ip, int64_t time_us, const char self[DB_EVKEY_LEN])
{
	return relabel_sweep(s, txn, msg, ip, time_us, self, s->honeypot_us,
	    &relabel_honeypot);
}

int
store_relabel_burst(struct store *s, MDB_txn *txn, uint64_t msg,
    const char *ip, int64_t time_us, const char self[DB_EVKEY_LEN])
{
	return relabel_sweep(s, txn, msg, ip, time_us, self, s->burst_us,
	    &relabel_burst);
}
