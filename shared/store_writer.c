/*
 * store_writer - the writer thread, its queue, and the apply of each job
 * (store.h: store_put_message, store_put_event, store_flush,
 * store_writer_stats; store_impl.h: start and stop).
 *
 * All writes of a process go through one writer thread. It takes every
 * job queued (at most batch_max), applies them in one transaction and
 * commits once: a burst of events or of milter messages costs one fsync.
 * Events alone wait for company up to batch_ms after the first of them;
 * a milter message (whose sender waits), a flush or a stop is committed
 * at once, with whatever else is queued.
 * Message jobs run in a nested transaction, so one that fails is undone
 * alone; their submitter waits for the commit. Events are fire and forget.
 *
 * A store with STORE_EVENTS takes its events from the event journal
 * (store_journal.c), not from the queue: each batch folds up to batch_max
 * journal records with its jobs, and the journal position in the same
 * transaction. Without a backlog the writer commits at most every
 * batch_ms; with one, batch after batch. Every event, journaled or
 * queued or collected, goes through store_writer_event.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

#include "log.h"
#include "now.h"
#include "store_impl.h"

/*
 * Events waiting for the writer, in batches: when the writer falls
 * behind, producers wait (the tracker slows down) rather than let the
 * queue grow: what a SIGKILL can lose stays a few batches.
 */
#define QUEUE_BATCHES	2

/* put_rec - the record in b under key, appended when it sorts last; 0 or an LMDB error */
static int
put_rec(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen,
    const struct buf *b)
{
	MDB_val k, v;

	k.mv_data = (void *)key;
	k.mv_size = klen;
	v.mv_data = b->data;
	v.mv_size = b->len;
	return store_record_put(txn, dbi, &k, &v);
}

int
store_writer_msg(struct store *s, MDB_txn *txn, const struct store_msg *m)
{
	struct buf	 b = BUF_INIT;
	char		 key[DB_SEQ_LEN + 1], mkey[DB_SEQ_LEN + 1];
	MDB_val		 k, v;
	size_t		 i;
	int		 rc = ENOMEM;

	db_hex16(mkey, m->seq);
	if (store_record_message(&b, m) == -1 || (rc = put_rec(txn,
	    s->dbi[DB_MESSAGES], mkey, DB_SEQ_LEN, &b)) != 0 ||
	    (s->feed && (rc = feed_append(&s->fw, txn, s->dbi[DB_FEED], 'm',
	    mkey, DB_SEQ_LEN)) != 0))
		goto out;
	if (m->message_id && *m->message_id) {
		k.mv_data = (void *)m->message_id;
		k.mv_size = strlen(m->message_id);
		if (k.mv_size > DB_MSGID_MAX)
			k.mv_size = DB_MSGID_MAX;
		v.mv_data = mkey;
		v.mv_size = DB_SEQ_LEN;
		if ((rc = mdb_put(txn, s->dbi[DB_MSGIDS], &k, &v, 0)) != 0)
			goto out;
	}
	for (i = 0; i < m->nlinks; i++) {
		buf_reset(&b);
		rc = ENOMEM;
		if (store_record_link(&b, m, i, mkey) == -1)
			goto out;
		db_hex16(key, m->links[i].seq);
		if ((rc = put_rec(txn, s->dbi[DB_LINKS], key, DB_SEQ_LEN,
		    &b)) != 0)
			goto out;
	}
	rc = store_count_message(s, txn, m);
out:
	buf_free(&b);
	return rc;
}

/* a honeypot hit or a burst re-labels the source's earlier events */
int
store_writer_event(struct store *s, MDB_txn *txn, const struct store_event *e)
{
	char	key[DB_EVKEY_LEN + 1], ref[DB_SEQ_LEN + 1], msg[DB_SEQ_LEN + 1];
	int	rc;

	if (e->key) {		/* a collected event keeps its node's key */
		if (strlen(e->key) != DB_EVKEY_LEN)
			return EINVAL;
		memcpy(key, e->key, DB_EVKEY_LEN + 1);
	} else		/* the node, then a counter: hosts never share a key */
		db_event_key(key, e->time_us, (uint16_t)(s->opts.node << 8 |
		    s->ev_order++));
	db_hex16(ref, e->seq);
	db_hex16(msg, e->msg);
	buf_reset(&s->evbuf);
	if (store_record_event(&s->evbuf, e, ref, msg) == -1)
		return ENOMEM;
	if ((rc = put_rec(txn, s->dbi[DB_EVENTS], key, DB_EVKEY_LEN,
	    &s->evbuf)) != 0 ||
	    (s->feed && (rc = feed_append(&s->fw, txn, s->dbi[DB_FEED], 'e',
	    key, DB_EVKEY_LEN)) != 0) ||
	    (rc = store_pending_index(s, msg, key)) != 0 ||
	    (rc = store_count_event(s, txn, e, ref, msg)) != 0)
		return rc;
	if (e->reason && strcmp(e->reason, "honeypot") == 0)
		rc = store_relabel_honeypot(s, txn, e->msg, e->ip, e->time_us,
		    key);
	else if (e->reason && strcmp(e->reason, "burst") == 0)
		rc = store_relabel_burst(s, txn, e->msg, e->ip, e->time_us,
		    key);
	return rc;
}

/*
 * writer_wait - wait for work (q_lock held). Events alone wait for
 * company: queued ones up to batch_ms after the first of them was queued
 * (or until batch_max are queued), journaled ones up to batch_ms after the
 * last commit began, unless the last batch left a backlog. A waiting milter
 * message, a flush or the stop cut it short.
 */
static void
writer_wait(struct store *s, int backlog, int64_t last_us)
{
	struct timespec	dl;
	int64_t		until;

	while (s->q_head == NULL && !s->q_stop && s->q_flush == 0 &&
	    !store_journal_ready(s))
		pthread_cond_wait(&s->q_cond, &s->q_lock);
	if (s->opts.batch_ms <= 0 || backlog)
		return;
	until = (s->q_head ? s->q_first_us : last_us) +
	    (int64_t)s->opts.batch_ms * 1000;
	dl.tv_sec = (time_t)(until / 1000000);
	dl.tv_nsec = (long)(until % 1000000) * 1000;
	while (!s->q_stop && !s->q_msgs && s->q_flush == 0 &&
	    s->q_len < (size_t)s->opts.batch_max &&
	    pthread_cond_timedwait(&s->q_cond, &s->q_lock, &dl) == 0)
		;
}

/*
 * writer_take - the next batch: at most batch_max jobs off the queue
 * (q_lock held); *n: how many, *idle: nothing waits after it (out of
 * work, or someone waits: the index is written too)
 */
static struct wjob *
writer_take(struct store *s, uint64_t *n, int *idle)
{
	struct wjob	*batch = s->q_head, *j;

	for (*n = 0, j = batch; j && *n + 1 < (uint64_t)s->opts.batch_max;
	    j = j->next)
		(*n)++;
	if (j) {
		s->q_head = j->next;
		j->next = NULL;
		(*n)++;
	} else
		s->q_head = NULL;
	if (s->q_head == NULL)
		s->q_tail = &s->q_head;
	s->q_len -= *n;
	for (j = batch; j; j = j->next)
		if (j->is_msg)
			s->q_msgs--;
	if (s->q_head)
		s->q_first_us = now_mono_us();
	*idle = s->q_head == NULL || s->q_flush > 0 || s->q_stop;
	return batch;
}

/*
 * writer_apply - each job of the batch into txn. A message goes in a
 * nested transaction: one that fails is undone alone and its sender told.
 * Events go straight in (a nested transaction each would cost more than
 * the event): what fails them fails the batch, as the result says.
 */
static int
writer_apply(struct store *s, MDB_txn *txn, struct wjob *batch)
{
	struct wjob	*j;
	MDB_txn		*child;
	int		 rc = 0;

	for (j = batch; j; j = j->next) {
		if (rc != 0) {
			j->rc = rc;
			continue;
		}
		if (!j->is_msg) {
			if ((j->rc = store_writer_event(s, txn, &j->ev)) != 0)
				rc = j->rc;
			continue;
		}
		/* collected records count like events: all or none */
		if (j->recs) {
			if ((j->rc = store_collect_apply(s, txn, j->recs,
			    j->nrecs)) != 0)
				rc = j->rc;
			continue;
		}
		if ((j->rc = mdb_txn_begin(s->env, txn, 0, &child)) != 0)
			continue;
		if ((j->rc = store_writer_msg(s, child, j->msg)) == 0)
			j->rc = mdb_txn_commit(child);
		else {
			mdb_txn_abort(child);
			feed_writer_reset(&s->fw);
		}
	}
	return rc;
}

/*
 * writer_fold - journal records after the batch's jobs, up to batch_max in
 * all, and the position they end at: in txn, so they count exactly once
 */
static int
writer_fold(struct store *s, MDB_txn *txn, uint64_t n)
{
	struct store_event	ev;
	int			rc = 0, r = 1;

	if (s->journal == NULL)
		return 0;
	while (n++ < (uint64_t)s->opts.batch_max &&
	    (r = store_journal_next(s, &ev)) == 0) {
		if ((rc = store_writer_event(s, txn, &ev)) != 0)
			return rc;
		/* a long batch: the journal still made durable every batch_ms */
		if (n % 1024 == 0)
			store_journal_sync(s);
	}
	if (r == -1)
		return EIO;
	return store_journal_mark(s, txn);
}

/* writer_commit - one batch, begun at t0 (monotonic), in one transaction: apply, count, commit */
static int
writer_commit(struct store *s, struct wjob *batch, uint64_t n, int idle,
    int64_t t0)
{
	MDB_txn	*txn;
	int	 rc, fold;

	store_count_begin(s);
	store_pending_begin(s);
	feed_writer_reset(&s->fw);
	if (s->journal)
		store_journal_begin(s);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		txn = NULL;
	else if ((rc = writer_apply(s, txn, batch)) == 0)
		rc = writer_fold(s, txn, n);
	if (s->journal && store_journal_more(s))
		idle = 0;
	fold = store_pending_fold_due(s, idle, t0);
	if (txn && rc == 0) {
		if ((rc = store_pending_flush(s, txn, fold)) != 0 ||
		    (fold && (rc = store_pending_fold_index(s, txn)) != 0) ||
		    (fold && s->feed && (rc = feed_trim(txn, s->dbi[DB_FEED],
		    s->dbi[DB_META], FEED_TRIM_MAX, NULL)) != 0))
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
	} else if (txn)
		mdb_txn_abort(txn);
	store_pending_end(s, rc, fold);
	if (s->journal)
		store_journal_end(s, rc);
	if (rc != 0) {
		store_count_undone(s);
		log_warnx("store op=commit jobs=%" PRIu64 " error=\"%s\"",
		    n, mdb_strerror(rc));
	}
	return rc;
}

/* writer_done - the batch committed (or not): statistics, results, waiters woken */
static void
writer_done(struct store *s, struct wjob *batch, uint64_t n, int rc,
    int64_t dt)
{
	struct wjob *j, *next;

	pthread_mutex_lock(&s->q_lock);
	s->ws.commits++;
	s->ws.jobs += n + (s->journal && rc == 0 ? s->j_taken : 0);
	s->ws.commit_us_total += (uint64_t)dt;
	if ((uint64_t)dt > s->ws.commit_us_max)
		s->ws.commit_us_max = (uint64_t)dt;
	for (j = batch; j; j = next) {
		next = j->next;
		if (rc != 0 && j->rc == 0)
			j->rc = rc;
		if (j->rc != 0)
			s->ws.failed++;
		if (j->is_msg)
			j->done = 1;	/* the submitter frees it */
		else
			free(j);
	}
	s->q_committed += n;
	pthread_cond_broadcast(&s->q_done);
	pthread_mutex_unlock(&s->q_lock);
}

/* writer_main - the writer thread: batch, apply, commit, wake waiters */
static void *
writer_main(void *arg)
{
	struct store	*s = arg;
	struct wjob	*batch;
	uint64_t	 n;
	int64_t		 t0 = 0;
	int		 rc, stop, idle, backlog = 0;

	store_pending_start(s);
	for (;;) {
		pthread_mutex_lock(&s->q_lock);
		writer_wait(s, backlog, t0);
		stop = s->q_stop;
		batch = writer_take(s, &n, &idle);
		pthread_mutex_unlock(&s->q_lock);
		/* the stop drains the queue and the journal */
		if (stop && batch == NULL && !store_journal_ready(s))
			break;
		t0 = now_mono_us();
		rc = writer_commit(s, batch, n, idle, t0);
		writer_done(s, batch, n, rc, now_mono_us() - t0);
		if (s->journal) {
			backlog = rc == 0 && store_journal_more(s);
			store_journal_after(s);
		}
	}
	store_pending_drain(s);
	return NULL;
}

void
store_writer_init(struct store *s)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&s->q_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->q_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&s->q_done, NULL);
	s->q_tail = &s->q_head;
}

int
store_writer_start(struct store *s, char *err, size_t errlen)
{
	int rc;

	if ((rc = pthread_create(&s->writer, NULL, writer_main, s))) {
		snprintf(err, errlen, "writer thread: %s", strerror(rc));
		return -1;
	}
	s->writer_started = 1;
	return 0;
}

void
store_writer_stop(struct store *s)
{
	if (s->writer_started) {
		pthread_mutex_lock(&s->q_lock);
		s->q_stop = 1;
		pthread_cond_signal(&s->q_cond);
		pthread_mutex_unlock(&s->q_lock);
		pthread_join(s->writer, NULL);
	}
	buf_free(&s->evbuf);
	pthread_mutex_destroy(&s->q_lock);
	pthread_cond_destroy(&s->q_cond);
	pthread_cond_destroy(&s->q_done);
}

/* enqueue a job; the caller holds no lock */
static int
writer_enqueue(struct store *s, struct wjob *j, uint64_t *ticket)
{
	pthread_mutex_lock(&s->q_lock);
	while (!s->q_stop && !j->is_msg &&
	    s->q_len >= (size_t)s->opts.batch_max * QUEUE_BATCHES) {
		s->ws.waits++;
		pthread_cond_signal(&s->q_cond);
		pthread_cond_wait(&s->q_done, &s->q_lock);
	}
	if (s->q_stop) {
		s->ws.dropped++;
		pthread_mutex_unlock(&s->q_lock);
		errno = EAGAIN;
		return -1;
	}
	if (s->q_head == NULL)
		s->q_first_us = now_mono_us();
	*s->q_tail = j;
	s->q_tail = &j->next;
	s->q_len++;
	if (j->is_msg)
		s->q_msgs++;
	*ticket = ++s->q_enqueued;
	if (s->q_len == 1 || j->is_msg || s->q_len >= (size_t)s->opts.batch_max)
		pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}

int
store_writer_submit(struct store *s, struct wjob *j)
{
	uint64_t	ticket;
	int		rc;

	if (s->rdonly)
		return EROFS;
	j->is_msg = 1;
	if (writer_enqueue(s, j, &ticket) == -1)
		return errno;
	pthread_mutex_lock(&s->q_lock);
	while (!j->done)
		pthread_cond_wait(&s->q_done, &s->q_lock);
	rc = j->rc;
	pthread_mutex_unlock(&s->q_lock);
	return rc;
}

int
store_put_message(struct store *s, const struct store_msg *m)
{
	struct wjob	 j;
	int		 rc;

	memset(&j, 0, sizeof(j));
	j.msg = m;
	if ((rc = store_writer_submit(s, &j)) == EROFS || rc == EAGAIN) {
		errno = rc;
		return -1;
	}
	if (rc != 0) {
		log_warnx("store op=put_message error=\"%s\"", mdb_strerror(rc));
		errno = EIO;
		return -1;
	}
	return 0;
}

int
store_put_event(struct store *s, const struct store_event *e)
{
	const char	*src[6] = { e->ip, e->ua, e->method, e->host, e->verdict,
	    e->reason };
	const char	**dst[6];
	struct wjob	*j;
	size_t		 len[6], total = 0;
	uint64_t	 ticket;
	char		*p;
	int		 i;

	if (s->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (s->journal)
		return store_journal_put(s, e);
	for (i = 0; i < 6; i++) {
		len[i] = src[i] ? strlen(src[i]) + 1 : 0;
		total += len[i];
	}
	if ((j = calloc(1, sizeof(*j) + total)) == NULL)
		return -1;
	j->ev = *e;
	if (j->ev.time_us == 0)
		j->ev.time_us = now_us();
	dst[0] = &j->ev.ip;
	dst[1] = &j->ev.ua;
	dst[2] = &j->ev.method;
	dst[3] = &j->ev.host;
	dst[4] = &j->ev.verdict;
	dst[5] = &j->ev.reason;
	p = (char *)(j + 1);
	for (i = 0; i < 6; i++) {
		if (src[i] == NULL) {
			*dst[i] = NULL;
			continue;
		}
		memcpy(p, src[i], len[i]);
		*dst[i] = p;
		p += len[i];
	}
	if (writer_enqueue(s, j, &ticket) == -1) {
		free(j);
		return -1;
	}
	return 0;
}

int
store_flush(struct store *s)
{
	uint64_t target, jtarget;

	if (s->rdonly || !s->writer_started)
		return 0;
	jtarget = s->journal ? store_journal_tail(s) : 0;
	pthread_mutex_lock(&s->q_lock);
	target = s->q_enqueued;
	s->q_flush++;
	pthread_cond_signal(&s->q_cond);
	while (s->q_committed < target || (s->journal &&
	    s->j_folded_pos < jtarget))
		pthread_cond_wait(&s->q_done, &s->q_lock);
	s->q_flush--;
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}

void
store_writer_stats(struct store *s, struct store_wstats *w)
{
	pthread_mutex_lock(&s->q_lock);
	*w = s->ws;
	pthread_mutex_unlock(&s->q_lock);
}
