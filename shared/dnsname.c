/*
 * dnsname - DNS names (see dnsname.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "dnsname.h"

int
dnsname_valid(const char *name)
{
	size_t	i, label = 0;

	for (i = 0; name[i]; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)name[i]) || name[i] == '-' ||
		    name[i] == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0 && i < DNSNAME_MAX - 2;
}

int
dnsname_copy(const char *name, size_t len, char *out, size_t outlen)
{
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len >= outlen)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return dnsname_valid(out) ? 0 : -1;
}

int
dnsname_of_address(const char *addr, char *out, size_t outlen)
{
	const char	*p, *q, *end, *at = NULL;
	int		 depth = 0, quoted = 0;

	if (addr == NULL)
		return -1;
	/*
	 * The first address: inside <...>, or up to a ',' outside quotes;
	 * its domain follows the last '@' that is in no comment or quote.
	 */
	for (p = addr; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = 0;
		} else if (*p == '(')
			depth++;
		else if (depth > 0) {
			if (*p == ')')
				depth--;
		} else if (*p == '"')
			quoted = 1;
		else if (*p == '@')
			at = p;
		else if (*p == ',')
			break;
		else if (*p == '<') {
			at = NULL;
			for (q = p + 1; *q && *q != '>'; q++)
				if (*q == '@')
					at = q;
			p = q;
			break;
		}
	}
	if (at == NULL)
		return -1;
	for (end = at + 1; isalnum((unsigned char)*end) || *end == '.' ||
	    *end == '-' || *end == '_'; end++)
		;
	return dnsname_copy(at + 1, (size_t)(end - at - 1), out, outlen);
}

int
dnsname_url_host(const char *url, char *out, size_t outlen)
{
	const char	*h = strstr(url, "://"), *e;
	struct in_addr	 a4;

	if (h == NULL)
		return -1;
	h += 3;
	e = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(e - h)))
		h = (const char *)memrchr(h, '@', (size_t)(e - h)) + 1;
	if (*h == '[')
		return -1;	/* an IP literal is no domain */
	e = h + strcspn(h, ":/?#");
	if (dnsname_copy(h, (size_t)(e - h), out, outlen) == -1 ||
	    inet_pton(AF_INET, out, &a4) == 1)
		return -1;
	return 0;
}
