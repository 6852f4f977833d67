/*
 * whevent - webhook bodies from store records with jansson (see whevent.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "now.h"
#include "whconf.h"
#include "whevent.h"

void
whevent_time(int64_t us, char out[32])
{
	time_t		t = (time_t)(us / 1000000);
	struct tm	tm;

	if (us < 0)
		t = 0;
	size_t		n;

	gmtime_r(&t, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06dZ", (int)(us < 0 ? 0 : us % 1000000));
}

/* whevent_copy - data[name] = rec[from] (null when rec or the field is absent) */
static int
whevent_copy(json_t *data, const char *name, json_t *rec, const char *from)
{
	json_t *v = rec ? json_object_get(rec, from) : NULL;

	return json_object_set(data, name, v ? v : json_null());
}

/* whevent_dump - the body: type, timestamp, data; appended to out */
static int
whevent_dump(json_t *body, struct buf *out)
{
	char	*s;
	int	 rc;

	if ((s = json_dumps(body, JSON_COMPACT)) == NULL)
		return -1;
	rc = buf_puts(out, s);
	free(s);
	return rc;
}

int
whevent_build(const char *key, const char *ev, size_t evlen, const char *msg,
    size_t msglen, const char *link, size_t linklen, struct buf *out,
    struct whevent_info *info)
{
	json_t		*e = NULL, *m = NULL, *l = NULL, *body = NULL, *data;
	const char	*type, *cls;
	char		 when[32], id[WHEVENT_ID_LEN];
	int64_t		 us;
	int		 rc = -1, click;

	if (strlen(key) != 20 ||
	    (e = json_loadb(ev, evlen, 0, NULL)) == NULL ||
	    (type = json_string_value(json_object_get(e, "type"))) == NULL)
		goto out;
	click = strcmp(type, "click") == 0;
	if (!click && strcmp(type, "open") != 0)
		goto out;
	us = json_integer_value(json_object_get(e, "time"));
	cls = json_string_value(json_object_get(e, "class"));
	if (cls == NULL)
		cls = "human";
	if (msg)
		m = json_loadb(msg, msglen, 0, NULL);
	if (click && link)
		l = json_loadb(link, linklen, 0, NULL);
	whevent_time(us, when);
	snprintf(id, sizeof(id), "evt_%s", key);
	if ((body = json_object()) == NULL || (data = json_object()) == NULL ||
	    json_object_set_new(body, "type", json_string(type)) ||
	    json_object_set_new(body, "timestamp", json_string(when)) ||
	    json_object_set_new(body, "data", data) ||
	    json_object_set_new(data, "id", json_string(id)) ||
	    json_object_set_new(data, "time", json_string(when)) ||
	    json_object_set_new(data, "class", json_string(cls)) ||
	    whevent_copy(data, "reason", e, "reason") ||
	    whevent_copy(data, "message_id", m, "message_id") ||
	    whevent_copy(data, "campaign", m, "campaign") ||
	    whevent_copy(data, "domain", m, "domain") ||
	    whevent_copy(data, "recipients", m, "rcpt"))
		goto out;
	if (click && (whevent_copy(data, "url", l, "url") ||
	    whevent_copy(data, "position", l, "n")))
		goto out;
	if (whevent_copy(data, "ip", e, "ip") ||
	    whevent_copy(data, "user_agent", e, "ua") ||
	    whevent_copy(data, "method", e, "method") ||
	    whevent_copy(data, "host", e, "host") ||
	    whevent_dump(body, out) == -1)
		goto out;
	if (info) {
		memcpy(info->id, id, sizeof(id));
		info->type = click ? WH_CLICK : WH_OPEN;
		snprintf(info->cls, sizeof(info->cls), "%s", cls);
		info->time_us = us;
	}
	rc = 0;
out:
	json_decref(body);
	json_decref(e);
	json_decref(m);
	json_decref(l);
	return rc;
}

int
whevent_sample(struct buf *out, struct whevent_info *info)
{
	int64_t		 us = now_us();
	char		 key[21], ev[512];
	int		 n;
	const char	*msg = "{\"message_id\":\"<test@mtrack.invalid>\","
	    "\"campaign\":\"test\",\"domain\":\"example.com\","
	    "\"rcpt\":[\"someone@example.com\"]}";
	const char	*link = "{\"n\":0,\"url\":\"https://example.com/\"}";

	snprintf(key, sizeof(key), "%016" PRIx64 "ffff", (uint64_t)us);
	n = snprintf(ev, sizeof(ev), "{\"time\":%" PRId64 ",\"type\":\"click\","
	    "\"ip\":\"192.0.2.1\",\"ua\":\"mtrackctl webhook test\","
	    "\"method\":\"GET\",\"host\":null,\"class\":\"human\","
	    "\"reason\":\"-\"}", us);
	if (whevent_build(key, ev, (size_t)n, msg, strlen(msg), link,
	    strlen(link), out, info) == -1)
		return -1;
	return 0;
}
