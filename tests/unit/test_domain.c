/*
 * test_domain - tracking domains: the sending domain of a message, the
 * tracking URL chosen for it, registrable-domain alignment (Public Suffix
 * List), the config keys, the records in the store, moves and
 * require_verified in the rewrite engine.
 */
#include "unit.h"
#include "unit.inc"

#include "config.h"
#include "domain.h"
#include "mime.h"
#include "rewrite.h"

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

static struct store *
open_store(const char *sub)
{
	struct store_opts	 o = { .map_size = 64 << 20, .batch_ms = 5, .batch_max = 4096 };
	char			 err[256], path[512];
	struct store		*s;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if ((s = store_open(path, &o, 0, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

/* conf - defaults plus "key", "value" pairs (NULL-terminated) */
static void
conf(struct config *c, ...)
{
	va_list		 ap;
	const char	*k, *v;
	char		 err[256];

	assert_int_equal(config_defaults(c), 0);
	va_start(ap, c);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (config_set(c, k, v, err, sizeof(err)) == -1)
			fail_msg("config_set %s: %s", k, err);
	}
	va_end(ap);
}

static const struct {
	const char *in;
	const char *want;	/* NULL: no domain */
} addrs[] = {
	{ "a@Example.COM", "example.com" },
	{ "<bounce+x=y@mail.example.com>", "mail.example.com" },
	{ "News <news@shop.example.co.uk>", "shop.example.co.uk" },
	{ "\"Sales @ Corp\" <sales@corp.example>", "corp.example" },
	{ "\"a, b\" <x@y.example>", "y.example" },
	{ "user@first.example (Comment <c@comment.example>)", "first.example" },
	{ "one@a.example, two@b.example", "a.example" },
	{ "<weird@domain.example.>", "domain.example" },
	{ "<>", NULL },
	{ "no address here", NULL },
	{ "", NULL },
	{ "x@", NULL },
	{ "x@bad..example", NULL },
};

static void
test_of_address(void **state)
{
	char	out[DOMAIN_MAX];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		rc = dnsname_of_address(addrs[i].in, out, sizeof(out));
		if (addrs[i].want == NULL) {
			if (rc != -1)
				fail_msg("case %zu \"%s\": got \"%s\"", i,
				    addrs[i].in, out);
		} else if (rc != 0 || strcmp(out, addrs[i].want) != 0)
			fail_msg("case %zu \"%s\": rc %d \"%s\", want \"%s\"", i,
			    addrs[i].in, rc, rc == 0 ? out : "", addrs[i].want);
	}
	assert_int_equal(dnsname_of_address(NULL, out, sizeof(out)), -1);
	/* too small an output: refused, not cut */
	assert_int_equal(dnsname_of_address("a@example.com", out, 5), -1);
}

static void
test_url_host(void **state)
{
	char out[DOMAIN_MAX];

	(void)state;
	assert_int_equal(dnsname_url_host("https://Track.Example.com:8443/t",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "track.example.com");
	assert_int_equal(dnsname_url_host("http://t.example.org", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "t.example.org");
	/* an address is no domain: nothing to verify or align */
	assert_int_equal(dnsname_url_host("http://[::1]:8080", out,
	    sizeof(out)), -1);
	assert_int_equal(dnsname_url_host("http://127.0.0.1:8080", out,
	    sizeof(out)), -1);
	assert_int_equal(dnsname_url_host("no url", out, sizeof(out)), -1);
}

static void
test_url_choice(void **state)
{
	struct config c;

	(void)state;
	conf(&c, "tracking_url", "https://t.default.example/",
	    "tracking_domains", "Example.com=https://t.example.com/, "
	    "news.example.com=https://t.news.example.com "
	    "shop.example.co.uk=https://links.shop.example.co.uk:8443/x",
	    NULL);
	/* normalised: lowercase domain, no trailing '/' */
	assert_string_equal(c.tracking_domains[0], "example.com=https://t.example.com");
	assert_string_equal(domain_url_for(&c, "example.com"),
	    "https://t.example.com");
	assert_string_equal(domain_url_for(&c, "EXAMPLE.com"),
	    "https://t.example.com");
	/* a subdomain uses its parent's entry; the longest entry wins */
	assert_string_equal(domain_url_for(&c, "mail.example.com"),
	    "https://t.example.com");
	assert_string_equal(domain_url_for(&c, "news.example.com"),
	    "https://t.news.example.com");
	assert_string_equal(domain_url_for(&c, "a.news.example.com"),
	    "https://t.news.example.com");
	assert_null(domain_url_for(&c, "badexample.com"));
	assert_null(domain_url_for(&c, "example.co.uk"));
	assert_null(domain_url_for(&c, ""));
	assert_null(domain_url_for(&c, NULL));

	/* From decides; then the envelope; then the default */
	assert_string_equal(domain_tracking_url(&c, "N <n@news.example.com>",
	    "<b@shop.example.co.uk>"), "https://t.news.example.com");
	assert_string_equal(domain_tracking_url(&c, "N <n@other.example>",
	    "<b@shop.example.co.uk>"), "https://links.shop.example.co.uk:8443/x");
	assert_string_equal(domain_tracking_url(&c, "N <n@other.example>",
	    "<b@other.example>"), "https://t.default.example");
	assert_string_equal(domain_tracking_url(&c, NULL, NULL),
	    "https://t.default.example");
	assert_string_equal(domain_tracking_url(&c, "undisclosed", "<>"),
	    "https://t.default.example");
	config_free(&c);

	/* the defaults: no entry, the tracking_url for everyone */
	conf(&c, NULL);
	assert_null(c.tracking_domains[0]);
	assert_string_equal(domain_tracking_url(&c, "a@example.com", NULL),
	    c.tracking_url);
	assert_int_equal(c.require_verified, 0);
	assert_null(c.cname_target);
	assert_null(c.dkim_selector);
	config_free(&c);
}

static const struct {
	const char	*a, *b;
	int		 want;
	const char	*reg;	/* registrable domain of a */
} aligned[] = {
	{ "track.example.com", "example.com", 1, "example.com" },
	{ "t.mail.example.com", "news.example.com", 1, "example.com" },
	{ "track.example.co.uk", "example.co.uk", 1, "example.co.uk" },
	{ "track.example.co.uk", "other.co.uk", 0, "example.co.uk" },
	{ "links.example.net", "example.com", 0, "example.net" },
	/* private suffixes of the list count too */
	{ "a.github.io", "b.github.io", 0, "a.github.io" },
	{ "x.shop.example.com.au", "shop.example.com.au", 1, "example.com.au" },
	{ "TRACK.Example.COM", "example.com", 1, "example.com" },
	{ "co.uk", "example.co.uk", -1, NULL },
};

static void
test_aligned(void **state)
{
	char	reg[DOMAIN_MAX];
	size_t	i;
	int	got;

	(void)state;
	for (i = 0; i < sizeof(aligned) / sizeof(aligned[0]); i++) {
		got = domain_aligned(aligned[i].a, aligned[i].b);
		if (got != aligned[i].want)
			fail_msg("case %zu %s ~ %s: %d, want %d", i, aligned[i].a,
			    aligned[i].b, got, aligned[i].want);
		if (aligned[i].reg == NULL) {
			assert_int_equal(domain_registrable(aligned[i].a, reg,
			    sizeof(reg)), -1);
			continue;
		}
		assert_int_equal(domain_registrable(aligned[i].a, reg,
		    sizeof(reg)), 0);
		assert_string_equal(reg, aligned[i].reg);
	}
	assert_int_equal(domain_registrable("example.com", reg, 5), -1);
}

static void
test_recent(void **state)
{
	(void)state;
	assert_false(domain_recent(0, 1000000000));
	assert_true(domain_recent(1000000000, 1000000000));
	assert_true(domain_recent(1000000000, 1000000000 + 89 * 86400));
	assert_false(domain_recent(1000000000, 1000000000 + 90 * 86400));
}

static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ "tracking_domains = example.com\n",
	    ":1: tracking_domains: \"example.com\": want SENDING_DOMAIN=URL" },
	{ "\ntracking_domains = example.com=ftp://t.example.com\n",
	    ":2: tracking_domains: \"example.com=ftp://t.example.com\": must start"
	    " with http" },
	{ "tracking_domains = exa mple.com=https://t\n",
	    ":1: tracking_domains: \"exa\": want SENDING_DOMAIN=URL" },
	{ "tracking_domains = a..b=https://t.example\n",
	    ":1: tracking_domains: \"a..b=https://t.example\": not a domain name" },
	{ "tracking_domains = a.example=https://t.a.example,"
	    " A.example=https://u.example\n",
	    ":1: tracking_domains: a.example: listed twice" },
	{ "cname_target = edge tracker\n", ":1: cname_target: not a domain name" },
	{ "tracker_addresses = 192.0.2.1, 300.1.1.1\n",
	    ":1: tracker_addresses: not an IP address: \"300.1.1.1\"" },
	{ "require_verified = perhaps\n", ":1: require_verified: want yes or no" },
	{ "dkim_selector = sel/1\n", ":1: dkim_selector: not a domain name" },
	{ "reply_domain = .example\n", ":1: reply_domain: not a domain name" },
	{ "tracking_domains = a.example=https://t\n"
	    "tracking_domains = b.example=https://t\n",
	    ":2: tracking_domains: set twice" },
};

static void
test_config(void **state)
{
	struct config	c;
	char		err[512], path[512];
	size_t		i;

	(void)state;
	snprintf(path, sizeof(path), "%s/mtrack.conf", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unit_write(path, bad[i].text);
		err[0] = '\0';
		assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err,
			    bad[i].want);
	}
	unit_write(path, "tracking_domains = a.example=https://t.a.example\n"
	    "cname_target = edge.tracker.example\n"
	    "tracker_addresses = 192.0.2.10, 2001:db8::10\n"
	    "require_verified = yes\n"
	    "dkim_selector = mt2024\n"
	    "reply_domain = replies.example\n"
	    "tls_ca_file = /etc/ssl/certs/ca-certificates.crt\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.cname_target, "edge.tracker.example");
	assert_string_equal(c.tracker_addresses[1], "2001:db8::10");
	assert_int_equal(c.require_verified, 1);
	assert_string_equal(c.dkim_selector, "mt2024");
	assert_string_equal(c.reply_domain, "replies.example");
	config_free(&c);
}

static int
count_cb(void *arg, const char *name, const struct domain_rec *r)
{
	(void)name;
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void
test_records(void **state)
{
	struct store		*st = open_store("rec");
	struct domain_rec	 r, got;
	struct config		 c;
	int			 n = 0;

	(void)state;
	assert_int_equal(domain_get(st, "t.example.com", &got), 1);
	memset(&r, 0, sizeof(r));
	strcpy(r.status, "ok");
	r.added = 100;
	r.checked = 200;
	r.changed = 150;
	assert_int_equal(domain_put(st, "t.example.com", &r), 0);
	assert_int_equal(domain_get(st, "t.example.com", &got), 0);
	assert_string_equal(got.status, "ok");
	assert_int_equal(got.added, 100);
	assert_int_equal(got.checked, 200);
	assert_int_equal(got.changed, 150);

	/* sending domains are kept apart from the tracking domains */
	conf(&c, "tracking_url", "https://t.default.example", "tracking_domains",
	    "example.com=https://t.example.com", NULL);
	assert_int_equal(domain_sync(st, &c, 1000), 0);
	config_free(&c);
	assert_int_equal(domain_list(st, count_cb, &n), 0);
	assert_int_equal(n, 1);
	store_close(st);
}

struct seen {
	struct domain_sender	s[8];
	size_t			n;
};

static int
sender_cb(void *arg, const struct domain_sender *s)
{
	struct seen *v = arg;

	if (v->n < 8)
		v->s[v->n++] = *s;
	return 0;
}

static void
test_sync_moves(void **state)
{
	struct store	*st = open_store("sync");
	struct config	 c;
	struct seen	 v;
	int		 n = 0;

	(void)state;
	conf(&c, "tracking_url", "https://t.default.example", "tracking_domains",
	    "example.com=https://t.example.com, example.org=https://t.example.org",
	    NULL);
	assert_int_equal(domain_sync(st, &c, 1000), 0);
	/* the same again: nothing moves */
	assert_int_equal(domain_sync(st, &c, 2000), 0);
	config_free(&c);
	memset(&v, 0, sizeof(v));
	assert_int_equal(domain_senders(st, sender_cb, &v), 0);
	assert_int_equal(v.n, 3);
	/* in key order: "@" (the default), "@example.com", "@example.org" */
	assert_string_equal(v.s[0].sending, "");
	assert_string_equal(v.s[0].domain, "t.default.example");
	assert_string_equal(v.s[1].sending, "example.com");
	assert_string_equal(v.s[1].domain, "t.example.com");
	assert_int_equal(v.s[1].since, 1000);
	assert_int_equal(v.s[1].changed, 0);
	assert_string_equal(v.s[1].previous, "");

	/* example.com moves to another tracking domain */
	conf(&c, "tracking_url", "https://t.default.example", "tracking_domains",
	    "example.com=https://links.example.com, example.org=https://t.example.org",
	    NULL);
	assert_int_equal(domain_sync(st, &c, 5000), 0);
	config_free(&c);
	memset(&v, 0, sizeof(v));
	assert_int_equal(domain_senders(st, sender_cb, &v), 0);
	assert_string_equal(v.s[1].domain, "links.example.com");
	assert_string_equal(v.s[1].previous, "t.example.com");
	assert_int_equal(v.s[1].changed, 5000);
	assert_true(domain_recent(v.s[1].changed, 5000 + 86400));
	assert_int_equal(v.s[2].changed, 0);

	/* sender records are no tracking domains */
	assert_int_equal(domain_list(st, count_cb, &n), 0);
	assert_int_equal(n, 0);
	store_close(st);
}

static const char msg[] =
    "From: News <news@example.com>\r\n"
    "To: r@example.net\r\n"
    "Subject: t\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body><a href=\"https://shop.example/a\">a</a></body></html>\r\n";

static void
test_rewrite_pick(void **state)
{
	struct store		*st = open_store("rw");
	struct rewrite_result	 r;
	struct rewrite_info	 info;
	struct domain_rec	 rec;
	struct config		 c;
	const char		*rcpt[] = { "r@example.net" };
	char			*body;

	(void)state;
	mime_init();
	conf(&c, "tracking_url", "https://t.default.example", "tracking_domains",
	    "example.com=https://t.example.com", NULL);
	memset(&info, 0, sizeof(info));
	info.from = "<bounce@other.example>";
	info.rcpt = rcpt;
	info.nrcpt = 1;
	info.queue_id = "4ABCDE";
	assert_int_equal(rewrite_message(&c, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_int_equal(r.changed, 1);
	body = strndup(r.body.data, r.body.len);
	assert_non_null(strstr(body, "href=\"https://t.example.com/click/"));
	assert_non_null(strstr(body, "src=\"https://t.example.com/open/"));
	assert_null(strstr(body, "t.default.example"));
	free(body);
	rewrite_result_free(&r);

	/* require_verified: untracked until the domain passed its check */
	config_free(&c);
	conf(&c, "tracking_url", "https://t.default.example", "tracking_domains",
	    "example.com=https://t.example.com", "require_verified", "yes", NULL);
	assert_int_equal(rewrite_message(&c, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_int_equal(r.changed, 0);
	assert_string_equal(r.skip, "tracking domain not verified");
	rewrite_result_free(&r);
	memset(&rec, 0, sizeof(rec));
	strcpy(rec.status, "new");
	assert_int_equal(domain_put(st, "t.example.com", &rec), 0);
	assert_int_equal(rewrite_message(&c, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_int_equal(r.changed, 0);
	rewrite_result_free(&r);
	strcpy(rec.status, "fail");
	assert_int_equal(domain_put(st, "t.example.com", &rec), 0);
	assert_int_equal(rewrite_message(&c, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_int_equal(r.changed, 0);
	rewrite_result_free(&r);
	/* warnings do not block: only failures do */
	strcpy(rec.status, "warn");
	assert_int_equal(domain_put(st, "t.example.com", &rec), 0);
	assert_int_equal(rewrite_message(&c, st, &info, msg, sizeof(msg) - 1,
	    &r), 0);
	assert_int_equal(r.changed, 1);
	assert_int_equal(r.links, 1);
	rewrite_result_free(&r);
	config_free(&c);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_of_address),
		cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_url_choice),
		cmocka_unit_test(test_aligned),
		cmocka_unit_test(test_recent),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_sync_moves),
		cmocka_unit_test(test_rewrite_pick),
	};

	return cmocka_run_group_tests_name("domain", tests, setup, teardown);
}
