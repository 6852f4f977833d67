/*
 * milter - mlfi_* callbacks: decide which mail is outbound, collect it,
 * run the rewrite engine at end of message and hand Postfix the result.
 *
 * Whatever fails, the message goes on unchanged (SMFIS_ACCEPT) and one
 * log line says why: mtrack never rejects, tempfails or loses mail.
 * A connection context lives from connect to close; a message context
 * from MAIL FROM to end of message or abort (a connection carries several
 * messages). Callbacks of one connection may run on different threads:
 * all state lives in the context, none in thread-locals.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

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
	int		 oversize;
};

struct cctx {				/* one SMTP connection */
	int		 local;		/* local submission */
	int		 trusted;	/* from trusted_networks */
	char		*daemon;	/* {daemon_name} at connect */
	struct mctx	*msg;
};

static const struct config	*milter_cfg;
static struct store		*milter_store;
static unsigned long		 milter_pflags;	/* negotiated protocol steps */
static struct netlist		 loopback;

void
milter_setup(const struct config *cfg, struct store *st)
{
	char err[64];

	milter_cfg = cfg;
	milter_store = st;
	net_list_parse(&loopback, "127.0.0.0/8 ::1", err, sizeof(err));
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

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	/*
	 * Not SMFIP_NODATA: measured, skipping the DATA event made Postfix
	 * wait ~50 ms per message (a delayed ACK on the milter socket).
	 */
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN;

	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS);
	if (want & ~f1)
		want &= f1;
	if (f1 & SMFIP_HDR_LEADSPC)
		want |= SMFIP_HDR_LEADSPC;
	*pf1 = want;
	*pf2 = 0;
	*pf3 = 0;
	milter_pflags = want;
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	struct cctx	*c;
	const char	*d;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("milter op=connect");
		return SMFIS_ACCEPT;
	}
	/*
	 * Postfix presents local submission (sendmail, non_smtpd_milters) as
	 * "localhost" at a loopback address; no address at all is local too.
	 * A loopback SMTP client whose name is localhost is on this host
	 * either way.
	 */
	c->local = addr == NULL || (addr->sa_family != AF_INET &&
	    addr->sa_family != AF_INET6) || (host &&
	    strcmp(host, "localhost") == 0 && net_list_match_sa(&loopback,
	    addr));
	c->trusted = net_list_match_sa(&milter_cfg->trusted_networks, addr);
	if ((d = symval(ctx, "{daemon_name}")) != NULL)
		c->daemon = strdup(d);
	log_debug("connect host=%.100s daemon=%.60s local=%d trusted=%d",
	    host ? host : "-", d ? d : "-", c->local, c->trusted);
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

/* outbound: authenticated, from a trusted network, or an originating daemon */
static int
is_outbound(SMFICTX *ctx, struct cctx *c, const char **why)
{
	const char	*auth = symval(ctx, "{auth_authen}");
	const char	*d = symval(ctx, "{daemon_name}");
	size_t		 i;

	if (auth && *auth) {
		*why = "authenticated";
		return 1;
	}
	if (d == NULL)
		d = c->daemon;
	for (i = 0; d && milter_cfg->originating_daemons[i]; i++)
		if (strcmp(d, milter_cfg->originating_daemons[i]) == 0) {
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
		return SMFIS_ACCEPT;
	}
	if ((c->msg = calloc(1, sizeof(*c->msg))) == NULL ||
	    (c->msg->from = addr_copy(argv[0])) == NULL) {
		log_warn("%s: skip op=envfrom", qid(ctx));
		mctx_free(c->msg);
		c->msg = NULL;
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;
	char		**v;

	if (m == NULL)
		return SMFIS_ACCEPT;
	if ((v = realloc(m->rcpt, (m->nrcpt + 1) * sizeof(*v))) == NULL ||
	    (v[m->nrcpt] = addr_copy(argv[0])) == NULL) {
		if (v)
			m->rcpt = v;
		log_warn("%s: skip op=envrcpt", qid(ctx));
		return SMFIS_ACCEPT;
	}
	m->rcpt = v;
	m->nrcpt++;
	return SMFIS_CONTINUE;
}

/* append to the raw message unless it outgrew max_message_size */
static int
raw_append(struct mctx *m, const char *p, size_t n)
{
	if (m->oversize || m->raw.len + n > milter_cfg->max_message_size) {
		m->oversize = 1;
		buf_free(&m->raw);
		return 0;
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

	if (m == NULL)
		return SMFIS_ACCEPT;
	/* Postfix sends folded values with bare LF: the message has CRLF */
	rc = raw_append(m, name, strlen(name)) | raw_append(m, ":", 1);
	if (!(milter_pflags & SMFIP_HDR_LEADSPC))
		rc |= raw_append(m, " ", 1);
	for (p = value; *p; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			rc |= raw_append(m, "\r", 1);
		rc |= raw_append(m, p, 1);
	}
	rc |= raw_append(m, "\r\n", 2);
	if (rc) {
		log_warn("%s: skip op=header", qid(ctx));
		return SMFIS_ACCEPT;
	}
	if (m->oversize) {
		log_info("%s: skip reason=\"larger than max_message_size\"",
		    qid(ctx));
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;

	if (m == NULL)
		return SMFIS_ACCEPT;
	if (raw_append(m, "\r\n", 2) == -1) {
		log_warn("%s: skip op=eoh", qid(ctx));
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct cctx	*c = smfi_getpriv(ctx);
	struct mctx	*m = c ? c->msg : NULL;

	if (m == NULL)
		return SMFIS_ACCEPT;
	if (raw_append(m, (const char *)chunk, len) == -1) {
		log_warn("%s: skip op=body", qid(ctx));
		return SMFIS_ACCEPT;
	}
	if (m->oversize) {
		log_info("%s: skip reason=\"larger than max_message_size\"",
		    qid(ctx));
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
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

	if (m == NULL || m->oversize)
		return SMFIS_ACCEPT;
	memset(&info, 0, sizeof(info));
	info.from = m->from;
	info.rcpt = (const char *const *)m->rcpt;
	info.nrcpt = m->nrcpt;
	info.queue_id = q;
	if (rewrite_message(milter_cfg, milter_store, &info,
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
	if (smfi_replacebody(ctx, (unsigned char *)r.body.data,
	    (int)r.body.len) != MI_SUCCESS) {
		log_warnx("%s: body replacement failed", q);
		goto done;
	}
	log_info("%s: tracked links=%u parts=%u pixel=%s id=%s size=%zu",
	    q, r.links, r.parts, r.pixel ? "yes" : "no",
	    r.msg_id[0] ? r.msg_id : "-", r.body.len);
done:
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
	desc.xxfi_header = mlfi_header;
	desc.xxfi_eoh = mlfi_eoh;
	desc.xxfi_body = mlfi_body;
	desc.xxfi_eom = mlfi_eom;
	desc.xxfi_abort = mlfi_abort;
	desc.xxfi_close = mlfi_close;
	desc.xxfi_negotiate = mlfi_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
