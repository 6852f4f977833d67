/* test_config - the configuration table: defaults, parsing, errors with line numbers */
#include "unit.h"
#include "unit.inc"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "config.h"

static char *dir;

static int
setup(void **state)
{
	(void)state;
	dir = unit_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unit_rmrf(dir);
	free(dir);
	return 0;
}

/* load text as a config file; returns config_load's result, err filled */
static int
load(struct config *c, const char *text, char *err, size_t errlen)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/mtrack.conf", dir);
	unit_write(path, text);
	return config_load(c, path, err, errlen);
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(config_defaults(&c), 0);
	assert_string_equal(c.db_path, "./var/db");
	assert_string_equal(c.milter_socket, "inet:8891@127.0.0.1");
	assert_string_equal(c.tracker_listen, "127.0.0.1:8080");
	assert_string_equal(c.tracking_url, "http://127.0.0.1:8080");
	assert_int_equal(c.max_message_size, 20 * 1024 * 1024);
	assert_int_equal(c.track_clicks, 1);
	assert_int_equal(c.track_opens, 1);
	assert_int_equal(c.pixel_position, PIXEL_BOTTOM);
	assert_true(net_list_match_str(&c.trusted_networks, "127.0.0.1"));
	assert_true(net_list_match_str(&c.trusted_networks, "::1"));
	assert_false(net_list_match_str(&c.trusted_networks, "10.0.0.1"));
	assert_null(c.fallback_url);
	config_free(&c);
}

static void
test_file(void **state)
{
	struct config	c;
	char		err[512];

	(void)state;
	assert_int_equal(load(&c,
	    "# comment\n"
	    "\n"
	    "db_path = /tmp/x y\n"
	    "  tracking_url=https://track.example.com/  \n"
	    "max_message_size = 64K\n"
	    "track_opens = no\n"
	    "pixel_position = TOP\n"
	    "trusted_networks = 10.0.0.0/8, 2001:db8::/32\n"
	    "exclude_domains = example.org,  unsubscribe.example.com\n",
	    err, sizeof(err)), 0);
	assert_string_equal(c.db_path, "/tmp/x y");
	/* the trailing slash goes: links append "/click/ID" */
	assert_string_equal(c.tracking_url, "https://track.example.com");
	assert_int_equal(c.max_message_size, 65536);
	assert_int_equal(c.track_opens, 0);
	assert_int_equal(c.pixel_position, PIXEL_TOP);
	assert_true(net_list_match_str(&c.trusted_networks, "10.1.2.3"));
	assert_true(net_list_match_str(&c.trusted_networks, "2001:db8:1::5"));
	assert_false(net_list_match_str(&c.trusted_networks, "127.0.0.1"));
	assert_string_equal(c.exclude_domains[0], "example.org");
	assert_string_equal(c.exclude_domains[1], "unsubscribe.example.com");
	assert_null(c.exclude_domains[2]);
	assert_true(config_host_in(c.exclude_domains, "www.example.org", 15));
	assert_true(config_host_in(c.exclude_domains, "EXAMPLE.org", 11));
	assert_false(config_host_in(c.exclude_domains, "badexample.org", 14));
	config_free(&c);
}

static const struct {
	const char *text;
	const char *want;	/* substring of the error */
} bad[] = {
	{ "db_path = a\nnosuchkey = 1\n", ":2: unknown key \"nosuchkey\"" },
	{ "\n\ntracking_url = ftp://x\n", ":3: tracking_url: must start with http" },
	{ "tracking_url = http://\n", ":1: tracking_url: has no host" },
	{ "tracking_url = http://a b\n", ":1: tracking_url: contains a character" },
	{ "max_message_size = 12Q\n", ":1: max_message_size: not a size" },
	{ "max_message_size = 1\n", ":1: max_message_size: out of range" },
	{ "track_opens = maybe\n", ":1: track_opens: want yes or no" },
	{ "pixel_position = middle\n", ":1: pixel_position: \"middle\" is not one of: bottom top" },
	{ "trusted_networks = 10.0.0.0/33\n", ":1: trusted_networks: bad network \"10.0.0.0/33\"" },
	{ "tracker_listen = localhost\n",
	    ":1: tracker_listen: \"localhost\": want HOST:PORT" },
	{ "tracker_listen = 127.0.0.1:70000\n",
	    ":1: tracker_listen: \"127.0.0.1:70000\": bad port" },
	{ "tracker_listen = ::1:8080\n",
	    ":1: tracker_listen: \"::1:8080\": IPv6 addresses go in []" },
	{ "milter_socket = /tmp/sock\n", ":1: milter_socket: must be inet:" },
	{ "db_path = a\ndb_path = b\n", ":2: db_path: set twice" },
	{ "just words\n", ":1: expected \"key = value\"" },
	{ "tracker_threads = -1\n", ":1: tracker_threads: out of range" },
};

static void
test_errors(void **state)
{
	struct config	c;
	char		err[512];
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(&c, bad[i].text, err, sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
		/* the error names the file */
		assert_non_null(strstr(err, "mtrack.conf:"));
	}
}

static void
test_missing_file(void **state)
{
	struct config	c;
	char		err[512];

	(void)state;
	assert_int_equal(config_load(&c, "/nonexistent/mtrack.conf", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

static void
test_dump_roundtrip(void **state)
{
	struct config	c, d;
	char		err[512], path[512];
	FILE		*fp;

	(void)state;
	assert_int_equal(load(&c, "tracking_url = https://t.example.com\n"
	    "exclude_domains = a.example, b.example\n", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/dump.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	config_dump(&c, fp);
	fclose(fp);
	/* what -n prints is itself a valid configuration */
	assert_int_equal(config_load(&d, path, err, sizeof(err)), 0);
	assert_string_equal(d.tracking_url, "https://t.example.com");
	assert_string_equal(d.exclude_domains[1], "b.example");
	assert_int_equal(d.max_message_size, c.max_message_size);
	config_free(&c);
	config_free(&d);
}

static void
test_net(void **state)
{
	struct netlist		l;
	struct sockaddr_in6	s6;
	struct sockaddr_in	s4;
	char			err[128];

	(void)state;
	assert_int_equal(net_list_parse(&l, "192.168.1.0/24 ::1", err,
	    sizeof(err)), 0);
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.168.1.77", &s4.sin_addr);
	assert_true(net_list_match_sa(&l, (struct sockaddr *)&s4));
	inet_pton(AF_INET, "192.168.2.1", &s4.sin_addr);
	assert_false(net_list_match_sa(&l, (struct sockaddr *)&s4));
	/* a v4-mapped v6 address matches the v4 network */
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.168.1.9", &s6.sin6_addr);
	assert_true(net_list_match_sa(&l, (struct sockaddr *)&s6));
	assert_false(net_list_match_str(&l, "not an address"));
	net_list_free(&l);
	assert_int_equal(net_list_parse(&l, "1.2.3.4/8x", err, sizeof(err)), -1);
}

/* the reload column: what a change means to each program, what changed */
static void
test_reload_column(void **state)
{
	struct config	a, b;
	char		err[512], keys[512];

	(void)state;
	assert_int_equal(config_reload_of("fallback_url", CONFIG_TRACKER),
	    CONFIG_HUP);
	assert_int_equal(config_reload_of("tracker_listen", CONFIG_TRACKER),
	    CONFIG_START);
	assert_int_equal(config_reload_of("tracking_url", CONFIG_TRACKER),
	    CONFIG_UNUSED);
	/* the milter applies what each message reads on SIGHUP */
	assert_int_equal(config_reload_of("tracking_url", CONFIG_MILTER),
	    CONFIG_HUP);
	assert_int_equal(config_reload_of("milter_socket", CONFIG_MILTER),
	    CONFIG_START);
	assert_int_equal(config_reload_of("no_such_key", CONFIG_MILTER),
	    CONFIG_UNUSED);
	assert_int_equal(load(&a, "batch_ms = 10\n", err, sizeof(err)), 0);
	assert_int_equal(load(&b, "batch_ms = 20\ntracker_listen = 127.0.0.1:9\n"
	    "fallback_url = https://x.example\ntracking_url = http://t.example\n"
	    "trusted_proxies = 10.0.0.0/8\n", err, sizeof(err)), 0);
	/* every key that needs a restart is named, in the table's order */
	assert_int_equal(config_changed(&a, &b, CONFIG_TRACKER, CONFIG_START,
	    keys, sizeof(keys)), 2);
	assert_string_equal(keys, "tracker_listen,batch_ms");
	assert_int_equal(config_changed(&a, &b, CONFIG_TRACKER, CONFIG_HUP,
	    keys, sizeof(keys)), 2);
	assert_string_equal(keys, "fallback_url,trusted_proxies");
	assert_int_equal(config_changed(&a, &b, CONFIG_MILTER, CONFIG_START,
	    keys, sizeof(keys)), 1);
	assert_string_equal(keys, "batch_ms");
	assert_int_equal(config_changed(&a, &b, CONFIG_MILTER, CONFIG_HUP,
	    keys, sizeof(keys)), 1);
	assert_string_equal(keys, "tracking_url");
	assert_int_equal(config_changed(&a, &a, CONFIG_TRACKER, CONFIG_START,
	    keys, sizeof(keys)), 0);
	assert_string_equal(keys, "");
	config_free(&a);
	config_free(&b);
}

/* docs_names - every key of list (comma-separated) is in text as `key` */
static void
docs_names(const char *text, size_t len, const char *list)
{
	char	want[80];
	size_t	n;

	while (*list) {
		n = strcspn(list, ",");
		snprintf(want, sizeof(want), "`%.*s`", (int)n, list);
		if (memmem(text, len, want, strlen(want)) == NULL)
			fail_msg("docs/tracker.md does not name %s", want);
		list += n + (list[n] == ',');
	}
}

/* docs/tracker.md names the tracker's keys of each kind where it says what SIGHUP does */
static void
test_reload_docs(void **state)
{
	char		 keys[2048], *doc;
	const char	*hup, *start, *end;
	size_t		 len;

	(void)state;
	doc = unit_read("docs/tracker.md", &len);
	assert_non_null(doc);
	hup = memmem(doc, len, "`SIGHUP` applies at once:", 25);
	assert_non_null(hup);
	start = strstr(hup, "A change of");
	assert_non_null(start);
	end = strstr(start, "needs a restart");
	assert_non_null(end);
	config_keys(CONFIG_TRACKER, CONFIG_HUP, keys, sizeof(keys));
	docs_names(hup, (size_t)(start - hup), keys);
	config_keys(CONFIG_TRACKER, CONFIG_START, keys, sizeof(keys));
	docs_names(start, (size_t)(end - start), keys);
	free(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_reload_column),
		cmocka_unit_test(test_reload_docs),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
