/*
 * whsign - Standard Webhooks signatures with nettle (see whsign.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>

#include "whsign.h"

#define WHSIGN_PREFIX	"whsec_"

int
whsign_key_parse(struct whsign_key *k, const char *secret, char *err,
    size_t errlen)
{
	struct base64_decode_ctx	 ctx;
	const char			*b64;
	uint8_t				 raw[BASE64_DECODE_LENGTH(128)];
	size_t				 n = sizeof(raw), len;

	memset(k, 0, sizeof(*k));
	if (secret == NULL || strncmp(secret, WHSIGN_PREFIX,
	    sizeof(WHSIGN_PREFIX) - 1) != 0) {
		snprintf(err, errlen, "a secret starts with " WHSIGN_PREFIX);
		return -1;
	}
	b64 = secret + sizeof(WHSIGN_PREFIX) - 1;
	len = strlen(b64);
	if (len == 0 || len > 128) {
		snprintf(err, errlen, "a secret is " WHSIGN_PREFIX " and 24 to"
		    " 64 bytes in base64");
		return -1;
	}
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, raw, len, b64) ||
	    !base64_decode_final(&ctx)) {
		snprintf(err, errlen, "the secret after " WHSIGN_PREFIX " is not"
		    " base64");
		return -1;
	}
	if (n < WHSIGN_KEY_MIN || n > WHSIGN_KEY_MAX) {
		snprintf(err, errlen, "the secret decodes to %zu bytes, not %d"
		    " to %d", n, WHSIGN_KEY_MIN, WHSIGN_KEY_MAX);
		return -1;
	}
	memcpy(k->key, raw, n);
	k->len = n;
	return 0;
}

void
whsign_sign(const struct whsign_key *k, const char *id, int64_t ts,
    const char *body, size_t len, char out[WHSIGN_SIG_LEN])
{
	struct hmac_sha256_ctx	ctx;
	uint8_t			mac[SHA256_DIGEST_SIZE];
	char			tsbuf[24];
	int			n;

	n = snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
	hmac_sha256_set_key(&ctx, k->len, k->key);
	hmac_sha256_update(&ctx, strlen(id), (const uint8_t *)id);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)".");
	hmac_sha256_update(&ctx, (size_t)n, (const uint8_t *)tsbuf);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)".");
	hmac_sha256_update(&ctx, len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	memcpy(out, "v1,", 3);
	base64_encode_raw((char *)out + 3, sizeof(mac), mac);
	out[WHSIGN_SIG_LEN - 1] = '\0';
}

void
whsign_mask(const char *secret, char *out, size_t outsz)
{
	struct whsign_key	k;
	char			err[128];

	/* nothing of the secret itself: its length says enough to check it */
	if (whsign_key_parse(&k, secret, err, sizeof(err)) == -1)
		snprintf(out, outsz, "****");
	else
		snprintf(out, outsz, WHSIGN_PREFIX "**** (%zu bytes)", k.len);
	memset(&k, 0, sizeof(k));
}
