/*
 * feed - one durable outbox of the store for the consumers that carry
 * records elsewhere (webhooks, a NATS stream).
 *
 * Database "feed": key = 16 hex digits, a sequence that only grows
 * (appended with MDB_APPEND), value = "m:" + message record key (16 hex)
 * or "e:" + event record key (20 hex). The record itself stays in
 * "messages" or "events".
 *
 * Writing: when the store is opened with STORE_FEED (the programs set it
 * when the configuration names a consumer), the store's writer appends an entry
 * in the same write transaction as the message or event record: after
 * any crash a record exists if and only if its entry does. Without it,
 * nothing is appended and nothing costs. The appends sit in
 * store_writer.c: apply_msg (a message record, in the nested transaction
 * of its milter job) and apply_event (an event record: every path that
 * writes one goes through it); writer_commit resets the sequence cache
 * at each batch and trims at each fold. The consumer flag comes from
 * store_flags_config (store.h), which names the configured consumers.
 *
 * Consuming: a consumer has a name ("nats", "wh:" + endpoint id) and a
 * cursor in "meta": "feed:" + NAME -> the last sequence it fully handled
 * (16 hex). It reads entries after its cursor (feed_read), handles them,
 * and moves the cursor (feed_cursor_set). After a restart it resumes
 * after its cursor: at-least-once; the record key is the stable id to
 * de-duplicate with (JetStream Msg-Id, webhook-id).
 *
 * Trimming: entries at or below the smallest cursor of the consumers
 * registered in the store are deleted by the writer, a bounded number per
 * commit. With no consumer registered nothing is trimmed. A consumer
 * removed from the configuration is unregistered by feed_sync and no
 * longer holds entries.
 *
 * Threads: every function may be called from any thread; the write
 * functions use their own write transaction (LMDB serialises writers).
 */
#ifndef MTRACK_FEED_H
#define MTRACK_FEED_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

struct store;

#define FEED_NAME_MAX	64	/* a consumer's name, bytes */
#define FEED_TRIM_MAX	4096	/* entries a commit trims at most */

/* one entry, as feed_read copies it out */
struct feed_entry {
	uint64_t	 seq;
	char		 kind;		/* 'm' (message) or 'e' (event) */
	char		 key[21];	/* record key: 16 (m) or 20 (e) hex digits */
	char		*rec;		/* the record (NUL-terminated), NULL when gone (pruned) */
	size_t		 reclen;
};

/* the writer's state: the next sequence, known within one transaction */
struct feed_writer {
	uint64_t	next;
	int		valid;
};

/*
 * feed_append - in the writer's transaction txn: append kind ('m', 'e')
 * + key (keylen bytes) under the next sequence. fw caches the sequence
 * within the transaction: call feed_writer_reset when a transaction (or
 * a nested one that appended) is aborted, and before each new one.
 * 0 or an LMDB error code.
 */
int	feed_append(struct feed_writer *fw, MDB_txn *txn, MDB_dbi feed,
	    char kind, const char *key, size_t keylen);
/* feed_writer_reset - forget the cached sequence */
void	feed_writer_reset(struct feed_writer *fw);
/*
 * feed_trim - in the writer's transaction: delete at most max entries at
 * or below the smallest registered cursor (none registered: none).
 * *n (when not NULL) receives how many. 0 or an LMDB error code.
 */
int	feed_trim(MDB_txn *txn, MDB_dbi feed, MDB_dbi meta, size_t max,
	    size_t *n);

/*
 * feed_read - copy out up to max entries after sequence after, with their
 * records, in one read transaction. *out is an array the caller frees
 * with feed_entries_free; *n entries (0: none yet). 0 or -1.
 */
int	feed_read(struct store *s, uint64_t after, size_t max,
	    struct feed_entry **out, size_t *n);
/* feed_entries_free - free what feed_read returned */
void	feed_entries_free(struct feed_entry *e, size_t n);
/* feed_last - the last sequence appended (0: none) into *seq; 0 or -1 */
int	feed_last(struct store *s, uint64_t *seq);

/* feed_cursor_get - a consumer's cursor: 0 (set *seq), 1 not registered, -1 error */
int	feed_cursor_get(struct store *s, const char *name, uint64_t *seq);
/* feed_cursor_set - move (or register) a consumer's cursor, durably; 0 or -1 */
int	feed_cursor_set(struct store *s, const char *name, uint64_t seq);
/* feed_cursor_put - the same inside the caller's write transaction; 0 or an LMDB error */
int	feed_cursor_put(MDB_txn *txn, MDB_dbi meta, const char *name,
	    uint64_t seq);
/* feed_cursor_del - unregister a consumer inside the caller's write transaction; 0 or an LMDB error */
int	feed_cursor_del(MDB_txn *txn, MDB_dbi meta, const char *name);
/*
 * feed_register - a consumer's cursor, created at the current end of the
 * feed when it has none (a new consumer starts with what comes next).
 * *seq receives the cursor. 0 or -1.
 */
int	feed_register(struct store *s, const char *name, uint64_t *seq);
/*
 * feed_sync - unregister every consumer whose name starts with prefix
 * ("wh:") and is not in names[0..n): a consumer removed from the
 * configuration stops holding entries. 0 or -1.
 */
int	feed_sync(struct store *s, const char *prefix, char *const *names,
	    size_t n);

#endif
