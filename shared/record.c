/*
 * record - messages and events as JSON between hosts (see record.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "query.h"
#include "record.h"

/* hex16_parse - 16 hex digits into *v; 0 or -1 */
static int
hex16_parse(const char *p, uint64_t *v)
{
	uint64_t	n = 0;
	int		i;

	if (p == NULL || strlen(p) != 16)
		return -1;
	for (i = 0; i < 16; i++) {
		char c = p[i];

		n <<= 4;
		if (c >= '0' && c <= '9')
			n |= (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			n |= (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*v = n;
	return 0;
}

/* str - a string member, or NULL */
static const char *
str(json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* dump_onto - o as compact JSON appended to out; 0 or -1 */
static int
dump_onto(json_t *o, struct buf *out)
{
	char	*text = json_dumps(o, JSON_COMPACT);
	int	 rc;

	if (text == NULL)
		return -1;
	rc = buf_puts(out, text);
	free(text);
	return rc;
}

/* link_record - the "links" record key as an object with its key; NULL if absent */
static json_t *
link_record(struct store *s, const char *key, struct buf *b)
{
	json_t	*o;

	buf_reset(b);
	if (query_get(s, DB_LINKS, key, b) != 0 ||
	    (o = json_loadb(b->data, b->len, 0, NULL)) == NULL)
		return NULL;
	json_object_set_new(o, "key", json_string(key));
	return o;
}

int
record_message(struct store *s, const char *key, struct buf *out)
{
	struct buf	 b = BUF_INIT;
	json_t		*o = NULL, *links = NULL, *l, *seqs, *hp;
	size_t		 i;
	int		 rc = -1, r;

	if ((r = query_get(s, DB_MESSAGES, key, &b)) != 0) {
		buf_free(&b);
		return r;
	}
	if ((o = json_loadb(b.data, b.len, 0, NULL)) == NULL ||
	    (links = json_array()) == NULL)
		goto out;
	/* in position order: link_seqs are, the honeypot goes where it was */
	seqs = json_object_get(o, "link_seqs");
	hp = json_object_get(o, "honeypot");
	for (i = 0; i < json_array_size(seqs); i++) {
		const char *k = json_string_value(json_array_get(seqs, i));

		if (k == NULL || (l = link_record(s, k, &b)) == NULL ||
		    json_array_append_new(links, l) == -1)
			goto out;
	}
	if (json_is_string(hp)) {
		json_int_t	 n;
		size_t		 at;

		if ((l = link_record(s, json_string_value(hp), &b)) == NULL)
			goto out;
		n = json_integer_value(json_object_get(l, "n"));
		at = n >= 0 && (size_t)n < json_array_size(links) ? (size_t)n :
		    json_array_size(links);
		if (json_array_insert_new(links, at, l) == -1)
			goto out;
	}
	json_object_set_new(o, "key", json_string(key));
	json_object_set(o, "link_records", links);
	rc = dump_onto(o, out);
out:
	json_decref(links);
	json_decref(o);
	buf_free(&b);
	return rc;
}

int
record_event(struct store *s, struct record_cache *rc, const char *key,
    size_t klen, const char *val, size_t vlen, struct buf *out)
{
	json_t		*o, *v;
	const char	*msg;
	int		 r;

	if ((o = json_loadb(val, vlen, 0, NULL)) == NULL)
		return -1;
	json_object_set_new(o, "key", json_stringn(key, klen));
	if ((msg = str(o, "msg")) != NULL) {
		if (strcmp(msg, rc->last) != 0) {
			struct buf b = BUF_INIT;

			json_decref(rc->msg);
			rc->msg = query_get(s, DB_MESSAGES, msg, &b) == 0 ?
			    json_loadb(b.data, b.len, 0, NULL) : NULL;
			snprintf(rc->last, sizeof(rc->last), "%s", msg);
			buf_free(&b);
		}
		if (rc->msg) {
			if ((v = json_object_get(rc->msg, "message_id")))
				json_object_set(o, "message_id", v);
			if ((v = json_object_get(rc->msg, "campaign")))
				json_object_set(o, "campaign", v);
		}
	}
	r = dump_onto(o, out);
	json_decref(o);
	return r;
}

void
record_cache_free(struct record_cache *rc)
{
	json_decref(rc->msg);
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
