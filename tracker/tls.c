/*
 * tls - certificate sets, SNI selection and reload (see tls.h).
 *
 * The set keeps each chain as DER and each key as a parsed x509 key. A
 * handshake copies what it needs under the read lock: GnuTLS may use the
 * certificate and key until the session ends, and with
 * GNUTLS_CERT_RETR_DEINIT_ALL it frees its copies then, so the set can be
 * freed as soon as a reload replaced it. Copying costs a DER parse per
 * handshake, small beside the handshake's public-key operations.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "log.h"
#include "tls.h"

/* a PEM file larger than this is not a certificate chain or a key */
#define TLS_FILE_MAX	(1024 * 1024)
/* chain length kept: leaf and intermediates */
#define TLS_CHAIN_MAX	16
#define TLS_NAME_MAX	255

struct tls_cert {
	char			*file;		/* certificate file, for logs */
	char			**names;	/* lowercase; "*.x" wildcards */
	size_t			 nnames;
	gnutls_datum_t		 der[TLS_CHAIN_MAX];	/* leaf first */
	unsigned int		 nder;
	gnutls_x509_privkey_t	 key;
	time_t			 not_after;	/* of the leaf */
};

struct tls_set {
	struct tls_cert		*v;	/* v[0] is the default */
	size_t			 n;
};

static pthread_rwlock_t	 tls_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct tls_set	*tls_cur;	/* under tls_lock */
static uint64_t		 tls_reloads;	/* atomic, as the counters below */
static uint64_t		 tls_handshakes, tls_fallbacks, tls_failures;

#define TLS_INC(p)	__atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#define TLS_GET(p)	__atomic_load_n((p), __ATOMIC_RELAXED)

int
tls_check(const struct config *c, char *err, size_t errlen)
{
	gnutls_priority_t	 prio;
	const char		*pos = NULL;
	int			 certs, r;

	certs = c->tls_cert != NULL ||
	    (c->tls_certs != NULL && c->tls_certs[0] != NULL);
	if (c->tls_key != NULL && c->tls_cert == NULL) {
		snprintf(err, errlen, "tls_key is set but tls_cert is not");
		return -1;
	}
	if (c->tls_listen != NULL && !certs) {
		snprintf(err, errlen, "tls_listen needs tls_cert or tls_certs");
		return -1;
	}
	if (c->tls_listen == NULL && certs) {
		snprintf(err, errlen, "a certificate is configured but "
		    "tls_listen is not");
		return -1;
	}
	if (c->tls_listen == NULL)
		return 0;
	if ((r = gnutls_priority_init(&prio, c->tls_priorities, &pos)) < 0) {
		snprintf(err, errlen, "tls_priorities: %s at \"%.40s\"",
		    gnutls_strerror(r), pos ? pos : "");
		return -1;
	}
	gnutls_priority_deinit(prio);
	return 0;
}

/* tls_read - a whole file into d (malloc'd, NUL-terminated) */
static int
tls_read(const char *path, gnutls_datum_t *d, char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 n;
	size_t		 got = 0;
	int		 fd;

	d->data = NULL;
	d->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ?
		    "larger than 1 MB" : "not a regular file");
		goto fail;
	}
	if ((d->data = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, d->data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", path, n == 0 ?
			    "file shrank while read" : strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	d->data[got] = '\0';
	d->size = (unsigned int)got;
	close(fd);
	return 0;
fail:
	free(d->data);
	d->data = NULL;
	if (fd != -1)
		close(fd);
	return -1;
}

/* tls_wipe - free file contents that may hold a private key */
static void
tls_wipe(gnutls_datum_t *d)
{
	if (d->data) {
		explicit_bzero(d->data, d->size);
		free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* tls_name_add - one DNS name of a certificate, lowercased, no final dot */
static int
tls_name_add(struct tls_cert *tc, const char *s, size_t len)
{
	char	**v, *name;
	size_t	  i;

	while (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > TLS_NAME_MAX || memchr(s, '\0', len))
		return 0;
	if ((v = realloc(tc->names, (tc->nnames + 1) * sizeof(*v))) == NULL)
		return -1;
	tc->names = v;
	if ((name = strndup(s, len)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	tc->names[tc->nnames++] = name;
	return 0;
}

/* tls_names - the subjectAltName DNS names, or the CN when there are none */
static int
tls_names(struct tls_cert *tc, gnutls_x509_crt_t crt)
{
	char		buf[TLS_NAME_MAX + 2];
	size_t		sz;
	unsigned int	i;
	int		r;

	for (i = 0;; i++) {
		sz = sizeof(buf);
		r = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &sz, NULL);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (r == GNUTLS_SAN_DNSNAME && tls_name_add(tc, buf, sz) == -1)
			return -1;
	}
	if (tc->nnames > 0)
		return 0;
	sz = sizeof(buf);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    0, buf, &sz) == 0)
		return tls_name_add(tc, buf, sz);
	return 0;
}

static void
tls_cert_free(struct tls_cert *tc)
{
	size_t i;

	for (i = 0; i < tc->nnames; i++)
		free(tc->names[i]);
	free(tc->names);
	for (i = 0; i < tc->nder; i++)
		gnutls_free(tc->der[i].data);
	if (tc->key)
		gnutls_x509_privkey_deinit(tc->key);
	free(tc->file);
	memset(tc, 0, sizeof(*tc));
}

static void
tls_set_free(struct tls_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tls_cert_free(&set->v[i]);
	free(set->v);
	free(set);
}

/*
 * tls_cert_load - the chain in certfile and the key in keyfile (NULL: in
 * certfile too). The chain is sorted leaf first; the key must be the
 * leaf's. -1 with "FILE: reason" in err.
 */
static int
tls_cert_load(struct tls_cert *tc, const char *certfile, const char *keyfile,
    char *err, size_t errlen)
{
	gnutls_datum_t		 pem = { NULL, 0 }, kpem = { NULL, 0 };
	gnutls_x509_crt_t	*crts = NULL;
	gnutls_pcert_st		 pc;
	unsigned char		 id1[64], id2[64];
	size_t			 n1 = sizeof(id1), n2 = sizeof(id2);
	unsigned int		 ncrt = 0, i;
	int			 r, rc = -1;

	if (keyfile == NULL)
		keyfile = certfile;
	if ((tc->file = strdup(certfile)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (tls_read(certfile, &pem, err, errlen) == -1)
		goto out;
	r = gnutls_x509_crt_list_import2(&crts, &ncrt, &pem,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_SORT);
	if (r < 0 || ncrt == 0) {
		snprintf(err, errlen, "%s: %s", certfile, r < 0 ?
		    gnutls_strerror(r) : "no certificate found");
		goto out;
	}
	if (ncrt > TLS_CHAIN_MAX) {
		snprintf(err, errlen, "%s: more than %d certificates", certfile,
		    TLS_CHAIN_MAX);
		goto out;
	}
	for (i = 0; i < ncrt; i++) {
		if ((r = gnutls_x509_crt_export2(crts[i], GNUTLS_X509_FMT_DER,
		    &tc->der[i])) < 0) {
			snprintf(err, errlen, "%s: %s", certfile,
			    gnutls_strerror(r));
			goto out;
		}
		tc->nder++;
	}
	/* what the handshake will do, once now: a failure is found at start */
	if ((r = gnutls_pcert_import_x509_raw(&pc, &tc->der[0],
	    GNUTLS_X509_FMT_DER, 0)) < 0) {
		snprintf(err, errlen, "%s: %s", certfile, gnutls_strerror(r));
		goto out;
	}
	gnutls_pcert_deinit(&pc);
	tc->not_after = gnutls_x509_crt_get_expiration_time(crts[0]);
	if (tls_names(tc, crts[0]) == -1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}

	if (tls_read(keyfile, &kpem, err, errlen) == -1)
		goto out;
	if (memmem(kpem.data, kpem.size, "PRIVATE KEY-----", 16) == NULL) {
		snprintf(err, errlen, "%s: no private key found (PEM expected)",
		    keyfile);
		goto out;
	}
	if ((r = gnutls_x509_privkey_init(&tc->key)) < 0) {
		tc->key = NULL;
		snprintf(err, errlen, "%s: %s", keyfile, gnutls_strerror(r));
		goto out;
	}
	if ((r = gnutls_x509_privkey_import2(tc->key, &kpem,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		snprintf(err, errlen, "%s: %s%s", keyfile, gnutls_strerror(r),
		    r == GNUTLS_E_DECRYPTION_FAILED ? " (an encrypted key needs"
		    " its password: store it unencrypted)" : "");
		goto out;
	}
	if (gnutls_x509_crt_get_key_id(crts[0], GNUTLS_KEYID_USE_SHA256, id1,
	    &n1) < 0 || gnutls_x509_privkey_get_key_id(tc->key,
	    GNUTLS_KEYID_USE_SHA256, id2, &n2) < 0 || n1 != n2 ||
	    memcmp(id1, id2, n1) != 0) {
		snprintf(err, errlen, "%s: the key does not match the "
		    "certificate in %s", keyfile, certfile);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	free(pem.data);
	tls_wipe(&kpem);
	return rc;
}

/* tls_log_cert - one info line per certificate loaded */
static void
tls_log_cert(const struct tls_cert *tc, int dflt, time_t now)
{
	char		 names[512], q[LOG_STR_MAX], day[32];
	struct tm	 tm;
	size_t		 i, len = 0;

	names[0] = '\0';
	for (i = 0; i < tc->nnames && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
		    i ? "," : "", tc->names[i]);
	gmtime_r(&tc->not_after, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (tc->not_after < now)
		log_warnx("tls cert=%s names=%s not_after=%s error=expired",
		    log_str(q, sizeof(q), tc->file), names[0] ? names : "-", day);
	else
		log_info("tls cert=%s names=%s not_after=%s%s",
		    log_str(q, sizeof(q), tc->file), names[0] ? names : "-", day,
		    dflt ? " default=yes" : "");
	if (tc->nnames == 0 && !dflt)
		log_warnx("tls cert=%s error=\"no DNS name: never chosen\"",
		    log_str(q, sizeof(q), tc->file));
}

int
tls_load(const struct config *c, char *err, size_t errlen)
{
	struct tls_set	*set, *old;
	char		*cert = NULL, *key;
	size_t		 n = 0, i;
	time_t		 now = time(NULL);

	for (i = 0; c->tls_certs && c->tls_certs[i]; i++)
		n++;
	if (c->tls_cert)
		n++;
	if (n == 0) {
		snprintf(err, errlen, "no certificate configured");
		return -1;
	}
	if ((set = calloc(1, sizeof(*set))) == NULL ||
	    (set->v = calloc(n, sizeof(*set->v))) == NULL) {
		free(set);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (c->tls_cert) {
		if (tls_cert_load(&set->v[set->n++], c->tls_cert, c->tls_key,
		    err, errlen) == -1)
			goto fail;
	}
	for (i = 0; c->tls_certs && c->tls_certs[i]; i++) {
		if ((cert = strdup(c->tls_certs[i])) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if ((key = strchr(cert, ':')) != NULL)
			*key++ = '\0';
		if (tls_cert_load(&set->v[set->n++], cert, key, err,
		    errlen) == -1)
			goto fail;
		free(cert);
		cert = NULL;
	}
	for (i = 0; i < set->n; i++)
		tls_log_cert(&set->v[i], i == 0, now);

	pthread_rwlock_wrlock(&tls_lock);
	old = tls_cur;
	tls_cur = set;
	pthread_rwlock_unlock(&tls_lock);
	tls_set_free(old);
	TLS_INC(&tls_reloads);
	return 0;
fail:
	free(cert);
	tls_set_free(set);
	return -1;
}

void
tls_unload(void)
{
	struct tls_set *old;

	pthread_rwlock_wrlock(&tls_lock);
	old = tls_cur;
	tls_cur = NULL;
	pthread_rwlock_unlock(&tls_lock);
	tls_set_free(old);
}

/* tls_wild - name (len bytes) matches "*.rest": one non-empty first label */
static int
tls_wild(const char *pattern, const char *name, size_t len)
{
	const char	*dot = memchr(name, '.', len);
	size_t		 rest;

	if (pattern[0] != '*' || pattern[1] != '.' || dot == NULL || dot == name)
		return 0;
	rest = len - (size_t)(dot + 1 - name);
	return strlen(pattern + 2) == rest && memcmp(pattern + 2, dot + 1,
	    rest) == 0;
}

/* tls_pick - the certificate for an SNI name (lowercase, len 0: none) */
static const struct tls_cert *
tls_pick(const struct tls_set *set, const char *name, size_t len,
    int *fallback)
{
	size_t i, j;

	*fallback = 0;
	for (i = 0; len > 0 && i < set->n; i++)
		for (j = 0; j < set->v[i].nnames; j++)
			if (strlen(set->v[i].names[j]) == len &&
			    memcmp(set->v[i].names[j], name, len) == 0)
				return &set->v[i];
	for (i = 0; len > 0 && i < set->n; i++)
		for (j = 0; j < set->v[i].nnames; j++)
			if (tls_wild(set->v[i].names[j], name, len))
				return &set->v[i];
	*fallback = 1;
	return set->n ? &set->v[0] : NULL;
}

int
tls_retrieve(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
    gnutls_pcert_st **certs, unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
    unsigned int *nocsp, gnutls_privkey_t *key, unsigned int *flags)
{
	const struct tls_cert	*tc;
	gnutls_pcert_st		*pc = NULL;
	gnutls_privkey_t	 pk = NULL;
	char			 name[TLS_NAME_MAX + 1];
	size_t			 len = sizeof(name), i;
	unsigned int		 type, n = 0;
	int			 fallback;

	(void)info;
	*certs = NULL;
	*ncerts = 0;
	*ocsp = NULL;
	*nocsp = 0;
	*key = NULL;
	*flags = 0;
	if (gnutls_server_name_get(session, name, &len, &type, 0) != 0 ||
	    type != GNUTLS_NAME_DNS)
		len = 0;
	while (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		name[i] = (char)tolower((unsigned char)name[i]);

	pthread_rwlock_rdlock(&tls_lock);
	if (tls_cur == NULL || (tc = tls_pick(tls_cur, name, len, &fallback))
	    == NULL)
		goto fail;
	if ((pc = gnutls_malloc(tc->nder * sizeof(*pc))) == NULL)
		goto fail;
	for (n = 0; n < tc->nder; n++)
		if (gnutls_pcert_import_x509_raw(&pc[n], &tc->der[n],
		    GNUTLS_X509_FMT_DER, 0) < 0)
			goto fail;
	if (gnutls_privkey_init(&pk) < 0) {
		pk = NULL;
		goto fail;
	}
	if (gnutls_privkey_import_x509(pk, tc->key,
	    GNUTLS_PRIVKEY_IMPORT_COPY) < 0)
		goto fail;
	pthread_rwlock_unlock(&tls_lock);

	*certs = pc;
	*ncerts = n;
	*key = pk;
	*flags = GNUTLS_CERT_RETR_DEINIT_ALL;
	TLS_INC(&tls_handshakes);
	if (fallback)
		TLS_INC(&tls_fallbacks);
	return 0;
fail:
	pthread_rwlock_unlock(&tls_lock);
	while (n > 0)
		gnutls_pcert_deinit(&pc[--n]);
	gnutls_free(pc);
	if (pk)
		gnutls_privkey_deinit(pk);
	TLS_INC(&tls_failures);
	return -1;
}

void
tls_stats(struct tls_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->reloads = TLS_GET(&tls_reloads);
	st->handshakes = TLS_GET(&tls_handshakes);
	st->fallbacks = TLS_GET(&tls_fallbacks);
	st->failures = TLS_GET(&tls_failures);
	pthread_rwlock_rdlock(&tls_lock);
	if (tls_cur) {
		st->certificates = tls_cur->n;
		for (i = 0; i < tls_cur->n; i++)
			if (st->not_after == 0 ||
			    tls_cur->v[i].not_after < st->not_after)
				st->not_after = tls_cur->v[i].not_after;
	}
	pthread_rwlock_unlock(&tls_lock);
}
