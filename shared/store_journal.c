/*
 * store_journal - the tracker's events go through a journal (journal.h)
 * on their way to the writer: a request appends its event and answers; the
 * writer folds the journal into LMDB in batches, with the position it has
 * folded up to (meta "journal_pos") in the same transaction. A process
 * that dies loses no event whose append returned; the next start replays
 * from the stored position, so each event is applied exactly once.
 *
 * Only a store opened with STORE_EVENTS (one process: events.lock) has a
 * journal, in the directory "journal" of the environment.
 *
 * A journal record is one event, fixed fields then its strings:
 *   uint8 type, uint8 version (1), uint16 length of each of the six
 *   strings (0xffff: none), int64 time_us, uint64 seq, uint64 msg, then
 *   the six strings (ip, ua, method, host, verdict, reason), each with a
 *   NUL: read back in place, without a copy.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "journal.h"
#include "log.h"
#include "now.h"
#include "store_impl.h"

#define EVREC_VERSION	1
#define EVREC_NSTR	6
#define EVREC_NONE	0xffff
#define EVREC_STRMAX	0xfffe
#define EVREC_HEAD	(2 + 2 * EVREC_NSTR + 3 * 8)
#define EVREC_MAX	(EVREC_HEAD + EVREC_NSTR * (EVREC_STRMAX + 1))

struct evrec_head {
	uint8_t		type, version;
	uint16_t	len[EVREC_NSTR];
	int64_t		time_us;
	uint64_t	seq, msg;
} __attribute__((packed));

/* evrec_strings - the six strings of an event, in record order */
static void
evrec_strings(const struct store_event *e, const char *out[EVREC_NSTR])
{
	out[0] = e->ip;
	out[1] = e->ua;
	out[2] = e->method;
	out[3] = e->host;
	out[4] = e->verdict;
	out[5] = e->reason;
}

/* evrec_encode - e as a journal record into buf (EVREC_MAX bytes); its length */
static size_t
evrec_encode(const struct store_event *e, char *buf)
{
	struct evrec_head	 h;
	const char		*str[EVREC_NSTR];
	size_t			 off = sizeof(h), n;
	int			 i;

	memset(&h, 0, sizeof(h));
	h.type = (uint8_t)e->type;
	h.version = EVREC_VERSION;
	h.time_us = e->time_us ? e->time_us : now_us();
	h.seq = e->seq;
	h.msg = e->msg;
	evrec_strings(e, str);
	for (i = 0; i < EVREC_NSTR; i++) {
		if (str[i] == NULL) {
			h.len[i] = EVREC_NONE;
			continue;
		}
		n = strnlen(str[i], EVREC_STRMAX);
		h.len[i] = (uint16_t)n;
		memcpy(buf + off, str[i], n);
		buf[off + n] = '\0';
		off += n + 1;
	}
	memcpy(buf, &h, sizeof(h));
	return off;
}

/* evrec_decode - a journal record into *e, its strings pointing into it; 0 or -1 */
static int
evrec_decode(const char *rec, size_t len, struct store_event *e)
{
	struct evrec_head	 h;
	const char		*str[EVREC_NSTR];
	size_t			 off = sizeof(h);
	int			 i;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, rec, sizeof(h));
	if (h.version != EVREC_VERSION || (h.type != STORE_EV_CLICK &&
	    h.type != STORE_EV_OPEN))
		return -1;
	for (i = 0; i < EVREC_NSTR; i++) {
		if (h.len[i] == EVREC_NONE) {
			str[i] = NULL;
			continue;
		}
		if (len - off < (size_t)h.len[i] + 1 || rec[off + h.len[i]] != '\0')
			return -1;
		str[i] = rec + off;
		off += (size_t)h.len[i] + 1;
	}
	memset(e, 0, sizeof(*e));
	e->type = (enum store_ev)h.type;
	e->time_us = h.time_us;
	e->seq = h.seq;
	e->msg = h.msg;
	e->ip = str[0];
	e->ua = str[1];
	e->method = str[2];
	e->host = str[3];
	e->verdict = str[4];
	e->reason = str[5];
	return 0;
}

/* the journal calls this when an event arrives while the writer sleeps */
static void
journal_wake(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->q_lock);
	pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_lock);
}

int
store_journal_open(struct store *s, const char *path, char *err,
    size_t errlen)
{
	struct journal_opts	 o;
	MDB_txn			*txn;
	MDB_val			 k, v;
	char			 dir[4096], num[24];
	uint64_t		 pos = 0;
	size_t			 n;
	int			 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		return -1;
	}
	k.mv_data = (void *)DB_META_JOURNAL_POS;
	k.mv_size = strlen(DB_META_JOURNAL_POS);
	if (mdb_get(txn, s->dbi[DB_META], &k, &v) == 0) {
		n = v.mv_size < sizeof(num) - 1 ? v.mv_size : sizeof(num) - 1;
		memcpy(num, v.mv_data, n);
		num[n] = '\0';
		pos = strtoull(num, NULL, 16);
	}
	mdb_txn_abort(txn);
	memset(&o, 0, sizeof(o));
	o.max_pending = s->opts.journal_max;
	o.notify = journal_wake;
	o.notify_arg = s;
	snprintf(dir, sizeof(dir), "%s/journal", path);
	if ((s->journal = journal_open(dir, pos, &o, err, errlen)) == NULL)
		return -1;
	s->j_folded_pos = s->j_stored = pos;
	return 0;
}

void
store_journal_close(struct store *s)
{
	journal_close(s->journal);
	s->journal = NULL;
}

int
store_journal_put(struct store *s, const struct store_event *e)
{
	char	buf[4096], *big = NULL, *p = buf;
	size_t	need = EVREC_HEAD, len;
	int	rc, i;
	const char *str[EVREC_NSTR];

	evrec_strings(e, str);
	for (i = 0; i < EVREC_NSTR; i++)
		need += str[i] ? strnlen(str[i], EVREC_STRMAX) + 1 : 0;
	if (need > sizeof(buf) && (p = big = malloc(need)) == NULL)
		return -1;
	len = evrec_encode(e, p);
	rc = journal_append(s->journal, p, len);
	free(big);
	return rc;
}

void
store_journal_begin(struct store *s)
{
	s->j_start = journal_read_pos(s->journal);
	s->j_taken = 0;
	s->j_more = 0;
}

int
store_journal_next(struct store *s, struct store_event *e)
{
	const void	*rec;
	size_t		 len;
	uint64_t	 end;
	int		 r;

	for (;;) {
		/* after a failed batch, one record at a time: find the bad one */
		if (s->j_single && s->j_taken > 0) {
			s->j_more = 1;
			return 1;
		}
		if ((r = journal_read(s->journal, &rec, &len, &end)) != 0)
			return r;
		if (evrec_decode(rec, len, e) == 0)
			break;
		log_warnx("store op=journal_fold pos=%" PRIu64 " error=\"not an"
		    " event record: skipped\"", end);
	}
	s->j_taken++;
	s->j_last_us = e->time_us;
	return 0;
}

int
store_journal_mark(struct store *s, MDB_txn *txn)
{
	MDB_val	k, v;
	char	num[DB_SEQ_LEN + 1];

	if (journal_read_pos(s->journal) == s->j_stored)
		return 0;
	db_hex16(num, journal_read_pos(s->journal));
	k.mv_data = (void *)DB_META_JOURNAL_POS;
	k.mv_size = strlen(DB_META_JOURNAL_POS);
	v.mv_data = num;
	v.mv_size = DB_SEQ_LEN;
	return mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
}

int
store_journal_more(struct store *s)
{
	struct journal_stats st;

	if (s->j_more)
		return 1;
	journal_stats(s->journal, &st);
	return journal_read_pos(s->journal) < st.tail;
}

void
store_journal_end(struct store *s, int rc)
{
	uint64_t	pos = journal_read_pos(s->journal);
	int64_t		t = now_mono_us(), lag = 0;

	if (rc != 0) {
		/*
		 * Undone: read the batch again. A batch of one record that
		 * fails is that record's fault: it is passed over (the next
		 * batch stores the position after it), or it would stop the
		 * fold.
		 */
		if (s->j_single && s->j_taken == 1) {
			log_warnx("store op=journal_fold pos=%" PRIu64
			    " error=\"%s: event dropped\"", s->j_start,
			    mdb_strerror(rc));
			s->j_single = 0;
			pthread_mutex_lock(&s->q_lock);
			s->j_dropped++;
			pthread_mutex_unlock(&s->q_lock);
			return;
		}
		journal_rewind(s->journal, s->j_start);
		s->j_single = s->j_taken > 1;
		return;
	}
	s->j_single = 0;
	if (pos != s->j_stored)
		journal_folded(s->journal, pos);
	s->j_stored = pos;
	if (s->j_taken && store_journal_more(s))
		lag = now_us() - s->j_last_us;
	pthread_mutex_lock(&s->q_lock);
	s->j_folded_pos = pos;
	s->j_events += s->j_taken;
	s->j_lag_us = lag > 0 ? lag : 0;
	if (t - s->j_rate_t >= 1000000) {
		if (s->j_rate_t)
			s->j_rate = (double)(s->j_events - s->j_rate_n) * 1e6 /
			    (double)(t - s->j_rate_t);
		s->j_rate_t = t;
		s->j_rate_n = s->j_events;
	}
	pthread_mutex_unlock(&s->q_lock);
}

void
store_journal_sync(struct store *s)
{
	struct journal_stats	st;
	int64_t			t = now_mono_us();

	if (t - s->j_sync_us < (int64_t)s->opts.batch_ms * 1000)
		return;
	journal_stats(s->journal, &st);
	/* what is not folded yet is made durable every batch_ms */
	if (st.tail > st.synced && st.tail > st.folded) {
		journal_sync(s->journal);
		s->j_sync_us = t;
	}
}

void
store_journal_after(struct store *s)
{
	store_journal_sync(s);
	if (journal_prepare(s->journal) == -1)
		log_warn("store op=journal_prepare");
}

int
store_journal_ready(struct store *s)
{
	return s->journal && journal_idle(s->journal);
}

uint64_t
store_journal_tail(struct store *s)
{
	struct journal_stats st;

	journal_stats(s->journal, &st);
	return st.tail;
}

int
store_journal_stats(struct store *s, struct store_jstats *js)
{
	struct journal_stats	st;
	int64_t			t = now_mono_us();

	memset(js, 0, sizeof(*js));
	if (s->journal == NULL)
		return -1;
	journal_stats(s->journal, &st);
	js->pending_bytes = st.tail - st.folded;
	js->max_bytes = st.max_pending;
	js->backpressure = st.backpressure;
	js->waits = st.waits;
	js->appends = st.appends;
	js->skipped_bytes = st.skipped;
	pthread_mutex_lock(&s->q_lock);
	js->folded = s->j_events;
	js->dropped = s->j_dropped;
	js->lag_s = (double)s->j_lag_us / 1e6;
	/* a rate not renewed for two seconds: the fold has nothing to do */
	js->fold_rate = t - s->j_rate_t < 2000000 ? s->j_rate : 0;
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}
