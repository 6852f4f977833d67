/*
 * whstate - what webhook delivery keeps in the store (database "webhooks"),
 * written by the delivery engine and mtrackctl, read by both:
 *
 *   q:EP:EVKEY   an event waiting for a retry: "NEXT_US ATTEMPTS FIRST_US"
 *                (EP: endpoint id, 16 hex; EVKEY: event key, 20 hex;
 *                FIRST_US: the event's time, from which the retry time runs)
 *   f:EP:EVKEY   an event given up: "FAILED_US ATTEMPTS LAST_ERROR"
 *   s:EP         the endpoint: "DELIVERED RETRIED FAILED DISABLED ERROR_US
 *                LAST_ERROR" (totals since it was first seen)
 *
 * The events themselves stay in "events". Errors are short texts made by
 * the engine ("status 500", "timeout"): never a URL, never a secret.
 * Functions taking a txn work inside the caller's transaction and return
 * 0 or an LMDB error code.
 */
#ifndef MTRACK_WHSTATE_H
#define MTRACK_WHSTATE_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "whconf.h"

struct store;

#define WHSTATE_ERR_MAX	96
#define WHSTATE_EVKEY	20

struct whstate_ep {
	uint64_t	delivered, retried, failed;
	int		disabled;		/* a 410 Gone */
	int64_t		error_us;		/* when last_error happened, 0: never */
	char		last_error[WHSTATE_ERR_MAX];
};

struct whstate_q {
	char		evkey[WHSTATE_EVKEY + 1];
	int64_t		next_us, first_us;
	unsigned	attempts;
};

/* whstate_ep_get - an endpoint's record (zeros when none) */
int	whstate_ep_get(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    struct whstate_ep *st);
int	whstate_ep_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    const struct whstate_ep *st);

/* whstate_q_put - queue (or re-queue) an event for a retry */
int	whstate_q_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    const struct whstate_q *q);
/* whstate_q_del - an event delivered or given up: off the queue (absent is fine) */
int	whstate_q_del(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    const char *evkey);
/* whstate_fail_put - an event given up, kept with its last error */
int	whstate_fail_put(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    const char *evkey, int64_t when_us, unsigned attempts,
	    const char *error);
/*
 * whstate_q_scan - the queued events of an endpoint in event order, from
 * the first after evkey "after" ("" for the start): fn is called for each
 * until it returns non-zero or max were seen. 0 or an LMDB error code.
 */
int	whstate_q_scan(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    const char *after, size_t max,
	    int (*fn)(void *arg, const struct whstate_q *q), void *arg);
/* whstate_count - queued (q) and failed (f) events of an endpoint, oldest queued FIRST_US */
int	whstate_count(MDB_txn *txn, MDB_dbi dbi, const char *ep,
	    uint64_t *queued, uint64_t *failed, int64_t *oldest_us);

#endif
