/*
 * metrics - the tracker's counters in the Prometheus text format, for the
 * admin listener's /metrics.
 *
 * http.c sums its threads' counters into a struct metrics_http; the
 * store's and the TLS module's figures are read here.
 */
#ifndef MTRACK_METRICS_H
#define MTRACK_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "store.h"

struct publish;

/* what the HTTP service counted, summed over its threads */
struct metrics_http {
	const char *const	*routes;	/* route names [nroutes] */
	const unsigned int	*codes;		/* status codes [ncodes] */
	size_t			 nroutes, ncodes;
	const uint64_t		*req;		/* requests [nroutes * ncodes] */
	uint64_t		 clicks, opens;	/* events queued */
	uint64_t		 dropped;	/* events the queue refused */
	uint64_t		 store_errors, unsafe_urls, lib_msgs;
	uint64_t		 sealed, sealed_bad;	/* tokens opened, refused */
	uint64_t		 revoked;	/* hits on link_revoked */
	uint64_t		 active;	/* requests in flight */
	uint64_t		 conns;		/* public listener's connections */
	uint64_t		 threads;
	uint64_t		 conn_limit;	/* per public listener */
	uint64_t		 fd_exhausted;	/* accepts with no descriptor left */
	int			 https;		/* an HTTPS listener runs */
	uint64_t		 https_conns;
	time_t			 start_time;
	struct publish		*publish;	/* the stream's publisher, or NULL */
};

/* metrics_text - every counter of m, s and TLS appended to b; 0 or -1 (memory) */
int	metrics_text(struct buf *b, const struct metrics_http *m,
	    struct store *s);

#endif
