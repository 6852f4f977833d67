/*
 * store_count - the counters and uniques of a write batch (store_impl.h).
 *
 * An event's changes are gathered in the batch's delta, one record per
 * scope, and written once per scope at the commit (store_count_flush).
 * Uniques: per recipient when the message had one (its unique counters,
 * 0 or 1, say it), else per source (a "uniq" key each).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "counter.h"
#include "store_impl.h"

#define MCACHE		16384	/* message records cached by the writer */

int
store_count_init(struct store *s)
{
	if ((s->delta = delta_new()) == NULL ||
	    (s->mcache = calloc(MCACHE, sizeof(*s->mcache))) == NULL ||
	    (s->mcache_gen = calloc(MCACHE, sizeof(uint64_t))) == NULL)
		return -1;
	return 0;
}

void
store_count_free(struct store *s)
{
	delta_free(s->delta);
	free(s->mcache);
	free(s->mcache_gen);
}

void
store_count_begin(struct store *s)
{
	s->batch_gen++;
	delta_reset(s->delta);
}

void
store_count_undone(struct store *s)
{
	s->mcache_epoch++;
}

/* the day (UTC) of a time in microseconds, as YYYY-MM-DD */
static void
day_of(int64_t us, char out[11])
{
	/* one cached day: events of a batch mostly share it */
	static __thread int64_t	 cday = -1;
	static __thread char	 cached[11];
	int64_t			 d = us / 86400000000LL;
	time_t			 t = (time_t)(us / 1000000);
	struct tm		 tm;

	if (d != cday) {
		gmtime_r(&t, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%d", &tm);
		cday = d;
	}
	memcpy(out, cached, 11);
}

/* the counter record of a scope ("*" is the global one) */
static int
record_get(MDB_txn *txn, MDB_dbi dbi, const char *scope, struct counter *c)
{
	MDB_val	k, v;
	int	rc;

	k.mv_data = (void *)scope;
	k.mv_size = strlen(scope);
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == 0)
		counter_parse(c, v.mv_data, v.mv_size);
	else
		c->n = 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
record_put(MDB_txn *txn, MDB_dbi dbi, const char *scope,
    const struct counter *c)
{
	char	text[COUNTER_FIELDS * (COUNTER_NAME + 24)];
	MDB_val	k, v;

	k.mv_data = (void *)scope;
	k.mv_size = strlen(scope);
	v.mv_size = counter_format(c, text, sizeof(text));
	v.mv_data = text;
	return mdb_put(txn, dbi, &k, &v, 0);
}

/* add_scoped - add delta to one field of a scope's record */
static int
add_scoped(MDB_txn *txn, MDB_dbi dbi, const char *scope, const char *metric,
    uint64_t delta)
{
	struct counter	c;
	int		rc;

	if ((rc = record_get(txn, dbi, scope, &c)) != 0)
		return rc;
	if (counter_apply(&c, metric, strlen(metric), TALLY_SUM,
	    (int64_t)delta) == -1)
		return EINVAL;
	return record_put(txn, dbi, scope, &c);
}


/*
 * store_count_msginfo - what the counters need of a message, from its record.
 * Records never change once written, so the cache lives across batches
 * (a message not found yet is looked up again next batch). Only the head
 * of the record is parsed: its list of links can be long.
 */
struct msginfo *
store_count_msginfo(struct store *s, MDB_txn *txn, uint64_t seq)
{
	struct msginfo		*mi = &s->mcache[seq % MCACHE];
	struct store_msghead	 h;
	MDB_val			 k, v;
	char			 key[DB_SEQ_LEN + 1];

	if (mi->seq == seq && mi->epoch == s->mcache_epoch && (mi->found ||
	    s->mcache_gen[seq % MCACHE] == s->batch_gen))
		return mi;
	memset(mi, 0, sizeof(*mi));
	mi->seq = seq;
	mi->epoch = s->mcache_epoch;
	s->mcache_gen[seq % MCACHE] = s->batch_gen;
	db_hex16(key, seq);
	k.mv_data = key;
	k.mv_size = DB_SEQ_LEN;
	if (mdb_get(txn, s->dbi[DB_MESSAGES], &k, &v) != 0 ||
	    store_msghead_parse(v.mv_data, v.mv_size, &h) == -1)
		return mi;
	mi->found = 1;
	mi->nrcpt = h.nrcpt;
	snprintf(mi->campaign, sizeof(mi->campaign), "%.*s", SCOPE_MAX,
	    h.campaign);
	snprintf(mi->domain, sizeof(mi->domain), "%.*s", SCOPE_MAX, h.domain);
	return mi;
}

void
store_count_forget(struct store *s, uint64_t seq)
{
	memset(&s->mcache[seq % MCACHE], 0, sizeof(*s->mcache));
	s->mcache_gen[seq % MCACHE] = 0;
}


void
store_count_scopes(const struct msginfo *mi, int click, uint64_t link, uint64_t msg,
    int64_t time_us, struct scopes *sc)
{
	size_t n;

	sc->n = 0;
	memset(sc->r, 0, sizeof(sc->r));
	memcpy(sc->v[sc->n++], DB_SCOPE_ALL, 2);
	db_scope_seq(sc->v[sc->n++], 'm', msg);
	if (click)
		db_scope_seq(sc->v[sc->n++], 'l', link);
	if (mi->campaign[0]) {
		n = strlen(mi->campaign);
		memcpy(sc->v[sc->n], DB_SCOPE_CAMPAIGN, 2);
		memcpy(sc->v[sc->n++] + 2, mi->campaign, n + 1);
	}
	if (mi->domain[0]) {
		n = strlen(mi->domain);
		memcpy(sc->v[sc->n], DB_SCOPE_DOMAIN, 2);
		memcpy(sc->v[sc->n++] + 2, mi->domain, n + 1);
	}
	memcpy(sc->v[sc->n], DB_SCOPE_DAY, 2);
	day_of(time_us, sc->v[sc->n++] + 2);
}

/* store_count_add - fold one metric into every scope's record of the batch */
int
store_count_add(struct delta *d, struct scopes *sc, const char *metric,
    enum tally_op op, int64_t v)
{
	int	i;

	for (i = 0; i < sc->n; i++) {
		if (sc->r[i] == NULL &&
		    (sc->r[i] = delta_scope(d, sc->v[i])) == NULL)
			return ENOMEM;
		if (delta_add(sc->r[i], metric, op, v) == -1)
			return ENOMEM;
	}
	return 0;
}

/* store_count_add1 - fold one metric into one scope's record of the batch */
int
store_count_add1(struct delta *d, const char *scope, const char *metric,
    enum tally_op op, int64_t v)
{
	struct delta_rec *r;

	if ((r = delta_scope(d, scope)) == NULL ||
	    delta_add(r, metric, op, v) == -1)
		return ENOMEM;
	return 0;
}

/* first_seen - put key in "uniq"; 1 when it was not there before */
static int
first_seen(struct store *s, MDB_txn *txn, const char *key, int *rc)
{
	MDB_val	k, v;
	int	r;

	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = (void *)"1";
	v.mv_size = 1;
	r = mdb_put(txn, s->dbi[DB_UNIQ], &k, &v, MDB_NOOVERWRITE);
	if (r == MDB_KEYEXIST)
		return 0;
	if (r != 0)
		*rc = r;
	return r == 0;
}


/* scopes less the link one: the message-wide uniques */
void
store_count_scopes_nolink(const struct scopes *sc, int click, struct scopes *ms)
{
	*ms = *sc;
	if (click) {
		--ms->n;
		memmove(&ms->v[2], &ms->v[3], sizeof(ms->v[0]) *
		    (size_t)(ms->n - 2));
		memmove(&ms->r[2], &ms->r[3], sizeof(ms->r[0]) *
		    (size_t)(ms->n - 2));
	}
}

/*
 * counted - whether scope|metric is non-zero: in the batch's changes,
 * else in the stored record (read once into *rec; *have tells).
 */
static int
counted(struct store *s, MDB_txn *txn, const char *scope, const char *metric,
    struct counter *rec, int *have, int *rc)
{
	struct delta_rec	*r;
	int64_t			 v;

	if ((r = delta_find(s->delta, scope)) != NULL &&
	    delta_value(r, metric, &v) && v > 0)
		return 1;
	if (!*have) {
		if ((*rc = record_get(txn, s->dbi[DB_COUNTERS], scope, rec)) != 0)
			return 1;
		*have = 1;
	}
	return counter_get(rec, metric) > 0;
}

/*
 * uniq_single - uniques of a message to one recipient: its first event
 * counts. The link's are 0 or 1, a maximum; the message's are looked up
 * once (the batch, the stored record) and then known to its cache entry.
 */
static int
uniq_single(struct store *s, MDB_txn *txn, struct msginfo *mi,
    const struct scopes *sc, int click, int human)
{
	struct scopes	 ms;
	struct counter	 mrec;
	const char	*u = click ? "uclicks" : "uopens";
	const char	*uh = click ? "uclicks.human" : "uopens.human";
	unsigned	 bit = click ? MI_CLICK : MI_OPEN;
	unsigned	 hbit = click ? MI_CLICK_H : MI_OPEN_H;
	int		 mhave = 0, rc = 0;

	store_count_scopes_nolink(sc, click, &ms);
	if (!(mi->seen & bit)) {
		if (!counted(s, txn, sc->v[1], u, &mrec, &mhave, &rc) &&
		    rc == 0)
			rc = store_count_add(s->delta, &ms, u, TALLY_SUM, 1);
		if (rc != 0)
			return rc;
		mi->seen |= bit;
	}
	if (human && !(mi->seen & hbit)) {
		if (!counted(s, txn, sc->v[1], uh, &mrec, &mhave, &rc) &&
		    rc == 0)
			rc = store_count_add(s->delta, &ms, uh, TALLY_SUM, 1);
		if (rc != 0)
			return rc;
		mi->seen |= hbit;
	}
	if (!click)
		return 0;
	/* the link's own: sc->v[2] is "l:SEQ" */
	if ((rc = store_count_add1(s->delta, sc->v[2], u, TALLY_MAX, 1)) == 0 && human)
		rc = store_count_add1(s->delta, sc->v[2], uh, TALLY_MAX, 1);
	return rc;
}

/* uniq_sources - uniques of a message to several recipients: per source */
static int
uniq_sources(struct store *s, MDB_txn *txn, const struct scopes *sc,
    int click, int human, const char *msg, const char *ref, const char *who)
{
	const char	*kind = click ? "clicks" : "opens";
	char		 ukey[96], metric[32];
	int		 rc = 0;

	db_uniq_key(ukey, sizeof(ukey), click ? 'c' : 'o', msg, who, 0);
	snprintf(metric, sizeof(metric), "u%s", kind);
	if (first_seen(s, txn, ukey, &rc)) {
		struct scopes ms;

		/* the link scope counts uniques of its own, below */
		store_count_scopes_nolink(sc, click, &ms);
		if ((rc = store_count_add(s->delta, &ms, metric, TALLY_SUM, 1)))
			return rc;
	}
	if (rc == 0 && human) {
		db_uniq_key(ukey, sizeof(ukey), click ? 'c' : 'o', msg, who, 1);
		snprintf(metric, sizeof(metric), "u%s.human", kind);
		if (first_seen(s, txn, ukey, &rc)) {
			struct scopes ms;

			store_count_scopes_nolink(sc, click, &ms);
			if ((rc = store_count_add(s->delta, &ms, metric,
			    TALLY_SUM, 1)))
				return rc;
		}
	}
	if (rc == 0 && click) {
		db_uniq_key(ukey, sizeof(ukey), 'l', ref, who, 0);
		if (first_seen(s, txn, ukey, &rc))
			rc = store_count_add1(s->delta, sc->v[2], "uclicks", TALLY_SUM, 1);
		if (rc == 0 && human) {
			db_uniq_key(ukey, sizeof(ukey), 'l', ref, who, 1);
			if (first_seen(s, txn, ukey, &rc))
				rc = store_count_add1(s->delta, sc->v[2], "uclicks.human",
				    TALLY_SUM, 1);
		}
	}
	return rc;
}


/*
 * flush_scope - one scope touched by the batch: one look-up (a cursor),
 * one read, one write in place
 */
static int
flush_scope(void *arg, const char *scope, const struct delta_rec *r)
{
	MDB_cursor	*cur = ((void **)arg)[0];
	enum lmode	 mode = *(enum lmode *)((void **)arg)[1];
	struct counter	 rec;
	char		 text[COUNTER_FIELDS * (COUNTER_NAME + 24)];
	MDB_val		 k, v;
	size_t		 i;
	int		 rc, found;

	if (strlen(scope) > SCOPE_MAX + 24 || (mode == L_SKIP &&
	    scope[0] == 'l' && scope[1] == ':'))
		return 0;
	k.mv_data = (void *)scope;
	k.mv_size = strlen(scope);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	found = rc == 0;
	if (found)
		counter_parse(&rec, v.mv_data, v.mv_size);
	else
		rec.n = 0;
	for (i = 0; i < r->n; i++)
		counter_apply(&rec, r->f[i].name, strlen(r->f[i].name),
		    r->f[i].op, r->f[i].v);
	k.mv_data = (void *)scope;
	k.mv_size = strlen(scope);
	v.mv_size = counter_format(&rec, text, sizeof(text));
	v.mv_data = text;
	return mdb_cursor_put(cur, &k, &v, found ? MDB_CURRENT : 0);
}

/* store_count_flush - write each scope of d (link scopes too, or not) */
int
store_count_flush(struct store *s, MDB_txn *txn, const struct delta *d,
    enum lmode mode)
{
	MDB_cursor	*cur;
	void		*arg[2];
	int		 rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_COUNTERS], &cur)) != 0)
		return rc;
	arg[0] = cur;
	arg[1] = &mode;
	rc = delta_each(d, flush_scope, arg);
	mdb_cursor_close(cur);
	return rc;
}

int
store_count_message(struct store *s, MDB_txn *txn, const struct store_msg *m)
{
	MDB_dbi	dbi = s->dbi[DB_COUNTERS];
	char	day[11], scope[SCOPE_MAX + 3];
	int	rc;

	/* "sent" by campaign, sending domain and day; global counts */
	day_of(m->time_us, day);
	snprintf(scope, sizeof(scope), DB_SCOPE_DAY "%s", day);
	if ((rc = add_scoped(txn, dbi, DB_SCOPE_ALL, "messages", 1)) != 0 ||
	    (rc = add_scoped(txn, dbi, DB_SCOPE_ALL, "links",
	    m->nlinks - (m->honeypot != 0))) != 0 ||
	    (rc = add_scoped(txn, dbi, scope, "sent", 1)) != 0)
		return rc;
	if (m->campaign && *m->campaign) {
		snprintf(scope, sizeof(scope), DB_SCOPE_CAMPAIGN "%.*s", SCOPE_MAX,
		    m->campaign);
		if ((rc = add_scoped(txn, dbi, scope, "sent", 1)) != 0)
			return rc;
	}
	if (m->domain && *m->domain) {
		snprintf(scope, sizeof(scope), DB_SCOPE_DOMAIN "%.*s", SCOPE_MAX,
		    m->domain);
		if ((rc = add_scoped(txn, dbi, scope, "sent", 1)) != 0)
			return rc;
	}
	return 0;
}

int
store_count_event(struct store *s, MDB_txn *txn, const struct store_event *e,
    const char ref16[DB_SEQ_LEN + 1], const char msg16[DB_SEQ_LEN + 1])
{
	struct msginfo	*mi;
	struct scopes	 sc;
	char		 metric[96];
	const char	*kind = e->type == STORE_EV_CLICK ? "clicks" : "opens";
	int		 click = e->type == STORE_EV_CLICK, human, rc;

	mi = store_count_msginfo(s, txn, e->msg);
	store_count_scopes(mi, click, e->seq, e->msg, e->time_us, &sc);
	human = e->verdict == NULL || strcmp(e->verdict, "human") == 0;
	snprintf(metric, sizeof(metric), "%s.%s", kind,
	    e->verdict ? e->verdict : "human");
	if ((rc = store_count_add(s->delta, &sc, kind, TALLY_SUM, 1)) != 0 ||
	    (rc = store_count_add(s->delta, &sc, metric, TALLY_SUM, 1)) != 0 ||
	    (rc = store_count_add(s->delta, &sc, "first", TALLY_MIN,
	    e->time_us)) != 0 ||
	    (rc = store_count_add(s->delta, &sc, "last", TALLY_MAX,
	    e->time_us)) != 0)
		return rc;
	/*
	 * Unique: per recipient when the message had one, else per source.
	 * A message to one recipient needs no marker of its own: its unique
	 * counters (0 or 1) in its message and link records say it.
	 */
	if (mi->nrcpt == 1)
		return uniq_single(s, txn, mi, &sc, click, human);
	return uniq_sources(s, txn, &sc, click, human, msg16, ref16,
	    e->ip ? e->ip : "-");
}
