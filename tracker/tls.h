/*
 * tls - the certificates of the tracker's HTTPS listener.
 *
 * A set of certificates: tls_cert (the default) and each tls_certs entry.
 * The names a certificate serves are its subjectAltName DNS entries (its
 * CN when it has none), "*.example.com" matching one label. A handshake
 * gets the certificate whose name equals the SNI name, else one whose
 * wildcard matches, else the default (no SNI, unknown name).
 *
 * Reload: tls_load builds a whole new set from the files and swaps it in
 * under a lock; when any file fails the old set stays. Each handshake
 * receives its own copy of the chain and key, which GnuTLS frees with the
 * session, so a swap never touches a connection that is already open.
 * One set per process.
 */
#ifndef MTRACK_TLS_H
#define MTRACK_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

#include "config.h"

/*
 * tls_check - the TLS keys agree with each other (a listener needs a
 * certificate, a certificate needs the listener, tls_key needs tls_cert)
 * and tls_priorities parses. Reads no file. 0, or -1 with the reason.
 */
int	tls_check(const struct config *c, char *err, size_t errlen);
/*
 * tls_load - read every certificate and key of c, check each key matches
 * its certificate, and make them the current set. 0, or -1 with
 * "FILE: reason" in err and the current set unchanged.
 */
int	tls_load(const struct config *c, char *err, size_t errlen);
/* tls_unload - free the current set (at exit, after the listener stopped) */
void	tls_unload(void);

/*
 * tls_retrieve - the certificate callback for MHD_OPTION_HTTPS_CERT_CALLBACK2
 * (gnutls_certificate_retrieve_function3): picks by SNI and hands GnuTLS
 * copies that it frees itself (GNUTLS_CERT_RETR_DEINIT_ALL).
 */
int	tls_retrieve(gnutls_session_t session,
	    const struct gnutls_cert_retr_st *info, gnutls_pcert_st **certs,
	    unsigned int *ncerts, gnutls_ocsp_data_st **ocsp,
	    unsigned int *nocsp, gnutls_privkey_t *key, unsigned int *flags);

struct tls_stats {
	uint64_t	certificates;	/* in the current set */
	uint64_t	reloads;	/* sets loaded, the first one included */
	uint64_t	handshakes;	/* certificates handed out */
	uint64_t	fallbacks;	/* of those: default, no name matched */
	uint64_t	failures;	/* callback could not copy a certificate */
	time_t		not_after;	/* earliest expiry in the set (0: none) */
};
/* tls_stats - counters for /metrics */
void	tls_stats(struct tls_stats *st);

#endif
