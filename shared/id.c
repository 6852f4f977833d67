/*
 * id - AES-128 permutation of sequence numbers into public IDs (see id.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/aes.h>

#include "id.h"

_Static_assert(sizeof(struct aes128_ctx) <= sizeof(((struct id_key *)0)->ctx),
    "id_key too small");

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* the tag fills the block's second half: "mtrk", type, 3 zero bytes */
static void
id_block(uint8_t blk[16], enum id_type type, uint64_t seq)
{
	int i;

	for (i = 0; i < 8; i++)
		blk[i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(blk + 8, "mtrk", 4);
	blk[12] = (uint8_t)type;
	blk[13] = blk[14] = blk[15] = 0;
}

void
id_key_init(struct id_key *k, const uint8_t raw[ID_KEY_LEN])
{
	struct aes128_ctx *ctx = (struct aes128_ctx *)(void *)k->ctx;

	/* one context serves both directions: encrypt, then invert */
	aes128_set_encrypt_key(ctx, raw);
	memcpy(k->ctx + sizeof(*ctx), ctx, sizeof(*ctx));
	aes128_invert_key((struct aes128_ctx *)(void *)(k->ctx + sizeof(*ctx)),
	    ctx);
}

int
id_random(void *buf, size_t n)
{
	uint8_t	*p = buf;
	ssize_t	 r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void
id_encode(const struct id_key *k, enum id_type type, uint64_t seq,
    char out[ID_LEN + 1])
{
	uint8_t		 blk[16], enc[18];
	uint32_t	 v;
	char		 tmp[24];
	int		 i, o = 0;

	id_block(blk, type, seq);
	aes128_encrypt((const struct aes128_ctx *)(const void *)k->ctx, 16,
	    enc, blk);
	enc[16] = enc[17] = 0;
	for (i = 0; i < 18; i += 3) {
		v = (uint32_t)enc[i] << 16 | (uint32_t)enc[i + 1] << 8 | enc[i + 2];
		tmp[o++] = b64[(v >> 18) & 63];
		tmp[o++] = b64[(v >> 12) & 63];
		tmp[o++] = b64[(v >> 6) & 63];
		tmp[o++] = b64[v & 63];
	}
	/* 18 bytes make 24 characters; the last two only carry padding */
	memcpy(out, tmp, ID_LEN);
	out[ID_LEN] = '\0';
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
id_decode(const struct id_key *k, enum id_type type, const char *s,
    size_t len, uint64_t *seq)
{
	uint8_t		 enc[18], blk[16], want[16];
	uint32_t	 v;
	int		 i, j, d;

	if (len != ID_LEN)
		return -1;
	for (i = 0, j = 0; i < 24; i += 4) {
		v = 0;
		for (d = 0; d < 4; d++) {
			int x = i + d < ID_LEN ?
			    b64val((unsigned char)s[i + d]) : 0;

			if (x < 0)
				return -1;
			v = v << 6 | (uint32_t)x;
		}
		enc[j++] = (uint8_t)(v >> 16);
		enc[j++] = (uint8_t)(v >> 8);
		enc[j++] = (uint8_t)v;
	}
	/* 22 characters carry 132 bits: the last 4 must be zero */
	if (enc[16] & 0xf0)
		return -1;
	aes128_decrypt((const struct aes128_ctx *)(const void *)
	    (k->ctx + sizeof(struct aes128_ctx)), 16, blk, enc);
	id_block(want, type, 0);
	if (memcmp(blk + 8, want + 8, 8) != 0)
		return -1;
	*seq = 0;
	for (i = 0; i < 8; i++)
		*seq = *seq << 8 | blk[i];
	return 0;
}
