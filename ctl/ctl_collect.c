/*
 * ctl_collect - "mtrackctl collect": read every node's messages and events
 * from the NATS JetStream stream (a durable pull consumer) into this
 * store, until SIGTERM. stats, show and export on this store then give
 * the totals of all nodes.
 *
 * A batch is acknowledged only after the commit that applies it: a
 * collector killed in between reads it again, and the store counts each
 * record once by its key (store_collect). Records that cannot be read
 * are logged and acknowledged, so that one bad record never stops the rest.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "log.h"
#include "record.h"
#include "stream.h"

#define FETCH_MAX	512	/* records per fetch and per commit */
#define FETCH_MS	1000

static volatile sig_atomic_t collect_stop;

static void
collect_on_signal(int sig)
{
	(void)sig;
	collect_stop = 1;
}

/* collect_pause - ms milliseconds, cut short by a signal */
static void
collect_pause(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* one fetched batch read into records */
struct cbatch {
	struct store_rec	 recs[FETCH_MAX];
	struct record_msg	 msgs[FETCH_MAX];
	struct record_ev	 evs[FETCH_MAX];
	size_t			 n;
	unsigned long		 bad;
};

/* cbatch_read - the records of b; the ones not understood are left out */
static void
cbatch_read(struct cbatch *cb, const struct stream_batch *b)
{
	const char	*data, *subject, *kind;
	size_t		 len;
	int		 i;

	cb->n = 0;
	cb->bad = 0;
	for (i = 0; i < b->n && cb->n < FETCH_MAX; i++) {
		struct store_rec *r = &cb->recs[cb->n];

		data = stream_batch_data(b, i, &len, &subject);
		memset(r, 0, sizeof(*r));
		/* PREFIX.KIND.NODE: the kind is the second token from the end */
		kind = subject ? strrchr(subject, '.') : NULL;
		while (kind && kind > subject && kind[-1] != '.')
			kind--;
		if (kind && strncmp(kind, "msg.", 4) == 0 &&
		    record_msg_parse(data, len, &cb->msgs[cb->n]) == 0)
			r->msg = &cb->msgs[cb->n].m;
		else if (kind && strncmp(kind, "event.", 6) == 0 &&
		    record_ev_parse(data, len, &cb->evs[cb->n]) == 0 &&
		    cb->evs[cb->n].e.key != NULL)
			r->ev = &cb->evs[cb->n].e;
		else {
			char q[80];

			record_ev_free(&cb->evs[cb->n]);
			cb->bad++;
			log_warnx("collect record=bad subject=%s",
			    log_str(q, sizeof(q), subject ? subject : "-"));
			continue;
		}
		cb->n++;
	}
}

static void
cbatch_free(struct cbatch *cb)
{
	size_t i;

	for (i = 0; i < cb->n; i++) {
		if (cb->recs[i].msg)
			record_msg_free(&cb->msgs[i]);
		else
			record_ev_free(&cb->evs[i]);
	}
	cb->n = 0;
}

int
ctl_collect(struct ctl *c, int argc, char **argv)
{
	struct sigaction	 sa;
	struct store_opts	 so;
	struct stream		*st = NULL;
	struct store		*s = NULL;
	struct stream_batch	 b;
	struct cbatch		*cb = NULL;
	unsigned long		 applied = 0, dups = 0, parked = 0;
	char			 err[512];
	int			 ready = 0, rc = 1, n;
	size_t			 i;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: mtrackctl collect\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = collect_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((cb = calloc(1, sizeof(*cb))) == NULL) {
		fprintf(stderr, "mtrackctl: out of memory\n");
		return 1;
	}
	/*
	 * The only writer of events to this store, as a tracker is to its
	 * own; records of every node; no feed (the nodes published them).
	 */
	store_opts_config(&so, &c->cfg);
	if ((s = store_open(c->cfg.db_path, &so, STORE_EVENTS | STORE_ANYNODE,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "mtrackctl: store %s: %s\n", c->cfg.db_path, err);
		goto out;
	}
	if ((st = stream_open(&c->cfg, "mtrackctl-collect", err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mtrackctl: %s\n", err);
		goto out;
	}
	log_info("collect stream=%s consumer=%s db=%s", c->cfg.stream_name,
	    c->cfg.collect_consumer, c->cfg.db_path);
	while (!collect_stop) {
		if (!ready) {
			if (stream_connected(st) && stream_ensure(st) == 0 &&
			    stream_consume(st, c->cfg.collect_consumer) == 0)
				ready = 1;
			else
				collect_pause(500);
			continue;
		}
		if ((n = stream_fetch(st, &b, FETCH_MAX, FETCH_MS)) <= 0) {
			if (n < 0)	/* the servers are away: wait for them */
				collect_pause(500);
			continue;
		}
		cbatch_read(cb, &b);
		if (cb->n > 0 && store_collect(s, cb->recs, cb->n) == -1) {
			/* not acknowledged: the server sends it again */
			log_warnx("collect records=%zu error=\"not committed\"",
			    cb->n);
			cbatch_free(cb);
			stream_batch_done(&b, 0);
			collect_pause(1000);
			continue;
		}
		for (i = 0; i < cb->n; i++) {
			if (cb->recs[i].result == STORE_REC_APPLIED)
				applied++;
			else if (cb->recs[i].result == STORE_REC_DUPLICATE)
				dups++;
			else if (cb->recs[i].result == STORE_REC_PARKED)
				parked++;
		}
		log_debug("collect batch=%d applied=%lu duplicates=%lu"
		    " parked=%lu bad=%lu", b.n, applied, dups, parked, cb->bad);
		cbatch_free(cb);
		stream_batch_done(&b, 1);
	}
	log_info("collect stopped applied=%lu duplicates=%lu parked=%lu",
	    applied, dups, parked);
	rc = 0;
out:
	stream_close(st);
	store_close(s);
	free(cb);
	return rc;
}
