/*
 * store_scrub - retention of raw client data (store.h): old events lose
 * their address and user agent, keep everything else. Retention of whole
 * records is prune.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "log.h"
#include "store_impl.h"

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
	char		 bound[DB_SEQ_LEN + 1], last[32], *text;
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
	db_hex16(bound, (uint64_t)before_us);
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
			if (k.mv_size < DB_SEQ_LEN || k.mv_size > sizeof(last) ||
			    memcmp(k.mv_data, bound, DB_SEQ_LEN) >= 0) {
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
