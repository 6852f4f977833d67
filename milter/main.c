/*
 * mtrack-milter - click and open tracking for Postfix, as a milter.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "milter.h"
#include "mime.h"
#include "publish.h"
#include "seal_keys.h"
#include "store.h"

static void
usage(void)
{
	fprintf(stderr, "usage: mtrack-milter [-c FILE] [-n] [-d]\n"
	    "  -c FILE  configuration file\n"
	    "  -n       check the configuration, print it, and exit\n"
	    "  -d       detach and log to syslog\n");
	exit(2);
}

/* drop_privileges - become cfg->user after the socket exists */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_err("user \"%s\" does not exist", user);
		return -1;
	}
	if (setgroups(0, NULL) == -1 || initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		log_warn("cannot become user %s", user);
		return -1;
	}
	return 0;
}

/*
 * nodelay_listener - TCP_NODELAY on libmilter's listening socket, which
 * accepted connections inherit (Linux, the BSDs). At end of message the
 * milter writes the new body, then its verdict: without it, the verdict
 * after a body shorter than a TCP segment waits for Postfix's delayed ACK
 * (Nagle), 40 ms per message. libmilter does not hand out the socket: it is
 * the only listening TCP socket when this runs.
 */
static void
nodelay_listener(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, v, on = 1;

	for (fd = 0; fd < 1024; fd++) {
		len = sizeof(v);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == -1 ||
		    v == 0)
			continue;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) == -1)
			log_warn("milter_socket: TCP_NODELAY");
		return;
	}
	log_warnx("milter_socket: no listening TCP socket for TCP_NODELAY");
}

int
main(int argc, char **argv)
{
	struct config		 cfg;
	struct store_opts	 so;
	struct store		*st;
	struct publish		*pub = NULL;
	struct seal_keys	*keys = NULL;
	const char		*conf = NULL;
	char			 err[512];
	int			 ch, check = 0, detach = 0, rc;

	while ((ch = getopt(argc, argv, "c:ndh")) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'n': check = 1; break;
		case 'd': detach = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (config_load(&cfg, conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "mtrack-milter: %s\n", err);
		return 2;
	}
	/* read before the privileges go: the file may be root's alone */
	if (cfg.link_mode == LINK_SEALED &&
	    (keys = seal_keys_load(cfg.link_keys, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mtrack-milter: link_keys: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (check) {
		seal_keys_free(keys);
		config_dump(&cfg, stdout);
		config_free(&cfg);
		return 0;
	}
	log_open("mtrack-milter", detach || cfg.syslog,
	    (enum log_level)cfg.log_level);
	if (detach && daemon(0, 0) == -1) {
		log_warn("daemon");
		return 1;
	}
	mime_init();
	if (strncmp(cfg.milter_socket, "unix:", 5) == 0 ||
	    strncmp(cfg.milter_socket, "local:", 6) == 0)
		unlink(strchr(cfg.milter_socket, ':') + 1);
	if (smfi_setconn(cfg.milter_socket) != MI_SUCCESS ||
	    milter_register() == -1 || smfi_opensocket(1) != MI_SUCCESS) {
		log_err("cannot listen on milter_socket %s", cfg.milter_socket);
		return 1;
	}
	if (strncmp(cfg.milter_socket, "inet", 4) == 0)
		nodelay_listener();
	if (drop_privileges(cfg.user) == -1)
		return 1;
	/*
	 * libmilter waits for SIGTERM, SIGINT and SIGHUP in a thread of its
	 * own with sigwait(): every other thread, the store's writer too,
	 * must have them blocked, so block them before any thread starts.
	 */
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	/* the store after any fork: one LMDB environment per process */
	store_opts_config(&so, &cfg);
	if ((st = store_open(cfg.db_path, &so, store_flags_config(&cfg), err,
	    sizeof(err))) == NULL) {
		log_err("store %s: %s", cfg.db_path, err);
		return 1;
	}
	/* messages go to the stream from the store, never from the mail path */
	if (publish_wanted(&cfg) && (pub = publish_start(&cfg, st,
	    PUBLISH_MESSAGES, "mtrack-milter", err, sizeof(err))) == NULL) {
		log_err("stream: %s", err);
		store_close(st);
		return 1;
	}
	milter_setup(&cfg, st, keys);
	smfi_settimeout(300);
	log_info("start socket=%s db=%s tracking_url=%s", cfg.milter_socket,
	    cfg.db_path, cfg.tracking_url);
	/* smfi_main stops on SIGTERM, SIGINT and SIGHUP */
	rc = smfi_main();
	publish_stop(pub);
	store_close(st);
	seal_keys_free(keys);
	log_info("stop");
	config_free(&cfg);
	log_close();
	return rc == MI_SUCCESS ? 0 : 1;
}
