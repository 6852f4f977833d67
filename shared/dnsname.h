/*
 * dnsname - DNS names: checked, lowercased, found in a mail address or a
 * URL. A leaf module: it knows no configuration and no store, so that
 * config.c (which checks names) and domain.c (which chooses tracking
 * domains) both stand on it.
 */
#ifndef MTRACK_DNSNAME_H
#define MTRACK_DNSNAME_H

#include <stddef.h>

#define DNSNAME_MAX	256	/* a domain name and its NUL */

/* dnsname_valid - 1 when name is a DNS name (letters, digits, '-', '_', dots) */
int	dnsname_valid(const char *name);
/* dnsname_copy - name[0..len) lowercased into out, without a final dot; 0, or -1 when no valid name */
int	dnsname_copy(const char *name, size_t len, char *out, size_t outlen);
/*
 * dnsname_of_address - the domain of an address: "a@b", "<a@b>" or a From
 * header value ("Name" <a@b>, a@b (comment); the first address counts),
 * lowercased into out. 0, or -1 when there is none.
 */
int	dnsname_of_address(const char *addr, char *out, size_t outlen);
/* dnsname_url_host - the host of an http(s) URL, lowercased into out; 0 or -1 (none, or an IP address) */
int	dnsname_url_host(const char *url, char *out, size_t outlen);

#endif
