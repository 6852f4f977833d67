/*
 * publish - the thread that carries a store's feed to the NATS stream.
 *
 * The milter's messages (with their links) and the tracker's events are
 * written to the store first, each with its feed entry in the same
 * transaction (feed.h). This thread reads the entries after its cursor
 * ("feed:nats" in meta), publishes them asynchronously with their record
 * key as the Msg-Id, and moves the cursor only once the stream has
 * acknowledged all of them. Mail and clicks never wait for it: while
 * NATS is away the entries wait in the store, and go out when it returns.
 * A batch that failed is sent again whole (the stream drops the copies
 * within its duplicate window, a collector by key beyond it).
 */
#ifndef MTRACK_PUBLISH_H
#define MTRACK_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;
struct publish;

/*
 * The milter publishes the messages of its store's feed, the tracker the
 * events: a milter and a tracker on one host share a store and its feed,
 * each with its own cursor ("feed:nats:msg", "feed:nats:event").
 */
enum publish_kind { PUBLISH_MESSAGES = 'm', PUBLISH_EVENTS = 'e' };

/* publish_wanted - 1 when c names NATS servers (stream_url): start (the store has STORE_FEED, store_flags_config) */
int		 publish_wanted(const struct config *c);
/*
 * publish_start - start the thread that publishes the records of one kind
 * from the feed of store s (opened with STORE_FEED) to the stream of c;
 * name shows in the server's connection list. NULL with the reason in err.
 */
struct publish	*publish_start(const struct config *c, struct store *s,
		    enum publish_kind kind, const char *name, char *err,
		    size_t errlen);
/* publish_stop - stop the thread (what is not acknowledged stays in the feed) */
void		 publish_stop(struct publish *p);

struct publish_stats {
	uint64_t	backlog;	/* feed entries after the cursor */
	uint64_t	published;	/* records the stream acknowledged */
	uint64_t	errors;		/* batches that failed (sent again) */
	int		connected;	/* to a NATS server now */
};
/* publish_stats - what /metrics shows (backlog read from the store) */
void		 publish_stats(struct publish *p, struct publish_stats *out);

#endif
