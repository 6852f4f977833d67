/*
 * store - LMDB schema, read helpers and the batching writer (see store.h).
 *
 * All writes of a process go through one writer thread. It takes every
 * job queued (at most batch_max), applies them in one transaction and
 * commits once: a burst of events or of milter messages costs one fsync.
 * Events alone wait for company up to batch_ms after the first of them;
 * a milter message (whose sender waits), a flush or a stop is committed
 * at once, with whatever else is queued.
 * Message jobs run in a nested transaction, so one that fails is undone
 * alone; their submitter waits for the commit. Events are fire and forget.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <lmdb.h>

#include "log.h"
#include "config.h"
#include "counter.h"
#include "store.h"
#include "delta.h"
#include "feed.h"

enum { DB_META, DB_MESSAGES, DB_MSGIDS, DB_LINKS, DB_EVENTS, DB_COUNTERS,
    DB_DOMAINS, DB_UNIQ, DB_MSGEVENTS, DB_PENDING, DB_FEED, DB_WEBHOOKS,
    DB_COUNT };
static const char *const db_names[DB_COUNT] = { "meta", "messages", "msgids",
    "links", "events", "counters", "domains", "uniq", "msgevents",
    "pending", "feed", "webhooks" };

/*
 * Events waiting for the writer, in batches: when the writer falls
 * behind, producers wait (the tracker slows down) rather than let the
 * queue grow: what a SIGKILL can lose stays a few batches.
 */
#define QUEUE_BATCHES	2
#define RESERVE_LINKS	4096
#define RESERVE_MSGS	256
#define MCACHE		16384	/* message records cached by the writer */
/*
 * The index of a message's events and the link counters ("l:" scopes) are
 * folded into the store at most every FOLD_US under load (at once when the
 * writer runs out of work): their entries land at random places, and a
 * commit's cost is the pages it touches. Until then each commit appends
 * one "pending" record with its index entries and link changes (cheap), so
 * a crash loses none: the next start of the tracker applies what is there.
 * Only one process may write events to a store (STORE_EVENTS takes a lock).
 */
#define FOLD_US		(2 * 1000000LL)
#define INDEX_FOLD_MAX	262144	/* index entries held before a fold */
#define LDELTA_MAX	262144	/* link scopes held before a fold */
#define IKEY_LEN	36	/* message seq (16 hex) + event key (20) */
/* scope keys are bounded: LMDB keys are at most 511 bytes */
#define SCOPE_MAX	240

/* what an event's counters need to know of its message */
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

struct wjob {
	struct wjob		*next;
	int			 is_msg;
	/* message jobs: the submitter waits on done */
	const struct store_msg	*msg;
	int			 done;
	int			 rc;
	/* event jobs: one allocation, strings after the struct */
	struct store_event	 ev;
};

struct seqblock {
	uint64_t	next, end;	/* [next, end) reserved, not handed out */
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	int		 rdonly;
	struct id_key	 key;
	struct store_opts opts;

	pthread_mutex_t	 seq_lock;
	struct seqblock	 seq_link, seq_msg;

	pthread_mutex_t	 rtx_lock;	/* pool of reset read transactions */
	MDB_txn		**rtx;
	size_t		 nrtx, caprtx;

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
	uint16_t	 ev_order;
	/* writer state */
	struct delta	*delta;		/* counter changes of the batch */
	struct msginfo	*mcache;	/* [MCACHE] */
	uint64_t	*mcache_gen;	/* [MCACHE] */
	uint64_t	 batch_gen;
	uint64_t	 mcache_epoch;	/* a batch undone empties the cache */
	int64_t		 honeypot_us;	/* honeypot look-back window */
	struct buf	 evbuf;		/* the event being written */
	char		(*pidx)[IKEY_LEN];	/* index entries not written yet */
	size_t		 npidx, cappidx;
	size_t		 pidx_base;	/* the batch's first entry in pidx */
	int64_t		 fold_us;	/* the last index fold (monotonic) */
	int		 fold_now;	/* this batch must fold */
	int		 events;	/* STORE_EVENTS */
	int		 feed;		/* STORE_FEED: append to the feed */
	int		 lockfd;	/* STORE_EVENTS: the writer's lock, or -1 */
	struct delta	*ldelta;	/* link counter changes not folded yet */
	uint64_t	 wal_seq;	/* the next "pending" record */
	int		 ldelta_in_txn;	/* ldelta applied in the batch's txn */
	int		 ldelta_lost;	/* ldelta misses changes "pending" holds */
	struct feed_writer fw;		/* opts.feed: the next feed sequence */
};

static void	*store_writer(void *);
static int	 ldelta_apply(struct store *, MDB_txn *);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
hex16(char out[17], uint64_t v)
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = 15; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
	out[16] = '\0';
}

/* put_i64 - v in decimal onto b, without printf (the writer's hot path) */
static int
put_i64(struct buf *b, int64_t v)
{
	char		 tmp[24];
	size_t		 n = sizeof(tmp);
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		tmp[--n] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--n] = '-';
	return buf_append(b, tmp + n, sizeof(tmp) - n);
}

/* mkdir -p for the environment directory */
static int
store_mkdirs(const char *path)
{
	char	tmp[4096], *p;

	if (strlen(path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(tmp, path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* store_init_meta - create the databases and the ID key if missing */
static int
store_init(struct store *s, char *err, size_t errlen)
{
	MDB_txn		*txn = NULL;
	MDB_val		 k, v;
	uint8_t		 raw[ID_KEY_LEN];
	char		 hex[2 * ID_KEY_LEN + 1];
	unsigned int	 dbflags = s->rdonly ? 0 : MDB_CREATE;
	int		 rc, i;

	if ((rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		goto fail;
	for (i = 0; i < DB_COUNT; i++)
		if ((rc = mdb_dbi_open(txn, db_names[i], dbflags,
		    &s->dbi[i])) != 0)
			goto fail;
	k.mv_data = (void *)"id_key";
	k.mv_size = 6;
	rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && !s->rdonly) {
		if (id_random(raw, sizeof(raw)) == -1) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			goto fail_quiet;
		}
		for (i = 0; i < ID_KEY_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", raw[i]);
		v.mv_data = hex;
		v.mv_size = 2 * ID_KEY_LEN;
		if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0)
			goto fail;
		k.mv_data = (void *)"schema";
		k.mv_size = 6;
		v.mv_data = (void *)"1";
		v.mv_size = 1;
		if ((rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0)) != 0)
			goto fail;
	} else if (rc != 0)
		goto fail;
	else {
		if (v.mv_size != 2 * ID_KEY_LEN) {
			snprintf(err, errlen, "meta id_key is damaged");
			goto fail_quiet;
		}
		for (i = 0; i < ID_KEY_LEN; i++) {
			unsigned int b;
			char two[3] = { ((char *)v.mv_data)[2 * i],
			    ((char *)v.mv_data)[2 * i + 1], 0 };

			if (sscanf(two, "%2x", &b) != 1) {
				snprintf(err, errlen, "meta id_key is damaged");
				goto fail_quiet;
			}
			raw[i] = (uint8_t)b;
		}
	}
	id_key_init(&s->key, raw);
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s", rc == MDB_NOTFOUND ?
	    "store is not initialised (no database yet)" : mdb_strerror(rc));
fail_quiet:
	if (txn)
		mdb_txn_abort(txn);
	return -1;
}

void
store_opts_config(struct store_opts *o, const struct config *c)
{
	memset(o, 0, sizeof(*o));
	o->map_size = c->db_map_size;
	o->batch_ms = c->batch_ms;
	o->batch_max = c->batch_max;
	o->honeypot_window_us = (int64_t)c->honeypot_window * 1000000;
}

int
store_flags_config(const struct config *c)
{
	return (c->webhook_url && c->webhook_url[0]) || c->webhooks ?
	    STORE_FEED : 0;
}

struct store *
store_open(const char *path, const struct store_opts *o, int flags,
    char *err, size_t errlen)
{
	struct store	*s;
	int		 rc, dead = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->opts = *o;
	if (s->opts.batch_max <= 0)
		s->opts.batch_max = 4096;
	s->rdonly = (flags & STORE_RDONLY) != 0;
	s->events = (flags & STORE_EVENTS) != 0 && !s->rdonly;
	s->feed = (flags & STORE_FEED) != 0 && !s->rdonly;
	s->lockfd = -1;
	pthread_mutex_init(&s->seq_lock, NULL);
	pthread_mutex_init(&s->rtx_lock, NULL);
	pthread_mutex_init(&s->q_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->q_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&s->q_done, NULL);
	s->q_tail = &s->q_head;

	if (!s->rdonly && store_mkdirs(path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (s->events) {
		char lock[4096];

		snprintf(lock, sizeof(lock), "%s/events.lock", path);
		if ((s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC,
		    0640)) == -1) {
			snprintf(err, errlen, "%s: %s", lock, strerror(errno));
			goto fail;
		}
		if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
			snprintf(err, errlen, "%s: another process writes events"
			    " to this store (is mtrack-tracker running?)", path);
			goto fail;
		}
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB_COUNT + 2)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 1024)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, o->map_size)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	/* NOTLS: read transactions are pooled and move between threads */
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS |
	    (s->rdonly ? MDB_RDONLY : 0), 0640)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		goto fail;
	}
	mdb_reader_check(s->env, &dead);
	if (dead)
		log_info("store path=%s stale_readers_cleared=%d", path, dead);
	if (store_init(s, err, errlen) == -1)
		goto fail;
	if (!s->rdonly) {
		s->honeypot_us = o->honeypot_window_us;
		if ((s->delta = delta_new()) == NULL ||
		    (s->ldelta = delta_new()) == NULL ||
		    (s->mcache = calloc(MCACHE, sizeof(*s->mcache))) == NULL ||
		    (s->mcache_gen = calloc(MCACHE, sizeof(uint64_t))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if ((rc = pthread_create(&s->writer, NULL, store_writer, s))) {
			snprintf(err, errlen, "writer thread: %s", strerror(rc));
			goto fail;
		}
		s->writer_started = 1;
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->writer_started) {
		pthread_mutex_lock(&s->q_lock);
		s->q_stop = 1;
		pthread_cond_signal(&s->q_cond);
		pthread_mutex_unlock(&s->q_lock);
		pthread_join(s->writer, NULL);
	}
	for (i = 0; i < s->nrtx; i++)
		mdb_txn_abort(s->rtx[i]);
	free(s->rtx);
	delta_free(s->delta);
	delta_free(s->ldelta);
	free(s->pidx);
	if (s->lockfd != -1)
		close(s->lockfd);
	buf_free(&s->evbuf);
	free(s->mcache);
	free(s->mcache_gen);
	if (s->env)
		mdb_env_close(s->env);
	pthread_mutex_destroy(&s->seq_lock);
	pthread_mutex_destroy(&s->rtx_lock);
	pthread_mutex_destroy(&s->q_lock);
	pthread_cond_destroy(&s->q_cond);
	pthread_cond_destroy(&s->q_done);
	free(s);
}

const struct id_key *
store_key(const struct store *s)
{
	return &s->key;
}

void *
store_env(struct store *s)
{
	return s->env;
}

int
store_dbi(struct store *s, const char *name, unsigned int *dbi)
{
	int i;

	for (i = 0; i < DB_COUNT; i++)
		if (strcmp(db_names[i], name) == 0) {
			*dbi = s->dbi[i];
			return 0;
		}
	return -1;
}

/* read transactions: a pool of reset handles, renewed for each lookup */
static MDB_txn *
rtx_get(struct store *s)
{
	MDB_txn	*txn = NULL;
	int	 rc;

	pthread_mutex_lock(&s->rtx_lock);
	if (s->nrtx > 0)
		txn = s->rtx[--s->nrtx];
	pthread_mutex_unlock(&s->rtx_lock);
	if (txn) {
		if ((rc = mdb_txn_renew(txn)) == 0)
			return txn;
		mdb_txn_abort(txn);
	}
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		log_warnx("store op=read_begin error=\"%s\"", mdb_strerror(rc));
		return NULL;
	}
	return txn;
}

static void
rtx_put(struct store *s, MDB_txn *txn)
{
	MDB_txn **v;

	mdb_txn_reset(txn);
	pthread_mutex_lock(&s->rtx_lock);
	if (s->nrtx == s->caprtx) {
		size_t cap = s->caprtx ? s->caprtx * 2 : 16;

		if (cap > 512 || (v = realloc(s->rtx, cap * sizeof(*v))) == NULL) {
			pthread_mutex_unlock(&s->rtx_lock);
			mdb_txn_abort(txn);
			return;
		}
		s->rtx = v;
		s->caprtx = cap;
	}
	s->rtx[s->nrtx++] = txn;
	pthread_mutex_unlock(&s->rtx_lock);
}

void *
store_read_begin(struct store *s)
{
	return rtx_get(s);
}

void
store_read_end(struct store *s, void *txn)
{
	if (txn)
		rtx_put(s, txn);
}

/* u64 from a decimal value; 0 when absent or bad */
static uint64_t
val_u64(const MDB_val *v)
{
	char	 tmp[24];
	size_t	 n = v->mv_size < sizeof(tmp) - 1 ? v->mv_size : sizeof(tmp) - 1;

	memcpy(tmp, v->mv_data, n);
	tmp[n] = '\0';
	return strtoull(tmp, NULL, 10);
}

static int
put_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t n)
{
	char	num[24];
	MDB_val	k, v;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	v.mv_size = (size_t)snprintf(num, sizeof(num), "%" PRIu64, n);
	v.mv_data = num;
	return mdb_put(txn, dbi, &k, &v, 0);
}

static uint64_t
get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name)
{
	MDB_val	k, v;

	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if (mdb_get(txn, dbi, &k, &v) != 0)
		return 0;
	return val_u64(&v);
}

int
store_reserve(struct store *s, enum id_type type, uint64_t n, uint64_t *first)
{
	struct seqblock	*b = type == ID_LINK ? &s->seq_link : &s->seq_msg;
	const char	*name = type == ID_LINK ? "link_seq" : "msg_seq";
	uint64_t	 block = type == ID_LINK ? RESERVE_LINKS : RESERVE_MSGS;
	uint64_t	 last;
	MDB_txn		*txn;
	int		 rc;

	if (s->rdonly) {
		errno = EROFS;
		return -1;
	}
	pthread_mutex_lock(&s->seq_lock);
	if (b->end - b->next < n) {
		if (n > block)
			block = n;
		if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
			goto fail;
		last = get_u64(txn, s->dbi[DB_META], name);
		if ((rc = put_u64(txn, s->dbi[DB_META], name, last + block)) != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
		if ((rc = mdb_txn_commit(txn)) != 0)
			goto fail;
		/* sequence 0 is never used: it marks "none" */
		b->next = last + 1;
		b->end = last + 1 + block;
	}
	*first = b->next;
	b->next += n;
	pthread_mutex_unlock(&s->seq_lock);
	return 0;
fail:
	pthread_mutex_unlock(&s->seq_lock);
	log_warnx("store op=reserve error=\"%s\"", mdb_strerror(rc));
	errno = EIO;
	return -1;
}

/* put with MDB_APPEND when the key sorts last, else a plain put */
static int
put_ordered(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	int rc = mdb_put(txn, dbi, k, v, MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, 0);
	return rc;
}

static int
put_json(MDB_txn *txn, MDB_dbi dbi, const char *key, json_t *o, int ordered)
{
	char	*text;
	MDB_val	 k, v;
	int	 rc;

	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL)
		return ENOMEM;
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = text;
	v.mv_size = strlen(text);
	rc = ordered ? put_ordered(txn, dbi, &k, &v) : mdb_put(txn, dbi, &k, &v, 0);
	free(text);
	return rc;
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
 * jesc - s as a JSON string (with quotes) onto b, or null. Bytes that are
 * not valid UTF-8 are taken as Latin-1, so every record parses. Records
 * are written directly, not through a jansson tree: the writer's hot path.
 */
static const unsigned char jplain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1
};	/* printable ASCII but '"' and '\\' */

static int
jesc(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*o;
	size_t			 n;

	if (s == NULL)
		return buf_append(b, "null", 4);
	n = strlen(s);
	if (buf_reserve(b, n * 6 + 2) == -1)
		return -1;
	o = b->data + b->len;
	*o++ = '"';
	while (*p) {
		const unsigned char	*r = p;
		unsigned char		 c;

		/* a run of plain ASCII is copied at once */
		while (jplain[*r])
			r++;
		if (r > p) {
			memcpy(o, p, (size_t)(r - p));
			o += r - p;
			p = r;
			continue;
		}
		c = *p;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)*p++;
			continue;
		}
		if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			p++;
			continue;
		}
		/* a valid UTF-8 sequence is copied, anything else is Latin-1 */
		{
			size_t len = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 &&
			    c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0, i;
			/* the second byte's range excludes overlongs and surrogates */
			unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

			if (len && (p[1] < lo || p[1] > hi))
				len = 0;
			for (i = 1; i < len; i++)
				if ((p[i] & 0xc0) != 0x80)
					break;
			if (len && i == len) {
				memcpy(o, p, len);
				o += len;
				p += len;
				continue;
			}
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
			p++;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

/* apply_msg - write one message and its links inside txn */
static int
apply_msg(struct store *s, MDB_txn *txn, const struct store_msg *m)
{
	struct buf	 b = BUF_INIT;
	char		 key[17], mkey[17], day[11], scope[SCOPE_MAX + 3];
	MDB_val		 k, v;
	size_t		 i;
	int		 rc = ENOMEM, first;

	/*
	 * JSON written directly (jesc escapes, as jansson would): the
	 * record of a message with many links is built once, not as a
	 * jansson tree and dump per link. "time" comes first: readers
	 * take it without parsing the record.
	 */
	hex16(mkey, m->seq);
	if (buf_puts(&b, "{\"time\":") || put_i64(&b, m->time_us) ||
	    buf_puts(&b, ",\"message_id\":") || jesc(&b, m->message_id) ||
	    buf_puts(&b, ",\"queue_id\":") || jesc(&b, m->queue_id) ||
	    buf_puts(&b, ",\"from\":") || jesc(&b, m->from) ||
	    buf_puts(&b, ",\"rcpt\":["))
		goto out;
	for (i = 0; i < m->nrcpt; i++)
		if ((i && buf_putc(&b, ',')) || jesc(&b, m->rcpt[i]))
			goto out;
	if (buf_puts(&b, "],\"campaign\":") || jesc(&b, m->campaign) ||
	    buf_puts(&b, ",\"domain\":") || jesc(&b, m->domain) ||
	    buf_puts(&b, ",\"links\":") ||
	    put_i64(&b, (int64_t)(m->nlinks - (m->honeypot != 0))) ||
	    buf_puts(&b, ",\"link_seqs\":["))
		goto out;
	for (i = 0, first = 1; i < m->nlinks; i++) {
		if (m->links[i].seq == m->honeypot)
			continue;
		hex16(key, m->links[i].seq);
		if ((!first && buf_putc(&b, ',')) || buf_putc(&b, '"') ||
		    buf_append(&b, key, 16) || buf_putc(&b, '"'))
			goto out;
		first = 0;
	}
	if (buf_printf(&b, "],\"pixel\":%s,\"honeypot\":", m->pixel ? "true" :
	    "false"))
		goto out;
	if (m->honeypot) {
		hex16(key, m->honeypot);
		if (buf_printf(&b, "\"%s\"}", key))
			goto out;
	} else if (buf_puts(&b, "null}"))
		goto out;
	k.mv_data = mkey;
	k.mv_size = 16;
	v.mv_data = b.data;
	v.mv_size = b.len;
	if ((rc = put_ordered(txn, s->dbi[DB_MESSAGES], &k, &v)) != 0 ||
	    (s->feed && (rc = feed_append(&s->fw, txn, s->dbi[DB_FEED],
	    'm', mkey, 16)) != 0))
		goto out;
	if (m->message_id && *m->message_id) {
		k.mv_data = (void *)m->message_id;
		k.mv_size = strlen(m->message_id);
		if (k.mv_size > 500)	/* LMDB's key size limit is 511 */
			k.mv_size = 500;
		v.mv_data = mkey;
		v.mv_size = 16;
		if ((rc = mdb_put(txn, s->dbi[DB_MSGIDS], &k, &v, 0)) != 0)
			goto out;
	}
	for (i = 0; i < m->nlinks; i++) {
		buf_reset(&b);
		hex16(key, m->links[i].seq);
		rc = ENOMEM;
		if (buf_puts(&b, "{\"msg\":\"") || buf_append(&b, mkey, 16) ||
		    buf_puts(&b, "\",\"n\":") || put_i64(&b, (int64_t)i) ||
		    buf_puts(&b, ",\"t\":") || put_i64(&b, m->time_us) ||
		    buf_puts(&b, ",\"url\":") ||
		    jesc(&b, m->links[i].url) ||
		    buf_puts(&b, m->links[i].seq == m->honeypot ?
		    ",\"honeypot\":true}" : "}"))
			goto out;
		k.mv_data = key;
		k.mv_size = 16;
		v.mv_data = b.data;
		v.mv_size = b.len;
		if ((rc = put_ordered(txn, s->dbi[DB_LINKS], &k, &v)) != 0)
			goto out;
	}
	/* "sent" by campaign, sending domain and day; global counts */
	day_of(m->time_us, day);
	snprintf(scope, sizeof(scope), "t:%s", day);
	if ((rc = add_scoped(txn, s->dbi[DB_COUNTERS], "*", "messages",
	    1)) != 0 || (rc = add_scoped(txn, s->dbi[DB_COUNTERS], "*", "links",
	    m->nlinks - (m->honeypot != 0))) != 0 ||
	    (rc = add_scoped(txn, s->dbi[DB_COUNTERS], scope, "sent", 1)) != 0)
		goto out;
	if (m->campaign && *m->campaign) {
		snprintf(scope, sizeof(scope), "c:%.*s", SCOPE_MAX, m->campaign);
		if ((rc = add_scoped(txn, s->dbi[DB_COUNTERS], scope, "sent",
		    1)) != 0)
			goto out;
	}
	if (m->domain && *m->domain) {
		snprintf(scope, sizeof(scope), "d:%.*s", SCOPE_MAX, m->domain);
		if ((rc = add_scoped(txn, s->dbi[DB_COUNTERS], scope, "sent",
		    1)) != 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
store_msghead_parse(const char *rec, size_t len, struct store_msghead *h)
{
	const char	*cut;
	json_t		*o = NULL, *x;
	json_int_t	 tm = 0;

	memset(h, 0, sizeof(*h));
	/* the head is enough: the list of links after it can be long */
	if ((cut = memmem(rec, len, ",\"links\":", 9)) != NULL) {
		size_t	 n = (size_t)(cut - rec);
		char	*head = malloc(n + 2);

		if (head == NULL)
			return -1;
		memcpy(head, rec, n);
		head[n] = '}';
		head[n + 1] = '\0';
		o = json_loadb(head, n + 1, 0, NULL);
		free(head);
	}
	if (o == NULL && (o = json_loadb(rec, len, 0, NULL)) == NULL)
		return -1;
	json_unpack(o, "{s?I}", "time", &tm);
	h->time_us = tm;
	if ((x = json_object_get(o, "rcpt")) != NULL)
		h->nrcpt = json_array_size(x);
	if ((x = json_object_get(o, "campaign")) != NULL && json_is_string(x))
		snprintf(h->campaign, sizeof(h->campaign), "%s",
		    json_string_value(x));
	if ((x = json_object_get(o, "domain")) != NULL && json_is_string(x))
		snprintf(h->domain, sizeof(h->domain), "%s",
		    json_string_value(x));
	if ((x = json_object_get(o, "message_id")) != NULL && json_is_string(x))
		snprintf(h->message_id, sizeof(h->message_id), "%s",
		    json_string_value(x));
	json_decref(o);
	return 0;
}

/*
 * msginfo_get - what the counters need of a message, from its record.
 * Records never change once written, so the cache lives across batches
 * (a message not found yet is looked up again next batch). Only the head
 * of the record is parsed: its list of links can be long.
 */
static struct msginfo *
msginfo_get(struct store *s, MDB_txn *txn, uint64_t seq)
{
	struct msginfo		*mi = &s->mcache[seq % MCACHE];
	struct store_msghead	 h;
	MDB_val			 k, v;
	char			 key[17];

	if (mi->seq == seq && mi->epoch == s->mcache_epoch && (mi->found ||
	    s->mcache_gen[seq % MCACHE] == s->batch_gen))
		return mi;
	memset(mi, 0, sizeof(*mi));
	mi->seq = seq;
	mi->epoch = s->mcache_epoch;
	s->mcache_gen[seq % MCACHE] = s->batch_gen;
	hex16(key, seq);
	k.mv_data = key;
	k.mv_size = 16;
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

/* the scopes an event counts in: global, message, link, campaign, domain, day */
struct scopes {
	char			 v[6][SCOPE_MAX + 24];
	struct delta_rec	*r[6];	/* the batch's record of each, once looked up */
	int			 n;
};

static void
event_scopes(const struct msginfo *mi, int click, uint64_t link, uint64_t msg,
    int64_t time_us, struct scopes *sc)
{
	size_t n;

	sc->n = 0;
	memset(sc->r, 0, sizeof(sc->r));
	memcpy(sc->v[sc->n++], "*", 2);
	memcpy(sc->v[sc->n], "m:", 2);
	hex16(sc->v[sc->n++] + 2, msg);
	if (click) {
		memcpy(sc->v[sc->n], "l:", 2);
		hex16(sc->v[sc->n++] + 2, link);
	}
	if (mi->campaign[0]) {
		n = strlen(mi->campaign);
		memcpy(sc->v[sc->n], "c:", 2);
		memcpy(sc->v[sc->n++] + 2, mi->campaign, n + 1);
	}
	if (mi->domain[0]) {
		n = strlen(mi->domain);
		memcpy(sc->v[sc->n], "d:", 2);
		memcpy(sc->v[sc->n++] + 2, mi->domain, n + 1);
	}
	memcpy(sc->v[sc->n], "t:", 2);
	day_of(time_us, sc->v[sc->n++] + 2);
}

/* scoped - fold one metric into every scope's record of the batch */
static int
scoped(struct delta *d, struct scopes *sc, const char *metric,
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

/* scoped1 - fold one metric into one scope's record of the batch */
static int
scoped1(struct delta *d, const char *scope, const char *metric,
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

/* pidx_add - an index entry to write at the next fold */
static int
pidx_add(struct store *s, const char msg16[16], const char evkey[20])
{
	if (s->npidx == s->cappidx) {
		size_t	cap = s->cappidx ? s->cappidx * 2 : 4096;
		void	*p = realloc(s->pidx, cap * sizeof(*s->pidx));

		if (p == NULL)
			return ENOMEM;
		s->pidx = p;
		s->cappidx = cap;
	}
	memcpy(s->pidx[s->npidx], msg16, 16);
	memcpy(s->pidx[s->npidx++] + 16, evkey, 20);
	return 0;
}

static int
ikey_cmp(const void *a, const void *b)
{
	return memcmp(a, b, IKEY_LEN);
}

/*
 * index_fold - write the index entries gathered since the last fold, in
 * key order, and when: the caller forgets them once txn is committed
 */
static int
index_fold(struct store *s, MDB_txn *txn)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	size_t		 i;
	int		 rc;

	if (s->npidx == 0)
		return 0;
	qsort(s->pidx, s->npidx, sizeof(*s->pidx), ikey_cmp);
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_MSGEVENTS], &cur)) != 0)
		return rc;
	v.mv_data = (void *)"";
	v.mv_size = 0;
	for (i = 0; i < s->npidx && rc == 0; i++) {
		k.mv_data = s->pidx[i];
		k.mv_size = IKEY_LEN;
		rc = mdb_cursor_put(cur, &k, &v, 0);
	}
	mdb_cursor_close(cur);
	return rc;
}

/*
 * honeypot_sweep - a source followed the honeypot of msg: its earlier
 * events on that message within the window become scanner events too.
 */
static int
honeypot_sweep(struct store *s, MDB_txn *txn, const char *msg16,
    const char *ip, int64_t now_us, const char *self)
{
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v, ek, ev;
	char		 from[48];
	json_t		*o;
	int		 rc;

	if (ip == NULL || s->honeypot_us <= 0)
		return 0;
	/*
	 * The events not yet in the index, this batch's too, first; and the
	 * link counters not folded (a sum never goes below 0: the order counts)
	 */
	if ((rc = index_fold(s, txn)) != 0 || (rc = ldelta_apply(s, txn)) != 0)
		return rc;
	s->fold_now = 1;	/* and what the batch adds after them */
	snprintf(from, sizeof(from), "%s%016" PRIx64 "0000", msg16,
	    (uint64_t)(now_us - s->honeypot_us));
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_MSGEVENTS], &cur)) != 0)
		return rc;
	k.mv_data = from;
	k.mv_size = strlen(from);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *cls, *type, *eip, *link;
		struct scopes sc;
		const struct msginfo *mi;
		char metric[48];
		json_int_t t;
		int click;

		if (k.mv_size != 36 || memcmp(k.mv_data, msg16, 16) != 0)
			break;
		if (memcmp((char *)k.mv_data + 16, self, 20) == 0)
			continue;
		ek.mv_data = (char *)k.mv_data + 16;
		ek.mv_size = 20;
		if (mdb_get(txn, s->dbi[DB_EVENTS], &ek, &ev) != 0 ||
		    (o = json_loadb(ev.mv_data, ev.mv_size, 0, NULL)) == NULL)
			continue;
		if (json_unpack(o, "{s:s, s:s, s:s, s:I}", "class", &cls,
		    "type", &type, "ip", &eip, "time", &t) != 0 ||
		    strcmp(eip, ip) != 0 || strcmp(cls, "scanner") == 0) {
			json_decref(o);
			continue;
		}
		click = strcmp(type, "click") == 0;
		link = NULL;
		json_unpack(o, "{s?s}", "link", &link);
		mi = msginfo_get(s, txn, strtoull(msg16, NULL, 16));
		event_scopes(mi, click, link ? strtoull(link, NULL, 16) : 0,
		    strtoull(msg16, NULL, 16), t, &sc);
		snprintf(metric, sizeof(metric), "%s.%s", click ? "clicks" :
		    "opens", cls);
		rc = scoped(s->delta, &sc, metric, TALLY_SUM, -1);
		snprintf(metric, sizeof(metric), "%s.scanner", click ? "clicks" :
		    "opens");
		if (rc == 0)
			rc = scoped(s->delta, &sc, metric, TALLY_SUM, 1);
		/*
		 * A person counted once as unique through this source is no
		 * person: take it back (per source only; with one recipient
		 * others may have seen the message too).
		 */
		if (rc == 0 && strcmp(cls, "human") == 0 && mi->nrcpt != 1) {
			char		ukey[96];
			MDB_val		uk;

			snprintf(ukey, sizeof(ukey), "%c:%s:%s:h", click ? 'c' :
			    'o', msg16, ip);
			uk.mv_data = ukey;
			uk.mv_size = strlen(ukey);
			if (mdb_del(txn, s->dbi[DB_UNIQ], &uk, NULL) == 0) {
				struct scopes ms = sc;

				if (click)
					memmove(&ms.v[2], &ms.v[3], sizeof(ms.v[0]) *
					    (size_t)(--ms.n - 2));
				rc = scoped(s->delta, &ms, click ?
				    "uclicks.human" : "uopens.human", TALLY_SUM, -1);
			}
			if (rc == 0 && click && link) {
				snprintf(ukey, sizeof(ukey), "l:%s:%s:h", link, ip);
				uk.mv_data = ukey;
				uk.mv_size = strlen(ukey);
				if (mdb_del(txn, s->dbi[DB_UNIQ], &uk, NULL) == 0)
					rc = scoped1(s->delta, sc.v[2],
					    "uclicks.human", TALLY_SUM, -1);
			}
		}
		json_object_set_new(o, "class", json_string("scanner"));
		json_object_set_new(o, "reason", json_string("honeypot-source"));
		{
			char ekey[21];

			memcpy(ekey, ek.mv_data, 20);
			ekey[20] = '\0';
			if (rc == 0)
				rc = put_json(txn, s->dbi[DB_EVENTS], ekey, o, 0);
		}
		json_decref(o);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* scopes less the link one: the message-wide uniques */
static void
scopes_nolink(const struct scopes *sc, int click, struct scopes *ms)
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

	scopes_nolink(sc, click, &ms);
	if (!(mi->seen & bit)) {
		if (!counted(s, txn, sc->v[1], u, &mrec, &mhave, &rc) &&
		    rc == 0)
			rc = scoped(s->delta, &ms, u, TALLY_SUM, 1);
		if (rc != 0)
			return rc;
		mi->seen |= bit;
	}
	if (human && !(mi->seen & hbit)) {
		if (!counted(s, txn, sc->v[1], uh, &mrec, &mhave, &rc) &&
		    rc == 0)
			rc = scoped(s->delta, &ms, uh, TALLY_SUM, 1);
		if (rc != 0)
			return rc;
		mi->seen |= hbit;
	}
	if (!click)
		return 0;
	/* the link's own: sc->v[2] is "l:SEQ" */
	if ((rc = scoped1(s->delta, sc->v[2], u, TALLY_MAX, 1)) == 0 && human)
		rc = scoped1(s->delta, sc->v[2], uh, TALLY_MAX, 1);
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

	snprintf(ukey, sizeof(ukey), "%c:%s:%s", click ? 'c' : 'o', msg, who);
	snprintf(metric, sizeof(metric), "u%s", kind);
	if (first_seen(s, txn, ukey, &rc)) {
		struct scopes ms;

		/* the link scope counts uniques of its own, below */
		scopes_nolink(sc, click, &ms);
		if ((rc = scoped(s->delta, &ms, metric, TALLY_SUM, 1)))
			return rc;
	}
	if (rc == 0 && human) {
		snprintf(ukey, sizeof(ukey), "%c:%s:%s:h", click ? 'c' : 'o',
		    msg, who);
		snprintf(metric, sizeof(metric), "u%s.human", kind);
		if (first_seen(s, txn, ukey, &rc)) {
			struct scopes ms;

			scopes_nolink(sc, click, &ms);
			if ((rc = scoped(s->delta, &ms, metric,
			    TALLY_SUM, 1)))
				return rc;
		}
	}
	if (rc == 0 && click) {
		snprintf(ukey, sizeof(ukey), "l:%s:%s", ref, who);
		if (first_seen(s, txn, ukey, &rc))
			rc = scoped1(s->delta, sc->v[2], "uclicks", TALLY_SUM, 1);
		if (rc == 0 && human) {
			snprintf(ukey, sizeof(ukey), "l:%s:%s:h", ref, who);
			if (first_seen(s, txn, ukey, &rc))
				rc = scoped1(s->delta, sc->v[2], "uclicks.human",
				    TALLY_SUM, 1);
		}
	}
	return rc;
}

/* apply_event - write one event, its index entry and its counters */
static int
apply_event(struct store *s, MDB_txn *txn, const struct store_event *e)
{
	struct msginfo		*mi;
	struct scopes		 sc;
	char			 key[24], ref[17], msg[17];
	char			 metric[96];
	const char		*kind = e->type == STORE_EV_CLICK ? "clicks" : "opens";
	int			 click = e->type == STORE_EV_CLICK, human, rc;
	MDB_val			 k, v;

	hex16(key, (uint64_t)e->time_us);
	hex16(ref, ((uint64_t)s->ev_order++) << 48);
	memcpy(key + 16, ref, 4);
	key[20] = '\0';
	hex16(ref, e->seq);
	hex16(msg, e->msg);
	/* the same JSON a jansson object would give, written directly */
	buf_reset(&s->evbuf);
	if (buf_puts(&s->evbuf, "{\"time\":") ||
	    put_i64(&s->evbuf, e->time_us) ||
	    buf_puts(&s->evbuf, click ? ",\"type\":\"click\",\"link\":\"" :
	    ",\"type\":\"open\",\"ref\":\"") ||
	    buf_append(&s->evbuf, ref, 16) ||
	    buf_puts(&s->evbuf, "\",\"msg\":\"") ||
	    buf_append(&s->evbuf, msg, 16) ||
	    buf_puts(&s->evbuf, "\",\"ip\":") ||
	    jesc(&s->evbuf, e->ip) || buf_puts(&s->evbuf, ",\"ua\":") ||
	    jesc(&s->evbuf, e->ua) || buf_puts(&s->evbuf, ",\"method\":") ||
	    jesc(&s->evbuf, e->method) || buf_puts(&s->evbuf, ",\"host\":") ||
	    jesc(&s->evbuf, e->host) || buf_puts(&s->evbuf, ",\"class\":") ||
	    jesc(&s->evbuf, e->verdict ? e->verdict : "human") ||
	    buf_puts(&s->evbuf, ",\"reason\":") ||
	    jesc(&s->evbuf, e->reason ? e->reason : "-") ||
	    buf_putc(&s->evbuf, '}'))
		return ENOMEM;
	k.mv_data = key;
	k.mv_size = 20;
	v.mv_data = s->evbuf.data;
	v.mv_size = s->evbuf.len;
	if ((rc = put_ordered(txn, s->dbi[DB_EVENTS], &k, &v)) != 0 ||
	    (s->feed && (rc = feed_append(&s->fw, txn, s->dbi[DB_FEED],
	    'e', key, 20)) != 0))
		return rc;
	/* the index of a message's events (message seq + event key), later */
	if ((rc = pidx_add(s, msg, key)) != 0)
		return rc;

	mi = msginfo_get(s, txn, e->msg);
	event_scopes(mi, click, e->seq, e->msg, e->time_us, &sc);
	human = e->verdict == NULL || strcmp(e->verdict, "human") == 0;
	snprintf(metric, sizeof(metric), "%s.%s", kind,
	    e->verdict ? e->verdict : "human");
	if ((rc = scoped(s->delta, &sc, kind, TALLY_SUM, 1)) != 0 ||
	    (rc = scoped(s->delta, &sc, metric, TALLY_SUM, 1)) != 0 ||
	    (rc = scoped(s->delta, &sc, "first", TALLY_MIN,
	    e->time_us)) != 0 ||
	    (rc = scoped(s->delta, &sc, "last", TALLY_MAX,
	    e->time_us)) != 0)
		return rc;

	/*
	 * Unique: per recipient when the message had one, else per source.
	 * A message to one recipient needs no marker of its own: its unique
	 * counters (0 or 1) in its message and link records say it.
	 */
	if (mi->nrcpt == 1)
		rc = uniq_single(s, txn, mi, &sc, click, human);
	else
		rc = uniq_sources(s, txn, &sc, click, human, msg, ref,
		    e->ip ? e->ip : "-");
	if (rc != 0)
		return rc;
	if (rc == 0 && e->reason && strcmp(e->reason, "honeypot") == 0)
		rc = honeypot_sweep(s, txn, msg, e->ip, e->time_us, key);
	return rc;
}

/* how counters_flush treats link scopes */
enum lmode { L_ALL, L_SKIP };

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

/* delta_flush - write each scope of d (link scopes too, or not) */
static int
delta_flush(struct store *s, MDB_txn *txn, const struct delta *d,
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

/* pending_line - one "scope TAB metric TAB op TAB value" line into d; 0 or -1 */
static int
pending_line(struct delta *d, char *line)
{
	struct delta_rec	*r;
	char			*f[4];
	int			 i;

	f[0] = line;
	for (i = 1; i < 4; i++)
		if ((f[i] = strchr(f[i - 1], '\t')) == NULL)
			return -1;
		else
			*f[i]++ = '\0';
	if (f[2][0] < '0' || f[2][0] > '0' + TALLY_MAX ||
	    (r = delta_scope(d, f[0])) == NULL)
		return -1;
	return delta_add(r, f[1], (enum tally_op)(f[2][0] - '0'),
	    strtoll(f[3], NULL, 10));
}

/*
 * pending_apply - the link changes kept in "pending" into txn's counters,
 * with index, its index entries too (else they are in pidx already), and
 * "pending" emptied; *n: the records read
 */
static int
pending_apply(struct store *s, MDB_txn *txn, int index, uint64_t *n)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	struct delta	*d;
	char		 line[SCOPE_MAX + 128];
	int		 rc;

	*n = 0;
	if ((d = delta_new()) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_PENDING], &cur)) != 0) {
		delta_free(d);
		return rc;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *p = v.mv_data, *end = p + v.mv_size, *nl;

		for (; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if ((size_t)(nl - p) >= sizeof(line))
				continue;	/* not a line this writer wrote */
			if (nl - p >= 2 && p[0] == 'i' && p[1] == ':') {
				if (index && nl - p == 2 + IKEY_LEN &&
				    pidx_add(s, p + 2, p + 18) != 0)
					rc = ENOMEM;
				continue;
			}
			memcpy(line, p, (size_t)(nl - p));
			line[nl - p] = '\0';
			pending_line(d, line);
		}
		if (rc != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND && (rc = delta_flush(s, txn, d, L_ALL)) == 0 &&
	    (!index || (rc = index_fold(s, txn)) == 0))
		rc = mdb_drop(txn, s->dbi[DB_PENDING], 0);
	delta_free(d);
	return rc;
}

/* wal_recover - at start: apply what a crash left pending */
static int
wal_recover(struct store *s)
{
	MDB_txn		*txn;
	uint64_t	 n;
	int		 rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = pending_apply(s, txn, 1, &n)) != 0 || n == 0) {
		mdb_txn_abort(txn);
		s->npidx = 0;
		return rc;
	}
	s->npidx = 0;
	if ((rc = mdb_txn_commit(txn)) == 0)
		log_info("store op=pending_recover commits=%" PRIu64, n);
	return rc;
}

/* ldelta_apply - the link changes not folded yet, into txn's counters */
static int
ldelta_apply(struct store *s, MDB_txn *txn)
{
	int rc;

	uint64_t n;

	if (s->ldelta_in_txn)
		return 0;
	/* ldelta is the sum of "pending": read it there when it is not whole */
	if (s->ldelta_lost)
		rc = pending_apply(s, txn, 0, &n);
	else if (delta_size(s->ldelta) == 0)
		return 0;
	else
		rc = delta_flush(s, txn, s->ldelta, L_ALL);
	if (rc == 0)
		s->ldelta_in_txn = 1;
	return rc;
}

/* the link scopes of a batch as "pending" lines: scope TAB metric TAB op TAB value */
static int
wal_line(void *arg, const char *scope, const struct delta_rec *r)
{
	struct buf	*b = arg;
	size_t		 i;

	if (scope[0] != 'l' || scope[1] != ':')
		return 0;
	for (i = 0; i < r->n; i++)
		if (buf_puts(b, scope) || buf_putc(b, '\t') ||
		    buf_puts(b, r->f[i].name) || buf_putc(b, '\t') ||
		    buf_putc(b, '0' + (int)r->f[i].op) || buf_putc(b, '\t') ||
		    put_i64(b, r->f[i].v) || buf_putc(b, '\n'))
			return ENOMEM;
	return 0;
}

/* wal_merge - after the commit: a batch's link changes join ldelta */
static int
wal_merge(void *arg, const char *scope, const struct delta_rec *r)
{
	struct store		*s = arg;
	struct delta_rec	*l;
	size_t			 i;

	if (scope[0] != 'l' || scope[1] != ':')
		return 0;
	if ((l = delta_scope(s->ldelta, scope)) == NULL)
		return ENOMEM;
	for (i = 0; i < r->n; i++)
		if (delta_add(l, r->f[i].name, r->f[i].op, r->f[i].v) == -1)
			return ENOMEM;
	return 0;
}

/*
 * counters_flush - write each scope the batch touched. Link scopes: with
 * a fold, those not folded yet and the batch's; without, the batch's go
 * to one "pending" record.
 */
static int
counters_flush(struct store *s, MDB_txn *txn, int fold)
{
	struct buf	b = BUF_INIT;
	MDB_val		k, v;
	unsigned char	seq[8];
	size_t		j;
	int		rc, i;

	if (!s->events)
		return delta_flush(s, txn, s->delta, L_ALL);
	if (fold) {
		if ((rc = ldelta_apply(s, txn)) != 0 ||
		    (rc = delta_flush(s, txn, s->delta, L_ALL)) != 0)
			return rc;
		return s->wal_seq > 1 ? mdb_drop(txn, s->dbi[DB_PENDING], 0) : 0;
	}
	if ((rc = delta_flush(s, txn, s->delta, L_SKIP)) != 0)
		return rc;
	/* the batch's index entries ("i:KEY"), then its link changes */
	for (j = s->pidx_base; j < s->npidx; j++)
		if (buf_puts(&b, "i:") || buf_append(&b, s->pidx[j], IKEY_LEN) ||
		    buf_putc(&b, '\n')) {
			buf_free(&b);
			return ENOMEM;
		}
	if ((rc = delta_each(s->delta, wal_line, &b)) != 0 || b.len == 0) {
		buf_free(&b);
		return rc;
	}
	for (i = 0; i < 8; i++)
		seq[i] = (unsigned char)(s->wal_seq >> (56 - 8 * i));
	k.mv_data = seq;
	k.mv_size = 8;
	v.mv_data = b.data;
	v.mv_size = b.len;
	rc = mdb_put(txn, s->dbi[DB_PENDING], &k, &v, MDB_APPEND);
	buf_free(&b);
	return rc;
}

/* store_writer - the writer thread: batch, apply, commit, wake waiters */
static void *
store_writer(void *arg)
{
	struct store	*s = arg;
	struct wjob	*batch, *j, *next;
	MDB_txn		*txn, *child;
	uint64_t	 n;
	int64_t		 t0, dt;
	int		 rc, stop, began, fold, idle;

	if (s->events && (rc = wal_recover(s)) != 0)
		log_warnx("store op=pending_recover error=\"%s\"", mdb_strerror(rc));
	s->wal_seq = 1;
	s->fold_us = mono_us();

	for (;;) {
		pthread_mutex_lock(&s->q_lock);
		while (s->q_head == NULL && !s->q_stop)
			pthread_cond_wait(&s->q_cond, &s->q_lock);
		/*
		 * Events alone wait for company: up to batch_ms after the
		 * first of them was queued, or until batch_max are queued.
		 * A waiting milter message, a flush or the stop cut it short.
		 */
		if (s->opts.batch_ms > 0) {
			struct timespec	dl;
			int64_t		until = s->q_first_us +
			    (int64_t)s->opts.batch_ms * 1000;

			dl.tv_sec = (time_t)(until / 1000000);
			dl.tv_nsec = (long)(until % 1000000) * 1000;
			while (s->q_head && !s->q_stop && !s->q_msgs &&
			    s->q_flush == 0 && s->q_len < (size_t)s->opts.batch_max &&
			    pthread_cond_timedwait(&s->q_cond, &s->q_lock, &dl) == 0)
				;
		}
		stop = s->q_stop && s->q_head == NULL;
		/* take at most batch_max jobs */
		batch = s->q_head;
		for (n = 0, j = batch; j && n + 1 < (uint64_t)s->opts.batch_max;
		    j = j->next)
			n++;
		if (j) {
			s->q_head = j->next;
			j->next = NULL;
			n++;
		} else
			s->q_head = NULL;
		if (s->q_head == NULL)
			s->q_tail = &s->q_head;
		s->q_len -= n;
		for (j = batch; j; j = j->next)
			if (j->is_msg)
				s->q_msgs--;
		if (s->q_head)
			s->q_first_us = mono_us();
		/* out of work, or someone waits: the index is written too */
		idle = s->q_head == NULL || s->q_flush > 0 || s->q_stop;
		pthread_mutex_unlock(&s->q_lock);
		if (stop)
			break;

		t0 = mono_us();
		s->batch_gen++;
		delta_reset(s->delta);
		s->pidx_base = s->npidx;
		s->fold_now = 0;
		feed_writer_reset(&s->fw);
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		began = rc == 0;
		for (j = batch; j; j = j->next) {
			if (rc != 0) {
				j->rc = rc;
				continue;
			}
			/*
			 * A message in a nested transaction: one that fails
			 * is undone alone and its sender told. Events go
			 * straight in (a nested transaction each would cost
			 * more than the event): what fails them fails the batch.
			 */
			if (!j->is_msg) {
				if ((j->rc = apply_event(s, txn, &j->ev)) != 0)
					rc = j->rc;
				continue;
			}
			if ((j->rc = mdb_txn_begin(s->env, txn, 0, &child)) != 0)
				continue;
			if ((j->rc = apply_msg(s, child, j->msg)) == 0)
				j->rc = mdb_txn_commit(child);
			else {
				mdb_txn_abort(child);
				feed_writer_reset(&s->fw);
			}
		}
		fold = idle || s->fold_now || s->npidx >= INDEX_FOLD_MAX ||
		    delta_size(s->ldelta) >= LDELTA_MAX ||
		    t0 - s->fold_us >= FOLD_US;
		if (began && rc == 0) {
			if ((rc = counters_flush(s, txn, fold)) != 0 ||
			    (fold && (rc = index_fold(s, txn)) != 0) ||
			    (fold && s->feed && (rc = feed_trim(txn,
			    s->dbi[DB_FEED], s->dbi[DB_META], FEED_TRIM_MAX,
			    NULL)) != 0))
				mdb_txn_abort(txn);
			else
				rc = mdb_txn_commit(txn);
		} else if (began)
			mdb_txn_abort(txn);
		if (rc == 0 && fold) {
			s->npidx = 0;
			s->fold_us = mono_us();
			delta_reset(s->ldelta);
			s->ldelta_lost = 0;
			s->wal_seq = 1;
		} else if (rc == 0 && s->events) {
			/* the batch's link changes: in "pending", and here */
			if (!s->ldelta_lost &&
			    delta_each(s->delta, wal_merge, s) != 0)
				s->ldelta_lost = 1;
			s->wal_seq++;
		}
		s->ldelta_in_txn = 0;
		/* what a batch undone added is wrong: forget it */
		if (rc != 0) {
			s->mcache_epoch++;
			s->npidx = s->pidx_base;
		}
		if (rc != 0)
			log_warnx("store op=commit jobs=%" PRIu64 " error=\"%s\"",
			    n, mdb_strerror(rc));
		dt = mono_us() - t0;

		pthread_mutex_lock(&s->q_lock);
		s->ws.commits++;
		s->ws.jobs += n;
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
	/* what is still pending (the last batch folds it, as a rule) */
	if (s->npidx > 0 || s->wal_seq > 1) {
		if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) == 0) {
			if ((rc = index_fold(s, txn)) == 0 &&
			    (rc = ldelta_apply(s, txn)) == 0)
				rc = mdb_drop(txn, s->dbi[DB_PENDING], 0);
			if (rc == 0)
				rc = mdb_txn_commit(txn);
			else
				mdb_txn_abort(txn);
		}
		if (rc != 0)
			log_warnx("store op=index_fold error=\"%s\"",
			    mdb_strerror(rc));
		s->npidx = 0;
	}
	return NULL;
}

/* enqueue a job; the caller holds no lock */
static int
store_enqueue(struct store *s, struct wjob *j, uint64_t *ticket)
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
		s->q_first_us = mono_us();
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
store_put_message(struct store *s, const struct store_msg *m)
{
	struct wjob	 j;
	uint64_t	 ticket;
	int		 rc;

	if (s->rdonly) {
		errno = EROFS;
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.is_msg = 1;
	j.msg = m;
	if (store_enqueue(s, &j, &ticket) == -1)
		return -1;
	pthread_mutex_lock(&s->q_lock);
	while (!j.done)
		pthread_cond_wait(&s->q_done, &s->q_lock);
	rc = j.rc;
	pthread_mutex_unlock(&s->q_lock);
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
	if (store_enqueue(s, j, &ticket) == -1) {
		free(j);
		return -1;
	}
	return 0;
}

int
store_flush(struct store *s)
{
	uint64_t target;

	if (s->rdonly || !s->writer_started)
		return 0;
	pthread_mutex_lock(&s->q_lock);
	target = s->q_enqueued;
	s->q_flush++;
	pthread_cond_signal(&s->q_cond);
	while (s->q_committed < target)
		pthread_cond_wait(&s->q_done, &s->q_lock);
	s->q_flush--;
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}

int
store_get_link(struct store *s, uint64_t seq, struct buf *url,
    struct store_linkinfo *li)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	json_t		*o = NULL;
	json_error_t	 jerr;
	const char	*u, *m;
	json_int_t	 t = 0;
	int		 hp = 0, rc, ret = -1;
	char		 key[17];

	if ((txn = rtx_get(s)) == NULL)
		return -1;
	hex16(key, seq);
	k.mv_data = key;
	k.mv_size = 16;
	rc = mdb_get(txn, s->dbi[DB_LINKS], &k, &v);
	if (rc == MDB_NOTFOUND) {
		ret = 1;
		goto out;
	}
	if (rc != 0) {
		log_warnx("store op=get_link error=\"%s\"", mdb_strerror(rc));
		goto out;
	}
	/*
	 * The record as apply_msg writes it: {"msg":"HEX16","n":N,"t":T,
	 * "url":"..."[,"honeypot":true]}. A URL without escapes is taken as
	 * it stands; anything else goes through jansson.
	 */
	{
		const char	*r = v.mv_data, *end = r + v.mv_size, *tp, *up, *q;

		if (v.mv_size > 30 && memcmp(r, "{\"msg\":\"", 8) == 0 &&
		    (tp = memmem(r, v.mv_size, ",\"t\":", 5)) != NULL &&
		    (up = memmem(r, v.mv_size, ",\"url\":\"", 8)) != NULL &&
		    (q = memchr(up + 8, '"', (size_t)(end - up - 8))) != NULL &&
		    memchr(up + 8, '\\', (size_t)(q - up - 8)) == NULL) {
			char num[24];
			size_t nl = (size_t)(up - tp - 5) < 23 ?
			    (size_t)(up - tp - 5) : 23;

			if (url && buf_append(url, up + 8, (size_t)(q - up - 8)))
				goto out;
			if (li) {
				memcpy(num, r + 8, 16);
				num[16] = '\0';
				li->msg = strtoull(num, NULL, 16);
				memcpy(num, tp + 5, nl);
				num[nl] = '\0';
				li->sent_us = strtoll(num, NULL, 10);
				li->honeypot = memmem(q, (size_t)(end - q),
				    "\"honeypot\":true", 15) != NULL;
			}
			ret = 0;
			goto out;
		}
	}
	if ((o = json_loadb(v.mv_data, v.mv_size, 0, &jerr)) == NULL ||
	    json_unpack(o, "{s:s, s:s, s?I, s?b}", "url", &u, "msg", &m,
	    "t", &t, "honeypot", &hp) != 0) {
		log_warnx("store op=get_link key=%s error=\"bad record\"", key);
		goto out;
	}
	if (url && buf_puts(url, u) == -1)
		goto out;
	if (li) {
		li->msg = strtoull(m, NULL, 16);
		li->sent_us = t;
		li->honeypot = hp;
	}
	ret = 0;
out:
	json_decref(o);
	rtx_put(s, txn);
	return ret;
}

int
store_get_message(struct store *s, uint64_t seq, int64_t *sent_us)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	json_t		*o;
	json_int_t	 t = 0;
	char		 key[17];
	int		 rc;

	if ((txn = rtx_get(s)) == NULL)
		return -1;
	hex16(key, seq);
	k.mv_data = key;
	k.mv_size = 16;
	rc = mdb_get(txn, s->dbi[DB_MESSAGES], &k, &v);
	if (rc == 0 && sent_us) {
		/*
		 * The record starts {"time":N (apply_msg writes it first):
		 * a message with many links is not parsed for one number.
		 */
		*sent_us = 0;
		if (v.mv_size > 9 && memcmp(v.mv_data, "{\"time\":", 8) == 0) {
			char num[24];
			size_t n = v.mv_size - 8 < 23 ? v.mv_size - 8 : 23;

			memcpy(num, (char *)v.mv_data + 8, n);
			num[n] = '\0';
			*sent_us = strtoll(num, NULL, 10);
		} else if ((o = json_loadb(v.mv_data, v.mv_size, 0, NULL))) {
			json_unpack(o, "{s?I}", "time", &t);
			*sent_us = t;
			json_decref(o);
		}
	}
	rtx_put(s, txn);
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	log_warnx("store op=get_message error=\"%s\"", mdb_strerror(rc));
	return -1;
}


int
store_counts(struct store *s, struct store_counts *c)
{
	MDB_txn *txn;

	if ((txn = rtx_get(s)) == NULL)
		return -1;
	{
		struct counter	rec;
		MDB_val		k, v;

		k.mv_data = (void *)"*";
		k.mv_size = 1;
		if (mdb_get(txn, s->dbi[DB_COUNTERS], &k, &v) == 0)
			counter_parse(&rec, v.mv_data, v.mv_size);
		else
			rec.n = 0;
		c->messages = counter_get(&rec, "messages");
		c->links = counter_get(&rec, "links");
		c->opens = counter_get(&rec, "opens");
		c->clicks = counter_get(&rec, "clicks");
	}
	rtx_put(s, txn);
	return 0;
}

void
store_writer_stats(struct store *s, struct store_wstats *w)
{
	pthread_mutex_lock(&s->q_lock);
	*w = s->ws;
	pthread_mutex_unlock(&s->q_lock);
}

/* events examined per write transaction of store_scrub_events */
#define SCRUB_CHUNK	10000

/*
 * scrub_value - the event record v with "ip" and "ua" set to null, as new
 * JSON text in *out (malloc'd). 0 when rewritten, 1 when there is nothing
 * to erase (or the record is not a JSON object), -1 without memory.
 */
static int
scrub_value(const MDB_val *v, char **out)
{
	static const char *const fields[] = { "ip", "ua" };
	json_t	*o, *f;
	size_t	 i;
	int	 changed = 0;

	/* fast path: both already null (a quote in a value is escaped) */
	if (memmem(v->mv_data, v->mv_size, "\"ip\":null", 9) &&
	    memmem(v->mv_data, v->mv_size, "\"ua\":null", 9))
		return 1;
	if ((o = json_loadb(v->mv_data, v->mv_size, 0, NULL)) == NULL)
		return 1;
	if (!json_is_object(o)) {
		json_decref(o);
		return 1;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		f = json_object_get(o, fields[i]);
		if (f == NULL || json_is_null(f))
			continue;
		if (json_object_set_new(o, fields[i], json_null()) == -1) {
			json_decref(o);
			return -1;
		}
		changed = 1;
	}
	*out = changed ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!changed)
		return 1;
	return *out ? 0 : -1;
}

int
store_scrub_events(struct store *s, int64_t before_us, uint64_t *scrubbed)
{
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v, nk, nv;
	char		 bound[17], last[32], *text;
	size_t		 lastlen = 0, n;
	uint64_t	 done = 0, chunk;
	int		 rc = 0, more = 1, r;

	if (scrubbed)
		*scrubbed = 0;
	if (s->rdonly) {
		errno = EROFS;
		return -1;
	}
	if (before_us <= 0)
		return 0;
	hex16(bound, (uint64_t)before_us);
	while (more) {
		chunk = 0;
		if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
			txn = NULL;
			goto fail;
		}
		if ((rc = mdb_cursor_open(txn, s->dbi[DB_EVENTS], &cur)) != 0)
			goto fail;
		/* each chunk starts after the last key the previous one saw */
		if (lastlen) {
			k.mv_data = last;
			k.mv_size = lastlen;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			if (rc == 0 && k.mv_size == lastlen &&
			    memcmp(k.mv_data, last, lastlen) == 0)
				rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		} else
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		for (n = 0; rc == 0 && n < SCRUB_CHUNK; n++) {
			/* keys start with the time: 16 hex digits sort as numbers */
			if (k.mv_size < 16 || k.mv_size > sizeof(last) ||
			    memcmp(k.mv_data, bound, 16) >= 0) {
				more = 0;
				break;
			}
			memcpy(last, k.mv_data, k.mv_size);
			lastlen = k.mv_size;
			if ((r = scrub_value(&v, &text)) == -1) {
				rc = ENOMEM;
				goto fail;
			}
			if (r == 0) {
				nk.mv_data = last;
				nk.mv_size = lastlen;
				nv.mv_data = text;
				nv.mv_size = strlen(text);
				rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT);
				free(text);
				if (rc != 0)
					goto fail;
				chunk++;
			}
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			more = 0;
		}
		if (rc != 0)
			goto fail;
		mdb_cursor_close(cur);
		cur = NULL;
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc != 0)
			goto fail;
		done += chunk;
		if (scrubbed)
			*scrubbed = done;
	}
	return 0;
fail:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	log_warnx("store op=scrub_events scrubbed=%" PRIu64 " error=\"%s\"",
	    done, mdb_strerror(rc));
	errno = EIO;
	return -1;
}

int
store_reader_check(struct store *s, int *dead)
{
	int rc, n = 0;

	if ((rc = mdb_reader_check(s->env, &n)) != 0) {
		log_warnx("store op=reader_check error=\"%s\"", mdb_strerror(rc));
		errno = EIO;
		return -1;
	}
	if (dead)
		*dead = n;
	return 0;
}
