/*
 * record - messages and events as JSON between hosts (see record.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lmdb.h>

#include "db.h"
#include "query.h"
#include "record.h"

/* hex16_parse - a string of 16 hex digits into *v; 0 or -1 */
static int
hex16_parse(const char *p, uint64_t *v)
{
	return p == NULL ? -1 : db_hex16_get(p, strlen(p), v);
}

/* str - a string member, or NULL */
static const char *
str(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* link_onto - the "links" record seq16 with its key, onto out; 0, or -1 */
static int
link_onto(MDB_txn *txn, MDB_dbi links, const char *seq16, struct buf *out,
    long *n)
{
	MDB_val		 k, v;
	const char	*p;

	k.mv_data = (void *)seq16;
	k.mv_size = 16;
	if (mdb_get(txn, links, &k, &v) != 0 || v.mv_size < 2 ||
	    ((char *)v.mv_data)[v.mv_size - 1] != '}')
		return -1;
	if (n && ((p = memmem(v.mv_data, v.mv_size, "\"n\":", 4)) == NULL ||
	    (*n = strtol(p + 4, NULL, 10)) < 0))
		return -1;
	if (buf_append(out, v.mv_data, v.mv_size - 1) ||
	    buf_puts(out, ",\"key\":\"") || buf_append(out, seq16, 16) ||
	    buf_puts(out, "\"}"))
		return -1;
	return 0;
}

/* hex_at - the 16 hex digits in quotes that follow name in rec, or NULL */
static const char *
hex_at(const char *rec, size_t len, const char *name)
{
	const char	*p = memmem(rec, len, name, strlen(name));
	size_t		 i;

	if (p == NULL || (size_t)(p - rec) + strlen(name) + 17 > len)
		return NULL;
	p += strlen(name);
	for (i = 0; i < 16; i++)
		if (!isxdigit((unsigned char)p[i]))
			return NULL;
	return p[16] == '"' ? p : NULL;
}

/*
 * The records are JSON the store wrote: extended and joined as text, in
 * one read transaction, not parsed and written again (the milter's
 * publisher reads one message record and one record per link).
 */
int
record_message(struct store *s, const char *key, struct buf *out)
{
	MDB_txn		*txn;
	MDB_val		 k, v;
	MDB_dbi		 links = store_dbi(s, DB_LINKS);
	const char	*rec, *p, *end, *hp;
	size_t		 len, pos = 0;
	long		 hpn = -1;
	int		 rc = -1, first = 1;

	if ((txn = store_read_begin(s)) == NULL)
		return -1;
	k.mv_data = (void *)key;
	k.mv_size = strlen(key);
	if ((rc = mdb_get(txn, store_dbi(s, DB_MESSAGES), &k, &v)) != 0) {
		store_read_end(s, txn);
		return rc == MDB_NOTFOUND ? 1 : -1;
	}
	rc = -1;
	rec = v.mv_data;
	len = v.mv_size;
	if (len < 2 || rec[len - 1] != '}' ||
	    (p = memmem(rec, len, "\"link_seqs\":[", 13)) == NULL)
		goto out;
	p += 13;
	end = rec + len;
	/* the honeypot link is not in link_seqs: it goes back at its position */
	if ((hp = hex_at(rec, len, "\"honeypot\":\"")) != NULL) {
		struct buf tmp = BUF_INIT;

		if (link_onto(txn, links, hp, &tmp, &hpn) == -1) {
			buf_free(&tmp);
			goto out;
		}
		buf_free(&tmp);
	}
	if (buf_append(out, rec, len - 1) || buf_puts(out, ",\"key\":\"") ||
	    buf_puts(out, key) || buf_puts(out, "\",\"link_records\":["))
		goto out;
	for (;;) {
		if (hp && (long)pos == hpn) {
			if ((!first && buf_putc(out, ',')) ||
			    link_onto(txn, links, hp, out, NULL) == -1)
				goto out;
			first = 0;
			pos++;
			hp = NULL;
			continue;
		}
		if (p < end && *p == ',')
			p++;
		if (p >= end || *p == ']')
			break;
		if (end - p < 18 || *p != '"' || p[17] != '"')
			goto out;
		{
			char seq[17];

			memcpy(seq, p + 1, 16);
			seq[16] = '\0';
			if ((!first && buf_putc(out, ',')) ||
			    link_onto(txn, links, seq, out, NULL) == -1)
				goto out;
		}
		first = 0;
		pos++;
		p += 18;
	}
	/* a honeypot after every other link */
	if (hp && ((!first && buf_putc(out, ',')) ||
	    link_onto(txn, links, hp, out, NULL) == -1))
		goto out;
	rc = buf_puts(out, "]}");
out:
	store_read_end(s, txn);
	return rc;
}

/* json_str_onto - s as a JSON string (or null) onto b; 0 or -1 */
static int
json_str_onto(struct buf *b, const char *s)
{
	json_t	*v;
	char	*t;
	int	 rc;

	if (*s == '\0')
		return buf_puts(b, "null");
	if ((v = json_string(s)) == NULL)	/* not UTF-8: as the store has none */
		return buf_puts(b, "null");
	t = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(v);
	if (t == NULL)
		return -1;
	rc = buf_puts(b, t);
	free(t);
	return rc;
}

/* cache_message - what the events of message msg16 add, into rc->tail */
static int
cache_message(struct store *s, struct record_cache *rc, const char *msg16)
{
	struct store_msghead	h;
	struct buf		b = BUF_INIT;
	int			r = 0;

	memcpy(rc->last, msg16, 16);
	rc->last[16] = '\0';
	buf_reset(&rc->tail);
	if (query_get(s, DB_MESSAGES, rc->last, &b) == 0 &&
	    store_msghead_parse(b.data, b.len, &h) == 0)
		r = buf_puts(&rc->tail, ",\"message_id\":") ||
		    json_str_onto(&rc->tail, h.message_id) ||
		    buf_puts(&rc->tail, ",\"campaign\":") ||
		    json_str_onto(&rc->tail, h.campaign) ? -1 : 0;
	buf_free(&b);
	return r;
}

/*
 * The stored record is JSON the store wrote: it is extended in place, not
 * parsed and written again (the publisher's hot path).
 */
int
record_event(struct store *s, struct record_cache *rc, const char *key,
    size_t klen, const char *val, size_t vlen, struct buf *out)
{
	const char	*m;

	if (vlen < 2 || val[0] != '{' || val[vlen - 1] != '}')
		return -1;
	if ((m = memmem(val, vlen, "\"msg\":\"", 7)) != NULL &&
	    (size_t)(m - val) + 7 + 16 < vlen) {
		m += 7;
		if (memcmp(m, rc->last, 16) != 0 &&
		    cache_message(s, rc, m) == -1)
			return -1;
	} else {
		rc->last[0] = '\0';
		buf_reset(&rc->tail);
	}
	if (buf_append(out, val, vlen - 1) || buf_puts(out, ",\"key\":\"") ||
	    buf_append(out, key, klen) || buf_putc(out, '"') ||
	    buf_append(out, rc->tail.data ? rc->tail.data : "", rc->tail.len) ||
	    buf_putc(out, '}'))
		return -1;
	return 0;
}

void
record_cache_free(struct record_cache *rc)
{
	buf_free(&rc->tail);
	memset(rc, 0, sizeof(*rc));
}

int
record_msg_parse(const char *text, size_t len, struct record_msg *r)
{
	json_t		*o, *a, *l;
	size_t		 i, n;
	uint64_t	 seq;

	memset(r, 0, sizeof(*r));
	if ((o = json_loadb(text, len, 0, NULL)) == NULL)
		return -1;
	r->json = o;
	if (hex16_parse(str(o, "key"), &r->m.seq) == -1 ||
	    !json_is_integer(json_object_get(o, "time")))
		goto bad;
	r->m.time_us = json_integer_value(json_object_get(o, "time"));
	r->m.message_id = str(o, "message_id");
	r->m.queue_id = str(o, "queue_id");
	r->m.from = str(o, "from");
	r->m.campaign = str(o, "campaign");
	r->m.domain = str(o, "domain");
	r->m.pixel = json_is_true(json_object_get(o, "pixel"));
	if (json_is_string(json_object_get(o, "honeypot")) &&
	    hex16_parse(str(o, "honeypot"), &r->m.honeypot) == -1)
		goto bad;
	a = json_object_get(o, "rcpt");
	n = json_array_size(a);
	if (n && (r->rcpt = calloc(n, sizeof(*r->rcpt))) == NULL)
		goto bad;
	for (i = 0; i < n; i++)
		if ((r->rcpt[i] = json_string_value(json_array_get(a, i))) ==
		    NULL)
			goto bad;
	r->m.rcpt = r->rcpt;
	r->m.nrcpt = n;
	/* links by position: each position once */
	a = json_object_get(o, "link_records");
	n = json_array_size(a);
	if (n && (r->links = calloc(n, sizeof(*r->links))) == NULL)
		goto bad;
	for (i = 0; i < n; i++) {
		json_int_t pos;

		l = json_array_get(a, i);
		pos = json_integer_value(json_object_get(l, "n"));
		if (pos < 0 || (size_t)pos >= n || r->links[pos].url != NULL ||
		    hex16_parse(str(l, "key"), &seq) == -1 ||
		    str(l, "url") == NULL)
			goto bad;
		r->links[pos].seq = seq;
		r->links[pos].url = str(l, "url");
	}
	r->m.links = r->links;
	r->m.nlinks = n;
	return 0;
bad:
	record_msg_free(r);
	return -1;
}

int
record_ev_parse(const char *text, size_t len, struct record_ev *r)
{
	json_t		*o;
	const char	*type, *ref;

	memset(r, 0, sizeof(*r));
	if ((o = json_loadb(text, len, 0, NULL)) == NULL)
		return -1;
	r->json = o;
	type = str(o, "type");
	if (type && strcmp(type, "click") == 0) {
		r->e.type = STORE_EV_CLICK;
		ref = str(o, "link");
	} else if (type && strcmp(type, "open") == 0) {
		r->e.type = STORE_EV_OPEN;
		ref = str(o, "ref");
	} else
		goto bad;
	if (hex16_parse(ref, &r->e.seq) == -1 ||
	    hex16_parse(str(o, "msg"), &r->e.msg) == -1 ||
	    !json_is_integer(json_object_get(o, "time")))
		goto bad;
	r->e.time_us = json_integer_value(json_object_get(o, "time"));
	r->e.key = str(o, "key");
	r->e.ip = str(o, "ip");
	r->e.ua = str(o, "ua");
	r->e.method = str(o, "method");
	r->e.host = str(o, "host");
	r->e.verdict = str(o, "class");
	r->e.reason = str(o, "reason");
	return 0;
bad:
	record_ev_free(r);
	return -1;
}

void
record_msg_free(struct record_msg *r)
{
	free(r->links);
	free(r->rcpt);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

void
record_ev_free(struct record_ev *r)
{
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}
