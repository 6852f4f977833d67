/*
 * mtrack-milter - click and open tracking for Postfix, as a milter.
 */
#include <errno.h>
#include <getopt.h>
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
#include "serve.h"
#include "sock.h"
#include "publish.h"
#include "seal_keys.h"
#include "store.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: mtrack-milter [-dhnV] [-c FILE]\n"
	    "  -c FILE        configuration file (default: $MTRACK_CONF, else "
	    CONFIG_DEFAULT_PATH " when it exists, else built-in defaults)\n"
	    "  -d             detach and log to syslog\n"
	    "  -n             check the configuration, print it, and exit\n"
	    "  -h, --help     this help\n"
	    "  -V, --version  print the version and exit\n"
	    "Signals: SIGHUP reads the configuration again; SIGTERM and SIGINT\n"
	    "stop at once, after the ends of message being processed, exit 0.\n");
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

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:dhnV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'n': check = 1; break;
		case 'd': detach = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("mtrack-milter %s\n", MTRACK_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	conf = config_path(conf);
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
	if (sock_setup(&cfg) == -1)
		return 1;
	if (drop_privileges(cfg.user) == -1)
		return 1;
	/*
	 * Only the main thread takes SIGTERM, SIGINT and SIGHUP, and only
	 * libmilter's listener SIGUSR1 (serve.c): every other thread, the
	 * store's writer too, blocks them from its start.
	 */
	{
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	/* the store after any fork: one LMDB environment per process */
	store_opts_config(&so, &cfg);
	if ((st = store_open(cfg.db_path, &so, store_flags_config(&cfg), err,
	    sizeof(err))) == NULL) {
		log_err("store %s: %s", cfg.db_path, err);
		return 1;
	}
	/*
	 * messages go to the stream from the store, never from the mail path;
	 * the publisher's threads (and libnats's) leave the signals to serve
	 */
	if (publish_wanted(&cfg)) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	if (publish_wanted(&cfg) && (pub = publish_start(&cfg, st,
	    PUBLISH_MESSAGES, "mtrack-milter", err, sizeof(err))) == NULL) {
		log_err("stream: %s", err);
		store_close(st);
		return 1;
	}
	milter_setup(&cfg, st, keys);
	smfi_settimeout(300);
	log_info("start socket=%s db=%s tracking_url=%s version=%s",
	    cfg.milter_socket, cfg.db_path, cfg.tracking_url, MTRACK_VERSION);
	rc = serve_run(conf, &cfg, st, pub, detach || cfg.syslog);
	seal_keys_free(keys);
	log_info("stop");
	log_close();
	return rc;
}
