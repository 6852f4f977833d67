/*
 * net - lists of IPv4/IPv6 networks in CIDR notation, and matching; the
 * form of a listen address.
 */
#ifndef MTRACK_NET_H
#define MTRACK_NET_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct net {
	int	af;		/* AF_INET or AF_INET6 */
	uint8_t	addr[16];	/* network, host bits cleared */
	int	prefix;		/* prefix length */
};

struct netlist {
	struct net	*v;	/* owned; net_list_free() releases */
	size_t		 n;
};

/* net_parse - one "addr[/prefix]"; 0 or -1 */
int	net_parse(struct net *n, const char *s);
/* net_list_parse - comma/space separated list; -1 with the bad item named in err */
int	net_list_parse(struct netlist *l, const char *s, char *err, size_t errlen);
void	net_list_free(struct netlist *l);
/* net_list_match_sa - the address (v4, v6 or v4-mapped v6) is in a network of l */
int	net_list_match_sa(const struct netlist *l, const struct sockaddr *sa);
/* net_list_match_str - same for a textual address; 0 when it does not parse */
int	net_list_match_str(const struct netlist *l, const char *addr);
/* net_list_format - the list as text, into out */
void	net_list_format(const struct netlist *l, char *out, size_t outsz);

/*
 * net_listen_split - a listen address "HOST:PORT", "[IPV6]:PORT" or
 * "*:PORT" into its host (brackets off, "*" kept) and *port (within spec).
 * The one check of the form: the configuration and the listener use it.
 * 0, or -1 with the reason in err.
 */
int	net_listen_split(const char *spec, char *host, size_t hostlen,
	    const char **port, char *err, size_t errlen);

#endif
