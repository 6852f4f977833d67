/*
 * store - the environment, its databases, the pool of read transactions
 * and the reads of the public API (see store.h; the other parts of the
 * store: store_impl.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "config.h"
#include "counter.h"
#include "log.h"
#include "store_impl.h"

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

/* store_claim - the store belongs to this writer's node, or refuse */
static int
store_claim(struct store *s, MDB_txn *txn, char *err, size_t errlen)
{
	static const enum db	 data[] = { DB_MESSAGES, DB_LINKS, DB_EVENTS };
	MDB_stat		 st;
	int			 has = 0;
	size_t			 i;

	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++)
		if (mdb_stat(txn, s->dbi[data[i]], &st) == 0 && st.ms_entries)
			has = 1;
	return store_node_check(txn, s->dbi[DB_META], has, s->anynode ?
	    STORE_NODE_ANY : s->opts.node, err, errlen);
}

/* store_init - create the databases and the ID key if missing */
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
		if ((rc = mdb_dbi_open(txn, db_name((enum db)i), dbflags,
		    &s->dbi[i])) != 0)
			goto fail;
	k.mv_data = (void *)DB_META_ID_KEY;
	k.mv_size = strlen(DB_META_ID_KEY);
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
		k.mv_data = (void *)DB_META_SCHEMA;
		k.mv_size = strlen(DB_META_SCHEMA);
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
	if (!s->rdonly && store_claim(s, txn, err, errlen) == -1)
		goto fail_quiet;
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
	o->burst_window_us = (int64_t)c->burst_window_ms * 1000;
	o->journal_max = c->journal_max;
	o->node = c->node;
}

int
store_flags_config(const struct config *c)
{
	return (c->webhook_url && c->webhook_url[0]) || c->webhooks ||
	    (c->stream_url && c->stream_url[0]) ? STORE_FEED : 0;
}

/* store_lock_events - STORE_EVENTS: only one process writes events */
static int
store_lock_events(struct store *s, const char *path, char *err, size_t errlen)
{
	char lock[4096];

	snprintf(lock, sizeof(lock), "%s/events.lock", path);
	if ((s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errlen, "%s: %s", lock, strerror(errno));
		return -1;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: another process writes events"
		    " to this store (is mtrack-tracker running?)", path);
		return -1;
	}
	return 0;
}

/* store_env_open - the LMDB environment at path */
static int
store_env_open(struct store *s, const char *path, char *err, size_t errlen)
{
	int rc, dead = 0;

	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, DB_COUNT + 2)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 1024)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->opts.map_size)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		return -1;
	}
	/* NOTLS: read transactions are pooled and move between threads */
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS |
	    (s->rdonly ? MDB_RDONLY : 0), 0640)) != 0) {
		snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
		return -1;
	}
	mdb_reader_check(s->env, &dead);
	if (dead)
		log_info("store path=%s stale_readers_cleared=%d", path, dead);
	return 0;
}

struct store *
store_open(const char *path, const struct store_opts *o, int flags,
    char *err, size_t errlen)
{
	struct store	*s;

	if (o->batch_max <= 0) {
		snprintf(err, errlen, "batch_max must be positive");
		return NULL;
	}
	if (o->node < 0 || o->node > STORE_NODE_MAX) {
		snprintf(err, errlen, "node %d out of range 0..%d", o->node,
		    STORE_NODE_MAX);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->opts = *o;
	s->rdonly = (flags & STORE_RDONLY) != 0;
	s->anynode = (flags & STORE_ANYNODE) != 0;
	s->events = (flags & STORE_EVENTS) != 0 && !s->rdonly;
	s->feed = (flags & STORE_FEED) != 0 && !s->rdonly;
	s->lockfd = -1;
	s->honeypot_us = o->honeypot_window_us;
	s->burst_us = o->burst_window_us;
	pthread_mutex_init(&s->seq_lock, NULL);
	pthread_mutex_init(&s->rtx_lock, NULL);
	store_writer_init(s);
	if (!s->rdonly && store_mkdirs(path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((s->events && store_lock_events(s, path, err, errlen) == -1) ||
	    store_env_open(s, path, err, errlen) == -1 ||
	    store_init(s, err, errlen) == -1)
		goto fail;
	if (!s->rdonly && (store_count_init(s) == -1 ||
	    store_pending_init(s) == -1)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((s->events && store_journal_open(s, path, err, errlen) == -1) ||
	    (!s->rdonly && store_writer_start(s, err, errlen) == -1))
		goto fail;
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
	store_writer_stop(s);
	store_journal_close(s);
	for (i = 0; i < s->nrtx; i++)
		mdb_txn_abort(s->rtx[i]);
	free(s->rtx);
	store_count_free(s);
	store_pending_free(s);
	if (s->lockfd != -1)
		close(s->lockfd);
	if (s->env)
		mdb_env_close(s->env);
	pthread_mutex_destroy(&s->seq_lock);
	pthread_mutex_destroy(&s->rtx_lock);
	free(s);
}

const struct id_key *
store_key(const struct store *s)
{
	return &s->key;
}

MDB_env *
store_env(struct store *s)
{
	return s->env;
}

MDB_dbi
store_dbi(const struct store *s, enum db d)
{
	return s->dbi[d];
}

/* read transactions: a pool of reset handles, renewed for each lookup */
MDB_txn *
store_read_begin(struct store *s)
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

void
store_read_end(struct store *s, MDB_txn *txn)
{
	MDB_txn **v;

	if (txn == NULL)
		return;
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

/* store_read - one record of db by key, through the pool: 0, MDB_NOTFOUND or an error */
static int
store_read(struct store *s, MDB_txn *txn, enum db d, const char *key,
    size_t klen, MDB_val *v)
{
	MDB_val k;

	k.mv_data = (void *)key;
	k.mv_size = klen;
	return mdb_get(txn, s->dbi[d], &k, v);
}

int
store_get_link(struct store *s, uint64_t seq, struct buf *url,
    struct store_linkinfo *li)
{
	MDB_txn	*txn;
	MDB_val	 v;
	char	 key[DB_SEQ_LEN + 1];
	int	 rc, ret = -1;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	db_hex16(key, seq);
	rc = store_read(s, txn, DB_LINKS, key, DB_SEQ_LEN, &v);
	if (rc == MDB_NOTFOUND)
		ret = 1;
	else if (rc != 0)
		log_warnx("store op=get_link error=\"%s\"", mdb_strerror(rc));
	else if ((ret = store_record_link_parse(v.mv_data, v.mv_size, url,
	    li)) == -1)
		log_warnx("store op=get_link key=%s error=\"bad record\"", key);
	store_read_end(s, txn);
	return ret;
}

int
store_get_message(struct store *s, uint64_t seq, int64_t *sent_us)
{
	MDB_txn	*txn;
	MDB_val	 v;
	char	 key[DB_SEQ_LEN + 1];
	int	 rc;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	db_hex16(key, seq);
	rc = store_read(s, txn, DB_MESSAGES, key, DB_SEQ_LEN, &v);
	if (rc == 0 && sent_us)
		*sent_us = store_record_time(v.mv_data, v.mv_size);
	store_read_end(s, txn);
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
	MDB_txn		*txn;
	MDB_val		 v;
	struct counter	 rec;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	if (store_read(s, txn, DB_COUNTERS, DB_SCOPE_ALL, 1, &v) == 0)
		counter_parse(&rec, v.mv_data, v.mv_size);
	else
		rec.n = 0;
	c->messages = counter_get(&rec, "messages");
	c->links = counter_get(&rec, "links");
	c->opens = counter_get(&rec, "opens");
	c->clicks = counter_get(&rec, "clicks");
	store_read_end(s, txn);
	return 0;
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
