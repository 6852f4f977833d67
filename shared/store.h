/*
 * store - the LMDB environment shared by the milter, tracker and mtrackctl.
 *
 * One environment (a directory), named databases (enum db and the key
 * builders: db.h), ASCII keys and values so that mdb_stat and mdb_dump -p
 * show readable records:
 *
 *   meta      "id_key" -> 32 hex digits (secret of the public IDs),
 *             "link_seq", "msg_seq" -> last reserved sequence, decimal,
 *             "schema" -> "1", "node" -> decimal or "*" (store_node.h)
 *   messages  16 hex digits (message seq) -> JSON {"time","message_id",
 *             "queue_id","from","rcpt":[..],"campaign","domain","links",
 *             "link_seqs":[..],"pixel","honeypot"}
 *   msgids    Message-ID header value -> message seq (16 hex)
 *   links     16 hex digits (link seq) -> JSON {"msg","n","t","url"[,"honeypot"]}
 *   events    16 hex digits (time, us) + 4 hex digits (order: node, then
 *             a counter; one byte each) -> JSON
 *             {"time","type","link"|"ref","msg","ip","ua","method","host",
 *             "class","reason"}
 *   msgevents message seq (16 hex) + event key (20 hex) -> "" (an index)
 *   counters  one record per scope: "*" (everything), m:MSGSEQ, l:LINKSEQ,
 *             c:CAMPAIGN, d:SENDING-DOMAIN, t:YYYY-MM-DD -> "name=value"
 *             fields (counter.h): messages, links, sent, opens, clicks,
 *             opens.CLASS, clicks.CLASS, uopens, uclicks, uopens.human,
 *             uclicks.human, first, last (us)
 *   uniq      "o:MSG:WHO", "c:MSG:WHO", "l:LINK:WHO" (+ ":h" for people)
 *             -> "1": who was already counted as unique
 *   domains   tracking domain, or "@" + sending domain -> JSON (domain.h)
 *   pending   the writer's index entries and link counters not folded yet
 *   parked    message seq (16 hex) + event key (20 hex) -> event record:
 *             a collector's events that came before their message
 *   feed      16 hex digits (a growing sequence) -> "m:" + message key or
 *             "e:" + event key: the outbox of webhooks and streams (feed.h)
 *   webhooks  the state of webhook deliveries (whstate.h)
 *
 * Concurrency: one struct store per process, opened after any fork,
 * shared by all threads. Writes go through the store's writer thread,
 * which commits queued jobs in batches (group commit): the milter waits
 * for its message to be durable, the tracker does not wait for events.
 * Reads use short read-only transactions; data returned by a read is
 * copied out before the transaction ends.
 *
 * The store is a family of modules (store_impl.h lists them); this header
 * is the API of them all.
 */
#ifndef MTRACK_STORE_H
#define MTRACK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "buf.h"
#include "db.h"
#include "id.h"

struct store;

#define STORE_RDONLY	0x01	/* never write (mtrackctl stats/export) */
#define STORE_EVENTS	0x02	/* writes events (the tracker): through the event journal, one process */
#define STORE_ANYNODE	0x04	/* a collector's store: records of every node (store_node.h) */
#define STORE_FEED	0x08	/* append every message and event written to the feed (feed.h) */

struct store_opts {
	size_t	map_size;	/* bytes of address space for the map */
	int	batch_ms;	/* writer: longest wait before a commit */
	int	batch_max;	/* writer: most jobs in one commit, > 0 */
	int64_t	honeypot_window_us; /* a honeypot hit re-labels the source's
				   events of that message this far back */
	int64_t	burst_window_us;    /* a burst re-labels the source's people's
				   clicks on that message this far back */
	int	node;		/* this host's node number (store_node.h) */
	uint64_t journal_max;	/* STORE_EVENTS: journal bytes not folded
				   before store_put_event waits; 0: 1G */
};

struct config;

/* store_opts_config - the options a configuration gives */
void	store_opts_config(struct store_opts *o, const struct config *c);
/* store_flags_config - the flags a configuration adds: STORE_FEED when a feed consumer is configured */
int	store_flags_config(const struct config *c);

/*
 * store_open - open (create) the environment at path; NULL with err set,
 * also when a writer's node differs from the one the store belongs to
 */
struct store	*store_open(const char *path, const struct store_opts *o,
		    int flags, char *err, size_t errlen);
/* store_close - drain and stop the writer, close the environment */
void		 store_close(struct store *s);
/* store_key - the ID key of this store (lives as long as the store) */
const struct id_key *store_key(const struct store *s);

/*
 * store_reserve - reserve n consecutive sequence numbers of a type
 * (ID_LINK or ID_MSG) for this process; *first receives the first.
 * Sequences are reserved in blocks: gaps are normal; the top 8 bits are
 * the node number (store_node.h). 0 or -1.
 */
int	store_reserve(struct store *s, enum id_type type, uint64_t n,
	    uint64_t *first);

/* a message and its links, as the rewrite engine found them */
struct store_link {
	uint64_t	 seq;
	const char	*url;		/* the original URL, decoded */
};

struct store_msg {
	uint64_t		 seq;
	int64_t			 time_us;
	const char		*message_id;	/* may be NULL */
	const char		*queue_id;	/* may be NULL */
	const char		*from;		/* envelope sender */
	const char *const	*rcpt;		/* envelope recipients */
	size_t			 nrcpt;
	const struct store_link	*links;
	size_t			 nlinks;
	int			 pixel;		/* an open pixel was inserted */
	const char		*campaign;	/* may be NULL */
	const char		*domain;	/* sending domain, may be NULL */
	uint64_t		 honeypot;	/* seq of the honeypot link, 0: none */
};

/* store_put_message - write message and links, wait until durable; 0 or -1 */
int	store_put_message(struct store *s, const struct store_msg *m);

/* event kinds */
enum store_ev { STORE_EV_CLICK, STORE_EV_OPEN };

struct store_event {
	enum store_ev	 type;
	int64_t		 time_us;
	uint64_t	 seq;		/* link seq (click) or message seq (open) */
	uint64_t	 msg;		/* message seq */
	const char	*ip;
	const char	*ua;		/* may be NULL */
	const char	*method;
	const char	*host;		/* may be NULL */
	const char	*verdict;	/* class, may be NULL */
	const char	*reason;	/* may be NULL */
	const char	*key;		/* NULL: a new key; else the key given
					   by the node that recorded it
					   (store_collect) */
};

/*
 * store_put_event - record an event. With STORE_EVENTS it is appended to
 * the event journal and survives the death of the process once this
 * returns; it waits only while the journal holds more than journal_max
 * bytes not folded (backpressure). Otherwise it is queued for the writer,
 * waiting when the writer is 2 batches behind. The strings are copied.
 * 0, or -1 when the store stops or the journal or memory fail.
 */
int	store_put_event(struct store *s, const struct store_event *e);
/* a record of another node, for a collector's store (store_collect) */
struct store_rec {
	const struct store_msg		*msg;	/* a message with its links, or */
	const struct store_event	*ev;	/* an event (ev->key set) */
	int				 result;	/* STORE_REC_* */
};
enum { STORE_REC_APPLIED, STORE_REC_DUPLICATE, STORE_REC_PARKED,
    STORE_REC_BAD };

/*
 * store_collect - apply n records of other nodes in one commit and wait
 * until it is durable. The keys of the records are their nodes' keys:
 * a record the store holds already is a duplicate and changes nothing.
 * An event whose message the store does not hold yet is parked, and
 * counted in the commit that brings its message. Each record's result
 * says what happened to it. 0, or -1 when nothing was committed.
 */
int	store_collect(struct store *s, struct store_rec *recs, size_t n);
/* store_parked - events parked waiting for their message; 0 or -1 */
int	store_parked(struct store *s, uint64_t *n);

/* store_flush - wait until everything queued or journaled so far is committed; 0 or -1 */
int	store_flush(struct store *s);

/* what the tracker needs of a link besides its URL */
struct store_linkinfo {
	uint64_t	msg;		/* message seq */
	int64_t		sent_us;	/* when the message was sent */
	int		honeypot;	/* the invisible honeypot link */
};

/*
 * store_get_link - look up a link: its URL is appended to url (when not
 * NULL), the rest stored in *li (when not NULL). 0, 1 when not found,
 * -1 on error.
 */
int	store_get_link(struct store *s, uint64_t seq, struct buf *url,
	    struct store_linkinfo *li);
/* store_get_message - 0 found (*sent_us set when not NULL), 1 not found, -1 error */
int	store_get_message(struct store *s, uint64_t seq, int64_t *sent_us);

struct store_counts {
	uint64_t	messages, links, opens, clicks;
};
/* store_counts - the global counters; 0 or -1 */
int	store_counts(struct store *s, struct store_counts *c);

/* store_writer_stats - batches committed, events written, last commit us */
struct store_wstats {
	uint64_t	commits, jobs, failed, dropped;
	uint64_t	waits;		/* times a producer waited for room */
	uint64_t	commit_us_total, commit_us_max;
};
void	store_writer_stats(struct store *s, struct store_wstats *w);

/* the event journal (STORE_EVENTS) */
struct store_jstats {
	uint64_t	pending_bytes;	/* appended, not folded yet */
	uint64_t	max_bytes;	/* journal_max */
	int		backpressure;	/* requests wait for the fold now */
	uint64_t	waits;		/* appends that waited */
	uint64_t	appends;	/* events appended since start */
	uint64_t	folded;		/* events folded since start */
	uint64_t	dropped;	/* events the fold had to pass over */
	uint64_t	skipped_bytes;	/* damaged journal data skipped at replay */
	double		lag_s;		/* age of the last folded event while
					   more wait; 0 when caught up */
	double		fold_rate;	/* events folded per second, lately */
};
/* store_journal_stats - the journal's figures; -1 when the store has none */
int	store_journal_stats(struct store *s, struct store_jstats *js);

/*
 * store_env - the LMDB environment, for the modules that write records of
 * their own (domain.c, prune.c) in their own transactions
 */
MDB_env	*store_env(struct store *s);
/* store_dbi - the handle of a database (db.h) */
MDB_dbi	 store_dbi(const struct store *s, enum db d);
/*
 * store_read_begin - a read transaction from the store's pool, NULL on
 * error; store_read_end gives it back (NULL is ignored). Cheaper than one
 * begun anew. Data read lives until store_read_end.
 */
MDB_txn	*store_read_begin(struct store *s);
void	 store_read_end(struct store *s, MDB_txn *txn);
/* what a message record says of its message, before its list of links */
struct store_msghead {
	int64_t		time_us;
	size_t		nrcpt;
	char		campaign[256];
	char		domain[256];
	char		message_id[256];
};

/*
 * store_msghead_parse - the head of a message record (rec, len bytes, as
 * the "messages" database holds it) into *h; 0, or -1 when it is no record
 */
int	 store_msghead_parse(const char *rec, size_t len,
	    struct store_msghead *h);

/*
 * store_scrub_events - erase the raw client data of old events: every
 * event older than before_us (microseconds since the epoch) gets "ip" and
 * "ua" set to null; the rest of the record and every counter stay. Works
 * in write transactions of at most 10,000 events: other writers wait little.
 * *scrubbed (when not NULL) receives the number of records rewritten,
 * also on failure (the chunks committed). 0, or -1 on error.
 */
int	store_scrub_events(struct store *s, int64_t before_us,
	    uint64_t *scrubbed);

struct json_t;
/*
 * store_record_json - o as compact JSON text (more json_dumps flags:
 * jflags) put under key in dbi, in the caller's write transaction txn.
 * 0, or an LMDB error (ENOMEM when o is NULL or cannot be dumped).
 */
int	store_record_json(MDB_txn *txn, MDB_dbi dbi, const char *key,
	    const struct json_t *o, size_t jflags);
/* store_reader_check - clear reader slots of dead processes; *dead: how many */
int	store_reader_check(struct store *s, int *dead);

#endif
