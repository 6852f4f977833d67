/*
 * stream - NATS JetStream publishing and consuming (see stream.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "config.h"
#include "log.h"
#include "stream.h"

/* how long a JetStream API call (stream info, create, fetch setup) may take */
#define API_WAIT_MS	5000
/* unacknowledged async publishes before stream_publish waits */
#define MAX_PENDING	4096

struct stream {
	natsOptions		*opts;
	natsConnection		*nc;
	jsCtx			*js;
	natsSubscription	*sub;
	char			 prefix[72];
	char			 name[72];
	int			 replicas;
	int64_t			 max_age_ns;	/* 0: none */
	uint64_t		 batch;		/* publishes since stream_complete */
	atomic_uint_fast64_t	 errs;		/* async publish failures */
	atomic_uint_fast64_t	 published, errors, reconnects;
};

static void
stream_on_puberr(jsCtx *js, jsPubAckErr *pae, void *arg)
{
	struct stream *st = arg;

	(void)js;
	atomic_fetch_add(&st->errs, 1);
	log_debug("stream op=publish error=\"%s\" jerr=%d",
	    natsStatus_GetText(pae->Err), (int)pae->ErrCode);
}

static void
stream_on_reconnect(natsConnection *nc, void *arg)
{
	struct stream *st = arg;

	(void)nc;
	atomic_fetch_add(&st->reconnects, 1);
	log_info("stream reconnected");
}

static void
stream_on_connect(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	log_info("stream connected");
}

static void
stream_on_disconnect(natsConnection *nc, void *arg)
{
	(void)nc;
	(void)arg;
	log_info("stream disconnected");
}

struct stream *
stream_open(const struct config *c, const char *name, char *err,
    size_t errlen)
{
	struct stream	*st;
	jsOptions	 jo;
	natsStatus	 s;
	int		 n;

	for (n = 0; c->stream_url && c->stream_url[n]; n++)
		;
	if (n == 0) {
		snprintf(err, errlen, "stream_url is not set");
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(st->prefix, sizeof(st->prefix), "%s", c->stream_subject);
	snprintf(st->name, sizeof(st->name), "%s", c->stream_name);
	st->replicas = c->stream_replicas;
	st->max_age_ns = (int64_t)c->stream_retention_days * 86400 *
	    1000000000LL;
	/*
	 * Never give up on the servers: retry the first connect in the
	 * background and reconnect without limit. The connected callback is
	 * what makes that first connect asynchronous: without one, libnats
	 * retries inside natsConnection_Connect, which would then never
	 * return while no server answers (a milter or tracker stuck at start).
	 * Nothing is buffered for a reconnect: the publisher checks the
	 * connection and its records wait in the local store instead.
	 */
	if ((s = natsOptions_Create(&st->opts)) != NATS_OK ||
	    (s = natsOptions_SetServers(st->opts, (const char **)c->stream_url,
	    n)) != NATS_OK ||
	    (s = natsOptions_SetName(st->opts, name)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(st->opts, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(st->opts, 500)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(st->opts, 2000)) != NATS_OK ||
	    (s = natsOptions_SetPingInterval(st->opts, 5000)) != NATS_OK ||
	    (s = natsOptions_SetMaxPingsOut(st->opts, 2)) != NATS_OK ||
	    (s = natsOptions_SetRetryOnFailedConnect(st->opts, true,
	    stream_on_connect, st)) != NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(st->opts, stream_on_reconnect,
	    st)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(st->opts, stream_on_disconnect,
	    st)) != NATS_OK)
		goto fail;
	s = natsConnection_Connect(&st->nc, st->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
		goto fail;
	if ((s = jsOptions_Init(&jo)) != NATS_OK)
		goto fail;
	jo.Wait = API_WAIT_MS;
	jo.PublishAsync.MaxPending = MAX_PENDING;
	jo.PublishAsync.ErrHandler = stream_on_puberr;
	jo.PublishAsync.ErrHandlerClosure = st;
	if ((s = natsConnection_JetStream(&st->js, st->nc, &jo)) != NATS_OK)
		goto fail;
	return st;
fail:
	snprintf(err, errlen, "nats: %s", natsStatus_GetText(s));
	stream_close(st);
	return NULL;
}

void
stream_close(struct stream *st)
{
	if (st == NULL)
		return;
	if (st->sub)
		natsSubscription_Destroy(st->sub);
	if (st->js)
		jsCtx_Destroy(st->js);
	if (st->nc) {
		natsConnection_Close(st->nc);
		natsConnection_Destroy(st->nc);
	}
	natsOptions_Destroy(st->opts);
	free(st);
}

int
stream_connected(struct stream *st)
{
	return natsConnection_Status(st->nc) == NATS_CONN_STATUS_CONNECTED;
}

int
stream_ensure(struct stream *st)
{
	jsStreamConfig	 sc;
	jsStreamInfo	*si = NULL;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 subj[80];
	const char	*subjects[1] = { subj };

	s = js_GetStreamInfo(&si, st->js, st->name, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_NOT_FOUND) {
		log_warnx("stream op=info stream=%s error=\"%s\" jerr=%d",
		    st->name, natsStatus_GetText(s), (int)jerr);
		return -1;
	}
	snprintf(subj, sizeof(subj), "%s.>", st->prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = st->name;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = st->replicas;
	/* nanoseconds (the server's unit; the header does not say) */
	sc.Duplicates = (int64_t)STREAM_DUP_WINDOW_S * 1000000000LL;
	sc.MaxAge = st->max_age_ns;
	if ((s = js_AddStream(&si, st->js, &sc, NULL, &jerr)) != NATS_OK) {
		log_warnx("stream op=create stream=%s replicas=%d error=\"%s\""
		    " jerr=%d", st->name, st->replicas, natsStatus_GetText(s),
		    (int)jerr);
		return -1;
	}
	jsStreamInfo_Destroy(si);
	log_info("stream op=create stream=%s subjects=%s replicas=%d",
	    st->name, subj, st->replicas);
	return 0;
}

void
stream_subject(const struct stream *st, const char *kind, unsigned node,
    char *out, size_t outlen)
{
	snprintf(out, outlen, "%s.%s.%u", st->prefix, kind, node);
}

int
stream_publish(struct stream *st, const char *subject, const char *data,
    size_t len, const char *msgid)
{
	jsPubOptions	po;
	natsStatus	s;

	jsPubOptions_Init(&po);
	po.MsgId = msgid;
	st->batch++;
	if ((s = js_PublishAsync(st->js, subject, data, (int)len,
	    &po)) != NATS_OK) {
		atomic_fetch_add(&st->errs, 1);
		return -1;
	}
	return 0;
}

int
stream_complete(struct stream *st, int ms)
{
	jsPubOptions	po;
	natsStatus	s;
	uint64_t	n = st->batch;

	jsPubOptions_Init(&po);
	po.MaxWait = ms;
	s = js_PublishAsyncComplete(st->js, &po);
	st->batch = 0;
	if (s != NATS_OK || atomic_exchange(&st->errs, 0) != 0) {
		atomic_fetch_add(&st->errors, 1);
		return -1;
	}
	atomic_fetch_add(&st->published, n);
	return 0;
}

int
stream_consume(struct stream *st, const char *durable)
{
	jsSubOptions	so;
	jsErrCode	jerr = 0;
	natsStatus	s;
	char		subj[80];

	if (st->sub)
		return 0;
	snprintf(subj, sizeof(subj), "%s.>", st->prefix);
	jsSubOptions_Init(&so);
	so.Stream = st->name;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	/*
	 * A batch is applied in one commit (well under a second); what a
	 * killed collector fetched but never acknowledged comes again after
	 * this long.
	 */
	so.Config.AckWait = (int64_t)STREAM_ACK_WAIT_S * 1000000000LL;
	if ((s = js_PullSubscribe(&st->sub, st->js, subj, durable, NULL, &so,
	    &jerr)) != NATS_OK) {
		log_warnx("stream op=consume durable=%s error=\"%s\" jerr=%d",
		    durable, natsStatus_GetText(s), (int)jerr);
		st->sub = NULL;
		return -1;
	}
	return 0;
}

int
stream_fetch(struct stream *st, struct stream_batch *b, int max, int ms)
{
	natsMsgList	*l;
	jsErrCode	 jerr = 0;
	natsStatus	 s;

	b->list = NULL;
	b->n = 0;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -1;
	s = natsSubscription_Fetch(l, st->sub, max, ms, &jerr);
	if (s == NATS_TIMEOUT) {	/* nothing came: not an error */
		natsMsgList_Destroy(l);
		free(l);
		return 0;
	}
	if (s != NATS_OK) {
		log_debug("stream op=fetch error=\"%s\" jerr=%d",
		    natsStatus_GetText(s), (int)jerr);
		natsMsgList_Destroy(l);
		free(l);
		return -1;
	}
	b->list = l;
	b->n = l->Count;
	return b->n;
}

const char *
stream_batch_data(const struct stream_batch *b, int i, size_t *len,
    const char **subject)
{
	natsMsg *m = ((natsMsgList *)b->list)->Msgs[i];

	*len = (size_t)natsMsg_GetDataLength(m);
	if (subject)
		*subject = natsMsg_GetSubject(m);
	return natsMsg_GetData(m);
}

void
stream_batch_done(struct stream_batch *b, int ack)
{
	natsMsgList	*l = b->list;
	int		 i;

	if (l == NULL)
		return;
	/*
	 * An ack that is lost makes the server send the message again after
	 * AckWait: the collector knows its key and counts it once.
	 */
	for (i = 0; ack && i < l->Count; i++)
		natsMsg_Ack(l->Msgs[i], NULL);
	natsMsgList_Destroy(l);
	free(l);
	b->list = NULL;
	b->n = 0;
}

void
stream_stats(struct stream *st, struct stream_stats *out)
{
	out->published = atomic_load(&st->published);
	out->errors = atomic_load(&st->errors);
	out->reconnects = atomic_load(&st->reconnects);
}
