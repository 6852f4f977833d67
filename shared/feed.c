/*
 * feed - the store's durable outbox (see feed.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "db.h"
#include "feed.h"
#include "store.h"

#define FEED_PREFIX	"feed:"

/* feed_hex - a sequence as 16 hex digits (no NUL) */
static void
feed_hex(char out[16], uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
}

void
feed_writer_reset(struct feed_writer *fw)
{
	fw->valid = 0;
}

int
feed_append(struct feed_writer *fw, MDB_txn *txn, MDB_dbi feed, char kind,
    const char *key, size_t keylen)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	char		 kb[16], vb[2 + 32];
	uint64_t	 last = 0;
	int		 rc;

	if (keylen > 32)
		return EINVAL;
	/* the last key, once per transaction: other processes append too */
	if (!fw->valid) {
		if ((rc = mdb_cursor_open(txn, feed, &c)) != 0)
			return rc;
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		mdb_cursor_close(c);
		if (rc == 0 && db_hex16_get(k.mv_data, k.mv_size, &last) == -1)
			return MDB_CORRUPTED;
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		fw->next = last + 1;
		fw->valid = 1;
	}
	feed_hex(kb, fw->next);
	vb[0] = kind;
	vb[1] = ':';
	memcpy(vb + 2, key, keylen);
	k.mv_data = kb;
	k.mv_size = 16;
	v.mv_data = vb;
	v.mv_size = 2 + keylen;
	if ((rc = mdb_put(txn, feed, &k, &v, MDB_APPEND)) != 0)
		return rc;
	fw->next++;
	return 0;
}

/* feed_min_cursor - the smallest registered cursor: 0 found, MDB_NOTFOUND none */
static int
feed_min_cursor(MDB_txn *txn, MDB_dbi meta, uint64_t *min)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 seq;
	int		 rc, found = 0;

	if ((rc = mdb_cursor_open(txn, meta, &c)) != 0)
		return rc;
	k.mv_data = (void *)FEED_PREFIX;
	k.mv_size = sizeof(FEED_PREFIX) - 1;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof(FEED_PREFIX) - 1 || memcmp(k.mv_data,
		    FEED_PREFIX, sizeof(FEED_PREFIX) - 1) != 0)
			break;
		if (db_hex16_get(v.mv_data, v.mv_size, &seq) == -1)
			continue;
		if (!found || seq < *min)
			*min = seq;
		found = 1;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return found ? 0 : MDB_NOTFOUND;
}

int
feed_trim(MDB_txn *txn, MDB_dbi feed, MDB_dbi meta, size_t max, size_t *n)
{
	MDB_cursor	*c;
	MDB_val		 k, v;
	uint64_t	 min = 0, seq;
	size_t		 done = 0;
	int		 rc;

	if (n)
		*n = 0;
	if ((rc = feed_min_cursor(txn, meta, &min)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = mdb_cursor_open(txn, feed, &c)) != 0)
		return rc;
	/* after a delete the cursor stands on the next entry already */
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && done < max) {
		if (db_hex16_get(k.mv_data, k.mv_size, &seq) == 0 && seq > min)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		done++;
		rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(c);
	if (n)
		*n = done;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* feed_record - copy the record an entry names into e (NULL when gone) */
static int
feed_record(MDB_txn *txn, MDB_dbi msgs, MDB_dbi evs, struct feed_entry *e)
{
	MDB_val	k, v;
	int	rc;

	k.mv_data = e->key;
	k.mv_size = strlen(e->key);
	rc = mdb_get(txn, e->kind == 'm' ? msgs : evs, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return -1;
	if ((e->rec = malloc(v.mv_size + 1)) == NULL)
		return -1;
	memcpy(e->rec, v.mv_data, v.mv_size);
	e->rec[v.mv_size] = '\0';
	e->reclen = v.mv_size;
	return 0;
}

int
feed_read(struct store *s, uint64_t after, size_t max,
    struct feed_entry **out, size_t *n)
{
	MDB_txn			*txn;
	MDB_cursor		*c = NULL;
	MDB_val			 k, v;
	MDB_dbi			 feed, msgs, evs;
	struct feed_entry	*e = NULL;
	char			 kb[16];
	size_t			 cnt = 0;
	int			 rc, ret = -1;

	*out = NULL;
	*n = 0;
	feed = store_dbi(s, DB_FEED);
	msgs = store_dbi(s, DB_MESSAGES);
	evs = store_dbi(s, DB_EVENTS);
	if (max == 0)
		return 0;
	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	if ((e = calloc(max, sizeof(*e))) == NULL ||
	    mdb_cursor_open(txn, feed, &c) != 0)
		goto out;
	feed_hex(kb, after + 1);
	k.mv_data = kb;
	k.mv_size = 16;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	    rc == 0 && cnt < max; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct feed_entry *x = &e[cnt];

		if (db_hex16_get(k.mv_data, k.mv_size, &x->seq) == -1 ||
		    v.mv_size < 3 || v.mv_size - 2 >= sizeof(x->key) ||
		    ((const char *)v.mv_data)[1] != ':')
			continue;	/* not ours: skipped, never fatal */
		x->kind = ((const char *)v.mv_data)[0];
		memcpy(x->key, (const char *)v.mv_data + 2, v.mv_size - 2);
		x->key[v.mv_size - 2] = '\0';
		cnt++;
		if (feed_record(txn, msgs, evs, x) == -1)
			goto out;
	}
	if (rc != 0 && rc != MDB_NOTFOUND && cnt < max)
		goto out;
	*out = e;
	*n = cnt;
	e = NULL;
	ret = 0;
out:
	if (c)
		mdb_cursor_close(c);
	store_read_end(s, txn);
	feed_entries_free(e, cnt);
	return ret;
}

void
feed_entries_free(struct feed_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		free(e[i].rec);
	free(e);
}

int
feed_last(struct store *s, uint64_t *seq)
{
	MDB_txn		*txn;
	MDB_cursor	*c;
	MDB_val		 k, v;
	MDB_dbi		 feed;
	int		 rc;

	*seq = 0;
	feed = store_dbi(s, DB_FEED);
	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	if ((rc = mdb_cursor_open(txn, feed, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == 0 && db_hex16_get(k.mv_data, k.mv_size, seq) == -1)
			rc = MDB_CORRUPTED;
		mdb_cursor_close(c);
	}
	store_read_end(s, txn);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : -1;
}

/* feed_ckey - the meta key of a consumer's cursor into out; its length, 0 if too long */
static size_t
feed_ckey(const char *name, char out[sizeof(FEED_PREFIX) + FEED_NAME_MAX])
{
	size_t len = strlen(name);

	if (len == 0 || len > FEED_NAME_MAX)
		return 0;
	memcpy(out, FEED_PREFIX, sizeof(FEED_PREFIX) - 1);
	memcpy(out + sizeof(FEED_PREFIX) - 1, name, len);
	return sizeof(FEED_PREFIX) - 1 + len;
}

/* feed_cursor_txn - a cursor read in txn: 0, 1 none, -1 error */
static int
feed_cursor_txn(MDB_txn *txn, MDB_dbi meta, const char *name, uint64_t *seq)
{
	char	ck[sizeof(FEED_PREFIX) + FEED_NAME_MAX];
	MDB_val	k, v;
	int	rc;

	if ((k.mv_size = feed_ckey(name, ck)) == 0)
		return -1;
	k.mv_data = ck;
	rc = mdb_get(txn, meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 1;
	if (rc != 0 || db_hex16_get(v.mv_data, v.mv_size, seq) == -1)
		return -1;
	return 0;
}

int
feed_cursor_get(struct store *s, const char *name, uint64_t *seq)
{
	MDB_txn	*txn;
	MDB_dbi	 meta;
	int	 rc;

	meta = store_dbi(s, DB_META);
	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	rc = feed_cursor_txn(txn, meta, name, seq);
	store_read_end(s, txn);
	return rc;
}

int
feed_cursor_put(MDB_txn *txn, MDB_dbi meta, const char *name, uint64_t seq)
{
	char	ck[sizeof(FEED_PREFIX) + FEED_NAME_MAX], vb[16];
	MDB_val	k, v;

	if ((k.mv_size = feed_ckey(name, ck)) == 0)
		return EINVAL;
	k.mv_data = ck;
	feed_hex(vb, seq);
	v.mv_data = vb;
	v.mv_size = 16;
	return mdb_put(txn, meta, &k, &v, 0);
}

int
feed_cursor_del(MDB_txn *txn, MDB_dbi meta, const char *name)
{
	char	ck[sizeof(FEED_PREFIX) + FEED_NAME_MAX];
	MDB_val	k;
	int	rc;

	if ((k.mv_size = feed_ckey(name, ck)) == 0)
		return EINVAL;
	k.mv_data = ck;
	rc = mdb_del(txn, meta, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* feed_write - run fn in a write transaction of its own, committed; 0 or -1 */
static int
feed_write(struct store *s, int (*fn)(MDB_txn *, MDB_dbi, MDB_dbi, void *),
    void *arg)
{
	MDB_txn	*txn;
	MDB_dbi	 meta, feed;
	int	 rc;

	meta = store_dbi(s, DB_META);
	feed = store_dbi(s, DB_FEED);
	if ((rc = mdb_txn_begin(store_env(s), NULL, 0, &txn)) != 0)
		return -1;
	if ((rc = fn(txn, meta, feed, arg)) != 0) {
		mdb_txn_abort(txn);
		return -1;
	}
	return mdb_txn_commit(txn) == 0 ? 0 : -1;
}

struct feed_set {
	const char	*name;
	uint64_t	 seq;
	int		 only_new;	/* register: keep a cursor that exists */
};

static int
feed_set_fn(MDB_txn *txn, MDB_dbi meta, MDB_dbi feed, void *arg)
{
	struct feed_set	*fs = arg;
	MDB_cursor	*c;
	MDB_val		 k, v;
	int		 rc;

	if (fs->only_new) {
		if ((rc = feed_cursor_txn(txn, meta, fs->name, &fs->seq)) == 0)
			return 0;
		if (rc == -1)
			return EINVAL;
		/* the current end, read in this write transaction */
		fs->seq = 0;
		if ((rc = mdb_cursor_open(txn, feed, &c)) != 0)
			return rc;
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		mdb_cursor_close(c);
		if (rc == 0 && db_hex16_get(k.mv_data, k.mv_size, &fs->seq) == -1)
			return MDB_CORRUPTED;
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	return feed_cursor_put(txn, meta, fs->name, fs->seq);
}

int
feed_cursor_set(struct store *s, const char *name, uint64_t seq)
{
	struct feed_set fs = { name, seq, 0 };

	return feed_write(s, feed_set_fn, &fs);
}

int
feed_register(struct store *s, const char *name, uint64_t *seq)
{
	struct feed_set fs = { name, 0, 1 };

	if (feed_write(s, feed_set_fn, &fs) == -1)
		return -1;
	*seq = fs.seq;
	return 0;
}

struct feed_syncarg {
	const char	*prefix;
	char *const	*names;
	size_t		 n;
};

static int
feed_sync_fn(MDB_txn *txn, MDB_dbi meta, MDB_dbi feed, void *arg)
{
	struct feed_syncarg	*sa = arg;
	MDB_cursor		*c;
	MDB_val			 k, v;
	char			 ck[sizeof(FEED_PREFIX) + FEED_NAME_MAX];
	size_t			 plen, i, nlen;
	int			 rc, keep;

	(void)feed;
	if ((plen = feed_ckey(sa->prefix, ck)) == 0)
		return EINVAL;
	if ((rc = mdb_cursor_open(txn, meta, &c)) != 0)
		return rc;
	k.mv_data = ck;
	k.mv_size = plen;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, ck, plen) != 0)
			break;
		nlen = k.mv_size - (sizeof(FEED_PREFIX) - 1);
		for (i = 0, keep = 0; i < sa->n && !keep; i++)
			keep = strlen(sa->names[i]) == nlen &&
			    memcmp(sa->names[i], (const char *)k.mv_data +
			    sizeof(FEED_PREFIX) - 1, nlen) == 0;
		if (keep)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		else if ((rc = mdb_cursor_del(c, 0)) == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
feed_sync(struct store *s, const char *prefix, char *const *names, size_t n)
{
	struct feed_syncarg sa = { prefix, names, n };

	return feed_write(s, feed_sync_fn, &sa);
}
