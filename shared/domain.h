/*
 * domain - tracking domains: which one a message uses, whether it shares
 * its registrable domain with the sending domain, and what the store
 * remembers about each.
 *
 * tracking_url is the default; tracking_domains gives a sending domain its
 * own tracking URL ("example.com=https://t.example.com"). An entry covers
 * the subdomains of its sending domain; the longest match wins. A
 * message's sending domain is its From header's domain when that has an
 * entry, else its envelope sender's, else the default applies.
 *
 * The tracker answers on every name: IDs do not depend on the host, so
 * links written with an earlier tracking domain keep working as long as
 * that name still reaches the tracker.
 *
 * Records in the store's "domains" database (ASCII keys, JSON values):
 *   TRACKING-DOMAIN  -> {"status","added","checked","changed"}
 *        status "new" (added, never checked), "ok", "warn" or "fail": the
 *        worst item of the last "mtrackctl domain check"; times in unix
 *        seconds, 0 for never; changed: when the status last changed.
 *   "@" SENDING-DOMAIN (just "@": the default tracking_url)
 *                    -> {"domain","since","previous","changed"}
 *        the tracking domain the configuration gave it when mtrackctl last
 *        looked, since when, and the one before (changed: when it moved).
 */
#ifndef MTRACK_DOMAIN_H
#define MTRACK_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dnsname.h"
#include "store.h"

#define DOMAIN_MAX	DNSNAME_MAX	/* a domain name and its NUL */
#define DOMAIN_RECENT	(90 * 86400)	/* a move is recent for 90 days */

/*
 * domain_url_for - the tracking_domains URL of a sending domain (an entry
 * for it or a parent domain), NULL when it has none. Lives as long as cfg.
 */
const char *domain_url_for(const struct config *cfg, const char *sending);
/* domain_tracking_url - the URL for a message (From header value, envelope sender; either may be NULL) */
const char *domain_tracking_url(const struct config *cfg, const char *from_hdr,
	    const char *env_from);
/*
 * domain_pick - the rewrite engine's choice: *turl receives the message's
 * tracking URL. Returns 0, or 1 when require_verified is set and its
 * domain has not passed its check (a log line names the domain).
 */
int	domain_pick(const struct config *cfg, struct store *st,
	    const char *from_hdr, const char *env_from, const char *queue_id,
	    const char **turl);

/* domain_registrable - the registrable domain of host (Public Suffix List) into out; 0 or -1 */
int	domain_registrable(const char *host, char *out, size_t outlen);
/* domain_aligned - 1 when a and b have the same registrable domain, 0 when not, -1 when unknown */
int	domain_aligned(const char *a, const char *b);
/* domain_recent - 1 when a move at changed (unix seconds, 0: never) is within DOMAIN_RECENT of now */
int	domain_recent(int64_t changed, int64_t now);

/* a tracking domain's record */
struct domain_rec {
	char	status[8];		/* "new", "ok", "warn", "fail" */
	int64_t	added, checked, changed;
};

/* domain_get - the record of a tracking domain; 0, 1 when absent, -1 on error */
int	domain_get(struct store *st, const char *name, struct domain_rec *r);
/* domain_put - write the record of a tracking domain (synchronously); 0 or -1 */
int	domain_put(struct store *st, const char *name, const struct domain_rec *r);
/* domain_list - call fn for each tracking domain record, in name order; 0 or -1 (or fn's non-zero) */
int	domain_list(struct store *st, int (*fn)(void *arg, const char *name,
	    const struct domain_rec *r), void *arg);

/* a sending domain's tracking domain, as recorded */
struct domain_sender {
	char	sending[DOMAIN_MAX];	/* "" for the default */
	char	domain[DOMAIN_MAX];	/* tracking domain */
	char	previous[DOMAIN_MAX];	/* the one before, "" if none */
	int64_t	since, changed;
};

/*
 * domain_sync - record each configured sending domain's tracking domain
 * (and the default's); one whose tracking domain differs from the recorded
 * one moves: previous and changed are set to the old one and now. 0 or -1.
 */
int	domain_sync(struct store *st, const struct config *cfg, int64_t now);
/* domain_senders - call fn for each sending domain record; 0 or -1 (or fn's non-zero) */
int	domain_senders(struct store *st, int (*fn)(void *arg,
	    const struct domain_sender *s), void *arg);

#endif
