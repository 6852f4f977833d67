/* test_whevent - webhook bodies from store records: fields, RFC 3339 times, privacy, pruned records */
#include "unit.h"
#include "unit.inc"

#include <string.h>

#include <jansson.h>

#include "whconf.h"
#include "whevent.h"

static const char msgrec[] = "{\"time\":1795766400000000,\"message_id\":"
    "\"<a@example.com>\",\"queue_id\":\"Q1\",\"from\":\"s@example.com\","
    "\"rcpt\":[\"r@example.org\"],\"campaign\":\"spring\",\"domain\":"
    "\"example.com\",\"links\":1,\"link_seqs\":[\"0000000000000001\"],"
    "\"pixel\":true,\"honeypot\":null}";
static const char linkrec[] = "{\"msg\":\"0000000000000001\",\"n\":3,"
    "\"t\":1795766400000000,\"url\":\"https://example.com/a?x=1&y=\\\"2\"}";

static json_t *
build(const char *ev, const char *msg, const char *link,
    struct whevent_info *info)
{
	struct buf	 b = BUF_INIT;
	json_t		*j;

	assert_int_equal(whevent_build("00066596d2e6a4010000", ev, strlen(ev),
	    msg, msg ? strlen(msg) : 0, link, link ? strlen(link) : 0, &b,
	    info), 0);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	buf_free(&b);
	return j;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(json_object_get(o, "data"), k));
}

static void
test_click(void **state)
{
	struct whevent_info	 in;
	json_t			*j;
	const char		*ev = "{\"time\":1795766461123456,\"type\":\"click\","
	    "\"link\":\"0000000000000001\",\"msg\":\"0000000000000001\","
	    "\"ip\":\"192.0.2.0\",\"ua\":\"Mozilla/5.0 (X11)\",\"method\":\"GET\","
	    "\"host\":\"t.example.com\",\"class\":\"scanner\",\"reason\":\"burst\"}";

	(void)state;
	j = build(ev, msgrec, linkrec, &in);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "click");
	assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
	    "2026-11-27T08:01:01.123456Z");
	assert_string_equal(str(j, "id"), "evt_00066596d2e6a4010000");
	assert_string_equal(in.id, "evt_00066596d2e6a4010000");
	assert_int_equal(in.type, WH_CLICK);
	assert_string_equal(in.cls, "scanner");
	assert_string_equal(str(j, "class"), "scanner");
	assert_string_equal(str(j, "reason"), "burst");
	assert_string_equal(str(j, "message_id"), "<a@example.com>");
	assert_string_equal(str(j, "campaign"), "spring");
	assert_string_equal(str(j, "url"), "https://example.com/a?x=1&y=\"2");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "data"), "position")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(j, "data"), "recipients"), 0)), "r@example.org");
	assert_string_equal(str(j, "ip"), "192.0.2.0");
	assert_string_equal(str(j, "user_agent"), "Mozilla/5.0 (X11)");
	json_decref(j);
}

/* what the store did not keep is null: the privacy settings hold */
static void
test_private_open(void **state)
{
	struct whevent_info	 in;
	json_t			*j, *d;
	const char		*ev = "{\"time\":1795766461000000,\"type\":\"open\","
	    "\"ref\":\"0000000000000001\",\"msg\":\"0000000000000001\","
	    "\"ip\":null,\"ua\":null,\"method\":\"GET\",\"host\":null,"
	    "\"class\":\"proxy\",\"reason\":\"apple-mpp\"}";

	(void)state;
	j = build(ev, msgrec, NULL, &in);
	d = json_object_get(j, "data");
	assert_int_equal(in.type, WH_OPEN);
	assert_true(json_is_null(json_object_get(d, "ip")));
	assert_true(json_is_null(json_object_get(d, "user_agent")));
	assert_null(json_object_get(d, "url"));
	assert_string_equal(str(j, "message_id"), "<a@example.com>");
	json_decref(j);
	/* the message pruned: its fields are null, the event still goes */
	j = build(ev, NULL, NULL, &in);
	assert_true(json_is_null(json_object_get(json_object_get(j, "data"),
	    "message_id")));
	json_decref(j);
}

static void
test_bad(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(whevent_build("00066596d2e6a4010000", "{", 1, NULL, 0,
	    NULL, 0, &b, NULL), -1);
	assert_int_equal(whevent_build("short", "{\"type\":\"open\"}", 15, NULL,
	    0, NULL, 0, &b, NULL), -1);
	assert_int_equal(whevent_sample(&b, NULL), 0);
	assert_non_null(strstr(b.data, "\"type\":\"click\""));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_click),
		cmocka_unit_test(test_private_open),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
