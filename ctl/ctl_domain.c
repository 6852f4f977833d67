/*
 * ctl_domain - "mtrackctl domain add|check|list": tracking domains, the DNS
 * records they need, and a check of everything a tracking domain relies
 * on (DNS, TLS, the tracker behind it, alignment and mail authentication
 * of its sending domains). Results are kept in the store (domain.h).
 *
 * check exits 0 when every item is ok, 1 with warnings, 2 with failures.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "domain.h"
#include "probe.h"

enum verdict { V_OK, V_WARN, V_FAIL };
static const char *const verdict_names[] = { "ok", "warn", "fail" };

#define EXPIRY_WARN	(21 * 86400)	/* certbot and uacme renew 30 days ahead: 21 means renewal failed */

/* one configured tracking domain: its URL and its sending domains */
struct target {
	char		 name[DOMAIN_MAX];
	const char	*url;		/* NULL: not configured */
	int		 is_default;	/* the host of tracking_url */
	struct config_tdomain senders[64];
	size_t		 nsenders;
};

/* the report of one check */
struct report {
	json_t		*items;		/* [{"check","status","detail"}] */
	enum verdict	 worst;
	int		 json;
	int		 nwarn, nfail;
};

static void
say(struct report *rp, enum verdict v, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* say - one item of the report, printed at once unless --json */
static void
say(struct report *rp, enum verdict v, const char *check, const char *fmt, ...)
{
	va_list	ap;
	char	detail[1024];

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (v > rp->worst)
		rp->worst = v;
	rp->nwarn += v == V_WARN;
	rp->nfail += v == V_FAIL;
	if (rp->json)
		json_array_append_new(rp->items, json_pack("{s:s, s:s, s:s}",
		    "check", check, "status", verdict_names[v], "detail", detail));
	else
		printf("%-4s  %-8s %s\n", verdict_names[v], check, detail);
}

/* fmt_time - unix seconds as "YYYY-MM-DD HH:MM UTC", "never" for 0 */
static const char *
fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, outlen, "never");
	else
		strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm);
	return out;
}

/* target_find - what the configuration says about tracking domain name */
static void
target_find(const struct config *cfg, const char *name, struct target *t)
{
	struct config_tdomain	td;
	char			host[DOMAIN_MAX];
	size_t			i;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (dnsname_url_host(cfg->tracking_url, host, sizeof(host)) == 0 &&
	    strcmp(host, name) == 0) {
		t->url = cfg->tracking_url;
		t->is_default = 1;
	}
	for (i = 0; cfg->tracking_domains && cfg->tracking_domains[i]; i++) {
		if (config_tdomain(cfg->tracking_domains[i], &td) == -1 ||
		    dnsname_url_host(td.url, host, sizeof(host)) == -1 ||
		    strcmp(host, name) != 0)
			continue;
		if (t->url == NULL)
			t->url = td.url;
		if (td.len < DOMAIN_MAX && t->nsenders < sizeof(t->senders) /
		    sizeof(t->senders[0]))
			t->senders[t->nsenders++] = td;
	}
}

/* sender_name - the sending domain of a tracking_domains entry, NUL-terminated in out */
static const char *
sender_name(const struct config_tdomain *td, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.*s", (int)td->len, td->domain);
	return out;
}

/* name_arg - the DOMAIN argument, lowercased and checked */
static int
name_arg(const char *arg, char *out, size_t outlen)
{
	size_t i, n = strlen(arg);

	if (n > 0 && arg[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen) {
		fprintf(stderr, "mtrackctl: not a domain name: \"%.64s\"\n", arg);
		return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = (char)((arg[i] >= 'A' && arg[i] <= 'Z') ? arg[i] + 32 :
		    arg[i]);
	out[n] = '\0';
	if (!dnsname_valid(out)) {
		fprintf(stderr, "mtrackctl: not a domain name: \"%.64s\"\n", arg);
		return -1;
	}
	return 0;
}

/* add ---------------------------------------------------------------------- */

static int
ctl_domain_add(struct ctl *c, const char *name)
{
	struct domain_rec	 r;
	struct target		 t;
	struct store		*st;
	size_t			 i;
	int			 rc, ret = 2;

	target_find(&c->cfg, name, &t);
	if ((st = ctl_store(c, 0)) == NULL)
		return 2;
	if (domain_sync(st, &c->cfg, time(NULL)) == -1 ||
	    (rc = domain_get(st, name, &r)) == -1)
		goto out;
	if (rc == 1) {
		memset(&r, 0, sizeof(r));
		snprintf(r.status, sizeof(r.status), "new");
		r.added = r.changed = time(NULL);
		if (domain_put(st, name, &r) == -1)
			goto out;
		printf("%s: added\n", name);
	} else
		printf("%s: already added (status %s)\n", name, r.status);
	ret = 0;
	if (c->cfg.cname_target) {
		printf("Create this DNS record:\n  %s. 3600 IN CNAME %s.\n", name,
		    c->cfg.cname_target);
		if (c->cfg.tracker_addresses && c->cfg.tracker_addresses[0])
			printf("(or the A/AAAA records below)\n");
	} else if (c->cfg.tracker_addresses && c->cfg.tracker_addresses[0])
		printf("Create these DNS records:\n");
	for (i = 0; c->cfg.tracker_addresses && c->cfg.tracker_addresses[i]; i++)
		printf("  %s. 3600 IN %s %s\n", name,
		    strchr(c->cfg.tracker_addresses[i], ':') ? "AAAA" : "A",
		    c->cfg.tracker_addresses[i]);
	if (c->cfg.cname_target == NULL && (c->cfg.tracker_addresses == NULL ||
	    c->cfg.tracker_addresses[0] == NULL)) {
		/* the domain is added all the same: a warning, not a failure */
		fprintf(stderr, "mtrackctl: warning: set cname_target or "
		    "tracker_addresses in the configuration: they say where %s "
		    "must point\n", name);
	}
	if (t.url == NULL)
		fprintf(stderr, "mtrackctl: note: %s is not used yet: give it to"
		    " a sending domain in tracking_domains (or tracking_url)\n",
		    name);
	printf("Then run: mtrackctl domain check %s\n", name);
out:
	store_close(st);
	return ret;
}

/* check -------------------------------------------------------------------- */

struct check_opts {
	const char	*resolver;	/* NULL: /etc/resolv.conf */
	const char	*connect;	/* IP:PORT instead of the resolved address */
	const char	*ca_file;	/* NULL: tls_ca_file, else the system's */
	int		 timeout;
};

/* in_list - s equals an entry of l (case-insensitive) */
static int
in_list(const struct probe_list *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* join - the entries of l, comma separated, into out */
static const char *
join(const struct probe_list *l, char *out, size_t outlen)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? ", " : "",
		    l->v[i]);
	return out;
}

/* resolve - A and AAAA of name (and the CNAMEs met); 0, 1 none, -1 error */
static int
resolve(struct probe_dns *d, const char *name, struct probe_list *addrs,
    struct probe_list *cnames, char *err, size_t errlen)
{
	int a, aaaa;

	if ((a = probe_dns_query(d, name, PROBE_A, addrs, cnames, err,
	    errlen)) == -1)
		return -1;
	/* the chain is in the A answer already: do not list it twice */
	if ((aaaa = probe_dns_query(d, name, PROBE_AAAA, addrs,
	    cnames && cnames->n ? NULL : cnames, err, errlen)) == -1)
		return -1;
	return a == 0 || aaaa == 0 ? 0 : 1;
}

/* check_dns - the name reaches the tracker: CNAME to cname_target or its addresses */
static void
check_dns(struct report *rp, const struct config *cfg, struct probe_dns *d,
    const char *name, struct probe_list *addrs)
{
	struct probe_list	 cn = { NULL, 0 }, want = { NULL, 0 };
	struct probe_list	 tcn = { NULL, 0 };
	char			 err[300], a[512], b[512], via[300];
	size_t			 i;
	int			 rc;

	rc = resolve(d, name, addrs, &cn, err, sizeof(err));
	if (rc == -1) {
		say(rp, V_FAIL, "dns", "%s", err);
		goto out;
	}
	if (addrs->n == 0 && cn.n == 0) {
		say(rp, V_FAIL, "dns", "%s has no CNAME, A or AAAA record", name);
		goto out;
	}
	if (cfg->cname_target && in_list(&cn, cfg->cname_target)) {
		say(rp, V_OK, "dns", "%s CNAME %s (%s)", name, cfg->cname_target,
		    addrs->n ? join(addrs, a, sizeof(a)) : "no address");
		goto out;
	}
	snprintf(via, sizeof(via), "%s%s", cn.n ? "CNAME " : "", cn.n ?
	    cn.v[0] : "");
	/* the tracker's addresses: configured, else those of cname_target */
	for (i = 0; cfg->tracker_addresses && cfg->tracker_addresses[i]; i++)
		if (probe_list_add(&want, cfg->tracker_addresses[i]) == -1) {
			say(rp, V_FAIL, "dns", "out of memory");
			goto out;
		}
	if (want.n == 0 && cfg->cname_target &&
	    resolve(d, cfg->cname_target, &want, &tcn, err, sizeof(err)) == -1) {
		say(rp, V_FAIL, "dns", "cname_target %s: %s", cfg->cname_target,
		    err);
		goto out;
	}
	if (want.n == 0) {
		if (cfg->cname_target)
			say(rp, V_FAIL, "dns", "%s has %s%s%s, not CNAME %s", name,
			    via, cn.n && addrs->n ? " " : "",
			    join(addrs, a, sizeof(a)), cfg->cname_target);
		else
			say(rp, V_WARN, "dns", "%s has %s%s%s; set cname_target or"
			    " tracker_addresses to tell whether that is the"
			    " tracker", name, via, cn.n && addrs->n ? " " : "",
			    join(addrs, a, sizeof(a)));
		goto out;
	}
	for (i = 0; i < addrs->n; i++)
		if (!in_list(&want, addrs->v[i]))
			break;
	if (addrs->n == 0 || i < addrs->n) {
		if (cfg->cname_target)
			say(rp, V_FAIL, "dns", "%s has %s%s%s, not CNAME %s (%s)",
			    name, via, cn.n && addrs->n ? " " : "",
			    join(addrs, a, sizeof(a)), cfg->cname_target,
			    join(&want, b, sizeof(b)));
		else
			say(rp, V_FAIL, "dns", "%s has %s%s%s, not the tracker's"
			    " %s", name, via, cn.n && addrs->n ? " " : "",
			    join(addrs, a, sizeof(a)), join(&want, b, sizeof(b)));
		goto out;
	}
	say(rp, V_OK, "dns", "%s has %s%s%s: addresses of the tracker", name,
	    via, cn.n ? " " : "", join(addrs, a, sizeof(a)));
out:
	probe_list_free(&cn);
	probe_list_free(&want);
	probe_list_free(&tcn);
}

/* url_port - the port of an http(s) URL */
static int
url_port(const char *url, int tls)
{
	const char	*h = strstr(url, "://") + 3, *e, *colon;

	e = h + strcspn(h, "/?#");
	if (*h == '[')
		h = memchr(h, ']', (size_t)(e - h)) ? memchr(h, ']', (size_t)(e - h)) : h;
	colon = memchr(h, ':', (size_t)(e - h));
	return colon ? atoi(colon + 1) : tls ? 443 : 80;
}

/* check_web - the TLS certificate and GET /healthz through the name */
static void
check_web(struct report *rp, const struct check_opts *o, const char *name,
    const char *url, const struct probe_list *addrs)
{
	struct probe_web	 w;
	char			 addr[64], when[40];
	int			 tls = strncasecmp(url, "https:", 6) == 0;
	int			 port = url_port(url, tls);
	int64_t			 left;

	if (!tls)
		say(rp, V_WARN, "tls", "the tracking URL is %s: links and pixel"
		    " travel unencrypted", url);
	if (o->connect) {
		if (probe_addr_port(o->connect, addr, sizeof(addr), &port) == -1) {
			say(rp, V_FAIL, "healthz", "bad --connect \"%.64s\"",
			    o->connect);
			return;
		}
	} else if (addrs->n == 0) {
		if (tls)
			say(rp, V_FAIL, "tls", "no address to connect to");
		say(rp, V_FAIL, "healthz", "no address to connect to");
		return;
	} else
		snprintf(addr, sizeof(addr), "%s", addrs->v[0]);
	probe_web(name, addr, port, tls, o->ca_file, "/healthz", o->timeout, &w);
	if (tls) {
		if (!w.handshake)
			say(rp, V_FAIL, "tls", "%s port %d: %s", addr, port, w.err);
		else if (!w.verified)
			say(rp, V_FAIL, "tls", "certificate not valid for %s: %s",
			    name, w.verify_err);
		else if ((left = w.not_after - (int64_t)time(NULL)) < EXPIRY_WARN)
			say(rp, V_WARN, "tls", "certificate for %s expires %s (in"
			    " %lld days): renew it", name,
			    fmt_time(w.not_after, when, sizeof(when)),
			    (long long)(left / 86400));
		else
			say(rp, V_OK, "tls", "certificate valid for %s until %s"
			    " (%lld days)", name, fmt_time(w.not_after, when,
			    sizeof(when)), (long long)(left / 86400));
	}
	if (w.http_status == 200)
		say(rp, V_OK, "healthz", "GET %s/healthz via %s port %d: 200", url,
		    addr, port);
	else if (w.http_status)
		say(rp, V_FAIL, "healthz", "GET %s/healthz via %s port %d: %d", url,
		    addr, port, w.http_status);
	else
		say(rp, V_FAIL, "healthz", "GET %s/healthz via %s port %d: %s",
		    url, addr, port, w.err[0] ? w.err : "no answer");
}

/* txt_with - the TXT records of name starting with prefix (case-insensitive) */
static int
txt_with(struct probe_dns *d, const char *name, const char *prefix,
    struct probe_list *found, char *err, size_t errlen)
{
	struct probe_list	 all = { NULL, 0 };
	size_t			 i, plen = strlen(prefix);
	int			 rc;

	if ((rc = probe_dns_query(d, name, PROBE_TXT, &all, NULL, err,
	    errlen)) == -1)
		return -1;
	for (i = 0; i < all.n; i++)
		if (strncasecmp(all.v[i], prefix, plen) == 0 &&
		    (all.v[i][plen] == '\0' || all.v[i][plen] == ' ' ||
		    all.v[i][plen] == ';') &&
		    probe_list_add(found, all.v[i]) == -1) {
			snprintf(err, errlen, "out of memory");
			probe_list_free(&all);
			return -1;
		}
	probe_list_free(&all);
	return found->n ? 0 : 1;
}

/* check_mx - the reply domain receives mail */
static void
check_mx(struct report *rp, struct probe_dns *d, const char *dom)
{
	struct probe_list	 mx = { NULL, 0 };
	char			 err[300], a[512];
	int			 rc;

	rc = probe_dns_query(d, dom, PROBE_MX, &mx, NULL, err, sizeof(err));
	if (rc == -1)
		say(rp, V_FAIL, "mx", "%s", err);
	else if (rc == 1)
		say(rp, V_FAIL, "mx", "%s has no MX record: replies bounce", dom);
	else if (mx.n == 1 && strcmp(strchr(mx.v[0], ' ') + 1, ".") == 0)
		say(rp, V_FAIL, "mx", "%s has a null MX: it takes no mail", dom);
	else
		say(rp, V_OK, "mx", "%s MX %s", dom, join(&mx, a, sizeof(a)));
	probe_list_free(&mx);
}

/* check_dkim - the key of the configured selector is published */
static void
check_dkim(struct report *rp, const struct config *cfg, struct probe_dns *d,
    const char *s)
{
	struct probe_list	 l = { NULL, 0 };
	char			 err[300], q[600];
	const char		*p;
	int			 rc;

	snprintf(q, sizeof(q), "%s._domainkey.%s", cfg->dkim_selector, s);
	rc = probe_dns_query(d, q, PROBE_TXT, &l, NULL, err, sizeof(err));
	p = NULL;
	if (rc == 0) {
		/* the key: "p=" followed by something other than ';' or the end */
		const char *k = l.v[0];

		for (; (k = strstr(k, "p=")) != NULL; k += 2)
			if (k == l.v[0] || k[-1] == ';' || k[-1] == ' ') {
				p = k + 2 + strspn(k + 2, " ");
				break;
			}
	}
	if (rc == -1)
		say(rp, V_FAIL, "dkim", "%s", err);
	else if (rc == 1)
		say(rp, V_FAIL, "dkim", "no DKIM key at %s", q);
	else if (p == NULL)
		say(rp, V_FAIL, "dkim", "%s has no p= tag", q);
	else if (*p == '\0' || *p == ';')
		say(rp, V_FAIL, "dkim", "%s: the key is revoked (empty p=)", q);
	else
		say(rp, V_OK, "dkim", "%s has a key", q);
	probe_list_free(&l);
}

/* check_sender - alignment, mail authentication and MX of one sending domain */
static void
check_sender(struct report *rp, const struct config *cfg, struct probe_dns *d,
    const char *name, const char *s)
{
	struct probe_list	 l = { NULL, 0 };
	char			 err[300], q[600], ra[DOMAIN_MAX], rb[DOMAIN_MAX];
	int			 rc;

	switch (domain_aligned(name, s)) {
	case 1:
		domain_registrable(s, ra, sizeof(ra));
		say(rp, V_OK, "aligned", "%s and %s share the registrable domain %s",
		    s, name, ra);
		break;
	case 0:
		domain_registrable(s, ra, sizeof(ra));
		domain_registrable(name, rb, sizeof(rb));
		say(rp, V_WARN, "aligned", "%s (%s) and %s (%s) differ: links to"
		    " another domain than the sender's look suspicious", s, ra,
		    name, rb);
		break;
	default:
		say(rp, V_WARN, "aligned", "no registrable domain for %s or %s",
		    s, name);
	}

	rc = txt_with(d, s, "v=spf1", &l, err, sizeof(err));
	if (rc == -1)
		say(rp, V_FAIL, "spf", "%s", err);
	else if (rc == 1)
		say(rp, V_FAIL, "spf", "%s has no SPF record (TXT \"v=spf1 ...\")", s);
	else if (l.n > 1)
		say(rp, V_FAIL, "spf", "%s has %zu SPF records: receivers treat"
		    " that as an error", s, l.n);
	else
		say(rp, V_OK, "spf", "%s: %.200s", s, l.v[0]);
	probe_list_free(&l);

	snprintf(q, sizeof(q), "_dmarc.%s", s);
	rc = txt_with(d, q, "v=DMARC1", &l, err, sizeof(err));
	if (rc == 1 && domain_registrable(s, ra, sizeof(ra)) == 0 &&
	    strcmp(ra, s) != 0) {
		/* the organizational domain's policy covers its subdomains */
		snprintf(q, sizeof(q), "_dmarc.%s", ra);
		rc = txt_with(d, q, "v=DMARC1", &l, err, sizeof(err));
	}
	if (rc == -1)
		say(rp, V_FAIL, "dmarc", "%s", err);
	else if (rc == 1)
		say(rp, V_FAIL, "dmarc", "%s has no DMARC record (TXT at _dmarc.%s)",
		    s, s);
	else
		say(rp, V_OK, "dmarc", "%s: %.200s", q, l.v[0]);
	probe_list_free(&l);

	if (cfg->dkim_selector == NULL)
		say(rp, V_WARN, "dkim", "dkim_selector is not set: %s's DKIM key"
		    " not checked", s);
	else
		check_dkim(rp, cfg, d, s);
	if (cfg->reply_domain == NULL)
		check_mx(rp, d, s);
}

struct moves {
	struct report	*rp;
	const char	*name;
	int64_t		 now;
	int		 n;
};

/* move_cb - warn about a sending domain that moved to or from name lately */
static int
move_cb(void *arg, const struct domain_sender *s)
{
	struct moves	*m = arg;
	char		 when[40], until[40];
	const char	*who = s->sending[0] ? s->sending : "the default tracking_url";

	if (!domain_recent(s->changed, m->now) || (strcmp(s->domain, m->name) &&
	    strcmp(s->previous, m->name)))
		return 0;
	m->n++;
	say(m->rp, V_WARN, "moved", "%s moved from %s to %s on %s: links in mail"
	    " sent before still use %s; keep it pointing at the tracker with a"
	    " valid certificate (at least until %s)", who, s->previous, s->domain,
	    fmt_time(s->changed, when, sizeof(when)), s->previous,
	    fmt_time(s->changed + DOMAIN_RECENT, until, sizeof(until)));
	return 0;
}

static int
ctl_domain_check(struct ctl *c, const char *name, const struct check_opts *o,
    int json)
{
	struct report		 rp;
	struct target		 t;
	struct domain_rec	 r;
	struct probe_dns	*d = NULL;
	struct probe_list	 addrs = { NULL, 0 };
	struct store		*st = NULL;
	struct moves		 mv;
	const char		*url;
	char			 err[300], s[DOMAIN_MAX], when[40];
	int64_t			 now = time(NULL);
	size_t			 i;
	int			 rc;

	memset(&rp, 0, sizeof(rp));
	rp.json = json;
	if (json && (rp.items = json_array()) == NULL)
		return 2;
	target_find(&c->cfg, name, &t);
	url = t.url;
	if ((st = ctl_store(c, 0)) == NULL)
		goto out;
	if (domain_sync(st, &c->cfg, now) == -1) {
		fprintf(stderr, "mtrackctl: cannot record the sending domains\n");
		goto out;
	}
	if ((d = probe_dns_new(o->resolver, o->timeout, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mtrackctl: %s\n", err);
		goto out;
	}
	if (!json)
		printf("%s: %s\n", name, url ? url : "(not configured)");
	if (url == NULL) {
		say(&rp, V_WARN, "config", "%s is neither tracking_url's host nor"
		    " in tracking_domains: checked as https://%s", name, name);
		snprintf(err, sizeof(err), "https://%s", name);
		url = err;
	}
	check_dns(&rp, &c->cfg, d, name, &addrs);
	check_web(&rp, o, name, url, &addrs);
	for (i = 0; i < t.nsenders; i++)
		check_sender(&rp, &c->cfg, d, name, sender_name(&t.senders[i], s,
		    sizeof(s)));
	if (t.nsenders == 0)
		say(&rp, V_WARN, "senders", "no tracking_domains entry uses %s%s:"
		    " alignment, SPF, DMARC and DKIM not checked", name,
		    t.is_default ? " (it is the default for the others)" : "");
	if (c->cfg.reply_domain)
		check_mx(&rp, d, c->cfg.reply_domain);
	memset(&mv, 0, sizeof(mv));
	mv.rp = &rp;
	mv.name = name;
	mv.now = now;
	if (domain_senders(st, move_cb, &mv) == -1)
		say(&rp, V_FAIL, "moved", "cannot read the sending domain records");
	else if (mv.n == 0)
		say(&rp, V_OK, "moved", "no sending domain moved to or from %s in"
		    " the last %d days", name, DOMAIN_RECENT / 86400);

	/* remember the outcome: the milter's require_verified reads it */
	if ((rc = domain_get(st, name, &r)) != 0) {
		memset(&r, 0, sizeof(r));
		r.added = now;
	}
	if (rc == -1 || strcmp(r.status, verdict_names[rp.worst]) != 0)
		r.changed = now;
	snprintf(r.status, sizeof(r.status), "%s", verdict_names[rp.worst]);
	r.checked = now;
	if (domain_put(st, name, &r) == -1)
		fprintf(stderr, "mtrackctl: cannot record the result\n");
	if (json) {
		json_t *out = json_pack("{s:s, s:s, s:s, s:I, s:O}", "domain", name,
		    "url", url, "status", verdict_names[rp.worst], "checked",
		    (json_int_t)now, "items", rp.items);

		if (out == NULL || json_dumpf(out, stdout, JSON_INDENT(2)) == -1) {
			json_decref(out);
			goto out;
		}
		json_decref(out);
		putchar('\n');
	} else
		printf("%s: %s (%d failed, %d warnings; checked %s)\n", name,
		    verdict_names[rp.worst], rp.nfail, rp.nwarn,
		    fmt_time(now, when, sizeof(when)));
	probe_list_free(&addrs);
	probe_dns_free(d);
	store_close(st);
	json_decref(rp.items);
	return (int)rp.worst;
out:
	probe_list_free(&addrs);
	probe_dns_free(d);
	store_close(st);
	json_decref(rp.items);
	return 2;
}

/* list --------------------------------------------------------------------- */

struct listing {
	const struct config	*cfg;
	json_t			*json;		/* NULL: a table */
	char			**seen;		/* names printed */
	size_t			 nseen;
};

/* list_row - one tracking domain: record (may be NULL) and sending domains */
static int
list_row(struct listing *l, const char *name, const struct domain_rec *r)
{
	struct target	 t;
	char		 senders[512], s[DOMAIN_MAX], ch[40], ad[40];
	size_t		 i, n = 0;
	char		**v;
	json_t		*js = NULL;

	target_find(l->cfg, name, &t);
	senders[0] = '\0';
	if (t.is_default)
		n += (size_t)snprintf(senders, sizeof(senders), "(default)");
	for (i = 0; i < t.nsenders && n < sizeof(senders); i++)
		n += (size_t)snprintf(senders + n, sizeof(senders) - n, "%s%s",
		    n ? "," : "", sender_name(&t.senders[i], s, sizeof(s)));
	if (l->json) {
		if ((js = json_array()) == NULL)
			return -1;
		for (i = 0; i < t.nsenders; i++)
			json_array_append_new(js, json_string(sender_name(
			    &t.senders[i], s, sizeof(s))));
	}
	if ((v = realloc(l->seen, (l->nseen + 1) * sizeof(*v))) == NULL ||
	    (v[l->nseen] = strdup(name)) == NULL) {
		if (v)
			l->seen = v;
		json_decref(js);
		return -1;
	}
	l->seen = v;
	l->nseen++;
	if (l->json)
		return json_array_append_new(l->json, json_pack(
		    "{s:s, s:s, s:I, s:I, s:I, s:o, s:b, s:b}", "domain", name,
		    "status", r ? r->status : "not added",
		    "added", (json_int_t)(r ? r->added : 0),
		    "checked", (json_int_t)(r ? r->checked : 0),
		    "changed", (json_int_t)(r ? r->changed : 0),
		    "senders", js, "default", t.is_default,
		    "configured", t.url != NULL));
	printf("%-32s %-9s %-20s %-20s %s\n", name, r ? r->status : "not added",
	    fmt_time(r ? r->checked : 0, ch, sizeof(ch)),
	    fmt_time(r ? r->added : 0, ad, sizeof(ad)),
	    t.url ? (senders[0] ? senders : "-") : "(not configured)");
	return 0;
}

static int
list_cb(void *arg, const char *name, const struct domain_rec *r)
{
	return list_row(arg, name, r) == -1 ? -1 : 0;
}

/* list_extra - a configured tracking domain the store does not know */
static int
list_extra(struct listing *l, const char *url)
{
	char	host[DOMAIN_MAX];
	size_t	i;

	if (dnsname_url_host(url, host, sizeof(host)) == -1)
		return 0;
	for (i = 0; i < l->nseen; i++)
		if (strcmp(l->seen[i], host) == 0)
			return 0;
	return list_row(l, host, NULL);
}

static int
ctl_domain_listing(struct ctl *c, int json)
{
	struct config_tdomain	 td;
	struct listing		 l;
	struct store		*st;
	size_t			 i;
	int			 ret = 2;

	memset(&l, 0, sizeof(l));
	l.cfg = &c->cfg;
	if (json && (l.json = json_array()) == NULL)
		return 2;
	if ((st = ctl_store(c, 0)) == NULL)
		goto out;
	if (!json)
		printf("%-32s %-9s %-20s %-20s %s\n", "DOMAIN", "STATUS",
		    "CHECKED", "ADDED", "SENDING DOMAINS");
	if (domain_list(st, list_cb, &l) != 0)
		goto out;
	if (list_extra(&l, c->cfg.tracking_url) == -1)
		goto out;
	for (i = 0; c->cfg.tracking_domains && c->cfg.tracking_domains[i]; i++)
		if (config_tdomain(c->cfg.tracking_domains[i], &td) == 0 &&
		    list_extra(&l, td.url) == -1)
			goto out;
	if (json) {
		if (json_dumpf(l.json, stdout, JSON_INDENT(2)) == -1)
			goto out;
		putchar('\n');
	}
	ret = 0;
out:
	for (i = 0; i < l.nseen; i++)
		free(l.seen[i]);
	free(l.seen);
	json_decref(l.json);
	store_close(st);
	return ret;
}

/* command ------------------------------------------------------------------ */

static void
ctl_domain_usage(void)
{
	fprintf(stderr, "usage: mtrackctl domain add DOMAIN\n"
	    "       mtrackctl domain check DOMAIN [--resolver IP[:PORT]]"
	    " [--connect IP:PORT]\n"
	    "                 [--ca-file FILE] [--timeout SECONDS] [--json]\n"
	    "       mtrackctl domain list [--json]\n");
}

int
ctl_domain(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "connect", required_argument, NULL, 'C' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	struct check_opts	 o;
	const char		*verb;
	char			 name[DOMAIN_MAX];
	int			 ch, json = 0;

	memset(&o, 0, sizeof(o));
	o.ca_file = c->cfg.tls_ca_file;
	o.timeout = 5;
	if (argc < 2) {
		ctl_domain_usage();
		return 2;
	}
	verb = argv[1];
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.resolver = optarg;
			break;
		case 'C':
			o.connect = optarg;
			break;
		case 'a':
			o.ca_file = optarg;
			break;
		case 't':
			o.timeout = atoi(optarg);
			if (o.timeout < 1 || o.timeout > 120) {
				fprintf(stderr, "mtrackctl: --timeout: 1 to 120"
				    " seconds\n");
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		default:
			ctl_domain_usage();
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(verb, "list") == 0 && argc == 0)
		return ctl_domain_listing(c, json);
	if (argc != 1 || (strcmp(verb, "add") && strcmp(verb, "check"))) {
		ctl_domain_usage();
		return 2;
	}
	if (name_arg(argv[0], name, sizeof(name)) == -1)
		return 2;
	if (strcmp(verb, "add") == 0)
		return ctl_domain_add(c, name);
	return ctl_domain_check(c, name, &o, json);
}
