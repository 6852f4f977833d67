/*
 * verdict - people or machines: a class and a reason for every click and
 * open, from the User-Agent, the source network, the request's shape and
 * its timing. Verdicts change the numbers, never the tracker's answer.
 *
 * Rules, first match wins:
 *   honeypot link followed            scanner  honeypot
 *   source hit the honeypot lately    scanner  honeypot-source
 *   source in a listed network        (class and reason of the list line)
 *   known image proxy User-Agent      proxy    gmail-proxy, yahoo-proxy, ...
 *   bare "Mozilla/5.0" (Apple MPP)    proxy    apple-mpp
 *   security scanner User-Agent       scanner  safelinks, mimecast, ...
 *   office suite link check           prefetch office-link-check
 *   social/chat link preview          prefetch link-preview
 *   tool or crawler User-Agent        bot      curl, python, headless, ...
 *   no User-Agent                     bot      empty-ua
 *   neither Accept nor Accept-Language bot     no-browser-headers
 *   HEAD request                      prefetch head
 *   Purpose/Sec-Purpose: prefetch     prefetch purpose-prefetch
 *   click within click_min_seconds    scanner  too-fast
 *     of sending
 *   burst_links links of a message    scanner  burst
 *     within burst_ms from one source
 *   anything else                     human    -
 */
#ifndef MTRACK_VERDICT_H
#define MTRACK_VERDICT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

enum verdict_class { VERDICT_HUMAN, VERDICT_PROXY, VERDICT_PREFETCH,
    VERDICT_SCANNER, VERDICT_BOT, VERDICT_NCLASS };

/* networks with a class: CIDR lists from data files */
struct verdict_net {
	struct net		 net;
	enum verdict_class	 cls;
	char			 reason[32];
};

struct verdict_nets {
	struct verdict_net	*v;	/* owned */
	size_t			 n;
};

/*
 * verdict_nets_load - add the networks of a file: lines "CIDR CLASS REASON",
 * '#' comments. -1 with "file:line: reason" in err.
 */
int	verdict_nets_load(struct verdict_nets *vn, const char *path, char *err,
	    size_t errlen);
/* verdict_nets_builtin - add the list compiled in (contrib/networks/scanners.txt) */
int	verdict_nets_builtin(struct verdict_nets *vn, char *err, size_t errlen);
/*
 * verdict_nets_config - the networks the verdict_networks key names: empty
 * (the default) is the built-in list, "none" no list at all, otherwise the
 * files named, where the word "builtin" stands for the built-in list.
 * -1 with the file, line and reason in err.
 */
int	verdict_nets_config(struct verdict_nets *vn, char *const *list,
	    char *err, size_t errlen);
void	verdict_nets_free(struct verdict_nets *vn);

/* what is known of one request */
struct verdict_in {
	int		 click;		/* else an open */
	const char	*ua;		/* NULL or "" when absent */
	const char	*method;
	const char	*purpose;	/* Purpose or Sec-Purpose header, or NULL */
	int		 headers_known;	/* accept, accept_language are set */
	const char	*accept;	/* Accept header, or NULL */
	const char	*accept_language; /* Accept-Language header, or NULL */
	const char	*ip;		/* client address, text */
	int64_t		 now_us;
	int64_t		 sent_us;	/* when the message was sent; 0 unknown */
	int		 honeypot;	/* the link is the honeypot */
	int		 honeypot_source; /* this source followed it lately */
	unsigned	 burst;		/* distinct links of the message this source hit within burst_ms */
};

struct verdict_opts {
	int64_t		 click_min_us;	/* faster clicks are scanners; 0 off */
	unsigned	 burst_links;	/* 0 off */
};

struct verdict {
	enum verdict_class	 cls;
	const char		*reason;	/* static or owned by the nets */
};

/* verdict_decide - the class and reason of one request */
void	verdict_decide(const struct verdict_nets *vn,
	    const struct verdict_opts *o, const struct verdict_in *in,
	    struct verdict *out);
/* verdict_class_name - "human", "proxy", ... */
const char *verdict_class_name(enum verdict_class c);
/* verdict_class_parse - the class of a name, or -1 */
int	verdict_class_parse(const char *name);

/*
 * Recent hits by (message, source), for bursts and the honeypot: a fixed
 * table, thread-safe, that forgets old entries by itself.
 */
struct verdict_recent;

/* verdict_recent_new - a table for window_us of history; NULL on ENOMEM */
struct verdict_recent *verdict_recent_new(size_t slots, int64_t window_us,
	    int64_t honeypot_us);
void	verdict_recent_free(struct verdict_recent *r);
/*
 * verdict_recent_hit - record a hit of link (0 for opens) of msg from ip
 * at now_us; *burst receives the distinct links hit within the window,
 * this one included, and *flagged whether the source followed the
 * message's honeypot within honeypot_us.
 */
void	verdict_recent_hit(struct verdict_recent *r, uint64_t msg,
	    const char *ip, uint64_t link, int honeypot, int64_t now_us,
	    unsigned *burst, int *flagged);

#endif
