/*
 * net - CIDR lists and address matching (see net.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"

int
net_parse(struct net *n, const char *s)
{
	char	 tmp[INET6_ADDRSTRLEN + 8], *slash, *end;
	long	 p;
	int	 max, i;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, tmp, n->addr) == 1) {
		n->af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, n->addr) == 1) {
		n->af = AF_INET6;
		max = 128;
	} else
		return -1;
	n->prefix = max;
	if (slash) {
		p = strtol(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || p < 0 || p > max)
			return -1;
		n->prefix = (int)p;
	}
	for (i = n->prefix; i < max; i++)
		n->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	return 0;
}

int
net_list_parse(struct netlist *l, const char *s, char *err, size_t errlen)
{
	char		*copy, *tok, *save = NULL;
	struct net	*v;

	l->v = NULL;
	l->n = 0;
	if ((copy = strdup(s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		l->v = v;
		if (net_parse(&l->v[l->n], tok) == -1) {
			snprintf(err, errlen, "bad network \"%.64s\"", tok);
			goto fail;
		}
		l->n++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	net_list_free(l);
	return -1;
}

void
net_list_free(struct netlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* net_in - addr (of family af) lies in network n */
static int
net_in(const struct net *n, int af, const uint8_t *addr)
{
	int	full, rest;

	if (n->af != af)
		return 0;
	full = n->prefix / 8;
	rest = n->prefix % 8;
	if (memcmp(n->addr, addr, (size_t)full) != 0)
		return 0;
	if (rest && ((addr[full] ^ n->addr[full]) & (0xff00 >> rest)))
		return 0;
	return 1;
}

static int
net_list_match(const struct netlist *l, int af, const uint8_t *addr)
{
	static const uint8_t	mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	size_t			i;

	if (af == AF_INET6 && memcmp(addr, mapped, 12) == 0)
		return net_list_match(l, AF_INET, addr + 12);
	for (i = 0; i < l->n; i++)
		if (net_in(&l->v[i], af, addr))
			return 1;
	return 0;
}

int
net_list_match_sa(const struct netlist *l, const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET)
		return net_list_match(l, AF_INET, (const uint8_t *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return net_list_match(l, AF_INET6, (const uint8_t *)
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

int
net_list_match_str(const struct netlist *l, const char *addr)
{
	uint8_t	a[16];

	if (inet_pton(AF_INET, addr, a) == 1)
		return net_list_match(l, AF_INET, a);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return net_list_match(l, AF_INET6, a);
	return 0;
}

void
net_list_format(const struct netlist *l, char *out, size_t outsz)
{
	char	a[INET6_ADDRSTRLEN];
	size_t	i, o = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && o < outsz; i++) {
		inet_ntop(l->v[i].af, l->v[i].addr, a, sizeof(a));
		o += (size_t)snprintf(out + o, outsz - o, "%s%s/%d",
		    i ? ", " : "", a, l->v[i].prefix);
	}
}

int
net_listen_split(const char *spec, char *host, size_t hostlen,
    const char **port, char *err, size_t errlen)
{
	const char	*colon, *hs;
	char		*end;
	size_t		 hn;
	long		 pn;

	if ((colon = strrchr(spec, ':')) == NULL || colon == spec ||
	    colon[1] == '\0') {
		snprintf(err, errlen, "\"%.64s\": want HOST:PORT", spec);
		return -1;
	}
	pn = strtol(colon + 1, &end, 10);
	if (*end != '\0' || pn < 1 || pn > 65535) {
		snprintf(err, errlen, "\"%.64s\": bad port", spec);
		return -1;
	}
	hs = spec;
	hn = (size_t)(colon - spec);
	if (hs[0] == '[') {
		if (hn < 3 || hs[hn - 1] != ']') {
			snprintf(err, errlen, "\"%.64s\": want [IPV6]:PORT", spec);
			return -1;
		}
		hs++;
		hn -= 2;
	} else if (memchr(hs, ':', hn)) {
		snprintf(err, errlen, "\"%.64s\": IPv6 addresses go in []", spec);
		return -1;
	}
	if (hn >= hostlen) {
		snprintf(err, errlen, "\"%.64s\": host too long", spec);
		return -1;
	}
	memcpy(host, hs, hn);
	host[hn] = '\0';
	*port = colon + 1;
	return 0;
}
