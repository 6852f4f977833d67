/*
 * publish - the feed to the NATS stream, in a thread (see publish.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "feed.h"
#include "log.h"
#include "publish.h"
#include "record.h"
#include "store.h"
#include "stream.h"

#define BATCH		1024	/* entries per round of publishes */
#define ACK_WAIT_MS	10000	/* for the acks of one round */
#define IDLE_MS		100	/* between looks at an empty feed */
#define RETRY_MAX_MS	5000	/* longest pause after failures */

struct publish {
	struct store		*s;
	struct stream		*st;
	unsigned		 node;
	char			 kind;		/* enum publish_kind */
	char			 consumer[32];	/* its feed cursor's name */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* stop */
	int			 stop;
	atomic_uint_fast64_t	 cursor;	/* the last entry acknowledged */
	atomic_uint_fast64_t	 errors;
};

/* publish_pause - ms milliseconds, or until stopped; 1 when stopped */
static int
publish_pause(struct publish *p, int ms)
{
	struct timespec	ts;
	int		stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock,
	    &ts) == 0)
		;
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

/*
 * publish_round - publish entries e[0..n) and wait for their acks; 0 when
 * every one is in the stream. An entry whose record is gone (pruned)
 * has nothing to send.
 */
static int
publish_round(struct publish *p, struct record_cache *rc,
    const struct feed_entry *e, size_t n)
{
	struct buf	 b = BUF_INIT;
	char		 subject[96], msgid[24];
	size_t		 i;
	int		 r = 0;

	for (i = 0; i < n && r == 0; i++) {
		if (e[i].kind != p->kind)	/* the other program's */
			continue;
		buf_reset(&b);
		if (e[i].kind == 'm') {
			if ((r = record_message(p->s, e[i].key, &b)) == 1) {
				r = 0;
				continue;
			}
		} else if (e[i].rec == NULL)
			continue;
		else
			r = record_event(p->s, rc, e[i].key, strlen(e[i].key),
			    e[i].rec, e[i].reclen, &b);
		if (r != 0)
			break;
		stream_subject(p->st, e[i].kind == 'm' ? "msg" : "event",
		    p->node, subject, sizeof(subject));
		snprintf(msgid, sizeof(msgid), "%c:%s", e[i].kind, e[i].key);
		r = stream_publish(p->st, subject, b.data, b.len, msgid);
	}
	buf_free(&b);
	if (stream_complete(p->st, ACK_WAIT_MS) != 0)
		r = -1;
	return r;
}

static void *
publish_main(void *arg)
{
	struct publish		*p = arg;
	struct record_cache	 rc;
	struct feed_entry	*e;
	size_t			 n;
	int			 ready = 0, pause = 0;
	uint64_t		 cursor = atomic_load(&p->cursor);

	memset(&rc, 0, sizeof(rc));
	while (!publish_pause(p, pause)) {
		pause = IDLE_MS;
		/* NATS away: the entries wait in the store */
		if (!stream_connected(p->st)) {
			ready = 0;
			pause = 500;
			continue;
		}
		if (!ready && stream_ensure(p->st) != 0) {
			pause = 1000;
			continue;
		}
		ready = 1;
		if (feed_read(p->s, cursor, BATCH, &e, &n) == -1) {
			pause = 1000;
			continue;
		}
		if (n == 0)
			continue;
		if (publish_round(p, &rc, e, n) == 0 &&
		    feed_cursor_set(p->s, p->consumer, e[n - 1].seq) == 0) {
			cursor = e[n - 1].seq;
			atomic_store(&p->cursor, cursor);
			pause = 0;
		} else {
			/* the whole round again, after a pause that grows */
			uint64_t k = atomic_fetch_add(&p->errors, 1) + 1;

			log_warnx("publish entries=%zu error=\"not acknowledged\""
			    " errors=%" PRIu64, n, k);
			pause = pause < RETRY_MAX_MS / 2 ? 1000 : RETRY_MAX_MS;
		}
		feed_entries_free(e, n);
	}
	record_cache_free(&rc);
	return NULL;
}

int
publish_wanted(const struct config *c)
{
	return c->stream_url != NULL && c->stream_url[0] != NULL;
}

struct publish *
publish_start(const struct config *c, struct store *s, enum publish_kind kind,
    const char *name, char *err, size_t errlen)
{
	struct publish		*p;
	pthread_condattr_t	 ca;
	uint64_t		 cursor;
	int			 rc;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->s = s;
	p->node = (unsigned)c->node;
	p->kind = (char)kind;
	snprintf(p->consumer, sizeof(p->consumer), "nats:%s",
	    kind == PUBLISH_MESSAGES ? "msg" : "event");
	if (feed_register(s, p->consumer, &cursor) == -1) {
		snprintf(err, errlen, "feed: cannot register the consumer");
		free(p);
		return NULL;
	}
	atomic_store(&p->cursor, cursor);
	if ((p->st = stream_open(c, name, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&p->thread, NULL, publish_main, p)) != 0) {
		snprintf(err, errlen, "publisher thread: %s", strerror(rc));
		stream_close(p->st);
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

void
publish_stop(struct publish *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	stream_close(p->st);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void
publish_stats(struct publish *p, struct publish_stats *out)
{
	struct stream_stats	ss;
	uint64_t		last = 0, cursor = atomic_load(&p->cursor);

	memset(out, 0, sizeof(*out));
	if (feed_last(p->s, &last) == 0 && last > cursor)
		out->backlog = last - cursor;
	stream_stats(p->st, &ss);
	out->published = ss.published;
	out->errors = atomic_load(&p->errors);
	out->connected = stream_connected(p->st);
}
