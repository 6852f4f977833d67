/*
 * whdeliver - the webhook delivery engine: one thread that reads the
 * store's feed (feed.h), signs each click and open (whsign.h) and POSTs
 * it to every endpoint that wants it (whconf.h), on one libcurl multi
 * handle.
 *
 * It runs wherever a process has the store and the configuration: the
 * tracker starts it; a collector process could run the same code.
 *
 * Guarantees: at-least-once. Each endpoint is a feed consumer
 * ("wh:" + endpoint id) whose cursor moves past an event only once it
 * was delivered (2xx), filtered out, or queued for a retry in the store
 * (whstate.h) in the same transaction. webhook-id is "evt_" + the event's
 * record key: the same for every attempt, across restarts.
 *
 * Per endpoint: at most webhook_concurrency requests in flight; a failure
 * holds the endpoint (exponential backoff with jitter from
 * webhook_backoff_ms, at most 60 times it: 5 minutes by default) and
 * probes it with one request at a time until it answers 2xx again; then
 * the queued retries go out at once. Each failed event is retried with
 * its own exponential backoff with jitter (at most 720 times
 * webhook_backoff_ms apart, 1 hour by default) until
 * webhook_retry_seconds after the event (default 24 h), then marked
 * failed (kept, visible with
 * mtrackctl webhook list). 410 Gone disables the endpoint (log line; its
 * cursor is dropped; mtrackctl webhook replay --endpoint enables it
 * again). Endpoints never wait for each other, and the click path never
 * waits for the engine: it only reads the store and writes its own
 * small transactions, at most every WHD_COMMIT_MS.
 */
#ifndef MTRACK_WHDELIVER_H
#define MTRACK_WHDELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "whsign.h"

struct config;
struct store;
struct whdeliver;

/*
 * whdeliver_start - start delivering for the endpoints of c. Returns the
 * engine; NULL with err set on failure, NULL with err "" when no endpoint
 * is configured (then the feed consumers of endpoints configured before
 * are dropped: they no longer hold the feed). s must outlive the engine.
 */
struct whdeliver *whdeliver_start(struct store *s, const struct config *c,
	    char *err, size_t errlen);
/* whdeliver_stop - stop the thread (requests in flight are sent again at the next start), free w */
void	whdeliver_stop(struct whdeliver *w);
/*
 * whdeliver_metrics - append the engine's counters in the Prometheus text
 * format to b (per endpoint id): delivered, retried, failed, pending,
 * oldest pending age. 0 or -1.
 */
int	whdeliver_metrics(struct whdeliver *w, struct buf *b);

/*
 * whdeliver_once - one signed POST of body to url, synchronously (for
 * mtrackctl webhook test): *status gets the HTTP status (0: no answer),
 * the first 4 KB of the answer go to answer. 0, or -1 with the reason in err.
 */
int	whdeliver_once(const char *url, const struct whsign_key *k,
	    const char *id, const char *body, size_t len, int timeout_ms,
	    long *status, struct buf *answer, char *err, size_t errlen);

#endif
