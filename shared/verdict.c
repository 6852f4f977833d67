/*
 * verdict - classify clicks and opens (see verdict.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hmap.h"
#include "verdict.h"

static const char *const class_names[VERDICT_NCLASS] = { "human", "proxy",
    "prefetch", "scanner", "bot" };

const char *
verdict_class_name(enum verdict_class c)
{
	return c < VERDICT_NCLASS ? class_names[c] : "unknown";
}

int
verdict_class_parse(const char *name)
{
	int i;

	for (i = 0; i < VERDICT_NCLASS; i++)
		if (strcasecmp(name, class_names[i]) == 0)
			return i;
	return -1;
}

int
verdict_nets_load(struct verdict_nets *vn, const char *path, char *err,
    size_t errlen)
{
	FILE		*fp;
	char		 line[512], cidr[128], cls[32], reason[64];
	size_t		 lineno = 0;
	struct verdict_net *v;
	int		 c, n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = line;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		reason[0] = '\0';
		n = sscanf(p, "%127s %31s %63s", cidr, cls, reason);
		if (n < 2) {
			snprintf(err, errlen, "%s:%zu: want \"CIDR CLASS [REASON]\"",
			    path, lineno);
			goto fail;
		}
		if ((c = verdict_class_parse(cls)) < 0) {
			snprintf(err, errlen, "%s:%zu: unknown class \"%s\"", path,
			    lineno, cls);
			goto fail;
		}
		if ((v = realloc(vn->v, (vn->n + 1) * sizeof(*v))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		vn->v = v;
		if (net_parse(&v[vn->n].net, cidr) == -1) {
			snprintf(err, errlen, "%s:%zu: bad network \"%s\"", path,
			    lineno, cidr);
			goto fail;
		}
		v[vn->n].cls = (enum verdict_class)c;
		snprintf(v[vn->n].reason, sizeof(v[vn->n].reason), "%s",
		    n == 3 ? reason : "network");
		vn->n++;
	}
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	return -1;
}

void
verdict_nets_free(struct verdict_nets *vn)
{
	free(vn->v);
	vn->v = NULL;
	vn->n = 0;
}

/* User-Agent markers, lower case, matched as substrings of the lower-cased agent */
static const struct {
	const char		*lneedle;
	enum verdict_class	 cls;
	const char		*reason;
} ua_rules[] = {
	{ "googleimageproxy", VERDICT_PROXY, "gmail-proxy" },
	{ "ggpht.com", VERDICT_PROXY, "gmail-proxy" },
	{ "gmail image prefetch", VERDICT_PREFETCH, "gmail-prefetch" },
	{ "yahoomailproxy", VERDICT_PROXY, "yahoo-proxy" },
	{ "outlookimageproxy", VERDICT_PROXY, "outlook-proxy" },
	{ "ms-office; msoffice", VERDICT_PROXY, "outlook-proxy" },
	{ "safelinks", VERDICT_SCANNER, "safelinks" },
	{ "urldefense", VERDICT_SCANNER, "proofpoint" },
	{ "proofpoint", VERDICT_SCANNER, "proofpoint" },
	{ "barracuda", VERDICT_SCANNER, "barracuda" },
	{ "mimecast", VERDICT_SCANNER, "mimecast" },
	{ "fireeye", VERDICT_SCANNER, "fireeye" },
	{ "trendmicro", VERDICT_SCANNER, "trendmicro" },
	{ "symantec", VERDICT_SCANNER, "symantec" },
	{ "forcepoint", VERDICT_SCANNER, "forcepoint" },
	{ "curl/", VERDICT_BOT, "curl" },
	{ "wget/", VERDICT_BOT, "wget" },
	{ "python-requests", VERDICT_BOT, "python" },
	{ "python-urllib", VERDICT_BOT, "python" },
	{ "aiohttp", VERDICT_BOT, "python" },
	{ "go-http-client", VERDICT_BOT, "go" },
	{ "okhttp", VERDICT_BOT, "okhttp" },
	{ "java/", VERDICT_BOT, "java" },
	{ "apache-httpclient", VERDICT_BOT, "java" },
	{ "libwww-perl", VERDICT_BOT, "perl" },
	{ "node-fetch", VERDICT_BOT, "node" },
	{ "axios/", VERDICT_BOT, "node" },
	{ "headless", VERDICT_BOT, "headless" },
	{ "phantomjs", VERDICT_BOT, "headless" },
	{ "slurp", VERDICT_BOT, "crawler" },
	{ "spider", VERDICT_BOT, "crawler" },
	{ "crawl", VERDICT_BOT, "crawler" },
	{ "bot", VERDICT_BOT, "bot" },
};

static int
has_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* lower - an ASCII lower-case copy of s into out (cut to outsz - 1) */
static const char *
lower(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < outsz; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
	return out;
}

void
verdict_decide(const struct verdict_nets *vn, const struct verdict_opts *o,
    const struct verdict_in *in, struct verdict *out)
{
	const char	*ua = in->ua ? in->ua : "";
	char		 lua[1024];
	size_t		 i;

	out->cls = VERDICT_HUMAN;
	out->reason = "-";
	if (in->honeypot) {
		out->cls = VERDICT_SCANNER;
		out->reason = "honeypot";
		return;
	}
	if (in->honeypot_source) {
		out->cls = VERDICT_SCANNER;
		out->reason = "honeypot-source";
		return;
	}
	for (i = 0; vn && in->ip && i < vn->n; i++) {
		struct netlist one = { (struct net *)&vn->v[i].net, 1 };

		if (net_list_match_str(&one, in->ip)) {
			out->cls = vn->v[i].cls;
			out->reason = vn->v[i].reason;
			return;
		}
	}
	/* one lower-case copy, then plain searches for lower-case needles */
	lower(ua, lua, sizeof(lua));
	for (i = 0; i < sizeof(ua_rules) / sizeof(ua_rules[0]); i++)
		if (strstr(lua, ua_rules[i].lneedle) != NULL) {
			out->cls = ua_rules[i].cls;
			out->reason = ua_rules[i].reason;
			return;
		}
	if (strcmp(ua, "Mozilla/5.0") == 0) {
		out->cls = VERDICT_PROXY;
		out->reason = "apple-mpp";
		return;
	}
	if (*ua == '\0') {
		out->cls = VERDICT_BOT;
		out->reason = "empty-ua";
		return;
	}
	if (in->method && strcmp(in->method, "HEAD") == 0) {
		out->cls = VERDICT_PREFETCH;
		out->reason = "head";
		return;
	}
	if (in->purpose && (has_ci(in->purpose, "prefetch") ||
	    has_ci(in->purpose, "preview"))) {
		out->cls = VERDICT_PREFETCH;
		out->reason = "purpose-prefetch";
		return;
	}
	if (in->click && o->click_min_us > 0 && in->sent_us > 0 &&
	    in->now_us - in->sent_us < o->click_min_us) {
		out->cls = VERDICT_SCANNER;
		out->reason = "too-fast";
		return;
	}
	if (in->click && o->burst_links > 0 && in->burst >= o->burst_links) {
		out->cls = VERDICT_SCANNER;
		out->reason = "burst";
		return;
	}
}

/*
 * ---- recent hits ----
 * A fixed, lossy table (a cache, not a map): a slot per message and source
 * by hash, overwritten by another pair, under 64 striped locks so that the
 * request threads rarely meet. hmap.h's table would need one lock and
 * unbounded memory; only its hash is shared.
 */

#define RECENT_LINKS	8
#define RECENT_STRIPES	64

struct recent_slot {
	uint64_t	msg;
	uint64_t	iphash;
	int64_t		last_us;
	int64_t		honeypot_us;		/* when the honeypot was followed */
	uint64_t	links[RECENT_LINKS];	/* distinct links, newest first */
	int64_t		times[RECENT_LINKS];
};

struct verdict_recent {
	struct recent_slot	*slots;
	size_t			 n;
	int64_t			 window_us, honeypot_us;
	pthread_mutex_t		 lock[RECENT_STRIPES];
};

struct verdict_recent *
verdict_recent_new(size_t slots, int64_t window_us, int64_t honeypot_us)
{
	struct verdict_recent	*r;
	int			 i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->slots = calloc(slots, sizeof(*r->slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->n = slots;
	r->window_us = window_us;
	r->honeypot_us = honeypot_us;
	for (i = 0; i < RECENT_STRIPES; i++)
		pthread_mutex_init(&r->lock[i], NULL);
	return r;
}

void
verdict_recent_free(struct verdict_recent *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < RECENT_STRIPES; i++)
		pthread_mutex_destroy(&r->lock[i]);
	free(r->slots);
	free(r);
}

void
verdict_recent_hit(struct verdict_recent *r, uint64_t msg, const char *ip,
    uint64_t link, int honeypot, int64_t now_us, unsigned *burst,
    int *flagged)
{
	uint64_t		 iph = hmap_hash(ip ? ip : "", HMAP_FNV);
	uint64_t		 h = (iph ^ (msg * 0x9e3779b97f4a7c15ULL));
	size_t			 idx = (size_t)(h % r->n);
	pthread_mutex_t		*lk = &r->lock[idx % RECENT_STRIPES];
	struct recent_slot	*s = &r->slots[idx];
	int			 i, j, seen = 0;

	*burst = 1;
	*flagged = 0;
	pthread_mutex_lock(lk);
	/* a different pair, or an old one: the slot starts again */
	if (s->msg != msg || s->iphash != iph ||
	    (now_us - s->last_us > r->window_us &&
	    now_us - s->honeypot_us > r->honeypot_us)) {
		memset(s, 0, sizeof(*s));
		s->msg = msg;
		s->iphash = iph;
	}
	s->last_us = now_us;
	if (honeypot)
		s->honeypot_us = now_us;
	*flagged = s->honeypot_us != 0 && now_us - s->honeypot_us <=
	    r->honeypot_us;
	if (link != 0) {
		for (i = 0; i < RECENT_LINKS; i++)
			if (s->links[i] == link) {
				s->times[i] = now_us;
				seen = 1;
				break;
			}
		if (!seen) {
			for (j = RECENT_LINKS - 1; j > 0; j--) {
				s->links[j] = s->links[j - 1];
				s->times[j] = s->times[j - 1];
			}
			s->links[0] = link;
			s->times[0] = now_us;
		}
		*burst = 0;
		for (i = 0; i < RECENT_LINKS; i++)
			if (s->links[i] && now_us - s->times[i] <= r->window_us)
				(*burst)++;
	}
	pthread_mutex_unlock(lk);
}
