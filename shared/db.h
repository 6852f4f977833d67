/*
 * db - the names of the store's LMDB databases and the shape of their keys,
 * in one place (the layout of each record: store.h).
 *
 * Keys are ASCII so that mdb_dump -p shows them: a sequence or a time is
 * 16 lower-case hex digits, which sort as numbers. The builders below
 * write into the caller's array and never fail; the functions that take
 * a size return -1 when the key does not fit.
 */
#ifndef MTRACK_DB_H
#define MTRACK_DB_H

#include <stddef.h>
#include <stdint.h>

enum db {
	DB_META,	/* "id_key", "link_seq", "msg_seq", "schema", "node", "journal_pos" */
	DB_MESSAGES,	/* message seq -> message record */
	DB_MSGIDS,	/* Message-ID -> message seq */
	DB_LINKS,	/* link seq -> link record */
	DB_EVENTS,	/* event key -> event record */
	DB_COUNTERS,	/* scope -> counter record */
	DB_DOMAINS,	/* tracking or sending domain -> domain record */
	DB_UNIQ,	/* who was counted as unique -> "1" */
	DB_MSGEVENTS,	/* message seq + event key -> "" (an index) */
	DB_PENDING,	/* the writer's changes not folded yet */
	DB_FEED,	/* sequence -> "m:" or "e:" + record key (feed.h) */
	DB_WEBHOOKS,	/* webhook delivery state (whstate.h) */
	DB_PARKED,	/* a collector's: message seq + event key -> event record */
	DB_COUNT
};

/* the keys of DB_META */
#define DB_META_ID_KEY	"id_key"	/* 32 hex digits: the secret of the public IDs */
#define DB_META_LINK_SEQ "link_seq"	/* the last link seq reserved, decimal */
#define DB_META_MSG_SEQ	"msg_seq"	/* the last message seq reserved, decimal */
#define DB_META_SCHEMA	"schema"	/* "1" */
#define DB_META_NODE	"node"		/* the store's node, decimal; "*": every node's (store_node.h) */
#define DB_META_JOURNAL_POS "journal_pos" /* 16 hex digits: the event journal folded up to here */

/* db_name - the LMDB name of a database ("messages", ...) */
const char	*db_name(enum db d);

#define DB_SEQ_LEN	16	/* a sequence or a time in microseconds */
#define DB_EVKEY_LEN	20	/* an event: time (16) + order in its microsecond (4) */
#define DB_IKEY_LEN	36	/* msgevents: message seq (16) + event key (20) */
#define DB_SCOPE_SEQ_LEN 18	/* "m:" or "l:" + a sequence */
#define DB_MSGID_MAX	500	/* Message-ID keys are cut here (LMDB: 511) */

/* the counters scopes: everything, then by prefix (message and link: db_scope_seq) */
#define DB_SCOPE_ALL		"*"
#define DB_SCOPE_CAMPAIGN	"c:"	/* + campaign */
#define DB_SCOPE_DOMAIN		"d:"	/* + sending domain */
#define DB_SCOPE_DAY		"t:"	/* + YYYY-MM-DD (UTC) */

/* db_hex16 - v as DB_SEQ_LEN hex digits and a NUL */
static inline void
db_hex16(char out[DB_SEQ_LEN + 1], uint64_t v)
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = DB_SEQ_LEN - 1; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
	out[DB_SEQ_LEN] = '\0';
}

/* db_hex16_parse - the value of a key's first DB_SEQ_LEN hex digits */
uint64_t	 db_hex16_parse(const char *key);
/* db_hex16_get - p (len bytes) is exactly DB_SEQ_LEN lower-case hex digits: their value into *v; 0 or -1 */
int		 db_hex16_get(const void *p, size_t len, uint64_t *v);

/* db_scope_seq - the counters scope of a message ('m') or a link ('l') */
static inline void
db_scope_seq(char out[DB_SCOPE_SEQ_LEN + 1], char kind, uint64_t seq)
{
	out[0] = kind;
	out[1] = ':';
	db_hex16(out + 2, seq);
}

/* db_event_key - an event's key: its time, then its order within it */
static inline void
db_event_key(char out[DB_EVKEY_LEN + 1], int64_t time_us, uint16_t order)
{
	char	o[DB_SEQ_LEN + 1];

	db_hex16(out, (uint64_t)time_us);
	db_hex16(o, (uint64_t)order << 48);
	out[16] = o[0];
	out[17] = o[1];
	out[18] = o[2];
	out[19] = o[3];
	out[DB_EVKEY_LEN] = '\0';
}

/* db_ikey_from - the first possible msgevents key of msg at or after from_us */
void	 db_ikey_from(char out[DB_IKEY_LEN + 1], uint64_t msg, int64_t from_us);

/*
 * db_uniq_key - a "uniq" key: kind 'o' (opens), 'c' (clicks of a message)
 * or 'l' (clicks of a link), the message or link seq (16 hex), who (a
 * source), ":h" for people; who NULL gives the prefix of every key of the
 * seq ("o:SEQ:"). 0, or -1 when it does not fit.
 */
int	 db_uniq_key(char *out, size_t outlen, char kind, const char *seq16,
	    const char *who, int human);

#endif
