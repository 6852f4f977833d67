/*
 * query - read-only walks over the store for mtrackctl: counters by
 * prefix, message and link records, events by time or by message.
 *
 * Each call runs in one read transaction; the bytes a callback gets live
 * until it returns. A callback returns 0 to go on; any other value stops
 * the walk and is returned. Functions return 0, or -1 on a store error.
 */
#ifndef MTRACK_QUERY_H
#define MTRACK_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

typedef int (*query_kv_fn)(void *arg, const char *key, size_t klen,
    const char *val, size_t vlen);

/* query_counters - every counter record whose scope starts with prefix */
int	query_counters(struct store *s, const char *prefix, query_kv_fn fn,
	    void *arg);
/* query_messages - every message record, in sequence order */
int	query_messages(struct store *s, query_kv_fn fn, void *arg);
/* query_get - one record of a database (DB_MESSAGES, ...) by key, appended to val; 0, 1 absent, -1 */
int	query_get(struct store *s, enum db db, const char *key,
	    struct buf *val);
/* query_events - events with from_us <= time < to_us (key order), of one message when msg != 0 */
int	query_events(struct store *s, int64_t from_us, int64_t to_us,
	    uint64_t msg, query_kv_fn fn, void *arg);

#endif
