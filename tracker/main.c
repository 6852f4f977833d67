/*
 * mtrack-tracker - the HTTP service that answers tracking links and pixels.
 *
 * Start-up order: configuration, listening sockets and certificates
 * (possibly as root: key files may be readable by root only), privilege
 * drop, store, HTTP threads, the janitor thread. Signals are blocked in
 * every thread and taken by the main thread with sigwaitinfo(), so
 * handlers never run inside library code:
 *   SIGTERM, SIGINT  stop accepting, let requests in flight finish (a
 *                    second signal cuts that short), commit every queued
 *                    event, exit 0
 *   SIGHUP           reload the configuration file and the certificates
 *                    (see tracker_reload)
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "access.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "now.h"
#include "publish.h"
#include "store.h"
#include "tls.h"
#include "whconf.h"
#include "whdeliver.h"

#define TRACKER_IDENT		"mtrack-tracker"
/* started as root without "user": the tracker becomes this one */
#define TRACKER_DEFAULT_USER	"mtrack"
/* longest wait for requests in flight at shutdown */
#define TRACKER_DRAIN_MS	5000
/* the janitor clears dead readers this often, and erases raw data this often */
#define TRACKER_READERS_S	60
#define TRACKER_SCRUB_S		3600
/*
 * descriptors kept beside the public connections and the threads: the
 * admin listener's 64 connections (HTTP_ADMIN_CONNS), and files opened
 * later (reloads, the access log, LMDB readers)
 */
#define TRACKER_FD_RESERVE	(64 + 32)

/*
 * The janitor thread: clears the reader slots of dead processes, and with
 * raw_retention_days erases the IP address and User-Agent of older events
 * (store_scrub_events); both at start and then periodically.
 */
struct janitor {
	struct store	*store;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* stop, or days changed */
	int		 days;		/* raw_retention_days; 0: keep */
	int		 changed;	/* scrub now */
	int		 stop;
	int		 started;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-dhnV] [-c FILE]\n"
	    "  -c FILE        configuration file (default: $MTRACK_CONF, else "
	    CONFIG_DEFAULT_PATH " when it exists, else built-in defaults)\n"
	    "  -d             detach: run in the background, log to syslog\n"
	    "  -n             check the configuration and certificates, print"
	    " it, and exit\n"
	    "  -h, --help     this help\n"
	    "  -V, --version  print the version and exit\n"
	    "Started as root it becomes \"user\" (default $MTRACK_USER, else "
	    TRACKER_DEFAULT_USER ")\nonce the sockets are bound. Signals: SIGHUP reloads the"
	    " configuration, the\ncertificates and the access log; SIGTERM and"
	    " SIGINT drain and stop.\n", TRACKER_IDENT);
}

/*
 * tracker_detach - fork into the background. The parent stays until the
 * child reports that it serves (exit 0) or dies first (exit 1), so start
 * errors still reach the caller's terminal. Returns the pipe end the child
 * writes its "ready" to, or -1.
 */
static int
tracker_detach(void)
{
	int	p[2];
	pid_t	pid;
	char	c;
	ssize_t	n;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n == -1 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		return -1;
	return p[1];
}

/* tracker_ready - tell the waiting parent, and leave its terminal */
static void
tracker_ready(int fd, const struct config *c)
{
	int null;

	if (fd == -1)
		return;
	log_open(TRACKER_IDENT, 1, (enum log_level)c->log_level);
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(fd, "", 1) != 1)
		log_warn("detach=notify");
	close(fd);
}

/*
 * tracker_drop - become the configured user when started as root, else
 * $MTRACK_USER, else TRACKER_DEFAULT_USER: a tracker faces the Internet
 * and never serves as root unless "user = root" (or MTRACK_USER=root)
 * says so. Called after the sockets are bound and before any thread or
 * file is made.
 */
static int
tracker_drop(const char *user)
{
	struct passwd	*pw;
	int		 dflt = 0;

	if (geteuid() != 0) {
		if (user && *user)
			log_debug("user=%s privileges=unchanged reason=\"not root\"",
			    user);
		return 0;
	}
	if (user && strcmp(user, "root") == 0) {
		log_warnx("user=root reason=\"configured: serving as root\"");
		return 0;
	}
	if (user == NULL || *user == '\0') {
		/* the default, like MTRACK_CONF for the file, from the environment */
		if ((user = getenv("MTRACK_USER")) == NULL || *user == '\0')
			user = TRACKER_DEFAULT_USER;
		dflt = 1;
		if (strcmp(user, "root") == 0) {
			log_warnx("user=root reason=\"MTRACK_USER: serving as root\"");
			return 0;
		}
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno)
			log_warn("user=%s op=getpwnam", user);
		else if (dflt)
			log_err("user=%s error=\"started as root, no user"
			    " configured and no user %s: create it (adduser"
			    " --system %s) or set user = NAME\"", user, user, user);
		else
			log_err("user=%s error=\"no such user\"", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		log_warn("user=%s op=setuid", user);
		return -1;
	}
	if (setuid(0) != -1) {
		log_err("user=%s error=\"root privileges still held\"", user);
		return -1;
	}
	log_info("user=%s uid=%ld gid=%ld", user, (long)pw->pw_uid,
	    (long)pw->pw_gid);
	return 0;
}

/* tracker_open_fds - descriptors open in this process now */
static unsigned int
tracker_open_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	unsigned int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 16;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * tracker_nofile - file descriptors for limit connections on each of
 * listeners public listeners: raise the soft RLIMIT_NOFILE (and, as root,
 * the hard one) to what they need beside the admin listener and the
 * descriptors of the process itself. When the limit cannot go that high,
 * lower the connection limit instead and say so. Returns the limit to
 * use per public listener.
 */
static unsigned int
tracker_nofile(unsigned int limit, unsigned int listeners,
    unsigned int threads)
{
	struct rlimit	rl;
	rlim_t		need, base, room;
	unsigned int	lowered;

	/*
	 * Besides connections: what is open now, an epoll and an eventfd per
	 * worker thread, the store's files, the admin listener, reloads.
	 */
	base = (rlim_t)tracker_open_fds() + 3 * (rlim_t)(threads + 2) *
	    (listeners + 1) + TRACKER_FD_RESERVE;
	need = base + (rlim_t)limit * listeners;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("op=getrlimit");
		return limit;
	}
	if (rl.rlim_cur >= need)
		return limit;
	if (rl.rlim_max < need && geteuid() == 0) {
		struct rlimit up = { need, need };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			log_info("nofile=%llu", (unsigned long long)need);
			return limit;
		}
	}
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("op=setrlimit");
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need) {
		log_info("nofile=%llu", (unsigned long long)rl.rlim_cur);
		return limit;
	}
	room = rl.rlim_cur > base ? (rl.rlim_cur - base) / listeners : 0;
	lowered = room < 16 ? 16 : (unsigned int)room;
	log_warnx("tracker_connection_limit=%u lowered=%u nofile=%llu"
	    " reason=\"the file descriptor limit is too low: raise"
	    " LimitNOFILE (ulimit -n) to %llu\"", limit, lowered,
	    (unsigned long long)rl.rlim_cur, (unsigned long long)need);
	return lowered;
}

/* tracker_mono - seconds of the monotonic clock */
static int64_t
tracker_mono(void)
{
	return now_mono_us() / 1000000;
}

/* tracker_scrub - erase raw client data older than days */
static void
tracker_scrub(struct store *s, int days)
{
	int64_t		before;
	uint64_t	n = 0;

	before = (now_us() / 1000000 - (int64_t)days * 86400) * 1000000;
	if (store_scrub_events(s, before, &n) == -1)
		log_warnx("retention days=%d scrubbed=%" PRIu64
		    " error=\"scrub failed\"", days, n);
	else if (n > 0)
		log_info("retention days=%d scrubbed=%" PRIu64, days, n);
	else
		log_debug("retention days=%d scrubbed=0", days);
}

/* janitor_main - the janitor thread */
static void *
janitor_main(void *arg)
{
	struct janitor	*j = arg;
	struct timespec	 wake;
	int64_t		 now, next_check = 0, next_scrub = 0;
	int		 days, dead;

	pthread_mutex_lock(&j->lock);
	while (!j->stop) {
		if (j->changed)
			next_scrub = 0;
		j->changed = 0;
		days = j->days;
		pthread_mutex_unlock(&j->lock);

		now = tracker_mono();
		if (now >= next_check) {
			if (store_reader_check(j->store, &dead) == 0 && dead > 0)
				log_info("store stale_readers_cleared=%d", dead);
			next_check = now + TRACKER_READERS_S;
		}
		if (now >= next_scrub) {
			if (days > 0)
				tracker_scrub(j->store, days);
			next_scrub = tracker_mono() + TRACKER_SCRUB_S;
		}

		pthread_mutex_lock(&j->lock);
		if (j->stop || j->changed)
			continue;
		wake.tv_sec = (time_t)(next_check < next_scrub ? next_check :
		    next_scrub);
		wake.tv_nsec = 0;
		pthread_cond_timedwait(&j->cond, &j->lock, &wake);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* janitor_start - start the janitor on s; 0, or -1 with errno */
static int
janitor_start(struct janitor *j, struct store *s, int days)
{
	pthread_condattr_t	ca;
	int			rc;

	memset(j, 0, sizeof(*j));
	j->store = s;
	j->days = days;
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&j->thread, NULL, janitor_main, j)) != 0) {
		pthread_cond_destroy(&j->cond);
		pthread_mutex_destroy(&j->lock);
		errno = rc;
		return -1;
	}
	j->started = 1;
	return 0;
}

/* janitor_set - a new raw_retention_days: applied at once */
static void
janitor_set(struct janitor *j, int days)
{
	if (!j->started)
		return;
	pthread_mutex_lock(&j->lock);
	if (j->days != days) {
		j->days = days;
		j->changed = 1;
		pthread_cond_signal(&j->cond);
	}
	pthread_mutex_unlock(&j->lock);
}

/* janitor_stop - wait for a scrub in progress, stop the thread */
static void
janitor_stop(struct janitor *j)
{
	if (!j->started)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = 1;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	j->started = 0;
}

/*
 * tracker_reload - SIGHUP: read the file again. The keys the configuration
 * table marks CONFIG_HUP for the tracker apply at once (http_reload, the
 * log level, the janitor, the certificates: their files are read again,
 * as the user the tracker runs as; when one fails, the certificates in
 * use stay). A change of a key marked CONFIG_START is logged and
 * otherwise ignored. A file with errors changes nothing.
 */
static void
tracker_reload(const char *path, const struct config *cur, struct http *h,
    struct janitor *j, int tls_on, int use_syslog)
{
	struct config	 nc;
	char		 err[512], q[LOG_STR_MAX], keys[512];

	if (config_load(&nc, path, err, sizeof(err)) == -1) {
		log_err("reload=failed error=%s", log_str(q, sizeof(q), err));
		return;
	}
	if (http_reload(h, &nc, err, sizeof(err)) == -1) {
		log_err("reload=failed error=%s", log_str(q, sizeof(q), err));
		config_free(&nc);
		return;
	}
	log_open(TRACKER_IDENT, use_syslog, (enum log_level)nc.log_level);
	janitor_set(j, nc.raw_retention_days);
	/* reopened even when unchanged: that is how rotation works */
	if (access_reopen(nc.access_log, err, sizeof(err)) == -1)
		log_err("reload=access_log error=%s reason=\"access log"
		    " unchanged\"", log_str(q, sizeof(q), err));
	if (tls_on && nc.tls_listen && (tls_check(&nc, err, sizeof(err)) == -1 ||
	    tls_load(&nc, err, sizeof(err)) == -1))
		log_err("reload=tls error=%s reason=\"certificates unchanged\"",
		    log_str(q, sizeof(q), err));
	if (config_changed(cur, &nc, CONFIG_TRACKER, CONFIG_START, keys,
	    sizeof(keys)) > 0)
		log_warnx("reload=partial changed=%s reason=\"needs a restart\"",
		    keys);
	log_info("reload=done file=%s", path ? path : "-");
	config_free(&nc);
}

/*
 * tracker_wait - the main loop: sleep in sigwaitinfo until asked to stop.
 */
static void
tracker_wait(const sigset_t *set, const char *path, const struct config *c,
    struct http *h, struct janitor *j, int use_syslog)
{
	siginfo_t	si;
	int		sig;

	for (;;) {
		if ((sig = sigwaitinfo(set, &si)) == -1) {
			if (errno != EINTR)
				log_warn("op=sigwaitinfo");
			continue;
		}
		if (sig == SIGHUP) {
			tracker_reload(path, c, h, j, c->tls_listen != NULL,
			    use_syslog);
			continue;
		}
		log_info("signal=%s pid=%ld", sig == SIGTERM ? "TERM" : "INT",
		    (long)si.si_pid);
		return;
	}
}

/*
 * tracker_drain - wait until no request is in flight, at most
 * TRACKER_DRAIN_MS; a second SIGTERM or SIGINT stops waiting.
 */
static void
tracker_drain(const sigset_t *set, struct http *h)
{
	struct timespec	 tick = { 0, 10 * 1000 * 1000 };
	int		 waited = 0, sig;

	while (http_active(h) > 0 && waited < TRACKER_DRAIN_MS) {
		sig = sigtimedwait(set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_warnx("shutdown=forced active=%u", http_active(h));
			return;
		}
		waited += 10;
	}
	if (http_active(h) > 0)
		log_warnx("shutdown=timeout active=%u", http_active(h));
}

int
main(int argc, char **argv)
{
	struct config		 cfg;
	struct store_opts	 so;
	struct store		*store = NULL;
	struct publish		*pub = NULL;
	struct http		*h = NULL;
	struct janitor		 jan;
	struct whdeliver	*wh = NULL;
	const char		*path = NULL;
	char			 err[512], q[LOG_STR_MAX];
	sigset_t		 set;
	int			 ch, check = 0, detach = 0, use_syslog;
	int			 fd = -1, admin_fd = -1, ready_fd = -1, rc = 1;
	int			 tls_fd = -1, have_admin;
	unsigned int		 conns;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((ch = getopt_long(argc, argv, "c:dhnV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", TRACKER_IDENT, MTRACK_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	path = config_path(path);
	if (config_load(&cfg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", TRACKER_IDENT, err);
		return 1;
	}
	memset(&jan, 0, sizeof(jan));
	have_admin = cfg.admin_listen && *cfg.admin_listen;
	if (http_listen(cfg.tracker_listen, NULL, err, sizeof(err)) == -1 ||
	    (cfg.tls_listen && http_listen(cfg.tls_listen, NULL, err,
	    sizeof(err)) == -1) ||
	    (have_admin && http_listen(cfg.admin_listen, NULL, err,
	    sizeof(err)) == -1) || tls_check(&cfg, err, sizeof(err)) == -1 ||
	    http_check(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s: %s\n", TRACKER_IDENT,
		    path ? path : "defaults", err);
		config_free(&cfg);
		return 1;
	}
	if (check) {
		/* the certificate files too: a bad one would stop the start */
		log_open(TRACKER_IDENT, 0, LOG_LVL_WARN);
		if (cfg.tls_listen && tls_load(&cfg, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s: %s\n", TRACKER_IDENT, err);
			config_free(&cfg);
			return 1;
		}
		tls_unload();
		{
			struct whconf w;

			if (whconf_load(&w, &cfg, err, sizeof(err)) == -1) {
				fprintf(stderr, "%s: %s\n", TRACKER_IDENT, err);
				config_free(&cfg);
				return 1;
			}
			whconf_free(&w);
		}
		config_dump(&cfg, stdout);
		config_free(&cfg);
		return 0;
	}
	use_syslog = cfg.syslog || detach;
	log_open(TRACKER_IDENT, cfg.syslog, (enum log_level)cfg.log_level);

	/* before any thread exists: all inherit the mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		log_warn("op=sigprocmask");
		goto done;
	}
	if (detach && (ready_fd = tracker_detach()) == -1) {
		log_warn("op=detach");
		goto done;
	}
	if (http_listen(cfg.tracker_listen, &fd, err, sizeof(err)) == -1) {
		log_err("listen=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	if (cfg.tls_listen && http_listen(cfg.tls_listen, &tls_fd, err,
	    sizeof(err)) == -1) {
		log_err("listen=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	/* before the privilege drop: key files are often root's only */
	if (cfg.tls_listen && tls_load(&cfg, err, sizeof(err)) == -1) {
		log_err("tls=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	/* metrics are not worth refusing to track: a busy port only warns */
	if (have_admin && http_listen(cfg.admin_listen, &admin_fd, err,
	    sizeof(err)) == -1) {
		log_warnx("admin=disabled error=%s",
		    log_str(q, sizeof(q), err));
		have_admin = 0;
	}
	/* before the drop: only root may raise the hard limit */
	conns = tracker_nofile((unsigned int)cfg.tracker_connection_limit,
	    tls_fd != -1 ? 2 : 1, http_threads(&cfg));
	/* before the drop too: the log directory may be root's */
	if (access_open(cfg.access_log, err, sizeof(err)) == -1) {
		log_err("access_log=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	if (tracker_drop(cfg.user) == -1)
		goto done;

	store_opts_config(&so, &cfg);
	store = store_open(cfg.db_path, &so, STORE_EVENTS |
	    store_flags_config(&cfg), err, sizeof(err));
	if (store == NULL) {
		log_err("store=%s error=%s", cfg.db_path,
		    log_str(q, sizeof(q), err));
		goto done;
	}
	/* events go to the stream from the store, never from a request */
	if (publish_wanted(&cfg) && (pub = publish_start(&cfg, store,
	    PUBLISH_EVENTS, "mtrack-tracker", err, sizeof(err))) == NULL) {
		log_err("stream=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	{
		/* the connection limit that fits the descriptors */
		struct config hc = cfg;

		hc.tracker_connection_limit = (int)conns;
		h = http_start(&hc, store, fd, tls_fd, admin_fd, err,
		    sizeof(err));
	}
	fd = tls_fd = admin_fd = -1;
	if (h == NULL) {
		log_err("start=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	/* webhooks: a thread of their own, never on the request path */
	if ((wh = whdeliver_start(store, &cfg, err, sizeof(err))) == NULL &&
	    *err) {
		log_err("webhooks=failed error=%s", log_str(q, sizeof(q), err));
		goto done;
	}
	http_webhooks(h, wh);
	http_set_publish(h, pub);
	if (janitor_start(&jan, store, cfg.raw_retention_days) == -1) {
		log_warn("op=janitor");
		goto done;
	}
	log_info("start listen=%s tls=%s admin=%s db=%s pid=%ld version=%s",
	    cfg.tracker_listen, cfg.tls_listen ? cfg.tls_listen : "-",
	    have_admin ? cfg.admin_listen : "-", cfg.db_path, (long)getpid(),
	    MTRACK_VERSION);
	tracker_ready(ready_fd, &cfg);
	ready_fd = -1;

	tracker_wait(&set, path, &cfg, h, &jan, use_syslog);

	http_quiesce(h);
	tracker_drain(&set, h);
	http_stop(h);
	h = NULL;
	whdeliver_stop(wh);
	wh = NULL;
	if (store_flush(store) == -1)
		log_warnx("shutdown=flush error=\"events may be lost\"");
	rc = 0;
done:
	if (h)
		http_stop(h);
	whdeliver_stop(wh);
	janitor_stop(&jan);
	publish_stop(pub);
	if (store)
		store_close(store);
	tls_unload();
	access_close();
	if (fd != -1)
		close(fd);
	if (tls_fd != -1)
		close(tls_fd);
	if (admin_fd != -1)
		close(admin_fd);
	if (rc == 0)
		log_info("stop");
	config_free(&cfg);
	log_close();
	return rc;
}
