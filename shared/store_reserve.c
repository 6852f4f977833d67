/*
 * store_reserve - ID reservation (store.h): each process takes sequence
 * numbers in blocks, one short write transaction per block, and hands
 * them out from memory. A block not used up is a gap: gaps are normal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "log.h"
#include "store_impl.h"

#define RESERVE_LINKS	4096
#define RESERVE_MSGS	256

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
	const char	*name = type == ID_LINK ? DB_META_LINK_SEQ : DB_META_MSG_SEQ;
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
	*first = store_node_seq(s->opts.node, b->next);
	b->next += n;
	pthread_mutex_unlock(&s->seq_lock);
	return 0;
fail:
	pthread_mutex_unlock(&s->seq_lock);
	log_warnx("store op=reserve error=\"%s\"", mdb_strerror(rc));
	errno = EIO;
	return -1;
}

