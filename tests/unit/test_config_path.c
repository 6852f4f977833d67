/* test_config_path - which file a program reads: -c, $MTRACK_CONF, the default */
#include "unit.h"
#include "unit.inc"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void
test_precedence(void **state)
{
	(void)state;
	setenv("MTRACK_CONF", "/from/env.conf", 1);
	assert_string_equal(config_path("/from/option.conf"), "/from/option.conf");
	assert_string_equal(config_path(NULL), "/from/env.conf");
	/* empty is unset */
	setenv("MTRACK_CONF", "", 1);
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		assert_string_equal(config_path(NULL), CONFIG_DEFAULT_PATH);
	else
		assert_null(config_path(NULL));
	unsetenv("MTRACK_CONF");
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		assert_string_equal(config_path(NULL), CONFIG_DEFAULT_PATH);
	else
		assert_null(config_path(NULL));
}

/* the default is the system's file, and the version is the package's */
static void
test_constants(void **state)
{
	(void)state;
	assert_string_equal(CONFIG_DEFAULT_PATH, "/etc/mtrack/mtrack.conf");
	assert_true(strlen(MTRACK_VERSION) > 0);
	assert_string_not_equal(MTRACK_VERSION, "unknown");
}

/* acme_webroot and access_log want absolute paths */
static void
test_paths(void **state)
{
	struct config	c;
	char		err[256];

	(void)state;
	assert_int_equal(config_defaults(&c), 0);
	assert_null(c.acme_webroot);
	assert_null(c.access_log);
	assert_int_equal(config_set(&c, "acme_webroot", "/var/www", err,
	    sizeof(err)), 0);
	assert_string_equal(c.acme_webroot, "/var/www");
	assert_int_equal(config_set(&c, "access_log", "logs/a.log", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(config_reload_of("acme_webroot", CONFIG_TRACKER),
	    CONFIG_HUP);
	assert_int_equal(config_reload_of("access_log", CONFIG_TRACKER),
	    CONFIG_HUP);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests_name("config_path", tests, NULL, NULL);
}
