/*
 * seal - sealed link tokens (see seal.h).
 *
 * Why ChaCha20-Poly1305 and not AES-GCM: the keys file holds 256-bit keys
 * and ChaCha20 takes them as they are; it runs in constant time in plain
 * software on any CPU (a tracker on a small VM or an ARM host without AES
 * instructions gives no timing channel), and nettle has it in every
 * Debian release we build on. Both take a 96-bit nonce and both fail the
 * same way on a repeated one; a random nonce per token keeps the chance
 * of a repeat below 2^-32 for the first 2^32 tokens of a key, and a key
 * rotation starts the count again.
 */
#include <string.h>

#include <nettle/base64.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/memops.h>
#include <zlib.h>

#include "id.h"
#include "seal.h"
#include "store_node.h"

#define NONCE_LEN	CHACHA_POLY1305_NONCE_SIZE	/* 12 */
#define TAG_LEN		CHACHA_POLY1305_DIGEST_SIZE	/* 16 */
#define HEAD_LEN	(1 + NONCE_LEN)			/* key ID, nonce */
#define PLAIN_MAX	(2 + 3 * 10 + 6 + SEAL_URL_MAX + 64)
#define RAW_MAX		(HEAD_LEN + PLAIN_MAX + TAG_LEN)

/* flags byte: kind in bits 0-1, then the flags; bits 4-7: format 0 */
#define F_KIND		0x03
#define F_HONEYPOT	0x04
#define F_DEFLATE	0x08
#define F_FORMAT	0xf0

#define LOCAL_MASK	((UINT64_C(1) << STORE_NODE_SHIFT) - 1)
#define WBITS		13	/* 8 KB window: a URL and the dictionary fit */

/*
 * The preset dictionary of URL compression: the pieces most URLs in mail
 * share, the commonest last (zlib finds near ones cheaper). Part of the
 * token format: changing it needs a new format number.
 */
static const char url_dict[] =
    "/index.html.php.aspx?id=&ref=newsletter/unsubscribe?email=&token="
    "/products/blog/news/en/de/fr/p/.org/.net/.de/.co.uk/"
    "&utm_content=&utm_term=utm_source=newsletter&utm_medium=email"
    "&utm_campaign=http://www.https://www.";

/* put_varint - 7 bits a byte, low first; returns bytes written */
static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* get_varint - read one; -1 when it runs past end or over 56 bits */
static int
get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < STORE_NODE_SHIFT) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return *v > LOCAL_MASK ? -1 : 0;
		shift += 7;
	}
	return -1;
}

/* url_deflate - compress into out (room outsz); its length, or 0 if not shorter */
static size_t
url_deflate(const char *url, size_t len, uint8_t *out, size_t outsz)
{
	z_stream	zs;
	size_t		n = 0;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -WBITS, 3,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	if (deflateSetDictionary(&zs, (const Bytef *)url_dict,
	    sizeof(url_dict) - 1) == Z_OK) {
		zs.next_in = (Bytef *)(uintptr_t)url;
		zs.avail_in = (uInt)len;
		zs.next_out = out;
		zs.avail_out = (uInt)(outsz < len ? outsz : len);
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
			n = zs.total_out;
	}
	deflateEnd(&zs);
	return n < len ? n : 0;
}

/* url_inflate - uncompress into url; 0, or -1 when not a whole stream */
static int
url_inflate(const uint8_t *in, size_t len, struct buf *url)
{
	z_stream	zs;
	int		rc;

	if (buf_reserve(url, SEAL_URL_MAX + 1) == -1)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -WBITS) != Z_OK)
		return -1;
	rc = inflateSetDictionary(&zs, (const Bytef *)url_dict,
	    sizeof(url_dict) - 1);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)url->data;
	zs.avail_out = SEAL_URL_MAX + 1;
	if (rc == Z_OK)
		rc = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	if (rc != Z_STREAM_END || zs.avail_in != 0 ||
	    zs.total_out > SEAL_URL_MAX)
		return -1;
	url->len = zs.total_out;
	url->data[url->len] = '\0';
	return 0;
}

/* seal_plain - the plaintext of m into p; its length, or 0 if m is bad */
static size_t
seal_plain(const struct seal_msg *m, uint8_t *p)
{
	uint64_t	ms;
	size_t		n = 0, z;
	int		i, node = store_node_of(m->msg);

	if (m->kind != SEAL_CLICK && m->kind != SEAL_OPEN)
		return 0;
	if (m->kind == SEAL_CLICK && (store_node_of(m->link) != node ||
	    m->url_len > SEAL_URL_MAX))
		return 0;
	p[n++] = (uint8_t)(m->kind | (m->honeypot ? F_HONEYPOT : 0));
	p[n++] = (uint8_t)node;
	n += put_varint(p + n, m->msg & LOCAL_MASK);
	if (m->kind == SEAL_CLICK) {
		n += put_varint(p + n, m->link & LOCAL_MASK);
		n += put_varint(p + n, m->pos);
	}
	ms = m->sent_us > 0 ? (uint64_t)m->sent_us / 1000 : 0;
	for (i = 5; i >= 0; i--)
		p[n++] = (uint8_t)(ms >> (8 * i));
	if (m->kind == SEAL_CLICK) {
		if ((z = url_deflate(m->url, m->url_len, p + n, SEAL_URL_MAX))) {
			p[0] |= F_DEFLATE;
			n += z;
		} else {
			memcpy(p + n, m->url, m->url_len);
			n += m->url_len;
		}
	}
	return n;
}

int
seal_token(const struct seal_keys *k, const struct seal_msg *m,
    struct buf *out)
{
	struct chacha_poly1305_ctx	 ctx;
	struct base64_encode_ctx	 b64;
	uint8_t				 raw[RAW_MAX], plain[PLAIN_MAX];
	size_t				 n, len, at;
	int				 rc = -1;

	if (k == NULL || !k->have[k->seal] || (n = seal_plain(m, plain)) == 0)
		return -1;
	raw[0] = (uint8_t)k->seal;
	if (id_random(raw + 1, NONCE_LEN) == -1)
		goto out;
	chacha_poly1305_set_key(&ctx, k->key[k->seal]);
	chacha_poly1305_set_nonce(&ctx, raw + 1);
	chacha_poly1305_update(&ctx, 1, raw);
	chacha_poly1305_encrypt(&ctx, n, raw + HEAD_LEN, plain);
	chacha_poly1305_digest(&ctx, TAG_LEN, raw + HEAD_LEN + n);
	len = HEAD_LEN + n + TAG_LEN;
	if (buf_reserve(out, BASE64_ENCODE_LENGTH(len) +
	    BASE64_ENCODE_FINAL_LENGTH + 1) == -1)
		goto out;
	at = out->len;
	base64url_encode_init(&b64);
	n = base64_encode_update(&b64, out->data + at, len, raw);
	n += base64_encode_final(&b64, out->data + at + n);
	/* URL-safe without padding: the '=' of nettle's final block go */
	while (n > 0 && out->data[at + n - 1] == '=')
		n--;
	out->len = at + n;
	out->data[out->len] = '\0';
	rc = 0;
out:
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(plain, sizeof(plain));
	return rc;
}

/* unb64 - canonical unpadded base64url text into raw; its length, or 0 */
static size_t
unb64(const char *tok, size_t len, uint8_t *raw, size_t rawsz)
{
	struct base64_decode_ctx	 d;
	struct base64_encode_ctx	 e;
	char				 back[SEAL_TOKEN_MAX + 4];
	size_t				 n = rawsz, m;

	if (len < SEAL_MIN_LEN || len > SEAL_TOKEN_MAX || len % 4 == 1 ||
	    BASE64_DECODE_LENGTH(len) > rawsz)
		return 0;
	base64url_decode_init(&d);
	if (!base64_decode_update(&d, &n, raw, len, tok))
		return 0;
	/*
	 * nettle skips white space and takes '=' and leftover bits: only the
	 * one text this encoder writes for these bytes is a token
	 */
	base64url_encode_init(&e);
	m = base64_encode_update(&e, back, n, raw);
	m += base64_encode_final(&e, back + m);
	while (m > 0 && back[m - 1] == '=')
		m--;
	if (m != len || memcmp(back, tok, len) != 0)
		return 0;
	return n;
}

/* seal_parse - the plaintext p[0..n) into m (url filled for clicks); 0 or -1 */
static int
seal_parse(const uint8_t *p, size_t n, enum seal_kind kind,
    struct seal_msg *m, struct buf *url)
{
	const uint8_t	*q = p + 2, *end = p + n;
	uint64_t	 v, ms = 0;
	int		 i, node;

	if (n < 2 + 1 + 6 || (p[0] & F_FORMAT) || (p[0] & F_KIND) != kind)
		return -1;
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->honeypot = (p[0] & F_HONEYPOT) != 0;
	node = p[1];
	if (get_varint(&q, end, &v) == -1)
		return -1;
	m->msg = store_node_seq(node, v);
	if (kind == SEAL_CLICK) {
		if (get_varint(&q, end, &v) == -1)
			return -1;
		m->link = store_node_seq(node, v);
		if (get_varint(&q, end, &v) == -1 || v > 1000000)
			return -1;
		m->pos = (unsigned)v;
	}
	if (end - q < 6)
		return -1;
	for (i = 0; i < 6; i++)
		ms = ms << 8 | *q++;
	m->sent_us = (int64_t)ms * 1000;
	if (kind == SEAL_OPEN)
		return q == end ? 0 : -1;
	buf_reset(url);
	if (p[0] & F_DEFLATE) {
		if (url_inflate(q, (size_t)(end - q), url) == -1)
			return -1;
	} else if ((size_t)(end - q) > SEAL_URL_MAX ||
	    buf_append(url, q, (size_t)(end - q)) == -1)
		return -1;
	m->url = url->data;
	m->url_len = url->len;
	return 0;
}

int
seal_open(const struct seal_keys *k, enum seal_kind kind, const char *tok,
    size_t len, struct seal_msg *m, struct buf *url)
{
	struct chacha_poly1305_ctx	 ctx;
	uint8_t				 raw[RAW_MAX], plain[PLAIN_MAX];
	uint8_t				 tag[TAG_LEN];
	size_t				 n, clen;
	int				 rc = -1;

	if (k == NULL || (n = unb64(tok, len, raw, sizeof(raw))) == 0 ||
	    n < HEAD_LEN + TAG_LEN + 1 || !k->have[raw[0]])
		return -1;
	clen = n - HEAD_LEN - TAG_LEN;
	if (clen > sizeof(plain))
		return -1;
	chacha_poly1305_set_key(&ctx, k->key[raw[0]]);
	chacha_poly1305_set_nonce(&ctx, raw + 1);
	chacha_poly1305_update(&ctx, 1, raw);
	chacha_poly1305_decrypt(&ctx, clen, plain, raw + HEAD_LEN);
	chacha_poly1305_digest(&ctx, TAG_LEN, tag);
	/* nettle decrypts without checking: the tag decides, in constant time */
	if (memeql_sec(tag, raw + HEAD_LEN + clen, TAG_LEN))
		rc = seal_parse(plain, clen, kind, m, url);
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(plain, sizeof(plain));
	return rc;
}
