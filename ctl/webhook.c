/*
 * webhook - "mtrackctl webhook list|test|replay": the webhook endpoints
 * with their delivered, pending and failed counts and last error; one
 * signed sample event sent to an endpoint with its answer printed; events
 * of a time window queued again for delivery (docs/webhooks.md).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "ctl.h"
#include "feed.h"
#include "now.h"
#include "query.h"
#include "report.h"
#include "whconf.h"
#include "whdeliver.h"
#include "whevent.h"
#include "whstate.h"

#define WEBHOOK_USAGE	"usage: mtrackctl webhook list | test URL |" \
			" replay --since TIME [--endpoint URL]\n"
#define REPLAY_CHUNK	10000	/* queue records per write transaction */

/* webhook_list - one block per endpoint */
static int
webhook_list(struct ctl *c, const struct whconf *w)
{
	struct store		*s;
	struct whstate_ep	 st;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	uint64_t		 last, cur, queued, failed, unread;
	int64_t			 oldest;
	char			 when[21], name[4 + WH_ID_LEN + 1];
	size_t			 i;
	int			 registered;

	if ((s = ctl_store(c, STORE_RDONLY)) == NULL)
		return 1;
	dbi = store_dbi(s, DB_WEBHOOKS);
	if (feed_last(s, &last) == -1 || (txn = store_read_begin(s)) == NULL) {
		fprintf(stderr, "mtrackctl: cannot read the store\n");
		store_close(s);
		return 1;
	}
	if (w->n == 0)
		printf("no webhook endpoint configured\n");
	for (i = 0; i < w->n; i++) {
		const struct whendpoint *e = &w->ep[i];

		snprintf(name, sizeof(name), "wh:%s", e->id);
		registered = feed_cursor_get(s, name, &cur) == 0;
		(void)whstate_ep_get(txn, dbi, e->id, &st);
		queued = failed = 0;
		(void)whstate_count(txn, dbi, e->id, &queued, &failed, &oldest);
		unread = registered && last > cur ? last - cur : 0;
		report_iso(st.error_us, when);
		printf("%s %s\n", e->id, e->url);
		printf("  state      %s\n", st.disabled ? "disabled (410 Gone)" :
		    registered ? "enabled" : "not started yet");
		printf("  delivered  %" PRIu64 "\n", st.delivered);
		printf("  pending    %" PRIu64 " (%" PRIu64 " queued for a retry,"
		    " %" PRIu64 " in the feed)\n", queued + unread, queued,
		    unread);
		printf("  failed     %" PRIu64 "\n", failed);
		printf("  retried    %" PRIu64 "\n", st.retried);
		printf("  last error %s%s%s\n", st.error_us ? st.last_error : "-",
		    st.error_us ? " at " : "", st.error_us ? when : "");
	}
	store_read_end(s, txn);
	store_close(s);
	return 0;
}

/* webhook_test - a signed sample click to url; its answer on stdout */
static int
webhook_test(struct ctl *c, const struct whconf *w, const char *url)
{
	const struct whendpoint	*e = whconf_find(w, url);
	struct whsign_key	 k;
	struct whevent_info	 info;
	struct buf		 body = BUF_INIT, answer = BUF_INIT;
	char			 err[256];
	long			 status;
	int			 rc = 1;

	if (e == NULL && config_url_check(url, 1, err, sizeof(err)) == -1) {
		fprintf(stderr, "mtrackctl: %s: %s\n", url, err);
		return 2;
	}
	if (e)
		k = e->key;
	else if (c->cfg.webhook_secret == NULL ||
	    whsign_key_parse(&k, c->cfg.webhook_secret, err, sizeof(err)) == -1) {
		fprintf(stderr, "mtrackctl: %s is not configured and there is"
		    " no webhook_secret to sign with\n", url);
		return 2;
	}
	if (whevent_sample(&body, &info) == -1) {
		fprintf(stderr, "mtrackctl: out of memory\n");
		goto out;
	}
	if (whdeliver_once(e ? e->url : url, &k, info.id, body.data, body.len,
	    c->cfg.webhook_timeout * 1000, &status, &answer, err,
	    sizeof(err)) == -1) {
		printf("webhook-id %s\nno answer: %s\n", info.id, err);
		goto out;
	}
	printf("webhook-id %s\nstatus %ld (%s)\n", info.id, status,
	    status >= 200 && status <= 299 ? "delivered" : status == 410 ?
	    "410 Gone: the engine would disable this endpoint" :
	    "the engine would retry");
	if (answer.len)
		printf("%.*s\n", (int)answer.len, answer.data);
	rc = status >= 200 && status <= 299 ? 0 : 1;
out:
	explicit_bzero(&k, sizeof(k));
	buf_free(&body);
	buf_free(&answer);
	return rc;
}

/* the events a replay queues: key, type and class of each */
struct replay_ev {
	char		key[WHSTATE_EVKEY + 1];
	unsigned	type;
	char		cls[16];
};

struct replay {
	struct replay_ev	*ev;
	size_t			 n, cap;
};

static int
replay_one(void *arg, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct replay		*r = arg;
	struct replay_ev	*e;
	json_t			*o;
	const char		*type, *cls;

	if (klen != WHSTATE_EVKEY || (o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return 0;
	if (r->n == r->cap) {
		size_t	 cap = r->cap ? r->cap * 2 : 1024;
		void	*p = realloc(r->ev, cap * sizeof(*r->ev));

		if (p == NULL) {
			json_decref(o);
			return -1;
		}
		r->ev = p;
		r->cap = cap;
	}
	e = &r->ev[r->n];
	type = json_string_value(json_object_get(o, "type"));
	cls = json_string_value(json_object_get(o, "class"));
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->type = type && !strcmp(type, "click") ? WH_CLICK :
	    type && !strcmp(type, "open") ? WH_OPEN : 0;
	snprintf(e->cls, sizeof(e->cls), "%s", cls ? cls : "human");
	json_decref(o);
	if (e->type)
		r->n++;
	return 0;
}

/*
 * replay_queue - queue the events for the endpoints (all when only ==
 * NULL) that want them, due now, and enable those endpoints again; *n
 * receives how many records were written
 */
static int
replay_queue(struct store *s, const struct whconf *w,
    const struct whendpoint *only, const struct replay *r, uint64_t *n)
{
	MDB_txn			*txn = NULL;
	MDB_dbi			 dbi;
	struct whstate_q	 q;
	struct whstate_ep	 st;
	size_t			 i, j, inchunk = 0;
	int			 rc = 0;

	*n = 0;
	dbi = store_dbi(s, DB_WEBHOOKS);
	memset(&q, 0, sizeof(q));
	q.first_us = now_us();	/* the retry time runs from now */
	for (j = 0; j < w->n && rc == 0; j++) {
		const struct whendpoint *e = &w->ep[j];

		if (only && only != e)
			continue;
		for (i = 0; i <= r->n && rc == 0; i++) {
			if (txn == NULL &&
			    (rc = mdb_txn_begin(store_env(s), NULL, 0, &txn)) != 0)
				break;
			if (i == r->n) {
				/* the endpoint on again: the engine notices */
				if ((rc = whstate_ep_get(txn, dbi, e->id,
				    &st)) == 0 && st.disabled) {
					st.disabled = 0;
					rc = whstate_ep_put(txn, dbi, e->id, &st);
				}
				break;
			}
			if (!whconf_wants(e, r->ev[i].type, r->ev[i].cls))
				continue;
			memcpy(q.evkey, r->ev[i].key, sizeof(q.evkey));
			if ((rc = whstate_q_put(txn, dbi, e->id, &q)) != 0)
				break;
			(*n)++;
			if (++inchunk == REPLAY_CHUNK) {
				rc = mdb_txn_commit(txn);
				txn = NULL;
				inchunk = 0;
			}
		}
	}
	if (txn && rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (rc != 0)
		fprintf(stderr, "mtrackctl: replay: %s\n", mdb_strerror(rc));
	return rc == 0 ? 0 : -1;
}

/* webhook_replay - queue the events since a time again */
static int
webhook_replay(struct ctl *c, const struct whconf *w, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 }
	};
	const struct whendpoint	*only = NULL;
	struct replay		 r;
	struct store		*s;
	int64_t			 since = -1;
	uint64_t		 n;
	int			 ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 's' && report_time(optarg, &since) == 0)
			continue;
		if (ch == 'e' && (only = whconf_find(w, optarg)) != NULL)
			continue;
		if (ch == 'e')
			fprintf(stderr, "mtrackctl: %s: no such endpoint\n",
			    optarg);
		fprintf(stderr, WEBHOOK_USAGE);
		return 2;
	}
	if (optind != argc || since < 0) {
		fprintf(stderr, WEBHOOK_USAGE);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	if ((s = ctl_store(c, 0)) == NULL)
		return 1;
	if (query_events(s, since, INT64_MAX, 0, replay_one, &r) == 0 &&
	    replay_queue(s, w, only, &r, &n) == 0) {
		printf("%" PRIu64 " deliveries queued (%zu events since the"
		    " time given)\n", n, r.n);
		rc = 0;
	}
	free(r.ev);
	store_close(s);
	return rc;
}

int
ctl_webhook(struct ctl *c, int argc, char **argv)
{
	struct whconf	w;
	char		err[512];
	int		rc;

	if (argc < 2) {
		fprintf(stderr, WEBHOOK_USAGE);
		return 2;
	}
	if (whconf_load(&w, &c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "mtrackctl: %s\n", err);
		return 2;
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2)
		rc = webhook_list(c, &w);
	else if (strcmp(argv[1], "test") == 0 && argc == 3)
		rc = webhook_test(c, &w, argv[2]);
	else if (strcmp(argv[1], "replay") == 0 && w.n > 0)
		rc = webhook_replay(c, &w, argc - 1, argv + 1);
	else {
		if (strcmp(argv[1], "replay") == 0)
			fprintf(stderr, "mtrackctl: no webhook endpoint"
			    " configured\n");
		fprintf(stderr, WEBHOOK_USAGE);
		rc = 2;
	}
	whconf_free(&w);
	return rc;
}
