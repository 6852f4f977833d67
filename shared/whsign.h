/*
 * whsign - Standard Webhooks signatures (spec v1): HMAC-SHA256 over
 * "{webhook-id}.{webhook-timestamp}.{body}" with the secret's decoded
 * bytes, sent as "v1,<base64 of the 32-byte MAC>".
 *
 * Secrets are written "whsec_" + base64 of 24..64 random bytes; the key
 * is the decoded bytes. Nothing here logs: a secret never reaches a log.
 */
#ifndef MTRACK_WHSIGN_H
#define MTRACK_WHSIGN_H

#include <stddef.h>
#include <stdint.h>

#define WHSIGN_KEY_MIN	16	/* bytes; the spec asks 24..64, some tools give 16+ */
#define WHSIGN_KEY_MAX	64
/* "v1," + 44 base64 characters + NUL */
#define WHSIGN_SIG_LEN	(3 + 44 + 1)

struct whsign_key {
	uint8_t	key[WHSIGN_KEY_MAX];
	size_t	len;
};

/*
 * whsign_key_parse - decode a "whsec_..." secret into k; 0, or -1 with
 * the reason in err (which never quotes the secret).
 */
int	whsign_key_parse(struct whsign_key *k, const char *secret, char *err,
	    size_t errlen);
/*
 * whsign_sign - the webhook-signature value ("v1,...") of one request
 * into out (WHSIGN_SIG_LEN bytes); body is len bytes exactly as sent.
 */
void	whsign_sign(const struct whsign_key *k, const char *id, int64_t ts,
	    const char *body, size_t len, char out[WHSIGN_SIG_LEN]);
/* whsign_mask - a secret as shown in -n output: "whsec_**** (N bytes)", none of it */
void	whsign_mask(const char *secret, char *out, size_t outsz);

#endif
