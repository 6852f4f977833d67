/*
 * whdeliver - webhook delivery on a libcurl multi handle (see whdeliver.h).
 *
 * One thread owns everything below; the metrics reader takes a snapshot
 * under snap_lock. State changes (retry queue, failed events, cursors,
 * endpoint totals) are collected in a journal and committed in one write
 * transaction at most every WHD_COMMIT_MS, so delivery costs the store
 * writer a short lock now and then, never a wait per request.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <lmdb.h>

#include "config.h"
#include "feed.h"
#include "log.h"
#include "now.h"
#include "store.h"
#include "whconf.h"
#include "whdeliver.h"
#include "whevent.h"
#include "whstate.h"

#define WHD_COMMIT_MS		50	/* journal committed at most this often */
#define WHD_SCAN_MS		1000	/* retry queue looked at this often */
/*
 * Longest waits: between probes of a failing endpoint, and between two
 * attempts of one event. Both scale with webhook_backoff_ms (5 minutes
 * and 1 hour at its default of 5 s), so a small backoff for tests keeps
 * every wait small.
 */
#define WHD_HOLD_MAX(w)		((int64_t)(w)->backoff_ms * 60 < 300000 ? \
				    (int64_t)(w)->backoff_ms * 60 : 300000)
#define WHD_RETRY_MAX(w)	((int64_t)(w)->backoff_ms * 720 < 3600000 ? \
				    (int64_t)(w)->backoff_ms * 720 : 3600000)
#define WHD_DISABLED_MS		5000	/* a disabled endpoint re-read */
#define WHD_ANSWER_MAX		4096
#define WHD_UA			"mtrack-webhooks/1"

enum whd_state { WHD_READY, WHD_FLIGHT, WHD_DONE };

/* a feed entry in an endpoint's window */
struct whd_slot {
	uint64_t	 seq;
	int		 state;
	char		 evkey[WHSTATE_EVKEY + 1];
	int64_t		 time_us;
	char		*body;
	size_t		 len;
};

/* an event a request carries: a window slot (seq) or a queued retry */
struct whd_item {
	uint64_t	seq;
	int		retry;
	char		evkey[WHSTATE_EVKEY + 1];
	int64_t		first_us;
	unsigned	attempts;
};

struct whd_ep;

struct whd_req {
	struct whd_req		*next, **pprev;	/* the engine's list */
	struct whd_ep		*ep;
	CURL			*h;
	struct curl_slist	*hdrs;
	char			*body;
	size_t			 nitems;
	struct whd_item		 items[];
};

struct whd_ep {
	const struct whendpoint	*cfg;
	char			 consumer[4 + WH_ID_LEN + 1];
	uint64_t		 cursor, readpos;
	int			 cursor_dirty;
	struct whd_slot		*win;
	size_t			 nwin, capwin;
	unsigned		 inflight;
	unsigned		 fails;		/* consecutive failed requests */
	int64_t			 hold_until;
	int			 rush;		/* recovered: queued retries due now */
	int			 disabled;
	int64_t			 next_scan;
	char			(*fkeys)[WHSTATE_EVKEY + 1]; /* retries in flight */
	struct whstate_ep	 st;
	int			 st_dirty;
	/* snapshot for metrics */
	uint64_t		 m_delivered, m_retried, m_failed;
	uint64_t		 m_window;	/* events read, not done */
	int64_t			 m_oldest_us;
};

enum whd_op { WHD_QPUT, WHD_QDEL, WHD_FPUT };

struct whd_jentry {
	enum whd_op		 op;
	struct whd_ep		*ep;
	struct whstate_q	 q;
	char			 error[WHSTATE_ERR_MAX];
};

struct whdeliver {
	struct store		*store;
	struct whconf		 conf;
	struct whd_ep		*ep;
	size_t			 nep;
	int			 timeout_ms, concurrency, batch, backoff_ms;
	int64_t			 retry_us;
	CURLM			*multi;
	struct whd_req		*reqs;		/* in flight */
	pthread_t		 thread;
	int			 started;
	volatile int		 stop;
	MDB_dbi			 dbi, meta;
	struct whd_jentry	*journal;
	size_t			 njournal, capjournal;
	int64_t			 last_commit;
	uint64_t		 rng;
	pthread_mutex_t		 snap_lock;
};

/* whd_backoff - base * 2^(n-1), capped, with jitter: a time in [d/2, d] (us) */
static int64_t
whd_backoff(struct whdeliver *w, unsigned n, int64_t cap_ms)
{
	int64_t d = w->backoff_ms;

	while (n-- > 1 && d < cap_ms)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	/* xorshift64: jitter only, no secret */
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (d * 500 + (int64_t)(w->rng % (uint64_t)(d * 500 + 1)));
}

/* whd_journal - one state change for the next commit; 0 or -1 */
static int
whd_journal(struct whdeliver *w, enum whd_op op, struct whd_ep *ep,
    const struct whstate_q *q, const char *error)
{
	struct whd_jentry *j;

	if (w->njournal == w->capjournal) {
		size_t	 cap = w->capjournal ? w->capjournal * 2 : 64;
		void	*p = realloc(w->journal, cap * sizeof(*w->journal));

		if (p == NULL)
			return -1;
		w->journal = p;
		w->capjournal = cap;
	}
	j = &w->journal[w->njournal++];
	j->op = op;
	j->ep = ep;
	j->q = *q;
	snprintf(j->error, sizeof(j->error), "%s", error ? error : "-");
	return 0;
}

/* whd_commit - apply the journal, cursors and totals in one transaction */
static void
whd_commit(struct whdeliver *w)
{
	MDB_txn		*txn;
	size_t		 i;
	int		 rc, dirty = w->njournal > 0;

	for (i = 0; i < w->nep; i++)
		dirty |= w->ep[i].cursor_dirty | w->ep[i].st_dirty;
	if (!dirty)
		return;
	if ((rc = mdb_txn_begin(store_env(w->store), NULL, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < w->njournal && rc == 0; i++) {
		struct whd_jentry *j = &w->journal[i];

		switch (j->op) {
		case WHD_QPUT:
			rc = whstate_q_put(txn, w->dbi, j->ep->cfg->id, &j->q);
			break;
		case WHD_QDEL:
			rc = whstate_q_del(txn, w->dbi, j->ep->cfg->id,
			    j->q.evkey);
			break;
		case WHD_FPUT:
			if ((rc = whstate_q_del(txn, w->dbi, j->ep->cfg->id,
			    j->q.evkey)) == 0)
				rc = whstate_fail_put(txn, w->dbi,
				    j->ep->cfg->id, j->q.evkey, now_us(),
				    j->q.attempts, j->error);
			break;
		}
	}
	for (i = 0; i < w->nep && rc == 0; i++) {
		struct whd_ep *ep = &w->ep[i];

		if (ep->cursor_dirty && !ep->disabled)
			rc = feed_cursor_put(txn, w->meta, ep->consumer,
			    ep->cursor);
		else if (ep->cursor_dirty)
			rc = feed_cursor_del(txn, w->meta, ep->consumer);
		if (rc == 0 && ep->st_dirty)
			rc = whstate_ep_put(txn, w->dbi, ep->cfg->id, &ep->st);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	w->njournal = 0;
	for (i = 0; i < w->nep; i++)
		w->ep[i].cursor_dirty = w->ep[i].st_dirty = 0;
	return;
fail:
	/* kept for the next try: nothing is lost, some work is repeated */
	log_warnx("webhook op=commit error=\"%s\"", mdb_strerror(rc));
}

/* whd_get - a record copied into out (NUL-terminated); 0, 1 absent, -1 error */
static int
whd_get(MDB_txn *txn, MDB_dbi dbi, const char *key, size_t klen,
    struct buf *out)
{
	MDB_val	k = { klen, (void *)key }, v;
	int	rc;

	buf_reset(out);
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return 1;
	if (rc != 0)
		return -1;
	return buf_append(out, v.mv_data, v.mv_size);
}

/*
 * whd_body - the body of the event stored under evkey into out, with its
 * message and link records read in one read transaction. 0, 1 when the
 * event is gone (pruned), -1 on error.
 */
static int
whd_body(struct whdeliver *w, const char *evkey, struct buf *out,
    struct whevent_info *info)
{
	struct buf	 ev = BUF_INIT, msg = BUF_INIT, link = BUF_INIT;
	MDB_dbi		 evs, msgs, links;
	MDB_txn		*txn;
	json_t		*e = NULL;
	const char	*mk, *lk;
	int		 rc = -1, hm = 0, hl = 0;

	evs = store_dbi(w->store, DB_EVENTS);
	msgs = store_dbi(w->store, DB_MESSAGES);
	links = store_dbi(w->store, DB_LINKS);
	if ((txn = store_read_begin(w->store)) == NULL)
		return -1;
	if ((rc = whd_get(txn, evs, evkey, WHSTATE_EVKEY, &ev)) != 0)
		goto out;
	rc = -1;
	if ((e = json_loadb(ev.data, ev.len, 0, NULL)) == NULL)
		goto out;
	mk = json_string_value(json_object_get(e, "msg"));
	lk = json_string_value(json_object_get(e, "link"));
	if (mk && strlen(mk) == 16)
		hm = whd_get(txn, msgs, mk, 16, &msg) == 0;
	if (lk && strlen(lk) == 16)
		hl = whd_get(txn, links, lk, 16, &link) == 0;
	buf_reset(out);
	rc = whevent_build(evkey, ev.data, ev.len, hm ? msg.data : NULL,
	    msg.len, hl ? link.data : NULL, link.len, out, info);
out:
	store_read_end(w->store, txn);
	json_decref(e);
	buf_free(&ev);
	buf_free(&msg);
	buf_free(&link);
	return rc;
}

static size_t
whd_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b && b->len < WHD_ANSWER_MAX)
		(void)buf_append(b, p, len > WHD_ANSWER_MAX - b->len ?
		    WHD_ANSWER_MAX - b->len : len);
	return len;
}

/*
 * whd_setup - one signed POST on h: headers into *hdrs (the caller frees
 * them after the transfer), body not copied (it must outlive the
 * transfer). 0 or -1.
 */
static int
whd_setup(CURL *h, struct curl_slist **hdrs, const char *url,
    const struct whsign_key *k, const char *id, const char *body, size_t len,
    int timeout_ms, struct buf *answer)
{
	char			 sig[WHSIGN_SIG_LEN], line[128];
	struct curl_slist	*l = NULL, *t;
	int64_t			 ts = now_us() / 1000000;
	static const char *const fixed[] = { "Content-Type: application/json",
	    "Expect:", NULL };
	size_t			 i;

	whsign_sign(k, id, ts, body, len, sig);
	for (i = 0; fixed[i]; i++) {
		if ((t = curl_slist_append(l, fixed[i])) == NULL)
			goto fail;
		l = t;
	}
	snprintf(line, sizeof(line), "webhook-id: %s", id);
	if ((t = curl_slist_append(l, line)) == NULL)
		goto fail;
	l = t;
	snprintf(line, sizeof(line), "webhook-timestamp: %" PRId64, ts);
	if ((t = curl_slist_append(l, line)) == NULL)
		goto fail;
	l = t;
	snprintf(line, sizeof(line), "webhook-signature: %s", sig);
	if ((t = curl_slist_append(l, line)) == NULL)
		goto fail;
	l = t;
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, WHD_UA) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout_ms < 10000 ? timeout_ms : 10000)) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, whd_write) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer) != CURLE_OK)
		goto fail;
	*hdrs = l;
	explicit_bzero(sig, sizeof(sig));
	return 0;
fail:
	curl_slist_free_all(l);
	return -1;
}

int
whdeliver_once(const char *url, const struct whsign_key *k, const char *id,
    const char *body, size_t len, int timeout_ms, long *status,
    struct buf *answer, char *err, size_t errlen)
{
	CURL			*h;
	struct curl_slist	*hdrs = NULL;
	CURLcode		 rc;
	int			 ret = -1;

	*status = 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl: cannot start");
		return -1;
	}
	if (whd_setup(h, &hdrs, url, k, id, body, len, timeout_ms,
	    answer) == -1) {
		snprintf(err, errlen, "libcurl: cannot set the request up");
		goto out;
	}
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return ret;
}

/* whd_slot_find - the window slot of feed sequence seq, NULL if none */
static struct whd_slot *
whd_slot_find(struct whd_ep *ep, uint64_t seq)
{
	size_t i;

	for (i = 0; i < ep->nwin; i++)
		if (ep->win[i].seq == seq)
			return &ep->win[i];
	return NULL;
}

static void
whd_slot_done(struct whd_slot *sl)
{
	sl->state = WHD_DONE;
	free(sl->body);
	sl->body = NULL;
}

/* whd_fkey - mark (on) or unmark a queued retry as in flight */
static void
whd_fkey(struct whdeliver *w, struct whd_ep *ep, const char *evkey, int on)
{
	int i;

	for (i = 0; i < w->concurrency; i++)
		if (on ? ep->fkeys[i][0] == '\0' :
		    strcmp(ep->fkeys[i], evkey) == 0) {
			if (on)
				memcpy(ep->fkeys[i], evkey, WHSTATE_EVKEY + 1);
			else
				ep->fkeys[i][0] = '\0';
			return;
		}
}

/*
 * whd_busy - a queued event the retry scan must skip: in flight, or
 * changed by the journal and not committed yet (the scan reads the store)
 */
static int
whd_busy(struct whdeliver *w, struct whd_ep *ep, const char *evkey)
{
	size_t	i;
	int	j;

	for (j = 0; j < w->concurrency; j++)
		if (strcmp(ep->fkeys[j], evkey) == 0)
			return 1;
	for (i = 0; i < w->njournal; i++)
		if (w->journal[i].ep == ep &&
		    strcmp(w->journal[i].q.evkey, evkey) == 0)
			return 1;
	return 0;
}

/* whd_send - start a request carrying items with body (taken over); 0 or -1 */
static int
whd_send(struct whdeliver *w, struct whd_ep *ep, const struct whd_item *items,
    size_t n, char *body, size_t len, const char *id)
{
	struct whd_req	*r;
	size_t		 i;

	if ((r = calloc(1, sizeof(*r) + n * sizeof(r->items[0]))) == NULL) {
		free(body);
		return -1;
	}
	r->ep = ep;
	r->body = body;
	r->nitems = n;
	memcpy(r->items, items, n * sizeof(items[0]));
	if ((r->h = curl_easy_init()) == NULL ||
	    whd_setup(r->h, &r->hdrs, ep->cfg->url, &ep->cfg->key, id, body,
	    len, w->timeout_ms, NULL) == -1 ||
	    curl_easy_setopt(r->h, CURLOPT_PRIVATE, r) != CURLE_OK ||
	    curl_multi_add_handle(w->multi, r->h) != CURLM_OK) {
		if (r->h)
			curl_easy_cleanup(r->h);
		curl_slist_free_all(r->hdrs);
		free(r->body);
		free(r);
		return -1;
	}
	ep->inflight++;
	if ((r->next = w->reqs) != NULL)
		r->next->pprev = &r->next;
	r->pprev = &w->reqs;
	w->reqs = r;
	for (i = 0; i < n; i++)
		if (items[i].retry)
			whd_fkey(w, ep, items[i].evkey, 1);
		else
			whd_slot_find(ep, items[i].seq)->state = WHD_FLIGHT;
	return 0;
}

/* whd_fail_item - one event of a failed request: queued for a retry, or given up */
static void
whd_fail_item(struct whdeliver *w, struct whd_ep *ep,
    const struct whd_item *it, const char *error, int64_t now)
{
	struct whstate_q q;

	memset(&q, 0, sizeof(q));
	memcpy(q.evkey, it->evkey, sizeof(q.evkey));
	q.first_us = it->first_us;
	q.attempts = it->attempts + 1;
	if (now - it->first_us >= w->retry_us) {
		ep->st.failed++;
		ep->m_failed++;
		ep->st_dirty = 1;
		log_warnx("webhook endpoint=%s event=evt_%s result=failed"
		    " attempts=%u error=\"%s\"", ep->cfg->id, it->evkey,
		    q.attempts, error);
		(void)whd_journal(w, WHD_FPUT, ep, &q, error);
		return;
	}
	ep->st.retried++;
	ep->m_retried++;
	ep->st_dirty = 1;
	q.next_us = now + whd_backoff(w, q.attempts, WHD_RETRY_MAX(w));
	(void)whd_journal(w, WHD_QPUT, ep, &q, NULL);
}

/* whd_disable - a 410 Gone: stop delivering to ep until it is enabled again */
static void
whd_disable(struct whd_ep *ep)
{
	size_t i;

	log_warnx("webhook endpoint=%s status=410 result=disabled"
	    " reason=\"the endpoint answered 410 Gone\"", ep->cfg->id);
	ep->disabled = 1;
	ep->st.disabled = 1;
	ep->st_dirty = 1;
	ep->cursor_dirty = 1;
	for (i = 0; i < ep->nwin; i++)
		free(ep->win[i].body);
	ep->nwin = 0;
}

/* whd_req_free - a request off the multi handle and the list, freed */
static void
whd_req_free(struct whdeliver *w, struct whd_req *r)
{
	if ((*r->pprev = r->next) != NULL)
		r->next->pprev = r->pprev;
	curl_multi_remove_handle(w->multi, r->h);
	curl_easy_cleanup(r->h);
	curl_slist_free_all(r->hdrs);
	free(r->body);
	free(r);
}

/* whd_done - a request finished */
static void
whd_done(struct whdeliver *w, struct whd_req *r, CURLcode res)
{
	struct whd_ep	*ep = r->ep;
	long		 status = 0;
	char		 error[WHSTATE_ERR_MAX];
	int64_t		 now = now_us();
	size_t		 i;
	int		 ok;

	if (res == CURLE_OK)
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	ok = res == CURLE_OK && status >= 200 && status <= 299;
	if (res == CURLE_OK)
		snprintf(error, sizeof(error), "status %ld", status);
	else
		snprintf(error, sizeof(error), "%s", curl_easy_strerror(res));
	ep->inflight--;
	for (i = 0; i < r->nitems; i++)
		if (r->items[i].retry)
			whd_fkey(w, ep, r->items[i].evkey, 0);
	if (ep->disabled)
		return;		/* what was in flight goes again when enabled */
	if (res == CURLE_OK && status == 410) {
		whd_disable(ep);
		return;
	}
	for (i = 0; i < r->nitems; i++) {
		const struct whd_item	*it = &r->items[i];
		struct whd_slot		*sl = it->retry ? NULL :
		    whd_slot_find(ep, it->seq);

		if (ok) {
			ep->st.delivered++;
			ep->m_delivered++;
			if (it->retry) {
				struct whstate_q q;

				memset(&q, 0, sizeof(q));
				memcpy(q.evkey, it->evkey, sizeof(q.evkey));
				(void)whd_journal(w, WHD_QDEL, ep, &q, NULL);
			}
		} else
			whd_fail_item(w, ep, it, error, now);
		if (sl)
			whd_slot_done(sl);
	}
	ep->st_dirty = 1;
	if (ok) {
		if (ep->fails > 0) {
			log_info("webhook endpoint=%s result=recovered"
			    " after_failures=%u", ep->cfg->id, ep->fails);
			ep->rush = 1;
			ep->next_scan = 0;
		}
		ep->fails = 0;
		ep->hold_until = 0;
		return;
	}
	/* requests sent together fail together: one step of backoff */
	if (ep->fails > 0 && now < ep->hold_until)
		return;
	ep->fails++;
	ep->hold_until = now + whd_backoff(w, ep->fails, WHD_HOLD_MAX(w));
	ep->st.error_us = now;
	snprintf(ep->st.last_error, sizeof(ep->st.last_error), "%s", error);
	if (ep->fails == 1)
		log_warnx("webhook endpoint=%s result=retry error=\"%s\"",
		    ep->cfg->id, error);
}

struct whd_scan {
	struct whdeliver	*w;
	struct whd_ep		*ep;
	int64_t			 now;
	unsigned		 room;
	struct whstate_q	*due;
	size_t			 ndue;
};

static int
whd_scan_fn(void *arg, const struct whstate_q *q)
{
	struct whd_scan *sc = arg;

	if ((q->next_us <= sc->now || sc->ep->rush) &&
	    !whd_busy(sc->w, sc->ep, q->evkey))
		sc->due[sc->ndue++] = *q;
	return sc->ndue >= sc->room;
}

/* whd_retries - send the queued events of ep that are due, up to room */
static void
whd_retries(struct whdeliver *w, struct whd_ep *ep, unsigned room,
    int64_t now)
{
	struct whd_scan		 sc;
	struct whevent_info	 info;
	struct whd_item		 it;
	struct buf		 b = BUF_INIT;
	MDB_txn			*txn;
	char			*body;
	size_t			 i, len;
	int			 rc;

	if (room == 0 || now < ep->next_scan)
		return;
	memset(&sc, 0, sizeof(sc));
	sc.w = w;
	sc.ep = ep;
	sc.now = now;
	sc.room = room;
	if ((sc.due = calloc(room, sizeof(*sc.due))) == NULL ||
	    (txn = store_read_begin(w->store)) == NULL) {
		free(sc.due);
		return;
	}
	rc = whstate_q_scan(txn, w->dbi, ep->cfg->id, "", 10000, whd_scan_fn,
	    &sc);
	store_read_end(w->store, txn);
	if (rc != 0)
		log_warnx("webhook op=scan error=\"%s\"", mdb_strerror(rc));
	if (sc.ndue == 0)
		ep->rush = 0;
	ep->next_scan = now + (sc.ndue ? 0 : WHD_SCAN_MS * 1000LL);
	for (i = 0; i < sc.ndue; i++) {
		memset(&it, 0, sizeof(it));
		it.retry = 1;
		memcpy(it.evkey, sc.due[i].evkey, sizeof(it.evkey));
		it.first_us = sc.due[i].first_us;
		it.attempts = sc.due[i].attempts;
		rc = whd_body(w, it.evkey, &b, &info);
		if (rc == 1 || (rc == 0 && !whconf_wants(ep->cfg, info.type,
		    info.cls))) {
			/* pruned since, or no longer wanted: off the queue */
			(void)whd_journal(w, WHD_QDEL, ep, &sc.due[i], NULL);
			continue;
		}
		if (rc == -1)
			continue;
		body = buf_steal(&b, &len);
		if (whd_send(w, ep, &it, 1, body, len, info.id) == -1)
			break;
	}
	buf_free(&b);
	free(sc.due);
}

/* whd_refill - read the feed after ep's window into it */
static void
whd_refill(struct whdeliver *w, struct whd_ep *ep)
{
	struct feed_entry	*e;
	struct whevent_info	 info;
	struct buf		 b = BUF_INIT;
	size_t			 n, i, len, want = ep->capwin - ep->nwin;

	if (want < ep->capwin / 2 ||
	    feed_read(w->store, ep->readpos, want, &e, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		struct whd_slot *sl = &ep->win[ep->nwin++];

		memset(sl, 0, sizeof(*sl));
		sl->seq = e[i].seq;
		sl->state = WHD_DONE;
		ep->readpos = e[i].seq;
		if (e[i].kind != 'e' || e[i].rec == NULL ||
		    strlen(e[i].key) != WHSTATE_EVKEY)
			continue;
		memcpy(sl->evkey, e[i].key, sizeof(sl->evkey));
		if (whd_body(w, sl->evkey, &b, &info) != 0 ||
		    !whconf_wants(ep->cfg, info.type, info.cls))
			continue;
		sl->time_us = info.time_us;
		sl->body = buf_steal(&b, &len);
		sl->len = len;
		sl->state = WHD_READY;
	}
	buf_free(&b);
	feed_entries_free(e, n);
}

/* whd_batch - send up to w->batch ready slots from i on as one request */
static int
whd_batch(struct whdeliver *w, struct whd_ep *ep, size_t *i)
{
	struct whd_item	 items[1000];
	struct buf	 b = BUF_INIT;
	char		 id[64], *body;
	size_t		 n = 0, len, j;

	for (j = *i; j < ep->nwin && n < (size_t)w->batch; j++) {
		struct whd_slot *sl = &ep->win[j];

		if (sl->state != WHD_READY)
			continue;
		if (buf_puts(&b, n ? "," : "{\"type\":\"batch\",\"data\":[") ||
		    buf_append(&b, sl->body, sl->len))
			goto fail;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].seq = sl->seq;
		memcpy(items[n].evkey, sl->evkey, sizeof(items[n].evkey));
		items[n].first_us = sl->time_us;
		n++;
	}
	*i = j;
	if (n == 0 || buf_puts(&b, "]}"))
		goto fail;
	snprintf(id, sizeof(id), "batch_%s_%zu", items[0].evkey, n);
	body = buf_steal(&b, &len);
	return whd_send(w, ep, items, n, body, len, id);
fail:
	buf_free(&b);
	return -1;
}

/* whd_fresh - send ready window slots, up to limit requests in flight */
static void
whd_fresh(struct whdeliver *w, struct whd_ep *ep, unsigned limit)
{
	struct whd_item	 it;
	char		 id[WHEVENT_ID_LEN];
	size_t		 i = 0;

	while (i < ep->nwin && ep->inflight < limit) {
		struct whd_slot *sl = &ep->win[i];

		if (sl->state != WHD_READY) {
			i++;
			continue;
		}
		if (w->batch > 1 && ep->fails == 0) {
			if (whd_batch(w, ep, &i) == -1)
				return;
			continue;
		}
		memset(&it, 0, sizeof(it));
		it.seq = sl->seq;
		memcpy(it.evkey, sl->evkey, sizeof(it.evkey));
		it.first_us = sl->time_us;
		/* the body goes with the request; the slot keeps none */
		snprintf(id, sizeof(id), "evt_%s", sl->evkey);
		if (whd_send(w, ep, &it, 1, sl->body, sl->len, id) == -1)
			return;
		sl->body = NULL;
		i++;
	}
}

/* whd_advance - move the cursor over the done slots at the window's head */
static void
whd_advance(struct whd_ep *ep)
{
	size_t n = 0;

	while (n < ep->nwin && ep->win[n].state == WHD_DONE)
		n++;
	if (n == 0)
		return;
	ep->cursor = ep->win[n - 1].seq;
	ep->cursor_dirty = 1;
	memmove(ep->win, ep->win + n, (ep->nwin - n) * sizeof(ep->win[0]));
	ep->nwin -= n;
}

/* whd_enable - (re)start ep from the feed's end, or from its cursor */
static int
whd_enable(struct whdeliver *w, struct whd_ep *ep)
{
	if (feed_register(w->store, ep->consumer, &ep->cursor) == -1)
		return -1;
	ep->readpos = ep->cursor;
	ep->disabled = 0;
	ep->fails = 0;
	ep->hold_until = 0;
	ep->next_scan = 0;
	return 0;
}

/* whd_step - what an endpoint can do now */
static void
whd_step(struct whdeliver *w, struct whd_ep *ep, int64_t now)
{
	unsigned	limit;
	size_t		i;

	if (ep->disabled) {
		MDB_txn			*txn;
		struct whstate_ep	 st;

		if (now < ep->next_scan)
			return;
		ep->next_scan = now + WHD_DISABLED_MS * 1000LL;
		if ((txn = store_read_begin(w->store)) == NULL)
			return;
		if (whstate_ep_get(txn, w->dbi, ep->cfg->id, &st) == 0 &&
		    !st.disabled && !ep->st_dirty) {
			ep->st.disabled = 0;
			store_read_end(w->store, txn);
			if (whd_enable(w, ep) == 0)
				log_info("webhook endpoint=%s result=enabled",
				    ep->cfg->id);
			return;
		}
		store_read_end(w->store, txn);
		return;
	}
	if (ep->fails > 0 && now < ep->hold_until) {
		/* held: what waited longer than the retry time is given up */
		for (i = 0; i < ep->nwin; i++) {
			struct whd_slot *sl = &ep->win[i];

			if (sl->state == WHD_READY &&
			    now - sl->time_us >= w->retry_us) {
				struct whd_item it;

				memset(&it, 0, sizeof(it));
				memcpy(it.evkey, sl->evkey, sizeof(it.evkey));
				it.first_us = sl->time_us;
				whd_fail_item(w, ep, &it, ep->st.last_error, now);
				whd_slot_done(sl);
			}
		}
		whd_advance(ep);
		return;
	}
	limit = ep->fails > 0 ? 1 : (unsigned)w->concurrency;
	if (ep->inflight < limit)
		whd_retries(w, ep, limit - ep->inflight, now);
	whd_refill(w, ep);
	whd_fresh(w, ep, limit);
	whd_advance(ep);
}

/* whd_snapshot - what the metrics show, copied under the lock */
static void
whd_snapshot(struct whdeliver *w)
{
	size_t i, j;

	pthread_mutex_lock(&w->snap_lock);
	for (i = 0; i < w->nep; i++) {
		struct whd_ep *ep = &w->ep[i];

		ep->m_window = 0;
		ep->m_oldest_us = 0;
		for (j = 0; j < ep->nwin; j++)
			if (ep->win[j].state != WHD_DONE) {
				ep->m_window++;
				if (ep->m_oldest_us == 0 ||
				    ep->win[j].time_us < ep->m_oldest_us)
					ep->m_oldest_us = ep->win[j].time_us;
			}
	}
	pthread_mutex_unlock(&w->snap_lock);
}

static void
whd_finish(struct whdeliver *w)
{
	CURLMsg	*msg;
	int	 left;

	while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
		struct whd_req *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		pthread_mutex_lock(&w->snap_lock);
		whd_done(w, r, msg->data.result);
		pthread_mutex_unlock(&w->snap_lock);
		whd_req_free(w, r);
	}
}

static void *
whd_main(void *arg)
{
	struct whdeliver	*w = arg;
	int64_t			 now;
	int			 running;
	size_t			 i;

	while (!w->stop) {
		/* answers first: their slots are free for this round's sends */
		curl_multi_perform(w->multi, &running);
		whd_finish(w);
		now = now_us();
		for (i = 0; i < w->nep; i++)
			whd_step(w, &w->ep[i], now);
		curl_multi_perform(w->multi, &running);
		if (now - w->last_commit >= WHD_COMMIT_MS * 1000LL) {
			whd_commit(w);
			w->last_commit = now;
		}
		whd_snapshot(w);
		curl_multi_poll(w->multi, NULL, 0, WHD_COMMIT_MS, NULL);
	}
	whd_commit(w);
	return NULL;
}

struct whdeliver *
whdeliver_start(struct store *s, const struct config *c, char *err,
    size_t errlen)
{
	struct whdeliver	*w;
	char			**names = NULL;
	MDB_txn			*txn;
	size_t			 i;
	int			 rc;

	*err = '\0';
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->snap_lock, NULL);
	w->store = s;
	if (whconf_load(&w->conf, c, err, errlen) == -1)
		goto fail;
	if (w->conf.n == 0) {
		/* none configured (any more): none holds the feed */
		if (feed_sync(s, "wh:", NULL, 0) == -1)
			log_warnx("webhook op=feed_sync error=\"cannot write the"
			    " store\"");
		goto fail;	/* nothing to do: err stays "" */
	}
	w->timeout_ms = c->webhook_timeout * 1000;
	w->concurrency = c->webhook_concurrency;
	w->batch = c->webhook_batch;
	w->backoff_ms = c->webhook_backoff_ms;
	w->retry_us = (int64_t)c->webhook_retry_seconds * 1000000;
	w->rng = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32) ^ 1;
	w->dbi = store_dbi(s, DB_WEBHOOKS);
	w->meta = store_dbi(s, DB_META);
	w->nep = w->conf.n;
	if ((w->ep = calloc(w->nep, sizeof(*w->ep))) == NULL ||
	    (names = calloc(w->nep, sizeof(*names))) == NULL)
		goto nomem;
	if ((txn = store_read_begin(s)) == NULL) {
		snprintf(err, errlen, "store: cannot read");
		goto fail;
	}
	for (i = 0; i < w->nep; i++) {
		struct whd_ep *ep = &w->ep[i];

		ep->cfg = &w->conf.ep[i];
		snprintf(ep->consumer, sizeof(ep->consumer), "wh:%s",
		    ep->cfg->id);
		names[i] = ep->consumer;
		ep->capwin = (size_t)w->concurrency * 4 < 64 ? 64 :
		    (size_t)w->concurrency * 4;
		if ((ep->win = calloc(ep->capwin, sizeof(*ep->win))) == NULL ||
		    (ep->fkeys = calloc((size_t)w->concurrency,
		    sizeof(*ep->fkeys))) == NULL) {
			store_read_end(s, txn);
			goto nomem;
		}
		(void)whstate_ep_get(txn, w->dbi, ep->cfg->id, &ep->st);
		ep->disabled = ep->st.disabled;
	}
	store_read_end(s, txn);
	/* endpoints no longer configured (or disabled) stop holding the feed */
	{
		char	**on = calloc(w->nep, sizeof(*on));
		size_t	  non = 0;

		if (on == NULL)
			goto nomem;
		for (i = 0; i < w->nep; i++)
			if (!w->ep[i].disabled)
				on[non++] = names[i];
		rc = feed_sync(s, "wh:", on, non);
		free(on);
		if (rc == -1) {
			snprintf(err, errlen, "store: cannot sync the feed");
			goto fail;
		}
	}
	for (i = 0; i < w->nep; i++) {
		struct whd_ep *ep = &w->ep[i];

		if (ep->disabled) {
			log_warnx("webhook endpoint=%s result=disabled"
			    " reason=\"410 Gone earlier; mtrackctl webhook"
			    " replay --endpoint enables it\"", ep->cfg->id);
			continue;
		}
		if (whd_enable(w, ep) == -1) {
			snprintf(err, errlen, "store: cannot register the"
			    " feed consumer");
			goto fail;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (w->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "libcurl: cannot start");
		goto fail;
	}
	if ((rc = pthread_create(&w->thread, NULL, whd_main, w)) != 0) {
		snprintf(err, errlen, "thread: %s", strerror(rc));
		goto fail;
	}
	w->started = 1;
	for (i = 0; i < w->nep; i++)
		log_info("webhook endpoint=%s start cursor=%" PRIu64
		    " disabled=%s", w->ep[i].cfg->id, w->ep[i].cursor,
		    w->ep[i].disabled ? "yes" : "no");
	free(names);
	return w;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(names);
	whdeliver_stop(w);
	return NULL;
}

void
whdeliver_stop(struct whdeliver *w)
{
	size_t	i, j;

	if (w == NULL)
		return;
	if (w->started) {
		w->stop = 1;
		curl_multi_wakeup(w->multi);
		pthread_join(w->thread, NULL);
	}
	if (w->multi) {
		/* requests in flight: abandoned, sent again at the next start */
		while (w->reqs)
			whd_req_free(w, w->reqs);
		curl_multi_cleanup(w->multi);
		curl_global_cleanup();
	}
	for (i = 0; w->ep && i < w->nep; i++) {
		for (j = 0; j < w->ep[i].nwin; j++)
			free(w->ep[i].win[j].body);
		free(w->ep[i].win);
		free(w->ep[i].fkeys);
	}
	free(w->ep);
	free(w->journal);
	whconf_free(&w->conf);
	pthread_mutex_destroy(&w->snap_lock);
	free(w);
}

int
whdeliver_metrics(struct whdeliver *w, struct buf *b)
{
	MDB_txn		*txn;
	uint64_t	 last = 0, queued, failed, pending;
	int64_t		 oldest, now = now_us();
	size_t		 i;
	int		 bad = 0;
	static const char *const fam[][3] = {
		{ "mtrack_webhook_delivered_total", "counter",
		    "Events delivered (2xx), since the start." },
		{ "mtrack_webhook_retried_total", "counter",
		    "Failed attempts queued for a retry, since the start." },
		{ "mtrack_webhook_failed_total", "counter",
		    "Events given up after the retry time, since the start." },
		{ "mtrack_webhook_pending", "gauge",
		    "Events queued for a retry, read and not done, or not read yet." },
		{ "mtrack_webhook_oldest_pending_seconds", "gauge",
		    "Age of the oldest pending event." },
		{ "mtrack_webhook_disabled", "gauge",
		    "1 when the endpoint is disabled (410 Gone)." },
	};

	if (feed_last(w->store, &last) == -1 ||
	    (txn = store_read_begin(w->store)) == NULL)
		return -1;
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		bad |= buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[i][0],
		    fam[i][2], fam[i][0], fam[i][1]);
	pthread_mutex_lock(&w->snap_lock);
	for (i = 0; i < w->nep && !bad; i++) {
		struct whd_ep	*ep = &w->ep[i];
		const char	*id = ep->cfg->id;

		queued = failed = 0;
		oldest = 0;
		(void)whstate_count(txn, w->dbi, id, &queued, &failed, &oldest);
		pending = queued + ep->m_window + (ep->disabled ? 0 :
		    last - (ep->readpos < last ? ep->readpos : last));
		if (ep->m_oldest_us && (oldest == 0 || ep->m_oldest_us < oldest))
			oldest = ep->m_oldest_us;
		bad |= buf_printf(b, "mtrack_webhook_delivered_total{endpoint="
		    "\"%s\"} %" PRIu64 "\n", id, ep->m_delivered);
		bad |= buf_printf(b, "mtrack_webhook_retried_total{endpoint="
		    "\"%s\"} %" PRIu64 "\n", id, ep->m_retried);
		bad |= buf_printf(b, "mtrack_webhook_failed_total{endpoint="
		    "\"%s\"} %" PRIu64 "\n", id, ep->m_failed);
		bad |= buf_printf(b, "mtrack_webhook_pending{endpoint=\"%s\"} %"
		    PRIu64 "\n", id, pending);
		bad |= buf_printf(b, "mtrack_webhook_oldest_pending_seconds"
		    "{endpoint=\"%s\"} %.3f\n", id, oldest && now > oldest ?
		    (double)(now - oldest) / 1e6 : 0.0);
		bad |= buf_printf(b, "mtrack_webhook_disabled{endpoint=\"%s\"}"
		    " %d\n", id, ep->disabled);
	}
	pthread_mutex_unlock(&w->snap_lock);
	store_read_end(w->store, txn);
	return bad ? -1 : 0;
}
