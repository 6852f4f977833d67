/*
 * store_pending - what the writer has not folded into the store yet, and
 * the "pending" records that keep it across a crash (store_impl.h).
 *
 * The index of a message's events and the link counters ("l:" scopes) are
 * folded into the store at most every FOLD_US under load (at once when the
 * writer runs out of work): their entries land at random places, and a
 * commit's cost is the pages it touches. Until then each commit appends
 * one "pending" record with its index entries and link changes (cheap), so
 * a crash loses none: the next start of the tracker applies what is there.
 * Only one process may write events to a store (STORE_EVENTS takes a lock).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "log.h"
#include "now.h"
#include "store_impl.h"

#define FOLD_US		(2 * 1000000LL)
#define INDEX_FOLD_MAX	262144	/* index entries held before a fold */
#define LDELTA_MAX	262144	/* link scopes held before a fold */

/* store_pending_index - an index entry to write at the next fold */
int
store_pending_index(struct store *s, const char msg16[DB_SEQ_LEN],
    const char evkey[DB_EVKEY_LEN])
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
	return memcmp(a, b, DB_IKEY_LEN);
}

/*
 * store_pending_fold_index - in key order; the caller forgets them once
 * txn is committed
 */
int
store_pending_fold_index(struct store *s, MDB_txn *txn)
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
		k.mv_size = DB_IKEY_LEN;
		rc = mdb_cursor_put(cur, &k, &v, 0);
	}
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
				if (index && nl - p == 2 + DB_IKEY_LEN &&
				    store_pending_index(s, p + 2, p + 18) != 0)
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
	if (rc == MDB_NOTFOUND && (rc = store_count_flush(s, txn, d, L_ALL)) == 0 &&
	    (!index || (rc = store_pending_fold_index(s, txn)) == 0))
		rc = mdb_drop(txn, s->dbi[DB_PENDING], 0);
	delta_free(d);
	return rc;
}

/* pending_recover - at start: apply what a crash left pending */
static int
pending_recover(struct store *s)
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

/* store_pending_links - the link changes not folded yet, into txn's counters */
int
store_pending_links(struct store *s, MDB_txn *txn)
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
		rc = store_count_flush(s, txn, s->ldelta, L_ALL);
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
		    buf_put_i64(b, r->f[i].v) || buf_putc(b, '\n'))
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
 * store_pending_flush - write each scope the batch touched. Link scopes: with
 * a fold, those not folded yet and the batch's; without, the batch's go
 * to one "pending" record.
 */
int
store_pending_flush(struct store *s, MDB_txn *txn, int fold)
{
	struct buf	b = BUF_INIT;
	MDB_val		k, v;
	unsigned char	seq[8];
	size_t		j;
	int		rc, i;

	if (!s->events)
		return store_count_flush(s, txn, s->delta, L_ALL);
	if (fold) {
		if ((rc = store_pending_links(s, txn)) != 0 ||
		    (rc = store_count_flush(s, txn, s->delta, L_ALL)) != 0)
			return rc;
		return s->wal_seq > 1 ? mdb_drop(txn, s->dbi[DB_PENDING], 0) : 0;
	}
	if ((rc = store_count_flush(s, txn, s->delta, L_SKIP)) != 0)
		return rc;
	/* the batch's index entries ("i:KEY"), then its link changes */
	for (j = s->pidx_base; j < s->npidx; j++)
		if (buf_puts(&b, "i:") || buf_append(&b, s->pidx[j], DB_IKEY_LEN) ||
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


int
store_pending_init(struct store *s)
{
	return (s->ldelta = delta_new()) == NULL ? -1 : 0;
}

void
store_pending_free(struct store *s)
{
	delta_free(s->ldelta);
	free(s->pidx);
}

void
store_pending_start(struct store *s)
{
	int rc;

	if (s->events && (rc = pending_recover(s)) != 0)
		log_warnx("store op=pending_recover error=\"%s\"", mdb_strerror(rc));
	s->wal_seq = 1;
	s->fold_us = now_mono_us();
}

void
store_pending_begin(struct store *s)
{
	s->pidx_base = s->npidx;
	s->fold_now = 0;
}

int
store_pending_fold_due(const struct store *s, int idle, int64_t t0)
{
	return idle || s->fold_now || s->npidx >= INDEX_FOLD_MAX ||
	    delta_size(s->ldelta) >= LDELTA_MAX || t0 - s->fold_us >= FOLD_US;
}

void
store_pending_end(struct store *s, int rc, int fold)
{
	if (rc == 0 && fold) {
		s->npidx = 0;
		s->fold_us = now_mono_us();
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
	if (rc != 0)
		s->npidx = s->pidx_base;
}

void
store_pending_drain(struct store *s)
{
	MDB_txn	*txn;
	int	 rc;

	/* what is still pending (the last batch folds it, as a rule) */
	if (s->npidx == 0 && s->wal_seq <= 1)
		return;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) == 0) {
		if ((rc = store_pending_fold_index(s, txn)) == 0 &&
		    (rc = store_pending_links(s, txn)) == 0)
			rc = mdb_drop(txn, s->dbi[DB_PENDING], 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (rc != 0)
		log_warnx("store op=index_fold error=\"%s\"", mdb_strerror(rc));
	s->npidx = 0;
}
