/*
 * domain - tracking domain choice, alignment and records (see domain.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpsl.h>
#include <lmdb.h>

#include "domain.h"
#include "log.h"

const char *
domain_url_for(const struct config *cfg, const char *sending)
{
	struct config_tdomain	 td;
	const char		*best = NULL;
	size_t			 bestlen = 0, slen, i;

	if (sending == NULL || *sending == '\0')
		return NULL;
	slen = strlen(sending);
	for (i = 0; cfg->tracking_domains && cfg->tracking_domains[i]; i++) {
		if (config_tdomain(cfg->tracking_domains[i], &td) == -1 ||
		    td.len > slen || td.len <= bestlen ||
		    strncasecmp(sending + slen - td.len, td.domain, td.len) != 0 ||
		    (td.len < slen && sending[slen - td.len - 1] != '.'))
			continue;
		best = td.url;
		bestlen = td.len;
	}
	return best;
}

const char *
domain_tracking_url(const struct config *cfg, const char *from_hdr,
    const char *env_from)
{
	char		 d[DOMAIN_MAX];
	const char	*u;

	if (dnsname_of_address(from_hdr, d, sizeof(d)) == 0 &&
	    (u = domain_url_for(cfg, d)) != NULL)
		return u;
	if (dnsname_of_address(env_from, d, sizeof(d)) == 0 &&
	    (u = domain_url_for(cfg, d)) != NULL)
		return u;
	return cfg->tracking_url;
}

int
domain_pick(const struct config *cfg, struct store *st, const char *from_hdr,
    const char *env_from, const char *queue_id, const char **turl)
{
	struct domain_rec	 r;
	char			 host[DOMAIN_MAX];
	const char		*why = NULL;
	int			 rc;

	*turl = domain_tracking_url(cfg, from_hdr, env_from);
	if (!cfg->require_verified)
		return 0;
	if (dnsname_url_host(*turl, host, sizeof(host)) == -1) {
		snprintf(host, sizeof(host), "-");
		why = "no domain name in the URL";
	} else if ((rc = domain_get(st, host, &r)) == -1)
		why = "store error";
	else if (rc == 1)
		why = "not added";
	else if (strcmp(r.status, "ok") != 0 && strcmp(r.status, "warn") != 0)
		why = strcmp(r.status, "new") == 0 ? "never checked" :
		    "check failed";
	if (why == NULL)
		return 0;
	log_info("%s: untracked tracking_domain=%s reason=\"not verified: %s\"",
	    queue_id ? queue_id : "-", host, why);
	return 1;
}

static const psl_ctx_t	*dom_psl;
static pthread_once_t	 dom_psl_once = PTHREAD_ONCE_INIT;

/* the newest list at hand: the one built in or the system's file */
static void
dom_psl_load(void)
{
	if ((dom_psl = psl_latest(NULL)) == NULL)
		dom_psl = psl_builtin();
}

int
domain_registrable(const char *host, char *out, size_t outlen)
{
	char		 low[DOMAIN_MAX];
	const char	*r;

	if (dnsname_copy(host, strlen(host), low, sizeof(low)) == -1)
		return -1;
	pthread_once(&dom_psl_once, dom_psl_load);
	if (dom_psl == NULL || (r = psl_registrable_domain(dom_psl, low)) == NULL)
		return -1;
	if (strlen(r) >= outlen)
		return -1;
	strcpy(out, r);
	return 0;
}

int
domain_aligned(const char *a, const char *b)
{
	char ra[DOMAIN_MAX], rb[DOMAIN_MAX];

	if (domain_registrable(a, ra, sizeof(ra)) == -1 ||
	    domain_registrable(b, rb, sizeof(rb)) == -1)
		return -1;
	return strcmp(ra, rb) == 0;
}

int
domain_recent(int64_t changed, int64_t now)
{
	return changed > 0 && now - changed < DOMAIN_RECENT;
}

/* records ------------------------------------------------------------------ */

/* dom_txn - a transaction on the domains database; 0 or an LMDB error */
static int
dom_txn(struct store *st, unsigned flags, MDB_txn **txn, MDB_dbi *dbi)
{
	*dbi = store_dbi(st, DB_DOMAINS);
	return mdb_txn_begin(store_env(st), NULL, flags, txn);
}

/*
 * dom_end - commit txn when rc is 0, else abort it (txn NULL: never
 * begun); a failure of op is logged. 0 or -1.
 */
static int
dom_end(MDB_txn *txn, int rc, const char *op)
{
	if (rc == 0)
		rc = mdb_txn_commit(txn);	/* frees txn, also on failure */
	else if (txn)
		mdb_txn_abort(txn);
	if (rc == 0)
		return 0;
	log_warnx("store op=%s error=\"%s\"", op, rc == ENOMEM ?
	    "out of memory" : mdb_strerror(rc));
	return -1;
}

static void
rec_from_json(json_t *o, struct domain_rec *r)
{
	const char *s = json_string_value(json_object_get(o, "status"));

	memset(r, 0, sizeof(*r));
	snprintf(r->status, sizeof(r->status), "%s", s ? s : "new");
	r->added = json_integer_value(json_object_get(o, "added"));
	r->checked = json_integer_value(json_object_get(o, "checked"));
	r->changed = json_integer_value(json_object_get(o, "changed"));
}

static void
sender_from_json(json_t *o, struct domain_sender *s)
{
	const char *d = json_string_value(json_object_get(o, "domain"));
	const char *p = json_string_value(json_object_get(o, "previous"));

	snprintf(s->domain, sizeof(s->domain), "%s", d ? d : "");
	snprintf(s->previous, sizeof(s->previous), "%s", p ? p : "");
	s->since = json_integer_value(json_object_get(o, "since"));
	s->changed = json_integer_value(json_object_get(o, "changed"));
}

/* dom_put_json - store o (its reference is taken) under key; 0 or an LMDB error */
static int
dom_put_json(MDB_txn *txn, MDB_dbi dbi, const char *key, json_t *o)
{
	int rc = store_record_json(txn, dbi, key, o, JSON_SORT_KEYS);

	json_decref(o);
	return rc;
}

int
domain_get(struct store *st, const char *name, struct domain_rec *r)
{
	MDB_txn		*txn = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	json_t		*o = NULL;
	int		 rc, ret = -1;

	if ((rc = dom_txn(st, MDB_RDONLY, &txn, &dbi)) != 0)
		goto out;
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND) {
		ret = 1;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((o = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL) {
		log_warnx("store op=get_domain key=%.200s error=\"bad record\"",
		    name);
		goto out;
	}
	rec_from_json(o, r);
	ret = 0;
out:
	if (ret == -1 && rc != 0)
		log_warnx("store op=get_domain error=\"%s\"", mdb_strerror(rc));
	json_decref(o);
	if (txn)
		mdb_txn_abort(txn);
	return ret;
}

int
domain_put(struct store *st, const char *name, const struct domain_rec *r)
{
	MDB_txn	*txn = NULL;
	MDB_dbi	 dbi;
	int	 rc;

	if ((rc = dom_txn(st, 0, &txn, &dbi)) == 0)
		rc = dom_put_json(txn, dbi, name, json_pack("{s:s, s:I, s:I, s:I}",
		    "status", r->status, "added", (json_int_t)r->added,
		    "checked", (json_int_t)r->checked,
		    "changed", (json_int_t)r->changed));
	return dom_end(txn, rc, "put_domain");
}

/* dom_each - call fn on every record whose key starts with '@' (senders) or not */
static int
dom_each(struct store *st, int senders, int (*fn)(void *, const char *,
    json_t *), void *arg)
{
	MDB_txn		*txn = NULL;
	MDB_cursor	*cur = NULL;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	json_t		*o;
	char		 key[DOMAIN_MAX + 1];
	int		 rc, ret = -1;

	if ((rc = dom_txn(st, MDB_RDONLY, &txn, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size >= sizeof(key) ||
		    (((const char *)k.mv_data)[0] == '@') != senders)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if ((o = json_loadb(v.mv_data, v.mv_size, 0, NULL)) == NULL)
			continue;
		ret = fn(arg, key, o);
		json_decref(o);
		if (ret != 0)
			goto out;
	}
	if (rc != MDB_NOTFOUND) {
		ret = -1;
		goto out;
	}
	rc = 0;
	ret = 0;
out:
	if (ret == -1 && rc != 0)
		log_warnx("store op=list_domains error=\"%s\"", mdb_strerror(rc));
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	return ret;
}

struct dom_cb {
	int	(*rec)(void *, const char *, const struct domain_rec *);
	int	(*sender)(void *, const struct domain_sender *);
	void	*arg;
};

static int
dom_rec_cb(void *arg, const char *key, json_t *o)
{
	struct dom_cb		*cb = arg;
	struct domain_rec	 r;

	rec_from_json(o, &r);
	return cb->rec(cb->arg, key, &r);
}

static int
dom_sender_cb(void *arg, const char *key, json_t *o)
{
	struct dom_cb		*cb = arg;
	struct domain_sender	 s;

	memset(&s, 0, sizeof(s));
	snprintf(s.sending, sizeof(s.sending), "%s", key + 1);
	sender_from_json(o, &s);
	return cb->sender(cb->arg, &s);
}

int
domain_list(struct store *st, int (*fn)(void *, const char *,
    const struct domain_rec *), void *arg)
{
	struct dom_cb cb = { fn, NULL, arg };

	return dom_each(st, 0, dom_rec_cb, &cb);
}

int
domain_senders(struct store *st, int (*fn)(void *,
    const struct domain_sender *), void *arg)
{
	struct dom_cb cb = { NULL, fn, arg };

	return dom_each(st, 1, dom_sender_cb, &cb);
}

/* dom_sync_one - record sending domain (key "@" + sending) -> tracking domain */
static int
dom_sync_one(MDB_txn *txn, MDB_dbi dbi, const char *sending, const char *url,
    int64_t now)
{
	struct domain_sender	 old;
	char			 key[DOMAIN_MAX + 1], host[DOMAIN_MAX];
	MDB_val			 k, v;
	json_t			*o;
	int			 rc;

	if (dnsname_url_host(url, host, sizeof(host)) == -1)
		return 0;	/* an IP address: nothing to verify or move */
	snprintf(key, sizeof(key), "@%s", sending);
	k.mv_data = key;
	k.mv_size = strlen(key);
	memset(&old, 0, sizeof(old));
	if ((rc = mdb_get(txn, dbi, &k, &v)) == 0 &&
	    (o = json_loadb(v.mv_data, v.mv_size, 0, NULL)) != NULL) {
		sender_from_json(o, &old);
		json_decref(o);
		if (strcmp(old.domain, host) == 0)
			return 0;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (old.domain[0] == '\0')	/* first seen: no move */
		o = json_pack("{s:s, s:I}", "domain", host, "since",
		    (json_int_t)now);
	else {
		o = json_pack("{s:s, s:I, s:s, s:I}", "domain", host, "since",
		    (json_int_t)now, "previous", old.domain, "changed",
		    (json_int_t)now);
		log_info("domain sending=%.200s tracking_domain=%s previous=%s"
		    " op=moved", *sending ? sending : "(default)", host,
		    old.domain);
	}
	return dom_put_json(txn, dbi, key, o);
}

int
domain_sync(struct store *st, const struct config *cfg, int64_t now)
{
	struct config_tdomain	 td;
	MDB_txn			*txn = NULL;
	MDB_dbi			 dbi;
	char			 sending[DOMAIN_MAX];
	size_t			 i;
	int			 rc;

	if ((rc = dom_txn(st, 0, &txn, &dbi)) != 0 ||
	    (rc = dom_sync_one(txn, dbi, "", cfg->tracking_url, now)) != 0)
		return dom_end(txn, rc, "sync_domains");
	for (i = 0; cfg->tracking_domains && cfg->tracking_domains[i]; i++) {
		if (config_tdomain(cfg->tracking_domains[i], &td) == -1 ||
		    td.len >= sizeof(sending))
			continue;
		memcpy(sending, td.domain, td.len);
		sending[td.len] = '\0';
		if ((rc = dom_sync_one(txn, dbi, sending, td.url, now)) != 0)
			break;
	}
	return dom_end(txn, rc, "sync_domains");
}
