/*
 * stream - the NATS JetStream stream that carries every node's message
 * records and events to collectors and analytics pipelines (libnats).
 *
 * Subjects: PREFIX.msg.NODE (message records with their links) and
 * PREFIX.event.NODE (clicks and opens), PREFIX = stream_subject. Every
 * publish carries the record's key as its JetStream Msg-Id, so a resend
 * inside the stream's duplicate window (STREAM_DUP_WINDOW_S) is dropped
 * by the server; readers de-duplicate by the same key beyond it.
 *
 * A struct stream is one connection. It never waits for a server: it
 * connects and reconnects in the background, forever, to any server of
 * stream_url. Publishing is used by one thread (the publisher), consuming
 * by one thread (the collector); libnats runs its own threads.
 */
#ifndef MTRACK_STREAM_H
#define MTRACK_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct stream;

/* the server drops a resend with the same Msg-Id within this window */
#define STREAM_DUP_WINDOW_S	(2 * 3600)
/* a consumer's message not acknowledged within this is delivered again */
#define STREAM_ACK_WAIT_S	10

/*
 * stream_open - start connecting to the servers of c->stream_url (not
 * empty); name (e.g. "mtrack-milter") shows in the server's connection
 * list. NULL with the reason in err.
 */
struct stream	*stream_open(const struct config *c, const char *name,
		    char *err, size_t errlen);
/* stream_close - close the connection (pending publishes are dropped) */
void		 stream_close(struct stream *st);
/* stream_connected - 1 while connected to a server, else 0 */
int		 stream_connected(struct stream *st);
/*
 * stream_ensure - create the stream when it does not exist: file storage,
 * stream_replicas, subjects PREFIX.>, the duplicate window above, records
 * kept stream_retention_days. An existing stream is left as it is (an
 * operator may create it beforehand with other limits). 0, or -1 (logged).
 */
int		 stream_ensure(struct stream *st);

/* stream_subject - "PREFIX.KIND.NODE" into out (KIND: "msg", "event") */
void		 stream_subject(const struct stream *st, const char *kind,
		    unsigned node, char *out, size_t outlen);
/*
 * stream_publish - publish data asynchronously with Msg-Id msgid; may
 * wait a little when many publishes are unacknowledged. 0 or -1.
 */
int		 stream_publish(struct stream *st, const char *subject,
		    const char *data, size_t len, const char *msgid);
/*
 * stream_complete - wait up to ms for the acknowledgements of every
 * publish since the last call: 0 when the stream stored each (or knew it
 * already), -1 when one failed or the wait ran out.
 */
int		 stream_complete(struct stream *st, int ms);

/*
 * A batch of messages fetched by a durable pull consumer. The data of a
 * message lives until stream_batch_done.
 */
struct stream_batch {
	void	*list;		/* natsMsgList */
	int	 n;
};

/* stream_consume - bind the durable pull consumer named durable to the whole stream; 0 or -1 */
int		 stream_consume(struct stream *st, const char *durable);
/*
 * stream_fetch - up to max messages into b, waiting at most ms for the
 * first. The number fetched (0 when none came), or -1 on an error.
 */
int		 stream_fetch(struct stream *st, struct stream_batch *b, int max,
		    int ms);
/* stream_batch_data - message i's subject and data (len bytes) */
const char	*stream_batch_data(const struct stream_batch *b, int i,
		    size_t *len, const char **subject);
/*
 * stream_batch_done - acknowledge every message of b (ack = 1) or none
 * (ack = 0: the server sends them again), then free the batch
 */
void		 stream_batch_done(struct stream_batch *b, int ack);

/* counters for /metrics */
struct stream_stats {
	uint64_t	published;	/* acknowledged publishes */
	uint64_t	errors;		/* failed publishes or waits */
	uint64_t	reconnects;
};
void		 stream_stats(struct stream *st, struct stream_stats *out);

#endif
