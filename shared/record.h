/*
 * record - a message or an event as it travels between hosts: JSON built
 * from the records of a node's store (the publisher, mtrackctl export)
 * and read back into the store's structures (the collector, parked events).
 *
 * A message: its "messages" record with "key" (its 16 hex digits) and
 * "link_records" (each "links" record of the message with its "key", in
 * position order, the honeypot link included) added.
 * An event: its "events" record with "key" added, and "message_id" and
 * "campaign" when the store holds its message (the shape of export).
 */
#ifndef MTRACK_RECORD_H
#define MTRACK_RECORD_H

#include <stddef.h>

#include "buf.h"
#include "store.h"

/*
 * record_message - the JSON of message key (16 hex digits) read from s,
 * appended to out. 0, 1 when the store has no such message, -1 on error.
 */
int	record_message(struct store *s, const char *key, struct buf *out);
/* the last message record_event read (events come in runs of one message) */
struct record_cache {
	char		last[17];
	struct buf	tail;	/* its ',"message_id":..,"campaign":..', or empty */
};
/*
 * record_event - the JSON of an event (its key and its stored record,
 * val/vlen, as the store wrote it) with its message's Message-ID and
 * campaign when the store holds the message, appended to out; rc (zeroed
 * before the first call) keeps the last message read, and is freed by
 * record_cache_free. 0, or -1 when val is no record or memory is short.
 */
int	record_event(struct store *s, struct record_cache *rc,
	    const char *key, size_t klen, const char *val, size_t vlen,
	    struct buf *out);
void	record_cache_free(struct record_cache *rc);

/* a message read back: m points into the record, valid until record_free */
struct record_msg {
	struct store_msg	 m;
	struct store_link	*links;
	const char		**rcpt;
	void			*json;
};
/* an event read back: e (and e.key) valid until record_free */
struct record_ev {
	struct store_event	 e;
	void			*json;
};

/* record_msg_parse - a message's JSON into *r; 0, or -1 when malformed */
int	record_msg_parse(const char *text, size_t len, struct record_msg *r);
/* record_ev_parse - an event's JSON (or a stored event record) into *r; 0 or -1 */
int	record_ev_parse(const char *text, size_t len, struct record_ev *r);
/* record_msg_free, record_ev_free - release what a parse holds */
void	record_msg_free(struct record_msg *r);
void	record_ev_free(struct record_ev *r);

#endif
