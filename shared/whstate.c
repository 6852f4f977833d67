/*
 * whstate - webhook delivery state in the store (see whstate.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "whstate.h"

/* key builders: "q:EP:EVKEY", "f:EP:EVKEY", "s:EP" */
#define WHSTATE_KEY_MAX	(2 + WH_ID_LEN + 1 + WHSTATE_EVKEY + 1)

static size_t
whstate_key(char out[WHSTATE_KEY_MAX], char kind, const char *ep,
    const char *evkey)
{
	int n;

	if (evkey)
		n = snprintf(out, WHSTATE_KEY_MAX, "%c:%.16s:%.20s", kind, ep,
		    evkey);
	else
		n = snprintf(out, WHSTATE_KEY_MAX, "%c:%.16s", kind, ep);
	return (size_t)n;
}

static int
whstate_put(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	return mdb_put(txn, dbi, &k, &v, 0);
}

int
whstate_ep_get(MDB_txn *txn, MDB_dbi dbi, const char *ep,
    struct whstate_ep *st)
{
	char		 key[WHSTATE_KEY_MAX], text[256];
	MDB_val		 k, v;
	int		 rc, n = 0;
	unsigned long long d, r, f, e;
	int		 dis;

	memset(st, 0, sizeof(*st));
	k.mv_size = whstate_key(key, 's', ep, NULL);
	k.mv_data = key;
	if ((rc = mdb_get(txn, dbi, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size >= sizeof(text))
		v.mv_size = sizeof(text) - 1;
	memcpy(text, v.mv_data, v.mv_size);
	text[v.mv_size] = '\0';
	if (sscanf(text, "%llu %llu %llu %d %llu %n", &d, &r, &f, &dis, &e,
	    &n) < 5)
		return 0;	/* damaged: start again from zeros */
	st->delivered = d;
	st->retried = r;
	st->failed = f;
	st->disabled = dis;
	st->error_us = (int64_t)e;
	if (n > 0)
		snprintf(st->last_error, sizeof(st->last_error), "%s", text + n);
	return 0;
}

int
whstate_ep_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
    const struct whstate_ep *st)
{
	char	key[WHSTATE_KEY_MAX], val[256];
	int	n;

	n = snprintf(val, sizeof(val), "%" PRIu64 " %" PRIu64 " %" PRIu64
	    " %d %" PRId64 " %s", st->delivered, st->retried, st->failed,
	    st->disabled, st->error_us, st->last_error);
	if (n < 0 || (size_t)n >= sizeof(val))
		n = (int)sizeof(val) - 1;
	return whstate_put(txn, dbi, key, whstate_key(key, 's', ep, NULL), val,
	    (size_t)n);
}

int
whstate_q_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
    const struct whstate_q *q)
{
	char	key[WHSTATE_KEY_MAX], val[96];
	int	n;

	n = snprintf(val, sizeof(val), "%" PRId64 " %u %" PRId64, q->next_us,
	    q->attempts, q->first_us);
	return whstate_put(txn, dbi, key, whstate_key(key, 'q', ep, q->evkey),
	    val, (size_t)n);
}

int
whstate_q_del(MDB_txn *txn, MDB_dbi dbi, const char *ep, const char *evkey)
{
	char	key[WHSTATE_KEY_MAX];
	MDB_val	k;
	int	rc;

	k.mv_size = whstate_key(key, 'q', ep, evkey);
	k.mv_data = key;
	rc = mdb_del(txn, dbi, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
whstate_fail_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
    const char *evkey, int64_t when_us, unsigned attempts, const char *error)
{
	char	key[WHSTATE_KEY_MAX], val[160];
	int	n;

	n = snprintf(val, sizeof(val), "%" PRId64 " %u %.96s", when_us,
	    attempts, error ? error : "-");
	return whstate_put(txn, dbi, key, whstate_key(key, 'f', ep, evkey),
	    val, (size_t)n);
}

/* whstate_q_parse - a queue record (key and value) into q; 0 or -1 */
static int
whstate_q_parse(const MDB_val *k, const MDB_val *v, size_t plen,
    struct whstate_q *q)
{
	char		 text[96];
	long long	 next, first;

	if (k->mv_size != plen + WHSTATE_EVKEY || v->mv_size >= sizeof(text))
		return -1;
	memcpy(q->evkey, (const char *)k->mv_data + plen, WHSTATE_EVKEY);
	q->evkey[WHSTATE_EVKEY] = '\0';
	memcpy(text, v->mv_data, v->mv_size);
	text[v->mv_size] = '\0';
	if (sscanf(text, "%lld %u %lld", &next, &q->attempts, &first) != 3)
		return -1;
	q->next_us = next;
	q->first_us = first;
	return 0;
}

int
whstate_q_scan(MDB_txn *txn, MDB_dbi dbi, const char *ep, const char *after,
    size_t max, int (*fn)(void *, const struct whstate_q *), void *arg)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct whstate_q	 q;
	char			 key[WHSTATE_KEY_MAX], prefix[WHSTATE_KEY_MAX];
	size_t			 plen, seen = 0;
	int			 rc;

	plen = whstate_key(prefix, 'q', ep, "");
	k.mv_size = whstate_key(key, 'q', ep, after);
	k.mv_data = key;
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	/* "after" itself is not wanted */
	if (rc == 0 && *after && k.mv_size == plen + WHSTATE_EVKEY &&
	    memcmp((const char *)k.mv_data + plen, after, WHSTATE_EVKEY) == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	for (; rc == 0 && seen < max; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		seen++;
		if (whstate_q_parse(&k, &v, plen, &q) == 0 && fn(arg, &q))
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* whstate_range - entries under a prefix: how many, and the oldest FIRST_US of queue records */
static int
whstate_range(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
    uint64_t *n, int64_t *oldest)
{
	MDB_cursor		*c;
	MDB_val			 k, v;
	struct whstate_q	 q;
	int			 rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	k.mv_size = plen;
	k.mv_data = (void *)prefix;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		(*n)++;
		if (oldest && whstate_q_parse(&k, &v, plen, &q) == 0 &&
		    (*oldest == 0 || q.first_us < *oldest))
			*oldest = q.first_us;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
whstate_count(MDB_txn *txn, MDB_dbi dbi, const char *ep, uint64_t *queued,
    uint64_t *failed, int64_t *oldest_us)
{
	char	prefix[WHSTATE_KEY_MAX];
	size_t	plen;
	int	rc;

	*oldest_us = 0;
	plen = whstate_key(prefix, 'q', ep, "");
	if ((rc = whstate_range(txn, dbi, prefix, plen, queued,
	    oldest_us)) != 0)
		return rc;
	plen = whstate_key(prefix, 'f', ep, "");
	return whstate_range(txn, dbi, prefix, plen, failed, NULL);
}
