/*
 * milter - mlfi_* callbacks: decide which mail is outbound, collect it,
 * run the rewrite engine at end of message and hand Postfix the result.
 *
 * Whatever fails, the message goes on unchanged (SMFIS_ACCEPT) and one
 * log line says why: mtrack never rejects, tempfails or loses mail.
 * A connection context lives from option negotiation to close; a message
 * context from MAIL FROM to end of message or abort (a connection carries
 * several messages). Callbacks of one connection may run on different
 * threads: all state lives in the context, none in thread-locals.
 *
 * Postfix waits for a reply only at DATA and at end of message: connect,
 * MAIL, RCPT, the headers and the body chunks get none (SMFIP_NR_*), so it
 * sends them in the same write as the next command that waits, and the end
 * of header is not sent at all (SMFIP_NOEOH). A message costs three round
 * trips (option negotiation, DATA, end of message) instead of one per event
 * (seventeen for contrib/examples/newsletter.eml). Where no reply goes
 * back, a message that is left alone cannot be accepted at once: its
 * context is dropped and the next reply, at DATA or at end of message,
 * accepts it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <libmilter/mfapi.h>

#include "buf.h"
#include "log.h"
#include "milter.h"
#include "rewrite.h"

struct mctx {				/* one message */
	struct buf	 raw;		/* headers, blank line, body */
	char		*from;
	char		**rcpt;
	size_t		 nrcpt;
	int		 body;		/* the header's blank line is in raw */
	int		 oversize;
};

struct cctx {				/* one SMTP connection */
	unsigned long	 pflags;	/* negotiated protocol steps */
	int		 local;		/* local submission */
	int		 trusted;	/* from trusted_networks */
	char		*daemon;	/* {daemon_name} at connect */
	struct mctx	*msg;
};

/*
 * The events that get no reply. Not DATA: it is where mail that is left
 * alone is accepted (Postfix then sends neither headers nor body), and a
 * DATA event without reply, like SMFIP_NODATA, is written alone when smtpd
 * hands the connection to cleanup: over TCP, cleanup's next write then
 * waits for the milter's delayed ACK (Nagle): 45 ms per short message.
 */
#define MILTER_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
			 SMFIP_NR_HDR | SMFIP_NR_BODY)

static const struct config	*milter_cfg;	/* atomic: milter_reconfigure */
static struct store		*milter_store;
static const struct seal_keys	*milter_keys;
static struct netlist		 loopback;

/*
 * Ends of message being processed, for the drain at shutdown: the only
 * callback that writes to the store. Once draining, a message that reaches
 * its end passes untracked. (Debian's libmilter serves connections from a
 * pool: once stopped it reads no more commands, so a message whose end
 * has not arrived is never finished; Postfix then applies
 * milter_default_action.)
 */
static pthread_mutex_t	 milter_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 milter_idle = PTHREAD_COND_INITIALIZER;
static unsigned int	 milter_busy;
static int		 milter_draining;

void
milter_setup(const struct config *cfg, struct store *st,
    const struct seal_keys *keys)
{
	char err[64];

	milter_cfg = cfg;
	milter_store = st;
	milter_keys = keys;
	net_list_parse(&loopback, "127.0.0.0/8 ::1", err, sizeof(err));
}

void
milter_reconfigure(const struct config *cfg)
{
	__atomic_store_n(&milter_cfg, cfg, __ATOMIC_RELEASE);
}

/* cfg_now - the configuration for this callback (a reload may replace it) */
static const struct config *
cfg_now(void)
{
	return __atomic_load_n(&milter_cfg, __ATOMIC_ACQUIRE);
}

unsigned int
milter_drain(int timeout_ms)
{
	struct timespec	 until;
	unsigned int	 left;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&milter_lock);
	milter_draining = 1;
	while (milter_busy > 0 && pthread_cond_timedwait(&milter_idle,
	    &milter_lock, &until) != ETIMEDOUT)
		;
	left = milter_busy;
	pthread_mutex_unlock(&milter_lock);
	return left;
}

/* busy_enter - an end of message may use the store; 0 when draining */
static int
busy_enter(void)
{
	int ok;

	pthread_mutex_lock(&milter_lock);
	if ((ok = !milter_draining))
		milter_busy++;
	pthread_mutex_unlock(&milter_lock);
	return ok;
}

static void
busy_leave(void)
{
	pthread_mutex_lock(&milter_lock);
	if (--milter_busy == 0)
		pthread_cond_broadcast(&milter_idle);
	pthread_mutex_unlock(&milter_lock);
}

static void
mctx_free(struct mctx *m)
{
	size_t i;

	if (m == NULL)
		return;
	buf_free(&m->raw);
	free(m->from);
	for (i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->rcpt);
	free(m);
}

/* symval - a macro's value; libmilter's prototype lacks const */
static const char *
symval(SMFICTX *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)(uintptr_t)name);
}

/* the queue id for log lines, or "NOQUEUE" */
static const char *
qid(SMFICTX *ctx)
{
	const char *q = symval(ctx, "i");

	return q && *q ? q : "NOQUEUE";
}

/* strip the <> of an envelope address; a copy */
static char *
addr_copy(const char *a)
{
	size_t n;

	if (a == NULL)
		return strdup("");
	if (*a == '<')
		a++;
	n = strcspn(a, ">");
	return strndup(a, n);
}

/* next - the callback is done: no reply where none was negotiated */
static sfsistat
next(const struct cctx *c, unsigned long noreply)
{
	return c->pflags & noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* skip - leave the message alone: accept it now, or at the next reply */
static sfsistat
skip(const struct cctx *c, unsigned long noreply)
{
	return c->pflags & noreply ? SMFIS_NOREPLY : SMFIS_ACCEPT;
}

/* msg_drop - leave the current message alone from here on */
static sfsistat
msg_drop(SMFICTX *ctx, struct cctx *c, unsigned long noreply,
    const char *op)
{
	if (c->msg->oversize)
		log_info("%s: skip reason=\"larger than max_message_size\"",
		    qid(ctx));
	else
		log_warn("%s: skip op=%s", qid(ctx), op);
	mctx_free(c->msg);
	c->msg = NULL;
	return skip(c, noreply);
}

/*
 * The connection context starts here: it holds the steps negotiated for
 * this connection. Without it (out of memory) no "no reply" step is asked
 * for, and the first callback accepts.
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct cctx	*c;
	unsigned long	 want = SMFIP_NOHELO | SMFIP_NOUNKNOWN;

	(void)f2;
	(void)f3;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		log_warn("milter op=negotiate");
	else
		want |= SMFIP_NOEOH | MILTER_NOREPLY;
	*pf0 = f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS);
	want &= f1;
	if (f1 & SMFIP_HDR_LEADSPC)
		want |= SMFIP_HDR_LEADSPC;
	*pf1 = want;
	*pf2 = 0;
	*pf3 = 0;
	if (c != NULL) {
		c->pflags = want;
		smfi_setpriv(ctx, c);
	}
	return SMFIS_CONTINUE;
}

/* sa_port - the port of an AF_INET/AF_INET6 address, -1 for other families */
static int
sa_port(const struct sockaddr *sa)
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return -1;
}

/*
 * is_local - Postfix's non-SMTP path: cleanup, fed by pickup (sendmail)
 * and running non_smtpd_milters, has no client and presents one as
 * "localhost" at 127.0.0.1 with client port 0 (Postfix 3.7 sends the same
 * {daemon_name}, {daemon_addr} and _ as smtpd does for a loopback client
 * named localhost: the port is the difference). An SMTP client always has
 * a port: one connecting from loopback is decided by trusted_networks like
 * any other. No address at all (not AF_INET/AF_INET6: a service on a unix
 * socket) is a local process.
 */
static int
is_local(const char *host, const struct sockaddr *sa)
{
	if (sa == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6))
		return 1;
	return host != NULL && strcmp(host, "localhost") == 0 &&
	    sa_port(sa) == 0 && net_list_match_sa(&loopback, sa);
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct cctx	*c = smfi_getpriv(ctx);
	const char	*d, *da = symval(ctx, "{daemon_addr}");
	const char	*u = symval(ctx, "_");
	char		 h[LOG_STR_MAX], us[LOG_STR_MAX];

	if (c == NULL)
		return SMFIS_ACCEPT;
	c->local = is_local(host, addr);
	c->trusted = net_list_match_sa(&cfg_now()->trusted_networks, addr);
	if ((d = symval(ctx, "{daemon_name}")) != NULL)
		c->daemon = strdup(d);
	log_debug("connect host=%s port=%d daemon=%.60s daemon_addr=%.60s "
	    "client=%s local=%d trusted=%d",
	    log_str(h, sizeof(h), host ? host : "-"), sa_port(addr),
	    d ? d : "-", da ? da : "-", log_str(us, sizeof(us), u ? u : "-"),
	    c->local, c->trusted);
	return next(c, SMFIP_NR_CONN);
}

/* outbound: authenticated, from a trusted network, or an originating daemon */
static int
is_outbound(SMFICTX *ctx, struct cctx *c, const char **why)
{
	const char	*auth = symval(ctx, "{auth_authen}");
	const char	*d = symval(ctx, "{daemon_name}");
	char *const	*od = cfg_now()->originating_daemons;
	size_t		 i;

	if (auth && *auth) {
		*why = "authenticated";
		return 1;
	}
	if (d == NULL)
		d = c->daemon;
	for (i = 0; d && od[i]; i++)
		if (strcmp(d, od[i]) == 0) {
			*why = "originating_daemon";
			return 1;
		}
	if (c->local) {
		*why = "local";
		return 1;
	}
	if (c->trusted) {
		*why = "trusted_network";
		return 1;
	}
	return 0;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct cctx	*c = smfi_getpriv(ctx);
	const char	*why = NULL;

	if (c == NULL)
		return SMFIS_ACCEPT;
	mctx_free(c->msg);
	c->msg = NULL;
	if (!is_outbound(ctx, c, &why)) {
		log_debug("%s: skip reason=inbound", qid(ctx));
		return skip(c, SMFIP_NR_MAIL);
	}
	if ((c->msg = calloc(1, sizeof(*c->msg))) == NULL ||
	    (c->msg->from = addr_copy(argv[0])) == NULL) {
		log_warn("%s: skip op=envfrom", qid(ctx));
		mctx_free(c->msg);
		c->msg = NULL;
		return skip(c, SMFIP_NR_MAIL);
	}
	return next(c, SMFIP_NR_MAIL);
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;
	char		**v;

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (m == NULL)
		return skip(c, SMFIP_NR_RCPT);
	if ((v = realloc(m->rcpt, (m->nrcpt + 1) * sizeof(*v))) == NULL ||
	    (v[m->nrcpt] = addr_copy(argv[0])) == NULL) {
		if (v)
			m->rcpt = v;
		return msg_drop(ctx, c, SMFIP_NR_RCPT, "envrcpt");
	}
	m->rcpt = v;
	m->nrcpt++;
	return next(c, SMFIP_NR_RCPT);
}

/* the decision made at MAIL FROM goes back to Postfix here */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct cctx *c = smfi_getpriv(ctx);

	if (c == NULL || c->msg == NULL)
		return SMFIS_ACCEPT;
	return SMFIS_CONTINUE;
}

/*
 * raw_append - append to the raw message; -1 when out of memory or when it
 * would outgrow max_message_size (then oversize is set)
 */
static int
raw_append(struct mctx *m, const char *p, size_t n)
{
	if (m->raw.len + n > cfg_now()->max_message_size) {
		m->oversize = 1;
		return -1;
	}
	return buf_append(&m->raw, p, n);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;
	const char	*p;
	int		 rc;

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (m == NULL)
		return skip(c, SMFIP_NR_HDR);
	/* Postfix sends folded values with bare LF: the message has CRLF */
	rc = raw_append(m, name, strlen(name)) | raw_append(m, ":", 1);
	if (!(c->pflags & SMFIP_HDR_LEADSPC))
		rc |= raw_append(m, " ", 1);
	for (p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			rc |= raw_append(m, "\r", 1);
		rc |= raw_append(m, p, 1);
	}
	rc |= raw_append(m, "\r\n", 2);
	if (rc)
		return msg_drop(ctx, c, SMFIP_NR_HDR, "header");
	return next(c, SMFIP_NR_HDR);
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;

	if (c == NULL)
		return SMFIS_ACCEPT;
	if (m == NULL)
		return skip(c, SMFIP_NR_BODY);
	/* no end of header event: the first chunk brings the blank line */
	if ((!m->body && raw_append(m, "\r\n", 2) == -1) ||
	    raw_append(m, (const char *)chunk, len) == -1)
		return msg_drop(ctx, c, SMFIP_NR_BODY, "body");
	m->body = 1;
	return next(c, SMFIP_NR_BODY);
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct cctx		*c = smfi_getpriv(ctx);
	struct mctx		*m = c ? c->msg : NULL;
	struct rewrite_result	 r;
	struct rewrite_info	 info;
	const char		*q = qid(ctx);
	char			 why[LOG_STR_MAX];
	size_t			 i;

	if (m == NULL)
		return SMFIS_ACCEPT;
	if (!busy_enter()) {
		log_info("%s: untracked reason=\"shutting down\"", q);
		mctx_free(m);
		c->msg = NULL;
		return SMFIS_ACCEPT;
	}
	if (!m->body && raw_append(m, "\r\n", 2) == -1) {
		busy_leave();
		return msg_drop(ctx, c, 0, "eom");
	}
	memset(&info, 0, sizeof(info));
	info.from = m->from;
	info.rcpt = (const char *const *)m->rcpt;
	info.nrcpt = m->nrcpt;
	info.queue_id = q;
	info.keys = milter_keys;
	if (rewrite_message(cfg_now(), milter_store, &info,
	    m->raw.data ? m->raw.data : "", m->raw.len, &r) == -1) {
		log_warnx("%s: unchanged reason=%s", q,
		    log_str(why, sizeof(why), r.skip));
		goto done;
	}
	/* all header edits come before the body: Postfix refuses a mix */
	for (i = 0; i < r.nhdrs; i++) {
		int rc = r.hdrs[i].index == 0 ?
		    smfi_addheader(ctx, r.hdrs[i].name, r.hdrs[i].value) :
		    smfi_chgheader(ctx, r.hdrs[i].name, (int)r.hdrs[i].index,
		    r.hdrs[i].value);

		if (rc != MI_SUCCESS) {
			log_warnx("%s: header edit failed name=%s", q,
			    r.hdrs[i].name);
			goto done;
		}
	}
	if (!r.changed) {
		log_info("%s: untracked reason=%s", q,
		    log_str(why, sizeof(why), r.skip));
		goto done;
	}
	/* rewrite_message refused longer bodies: the cast keeps every byte */
	if (!rewrite_body_fits(r.body.len) ||
	    smfi_replacebody(ctx, (unsigned char *)r.body.data,
	    (int)r.body.len) != MI_SUCCESS) {
		log_warnx("%s: body replacement failed", q);
		goto done;
	}
	log_info("%s: tracked links=%u parts=%u pixel=%s id=%s size=%zu",
	    q, r.links, r.parts, r.pixel ? "yes" : "no",
	    r.msg_id[0] ? r.msg_id : "-", r.body.len);
done:
	busy_leave();
	rewrite_result_free(&r);
	mctx_free(m);
	c->msg = NULL;
	return SMFIS_ACCEPT;
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct cctx *c = smfi_getpriv(ctx);

	if (c) {
		mctx_free(c->msg);
		c->msg = NULL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct cctx *c = smfi_getpriv(ctx);

	if (c) {
		mctx_free(c->msg);
		free(c->daemon);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int
milter_register(void)
{
	struct smfiDesc desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)"mtrack";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS;
	desc.xxfi_connect = mlfi_connect;
	desc.xxfi_envfrom = mlfi_envfrom;
	desc.xxfi_envrcpt = mlfi_envrcpt;
	desc.xxfi_data = mlfi_data;
	desc.xxfi_header = mlfi_header;
	desc.xxfi_body = mlfi_body;
	desc.xxfi_eom = mlfi_eom;
	desc.xxfi_abort = mlfi_abort;
	desc.xxfi_close = mlfi_close;
	desc.xxfi_negotiate = mlfi_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
