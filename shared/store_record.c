/*
 * store_record - the record formats of the store (layouts: store.h).
 *
 * The writer builds its records directly, not through a jansson tree
 * (its hot path): the text is the compact JSON jansson would give, with
 * the same escapes, so every reader may parse them with jansson. A few
 * readers on hot paths take a number or a URL without a parse; each
 * falls back to jansson when the record is not laid out as written here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "store_impl.h"

int
store_record_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	int rc = mdb_put(txn, dbi, k, v, MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, 0);
	return rc;
}

/*
 * store_record_str - bytes that are not valid UTF-8 are taken as Latin-1,
 * so every record parses
 */
static const unsigned char jplain[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1
};	/* printable ASCII but '"' and '\\' */

int
store_record_str(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*o;
	size_t			 n;

	if (s == NULL)
		return buf_append(b, "null", 4);
	n = strlen(s);
	if (buf_reserve(b, n * 6 + 2) == -1)
		return -1;
	o = b->data + b->len;
	*o++ = '"';
	while (*p) {
		const unsigned char	*r = p;
		unsigned char		 c;

		/* a run of plain ASCII is copied at once */
		while (jplain[*r])
			r++;
		if (r > p) {
			memcpy(o, p, (size_t)(r - p));
			o += r - p;
			p = r;
			continue;
		}
		c = *p;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)*p++;
			continue;
		}
		if (c < 0x20) {
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			p++;
			continue;
		}
		/* a valid UTF-8 sequence is copied, anything else is Latin-1 */
		{
			size_t len = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 &&
			    c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0, i;
			/* the second byte's range excludes overlongs and surrogates */
			unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;

			if (len && (p[1] < lo || p[1] > hi))
				len = 0;
			for (i = 1; i < len; i++)
				if ((p[i] & 0xc0) != 0x80)
					break;
			if (len && i == len) {
				memcpy(o, p, len);
				o += len;
				p += len;
				continue;
			}
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
			p++;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	return 0;
}

int
store_record_message(struct buf *b, const struct store_msg *m)
{
	char	key[DB_SEQ_LEN + 1];
	size_t	i;
	int	first;

	/* "time" comes first: readers take it without parsing the record */
	if (buf_puts(b, "{\"time\":") || buf_put_i64(b, m->time_us) ||
	    buf_puts(b, ",\"message_id\":") || store_record_str(b, m->message_id) ||
	    buf_puts(b, ",\"queue_id\":") || store_record_str(b, m->queue_id) ||
	    buf_puts(b, ",\"from\":") || store_record_str(b, m->from) ||
	    buf_puts(b, ",\"rcpt\":["))
		return -1;
	for (i = 0; i < m->nrcpt; i++)
		if ((i && buf_putc(b, ',')) || store_record_str(b, m->rcpt[i]))
			return -1;
	if (buf_puts(b, "],\"campaign\":") || store_record_str(b, m->campaign) ||
	    buf_puts(b, ",\"domain\":") || store_record_str(b, m->domain) ||
	    buf_puts(b, ",\"links\":") ||
	    buf_put_i64(b, (int64_t)(m->nlinks - (m->honeypot != 0))) ||
	    buf_puts(b, ",\"link_seqs\":["))
		return -1;
	for (i = 0, first = 1; i < m->nlinks; i++) {
		if (m->links[i].seq == m->honeypot)
			continue;
		db_hex16(key, m->links[i].seq);
		if ((!first && buf_putc(b, ',')) || buf_putc(b, '"') ||
		    buf_append(b, key, DB_SEQ_LEN) || buf_putc(b, '"'))
			return -1;
		first = 0;
	}
	if (buf_printf(b, "],\"pixel\":%s,\"honeypot\":", m->pixel ? "true" :
	    "false"))
		return -1;
	if (m->honeypot) {
		db_hex16(key, m->honeypot);
		return buf_printf(b, "\"%s\"}", key) ? -1 : 0;
	}
	return buf_puts(b, "null}") ? -1 : 0;
}

int
store_record_link(struct buf *b, const struct store_msg *m, size_t i,
    const char msg16[DB_SEQ_LEN + 1])
{
	if (buf_puts(b, "{\"msg\":\"") || buf_append(b, msg16, DB_SEQ_LEN) ||
	    buf_puts(b, "\",\"n\":") || buf_put_i64(b, (int64_t)i) ||
	    buf_puts(b, ",\"t\":") || buf_put_i64(b, m->time_us) ||
	    buf_puts(b, ",\"url\":") || store_record_str(b, m->links[i].url) ||
	    buf_puts(b, m->links[i].seq == m->honeypot ?
	    ",\"honeypot\":true}" : "}"))
		return -1;
	return 0;
}

int
store_record_event(struct buf *b, const struct store_event *e,
    const char ref16[DB_SEQ_LEN + 1], const char msg16[DB_SEQ_LEN + 1])
{
	if (buf_puts(b, "{\"time\":") || buf_put_i64(b, e->time_us) ||
	    buf_puts(b, e->type == STORE_EV_CLICK ?
	    ",\"type\":\"click\",\"link\":\"" : ",\"type\":\"open\",\"ref\":\"") ||
	    buf_append(b, ref16, DB_SEQ_LEN) ||
	    buf_puts(b, "\",\"msg\":\"") || buf_append(b, msg16, DB_SEQ_LEN) ||
	    buf_puts(b, "\",\"ip\":") || store_record_str(b, e->ip) ||
	    buf_puts(b, ",\"ua\":") || store_record_str(b, e->ua) ||
	    buf_puts(b, ",\"method\":") || store_record_str(b, e->method) ||
	    buf_puts(b, ",\"host\":") || store_record_str(b, e->host) ||
	    buf_puts(b, ",\"class\":") ||
	    store_record_str(b, e->verdict ? e->verdict : "human") ||
	    buf_puts(b, ",\"reason\":") ||
	    store_record_str(b, e->reason ? e->reason : "-") ||
	    buf_putc(b, '}'))
		return -1;
	return 0;
}

int
store_msghead_parse(const char *rec, size_t len, struct store_msghead *h)
{
	const char	*cut;
	json_t		*o = NULL, *x;
	json_int_t	 tm = 0;

	memset(h, 0, sizeof(*h));
	/* the head is enough: the list of links after it can be long */
	if ((cut = memmem(rec, len, ",\"links\":", 9)) != NULL) {
		size_t	 n = (size_t)(cut - rec);
		char	*head = malloc(n + 2);

		if (head == NULL)
			return -1;
		memcpy(head, rec, n);
		head[n] = '}';
		head[n + 1] = '\0';
		o = json_loadb(head, n + 1, 0, NULL);
		free(head);
	}
	if (o == NULL && (o = json_loadb(rec, len, 0, NULL)) == NULL)
		return -1;
	json_unpack(o, "{s?I}", "time", &tm);
	h->time_us = tm;
	if ((x = json_object_get(o, "rcpt")) != NULL)
		h->nrcpt = json_array_size(x);
	if ((x = json_object_get(o, "campaign")) != NULL && json_is_string(x))
		snprintf(h->campaign, sizeof(h->campaign), "%s",
		    json_string_value(x));
	if ((x = json_object_get(o, "domain")) != NULL && json_is_string(x))
		snprintf(h->domain, sizeof(h->domain), "%s",
		    json_string_value(x));
	if ((x = json_object_get(o, "message_id")) != NULL && json_is_string(x))
		snprintf(h->message_id, sizeof(h->message_id), "%s",
		    json_string_value(x));
	json_decref(o);
	return 0;
}


int
store_record_link_parse(const char *rec, size_t len, struct buf *url,
    struct store_linkinfo *li)
{
	const char	*end = rec + len, *tp, *up, *q, *u, *m;
	json_t		*o;
	json_int_t	 t = 0;
	int		 hp = 0, ret = -1;

	/*
	 * The record as store_record_link writes it: {"msg":"HEX16","n":N,
	 * "t":T,"url":"..."[,"honeypot":true]}. A URL without escapes is
	 * taken as it stands; anything else goes through jansson.
	 */
	if (len > 30 && memcmp(rec, "{\"msg\":\"", 8) == 0 &&
	    (tp = memmem(rec, len, ",\"t\":", 5)) != NULL &&
	    (up = memmem(rec, len, ",\"url\":\"", 8)) != NULL &&
	    (q = memchr(up + 8, '"', (size_t)(end - up - 8))) != NULL &&
	    memchr(up + 8, '\\', (size_t)(q - up - 8)) == NULL) {
		char num[24];
		size_t nl = (size_t)(up - tp - 5) < 23 ?
		    (size_t)(up - tp - 5) : 23;

		if (url && buf_append(url, up + 8, (size_t)(q - up - 8)))
			return -1;
		if (li) {
			li->msg = db_hex16_parse(rec + 8);
			memcpy(num, tp + 5, nl);
			num[nl] = '\0';
			li->sent_us = strtoll(num, NULL, 10);
			li->honeypot = memmem(q, (size_t)(end - q),
			    "\"honeypot\":true", 15) != NULL;
		}
		return 0;
	}
	if ((o = json_loadb(rec, len, 0, NULL)) == NULL ||
	    json_unpack(o, "{s:s, s:s, s?I, s?b}", "url", &u, "msg", &m,
	    "t", &t, "honeypot", &hp) != 0)
		goto out;
	if (url && buf_puts(url, u) == -1)
		goto out;
	if (li) {
		li->msg = strtoull(m, NULL, 16);
		li->sent_us = t;
		li->honeypot = hp;
	}
	ret = 0;
out:
	json_decref(o);
	return ret;
}

int64_t
store_record_time(const char *rec, size_t len)
{
	json_t		*o;
	json_int_t	 t = 0;

	/* the record starts {"time":N: a message with many links is not parsed for one number */
	if (len > 9 && memcmp(rec, "{\"time\":", 8) == 0) {
		char num[24];
		size_t n = len - 8 < 23 ? len - 8 : 23;

		memcpy(num, rec + 8, n);
		num[n] = '\0';
		return strtoll(num, NULL, 10);
	}
	if ((o = json_loadb(rec, len, 0, NULL)) != NULL) {
		json_unpack(o, "{s?I}", "time", &t);
		json_decref(o);
	}
	return t;
}

int
store_record_json(MDB_txn *txn, MDB_dbi dbi, const char *key,
    const json_t *o, size_t jflags)
{
	char	*text;
	MDB_val	 k, v;
	int	 rc;

	if (o == NULL || (text = json_dumps(o, JSON_COMPACT | jflags)) == NULL)
		return ENOMEM;
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	v.mv_data = text;
	v.mv_size = strlen(text);
	rc = mdb_put(txn, dbi, &k, &v, 0);
	free(text);
	return rc;
}
