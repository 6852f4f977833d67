/*
 * whconf - webhook endpoints from webhook_url and the webhooks file
 * (see whconf.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha2.h>

#include "config.h"
#include "whconf.h"

static const char *const wh_classes[] = { "human", "scanner", "proxy",
    "prefetch", "bot", NULL };

void
whconf_id(const char *url, char id[WH_ID_LEN + 1])
{
	struct sha256_ctx	ctx;
	uint8_t			d[SHA256_DIGEST_SIZE];
	int			i;

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(url), (const uint8_t *)url);
	sha256_digest(&ctx, sizeof(d), d);
	for (i = 0; i < WH_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", d[i]);
}

int
whconf_class(const char *name)
{
	int i;

	for (i = 0; wh_classes[i]; i++)
		if (strcmp(wh_classes[i], name) == 0)
			return i;
	return -1;
}

int
whconf_wants(const struct whendpoint *e, unsigned type, const char *cls)
{
	int c;

	if ((e->types & type) == 0)
		return 0;
	if (e->classes == 0)
		return 1;
	c = whconf_class(cls ? cls : "human");
	return c >= 0 && (e->classes & (1u << c)) != 0;
}

const struct whendpoint *
whconf_find(const struct whconf *w, const char *url_or_id)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->ep[i].url, url_or_id) == 0 ||
		    strcmp(w->ep[i].id, url_or_id) == 0)
			return &w->ep[i];
	return NULL;
}

/* whconf_add - one endpoint; the URL is copied, the secret decoded */
static int
whconf_add(struct whconf *w, const char *url, const char *secret,
    unsigned types, unsigned classes, char *err, size_t errlen)
{
	struct whendpoint	*e, *grown;
	char			 id[WH_ID_LEN + 1];

	if (config_url_check(url, 1, err, errlen) == -1)
		return -1;
	if (strlen(url) > WH_URL_MAX) {
		snprintf(err, errlen, "URL longer than %d bytes", WH_URL_MAX);
		return -1;
	}
	whconf_id(url, id);
	if (whconf_find(w, id)) {
		snprintf(err, errlen, "endpoint listed twice");
		return -1;
	}
	if ((grown = realloc(w->ep, (w->n + 1) * sizeof(*grown))) == NULL)
		goto nomem;
	w->ep = grown;
	e = &w->ep[w->n];
	memset(e, 0, sizeof(*e));
	if (whsign_key_parse(&e->key, secret, err, errlen) == -1)
		return -1;
	if ((e->url = strdup(url)) == NULL)
		goto nomem;
	memcpy(e->id, id, sizeof(id));
	e->types = types;
	e->classes = classes;
	w->n++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* whconf_names - "a,b,c" into a bit set: types (classes == 0) or classes */
static int
whconf_names(const char *v, int classes, unsigned *out)
{
	char	 name[32];
	size_t	 n;
	int	 i;

	*out = 0;
	while (*v) {
		n = strcspn(v, ",");
		if (n == 0 || n >= sizeof(name))
			return -1;
		memcpy(name, v, n);
		name[n] = '\0';
		if (classes) {
			if ((i = whconf_class(name)) < 0)
				return -1;
			*out |= 1u << i;
		} else if (strcmp(name, "click") == 0)
			*out |= WH_CLICK;
		else if (strcmp(name, "open") == 0)
			*out |= WH_OPEN;
		else
			return -1;
		v += n + (v[n] == ',');
	}
	return *out ? 0 : -1;
}

/* whconf_line - one line of the webhooks file (already trimmed) */
static int
whconf_line(struct whconf *w, char *line, char *err, size_t errlen)
{
	char		*tok[4], *save = NULL, *t;
	unsigned	 types = WH_TYPES_ALL, classes = 0;
	int		 n = 0, i;

	for (t = strtok_r(line, " \t", &save); t;
	    t = strtok_r(NULL, " \t", &save)) {
		if (n == 4) {
			snprintf(err, errlen, "too many fields: want URL SECRET"
			    " [types=...] [classes=...]");
			return -1;
		}
		tok[n++] = t;
	}
	if (n < 2) {
		snprintf(err, errlen, "want URL SECRET [types=...] [classes=...]");
		return -1;
	}
	for (i = 2; i < n; i++) {
		if (strncmp(tok[i], "types=", 6) == 0) {
			if (whconf_names(tok[i] + 6, 0, &types) == -1) {
				snprintf(err, errlen, "types: click, open");
				return -1;
			}
		} else if (strncmp(tok[i], "classes=", 8) == 0) {
			if (whconf_names(tok[i] + 8, 1, &classes) == -1) {
				snprintf(err, errlen, "classes: human, scanner,"
				    " proxy, prefetch, bot");
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown field: want types=..."
			    " or classes=...");
			return -1;
		}
	}
	return whconf_add(w, tok[0], tok[1], types, classes, err, errlen);
}

/* whconf_file - every endpoint of the webhooks file */
static int
whconf_file(struct whconf *w, const char *path, char *err, size_t errlen)
{
	FILE	*fp;
	char	*line = NULL, *p, why[256];
	size_t	 cap = 0, lineno = 0, len;
	int	 rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && getline(&line, &cap, fp) != -1) {
		lineno++;
		for (p = line; isspace((unsigned char)*p); p++)
			;
		len = strlen(p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			p[--len] = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (whconf_line(w, p, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			rc = -1;
		}
	}
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(fp);
	return rc;
}

int
whconf_load(struct whconf *w, const struct config *c, char *err,
    size_t errlen)
{
	char	why[256];
	size_t	i;

	memset(w, 0, sizeof(*w));
	for (i = 0; c->webhook_url && c->webhook_url[i]; i++) {
		if (c->webhook_secret == NULL) {
			snprintf(err, errlen, "webhook_url: needs webhook_secret");
			goto fail;
		}
		if (whconf_add(w, c->webhook_url[i], c->webhook_secret,
		    WH_TYPES_ALL, 0, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "webhook_url: %s", why);
			goto fail;
		}
	}
	if (c->webhooks && whconf_file(w, c->webhooks, err, errlen) == -1)
		goto fail;
	return 0;
fail:
	whconf_free(w);
	return -1;
}

void
whconf_free(struct whconf *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		free(w->ep[i].url);
		explicit_bzero(&w->ep[i].key, sizeof(w->ep[i].key));
	}
	free(w->ep);
	memset(w, 0, sizeof(*w));
}
