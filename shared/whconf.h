/*
 * whconf - the webhook endpoints of a configuration.
 *
 * Endpoints come from webhook_url (each signed with webhook_secret, every
 * event type and class) and from the file named by webhooks, one endpoint
 * a line:
 *
 *   URL SECRET [types=click,open] [classes=human,proxy,...]
 *
 * '#' starts a comment line. An endpoint's id is the first 16 hex digits
 * of the SHA-256 of its URL: stable across restarts and reordering, and
 * the name of its feed consumer ("wh:" + id). Secrets live in the
 * endpoint (wiped by whconf_free) and never appear in an error message.
 */
#ifndef MTRACK_WHCONF_H
#define MTRACK_WHCONF_H

#include <stddef.h>

#include "whsign.h"

struct config;

/* event types */
#define WH_CLICK	0x01
#define WH_OPEN		0x02
#define WH_TYPES_ALL	(WH_CLICK | WH_OPEN)

#define WH_ID_LEN	16
#define WH_URL_MAX	2048

struct whendpoint {
	char			 id[WH_ID_LEN + 1];
	char			*url;
	struct whsign_key	 key;
	unsigned		 types;		/* WH_* */
	unsigned		 classes;	/* 1 << whconf_class(); all when 0 */
};

struct whconf {
	struct whendpoint	*ep;
	size_t			 n;
};

/*
 * whconf_load - the endpoints of c (none: n == 0). 0, or -1 with
 * "FILE:LINE: reason" (or "webhook_url: reason") in err.
 */
int	whconf_load(struct whconf *w, const struct config *c, char *err,
	    size_t errlen);
/* whconf_free - release the endpoints, wiping their keys */
void	whconf_free(struct whconf *w);
/* whconf_id - the id of a URL into id (WH_ID_LEN + 1 bytes) */
void	whconf_id(const char *url, char id[WH_ID_LEN + 1]);
/* whconf_class - index of a class name (human, scanner, proxy, prefetch, bot), -1 if unknown */
int	whconf_class(const char *name);
/* whconf_wants - the endpoint takes an event of this type (WH_*) and class name */
int	whconf_wants(const struct whendpoint *e, unsigned type,
	    const char *cls);
/* whconf_find - the endpoint with this URL or id, NULL if none */
const struct whendpoint *whconf_find(const struct whconf *w,
	    const char *url_or_id);

#endif
