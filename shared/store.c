/*
 * store - LMDB schema, read helpers and the batching writer (see store.h).
 *
 * All writes of a process go through one writer thread. It takes every
 * job queued while the previous commit ran (at most batch_max), applies
 * them in one transaction and commits once: a burst of events or of
 * milter messages costs one fsync, and nobody waits longer than a commit.
 * Message jobs run in a nested transaction, so one that fails is undone
 * alone; their submitter waits for the commit. Events are fire and forget.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "log.h"
#include "store.h"

enum { DB_META, DB_MESSAGES, DB_MSGIDS, DB_LINKS, DB_EVENTS, DB_COUNTERS,
    DB_DOMAINS, DB_COUNT };
static const char *const db_names[DB_COUNT] = { "meta", "messages", "msgids",
    "links", "events", "counters", "domains" };

#define QUEUE_MAX	(1 << 20)	/* events waiting for the writer */
#define RESERVE_LINKS	4096
#define RESERVE_MSGS	256

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
	int		 writer_started;
	pthread_t	 writer;
	struct store_wstats ws;
	uint16_t	 ev_order;
};

static void	*store_writer(void *);

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
	snprintf(out, 17, "%016" PRIx64, v);
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
	pthread_mutex_init(&s->seq_lock, NULL);
	pthread_mutex_init(&s->rtx_lock, NULL);
	pthread_mutex_init(&s->q_lock, NULL);
	pthread_cond_init(&s->q_cond, NULL);
	pthread_cond_init(&s->q_done, NULL);
	s->q_tail = &s->q_head;

	if (!s->rdonly && store_mkdirs(path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
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

static int
add_u64(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t delta)
{
	if (delta == 0)
		return 0;
	return put_u64(txn, dbi, name, get_u64(txn, dbi, name) + delta);
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

/* json_string that never fails on invalid UTF-8: bytes are kept as Latin-1 */
static json_t *
jstr(const char *s)
{
	json_t	*j;
	char	*fixed, *o;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((fixed = malloc(strlen(s) * 2 + 1)) == NULL)
		return NULL;
	for (o = fixed; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x80)
			*o++ = (char)c;
		else {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = '\0';
	j = json_string(fixed);
	free(fixed);
	return j;
}

/* apply_msg - write one message and its links inside txn */
static int
apply_msg(struct store *s, MDB_txn *txn, const struct store_msg *m)
{
	json_t	*o = NULL, *rcpt = NULL;
	char	 key[17], mkey[17];
	MDB_val	 k, v;
	size_t	 i;
	int	 rc = ENOMEM;

	hex16(mkey, m->seq);
	if ((rcpt = json_array()) == NULL)
		goto out;
	for (i = 0; i < m->nrcpt; i++)
		if (json_array_append_new(rcpt, jstr(m->rcpt[i])) == -1)
			goto out;
	o = json_pack("{s:I, s:o, s:o, s:o, s:O, s:I, s:b}",
	    "time", (json_int_t)m->time_us,
	    "message_id", jstr(m->message_id),
	    "queue_id", jstr(m->queue_id),
	    "from", jstr(m->from),
	    "rcpt", rcpt,
	    "links", (json_int_t)m->nlinks,
	    "pixel", m->pixel);
	if ((rc = put_json(txn, s->dbi[DB_MESSAGES], mkey, o, 1)) != 0)
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
		json_decref(o);
		hex16(key, m->links[i].seq);
		o = json_pack("{s:s, s:I, s:o}", "msg", mkey,
		    "n", (json_int_t)i, "url", jstr(m->links[i].url));
		if ((rc = put_json(txn, s->dbi[DB_LINKS], key, o, 1)) != 0)
			goto out;
	}
	if ((rc = add_u64(txn, s->dbi[DB_COUNTERS], "messages", 1)) != 0 ||
	    (rc = add_u64(txn, s->dbi[DB_COUNTERS], "links", m->nlinks)) != 0)
		goto out;
	rc = 0;
out:
	json_decref(o);
	json_decref(rcpt);
	return rc;
}

/* apply_event - write one event inside txn */
static int
apply_event(struct store *s, MDB_txn *txn, const struct store_event *e)
{
	json_t	*o;
	char	 key[24], ref[17], msg[17];
	int	 rc;

	snprintf(key, sizeof(key), "%016" PRIx64 "%04x",
	    (uint64_t)e->time_us, s->ev_order++);
	hex16(ref, e->seq);
	hex16(msg, e->msg);
	o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "time", (json_int_t)e->time_us,
	    "type", e->type == STORE_EV_CLICK ? "click" : "open",
	    e->type == STORE_EV_CLICK ? "link" : "ref", ref,
	    "msg", msg,
	    "ip", jstr(e->ip),
	    "ua", jstr(e->ua),
	    "method", jstr(e->method),
	    "host", jstr(e->host),
	    "class", jstr(e->verdict),
	    "reason", jstr(e->reason));
	rc = put_json(txn, s->dbi[DB_EVENTS], key, o, 1);
	json_decref(o);
	return rc;
}

/* store_writer - the writer thread: batch, apply, commit, wake waiters */
static void *
store_writer(void *arg)
{
	struct store	*s = arg;
	struct wjob	*batch, *j, *next;
	MDB_txn		*txn, *child;
	uint64_t	 opens, clicks, n;
	int64_t		 t0, dt;
	int		 rc, stop;

	for (;;) {
		pthread_mutex_lock(&s->q_lock);
		while (s->q_head == NULL && !s->q_stop)
			pthread_cond_wait(&s->q_cond, &s->q_lock);
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
		pthread_mutex_unlock(&s->q_lock);
		if (stop)
			break;

		t0 = mono_us();
		opens = clicks = 0;
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		for (j = batch; j; j = j->next) {
			if (rc != 0) {
				j->rc = rc;
				continue;
			}
			if (j->is_msg) {
				if ((j->rc = mdb_txn_begin(s->env, txn, 0,
				    &child)) == 0) {
					j->rc = apply_msg(s, child, j->msg);
					if (j->rc == 0)
						j->rc = mdb_txn_commit(child);
					else
						mdb_txn_abort(child);
				}
			} else {
				j->rc = apply_event(s, txn, &j->ev);
				if (j->rc == 0) {
					if (j->ev.type == STORE_EV_OPEN)
						opens++;
					else
						clicks++;
				}
			}
		}
		if (rc == 0) {
			if ((rc = add_u64(txn, s->dbi[DB_COUNTERS], "opens",
			    opens)) != 0 || (rc = add_u64(txn,
			    s->dbi[DB_COUNTERS], "clicks", clicks)) != 0)
				mdb_txn_abort(txn);
			else
				rc = mdb_txn_commit(txn);
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
	return NULL;
}

/* enqueue a job; the caller holds no lock */
static int
store_enqueue(struct store *s, struct wjob *j, uint64_t *ticket)
{
	pthread_mutex_lock(&s->q_lock);
	if (s->q_stop || (!j->is_msg && s->q_len >= QUEUE_MAX)) {
		s->ws.dropped++;
		pthread_mutex_unlock(&s->q_lock);
		errno = EAGAIN;
		return -1;
	}
	*s->q_tail = j;
	s->q_tail = &j->next;
	s->q_len++;
	*ticket = ++s->q_enqueued;
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
	while (s->q_committed < target)
		pthread_cond_wait(&s->q_done, &s->q_lock);
	pthread_mutex_unlock(&s->q_lock);
	return 0;
}

int
store_get_link(struct store *s, uint64_t seq, struct buf *url, uint64_t *msg)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	json_t		*o = NULL;
	json_error_t	 jerr;
	const char	*u, *m;
	char		 key[17];
	int		 rc, ret = -1;

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
	if ((o = json_loadb(v.mv_data, v.mv_size, 0, &jerr)) == NULL ||
	    json_unpack(o, "{s:s, s:s}", "url", &u, "msg", &m) != 0) {
		log_warnx("store op=get_link key=%s error=\"bad record\"", key);
		goto out;
	}
	if (url && buf_puts(url, u) == -1)
		goto out;
	if (msg)
		*msg = strtoull(m, NULL, 16);
	ret = 0;
out:
	json_decref(o);
	rtx_put(s, txn);
	return ret;
}

int
store_has_message(struct store *s, uint64_t seq)
{
	MDB_txn	*txn;
	MDB_val	 k, v;
	char	 key[17];
	int	 rc;

	if ((txn = rtx_get(s)) == NULL)
		return -1;
	hex16(key, seq);
	k.mv_data = key;
	k.mv_size = 16;
	rc = mdb_get(txn, s->dbi[DB_MESSAGES], &k, &v);
	rtx_put(s, txn);
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return 1;
	log_warnx("store op=has_message error=\"%s\"", mdb_strerror(rc));
	return -1;
}

int
store_counts(struct store *s, struct store_counts *c)
{
	MDB_txn *txn;

	if ((txn = rtx_get(s)) == NULL)
		return -1;
	c->messages = get_u64(txn, s->dbi[DB_COUNTERS], "messages");
	c->links = get_u64(txn, s->dbi[DB_COUNTERS], "links");
	c->opens = get_u64(txn, s->dbi[DB_COUNTERS], "opens");
	c->clicks = get_u64(txn, s->dbi[DB_COUNTERS], "clicks");
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
