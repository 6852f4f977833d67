/*
 * store_impl - what the store's modules share, and nobody else includes.
 *
 * The store is one family of modules, one concern each (Postfix's
 * cleanup_*.c are the model); struct store is their common state, each
 * part of it owned by one module:
 *
 *   store.c          the environment, its database handles, the pool of
 *                    read transactions, the reads of the public API
 *   store_reserve.c  ID reservation (sequences handed out in blocks)
 *   store_record.c   the record formats: writing and parsing them
 *   store_writer.c   the writer thread, its queue, the apply of a job
 *   store_journal.c  the event journal the writer folds (STORE_EVENTS)
 *   store_pending.c  index entries and link counters not folded yet, the
 *                    "pending" records that keep them across a crash
 *   store_count.c    counters and uniques of a batch (the delta), the
 *                    message cache they need
 *   store_relabel.c  re-labelling earlier events (a honeypot hit, a burst)
 *   store_scrub.c    retention of raw client data (prune.c: of records)
 *
 * Everything below runs on the writer thread unless it says otherwise.
 */
#ifndef MTRACK_STORE_IMPL_H
#define MTRACK_STORE_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include <lmdb.h>

#include "buf.h"
#include "db.h"
#include "delta.h"
#include "feed.h"
#include "store.h"
#include "store_node.h"

/* scope keys are bounded: LMDB keys are at most 511 bytes */
#define SCOPE_MAX	240

/* what an event's counters need to know of its message (store_count.c) */
struct msginfo {
	uint64_t	seq;
	uint64_t	epoch;		/* the cache's when filled */
	int		found;
	size_t		nrcpt;
	unsigned	seen;		/* MI_* of a one-recipient message, known counted */
	char		campaign[SCOPE_MAX + 1];
	char		domain[SCOPE_MAX + 1];
};

/* unique counters a one-recipient message is known to hold already */
#define MI_OPEN		0x01
#define MI_OPEN_H	0x02
#define MI_CLICK	0x04
#define MI_CLICK_H	0x08

/* the scopes an event counts in: global, message, link, campaign, domain, day */
struct scopes {
	char			 v[6][SCOPE_MAX + 24];
	struct delta_rec	*r[6];	/* the batch's record of each, once looked up */
	int			 n;
};

/* a job of the writer's queue (store_writer.c) */
struct wjob {
	struct wjob		*next;
	int			 is_msg;
	/* message and collect jobs: the submitter waits on done */
	const struct store_msg	*msg;
	struct store_rec	*recs;		/* collect: records of other nodes */
	size_t			 nrecs;
	int			 done;
	int			 rc;
	/* event jobs: one allocation, strings after the struct */
	struct store_event	 ev;
};

struct seqblock {
	uint64_t	next, end;	/* [next, end) reserved, not handed out */
};

struct store {
	/* store.c: the environment, read by every thread */
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	int		 rdonly;
	int		 anynode;	/* a collector's store (STORE_ANYNODE) */
	int		 events;	/* STORE_EVENTS */
	int		 feed;		/* STORE_FEED: append to the feed */
	int		 lockfd;	/* STORE_EVENTS: the writer's lock, or -1 */
	struct id_key	 key;
	struct store_opts opts;
	pthread_mutex_t	 rtx_lock;	/* pool of reset read transactions */
	MDB_txn		**rtx;
	size_t		 nrtx, caprtx;

	/* store_reserve.c */
	pthread_mutex_t	 seq_lock;
	struct seqblock	 seq_link, seq_msg;

	/* store_writer.c: the queue, shared with the submitters (q_lock) */
	pthread_mutex_t	 q_lock;
	pthread_cond_t	 q_cond;	/* writer: work arrived / stop */
	pthread_cond_t	 q_done;	/* submitters: a batch committed */
	struct wjob	*q_head, **q_tail;
	size_t		 q_len;
	uint64_t	 q_enqueued, q_committed;	/* jobs, for flush */
	int		 q_stop;
	size_t		 q_msgs;	/* message jobs queued */
	int		 q_flush;	/* flushes waiting */
	int64_t		 q_first_us;	/* when the queue last became non-empty (monotonic) */
	int		 writer_started;
	pthread_t	 writer;
	struct store_wstats ws;
	/* store_writer.c: the writer thread's own */
	uint8_t		 ev_order;	/* events of one microsecond apart */
	struct buf	 evbuf;		/* the event being written */
	struct feed_writer fw;		/* STORE_FEED: the next feed sequence */

	/* store_journal.c: the event journal, NULL without STORE_EVENTS */
	struct journal	*journal;
	uint64_t	 j_start;	/* read position when the batch began */
	uint64_t	 j_stored;	/* position committed in meta */
	uint64_t	 j_taken;	/* records the batch read */
	int64_t		 j_last_us;	/* time of the batch's last event */
	int		 j_more;	/* the batch left records to read */
	int		 j_single;	/* after a failed batch: one record a batch */
	int64_t		 j_sync_us;	/* the last journal_sync (monotonic) */
	/* read by store_journal_stats and store_flush (q_lock) */
	uint64_t	 j_folded_pos;	/* journal position committed */
	uint64_t	 j_events, j_dropped;	/* events folded, passed over */
	int64_t		 j_lag_us;	/* age of the last folded event, behind */
	double		 j_rate;	/* events folded per second */
	int64_t		 j_rate_t;	/* the rate's window began (monotonic) */
	uint64_t	 j_rate_n;	/* j_events then */

	/* store_count.c */
	struct delta	*delta;		/* counter changes of the batch */
	uint64_t	 batch_gen;	/* batches begun */
	struct msginfo	*mcache;	/* [MCACHE] */
	uint64_t	*mcache_gen;	/* [MCACHE] */
	uint64_t	 mcache_epoch;	/* a batch undone empties the cache */

	/* store_relabel.c */
	int64_t		 honeypot_us;	/* honeypot look-back window */
	int64_t		 burst_us;	/* burst look-back window */

	/* store_pending.c */
	char		(*pidx)[DB_IKEY_LEN];	/* index entries not written yet */
	size_t		 npidx, cappidx;
	size_t		 pidx_base;	/* the batch's first entry in pidx */
	int64_t		 fold_us;	/* the last index fold (monotonic) */
	int		 fold_now;	/* this batch must fold */
	struct delta	*ldelta;	/* link counter changes not folded yet */
	uint64_t	 wal_seq;	/* the next "pending" record */
	int		 ldelta_in_txn;	/* ldelta applied in the batch's txn */
	int		 ldelta_lost;	/* ldelta misses changes "pending" holds */
};

/* store_record.c: the records, written directly (the writer's hot path) */
/* store_record_str - s as a JSON string onto b, or null */
int	store_record_str(struct buf *b, const char *s);
/* store_record_message - the "messages" record of m onto b */
int	store_record_message(struct buf *b, const struct store_msg *m);
/* store_record_link - the "links" record of m's link i onto b */
int	store_record_link(struct buf *b, const struct store_msg *m, size_t i,
	    const char msg16[DB_SEQ_LEN + 1]);
/* store_record_event - the "events" record of e onto b */
int	store_record_event(struct buf *b, const struct store_event *e,
	    const char ref16[DB_SEQ_LEN + 1], const char msg16[DB_SEQ_LEN + 1]);
/* store_record_link_parse - a "links" record into url and *li (each when not NULL); 0 or -1 */
int	store_record_link_parse(const char *rec, size_t len, struct buf *url,
	    struct store_linkinfo *li);
/* store_record_time - the "time" of a message record, 0 when it has none */
int64_t	store_record_time(const char *rec, size_t len);
/* store_record_put - put with MDB_APPEND when the key sorts last, else a plain put */
int	store_record_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v);

/* store_writer.c */
/* store_writer_init - the queue, empty; store_writer_stop undoes it */
void	store_writer_init(struct store *s);
/* store_writer_start - the writer thread; 0, or -1 with err set */
int	store_writer_start(struct store *s, char *err, size_t errlen);
/* store_writer_stop - drain the queue, stop the thread (when started) */
void	store_writer_stop(struct store *s);
/* store_writer_submit - queue a job whose submitter waits, and wait for its commit; 0 or an error (LMDB or errno) */
int	store_writer_submit(struct store *s, struct wjob *j);
/* store_writer_msg - write one message, its Message-ID, its links and counters */
int	store_writer_msg(struct store *s, MDB_txn *txn,
	    const struct store_msg *m);
/* store_writer_event - write one event (under e->key when set), its index entry and counters */
int	store_writer_event(struct store *s, MDB_txn *txn,
	    const struct store_event *e);

/* store_collect.c */
/* store_collect_apply - the records of a collect job into txn */
int	store_collect_apply(struct store *s, MDB_txn *txn, struct store_rec *r,
	    size_t n);

/* store_journal.c */
/* store_journal_open - the journal of an events store, from its stored position; 0 or -1 with err */
int	store_journal_open(struct store *s, const char *path, char *err,
	    size_t errlen);
void	store_journal_close(struct store *s);
/* store_journal_put - append an event (any thread); 0 or -1 */
int	store_journal_put(struct store *s, const struct store_event *e);
/* store_journal_begin - a batch begins reading the journal */
void	store_journal_begin(struct store *s);
/*
 * store_journal_next - the next event of the journal into *e (its strings
 * live until store_journal_end); 0, 1 when there is none, -1 on error
 */
int	store_journal_next(struct store *s, struct store_event *e);
/* store_journal_mark - the position read up to, into the batch's txn */
int	store_journal_mark(struct store *s, MDB_txn *txn);
/* store_journal_end - after the batch's commit (rc): folded, or read again */
void	store_journal_end(struct store *s, int rc);
/* store_journal_more - records wait after the batch */
int	store_journal_more(struct store *s);
/* store_journal_sync - make the journal durable when batch_ms has passed since the last time */
void	store_journal_sync(struct store *s);
/* store_journal_after - between batches: sync when due, next segment ready */
void	store_journal_after(struct store *s);
/* store_journal_ready - a record waits (else the next append wakes the writer) */
int	store_journal_ready(struct store *s);
/* store_journal_tail - the position after the last append (any thread) */
uint64_t store_journal_tail(struct store *s);

/* store_pending.c */
/* store_pending_index - an event's msgevents entry, written at the next fold */
int	store_pending_index(struct store *s, const char msg16[DB_SEQ_LEN],
	    const char evkey[DB_EVKEY_LEN]);
/* store_pending_fold_index - write the index entries gathered since the last fold */
int	store_pending_fold_index(struct store *s, MDB_txn *txn);
/* store_pending_links - the link changes not folded yet, into txn's counters */
int	store_pending_links(struct store *s, MDB_txn *txn);
/* store_pending_flush - the batch's counters: all of them with fold, else link scopes to "pending" */
int	store_pending_flush(struct store *s, MDB_txn *txn, int fold);
int	store_pending_init(struct store *s);
void	store_pending_free(struct store *s);
/* store_pending_start - the writer starts: apply what a crash left pending */
void	store_pending_start(struct store *s);
/* store_pending_begin - a batch begins */
void	store_pending_begin(struct store *s);
/* store_pending_fold_due - whether the batch begun at t0 (monotonic) folds; idle: nothing waits after it */
int	store_pending_fold_due(const struct store *s, int idle, int64_t t0);
/* store_pending_end - after the batch's commit (rc): keep, or forget, what it left pending */
void	store_pending_end(struct store *s, int rc, int fold);
/* store_pending_drain - the writer stops: fold whatever is still pending */
void	store_pending_drain(struct store *s);

/* store_count.c */
int	store_count_init(struct store *s);
void	store_count_free(struct store *s);
/* store_count_begin - a batch begins: no changes yet */
void	store_count_begin(struct store *s);
/* store_count_undone - a batch was undone: what it taught the cache is wrong */
void	store_count_undone(struct store *s);
/* store_count_msginfo - what the counters need of message seq (cached) */
struct msginfo *store_count_msginfo(struct store *s, MDB_txn *txn,
	    uint64_t seq);
/* store_count_forget - message seq was just written: what the cache says of it is old */
void	store_count_forget(struct store *s, uint64_t seq);
/* store_count_scopes - the scopes of an event (link 0 for an open) */
void	store_count_scopes(const struct msginfo *mi, int click, uint64_t link,
	    uint64_t msg, int64_t time_us, struct scopes *sc);
/* store_count_scopes_nolink - sc less the link scope: the message-wide uniques */
void	store_count_scopes_nolink(const struct scopes *sc, int click,
	    struct scopes *ms);
/* store_count_add - fold one metric into every scope of sc; 0 or ENOMEM */
int	store_count_add(struct delta *d, struct scopes *sc, const char *metric,
	    enum tally_op op, int64_t v);
/* store_count_add1 - fold one metric into one scope; 0 or ENOMEM */
int	store_count_add1(struct delta *d, const char *scope, const char *metric,
	    enum tally_op op, int64_t v);
/* store_count_message - the counters of a message sent */
int	store_count_message(struct store *s, MDB_txn *txn,
	    const struct store_msg *m);
/* store_count_event - the counters and uniques of an event */
int	store_count_event(struct store *s, MDB_txn *txn,
	    const struct store_event *e, const char ref16[DB_SEQ_LEN + 1],
	    const char msg16[DB_SEQ_LEN + 1]);
/* how store_count_flush treats link scopes */
enum lmode { L_ALL, L_SKIP };
/* store_count_flush - write each scope of d (link scopes too, or not) */
int	store_count_flush(struct store *s, MDB_txn *txn, const struct delta *d,
	    enum lmode mode);

/* store_relabel.c */
/* store_relabel_honeypot - a source followed msg's honeypot: its earlier events become scanner events */
int	store_relabel_honeypot(struct store *s, MDB_txn *txn, uint64_t msg,
	    const char *ip, int64_t time_us, const char self[DB_EVKEY_LEN]);
/* store_relabel_burst - a source's clicks on msg made a burst: its earlier people's clicks within the window become scanner/burst */
int	store_relabel_burst(struct store *s, MDB_txn *txn, uint64_t msg,
	    const char *ip, int64_t time_us, const char self[DB_EVKEY_LEN]);

#endif
