/*
 * serve - run libmilter, and take the signals around it (see serve.h).
 *
 * smfi_main() runs in a thread of its own. libmilter starts a thread that
 * takes SIGHUP, SIGTERM and SIGINT with sigwait() and stops the milter on
 * any of them, and its listener polls with a 5 s timeout before it looks
 * whether it was told to stop. So:
 *   - the main thread keeps the three signals unblocked, with handlers
 *     that write to a pipe, and every other thread blocks them: the kernel
 *     hands a process signal to the main thread (the thread group leader)
 *     whenever it does not block it, so libmilter's thread never sees one;
 *   - to stop, smfi_stop() runs in a helper thread (it sets the flag, then
 *     waits for the listener's lock), and SIGUSR1 sent to the listener
 *     thread interrupts its poll: it looks at the flag at once.
 * Should a second signal arrive while the main thread still has the first
 * pending, the kernel may hand it to libmilter's thread, which stops the
 * milter: serve_run then returns 1, and systemd's Restart=on-failure
 * starts it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "milter.h"
#include "serve.h"

/* longest wait for messages in flight at shutdown */
#define SERVE_DRAIN_MS	10000
/* the listener is poked this often until it has stopped, this many times */
#define SERVE_POKE_MS	50
#define SERVE_POKES	200

/* a configuration read by a reload, kept to the end: a callback may read it */
struct serve_old {
	struct serve_old	*next;
	struct config		 cfg;
};

static int		 serve_pipe[2] = { -1, -1 };
/*
 * Configurations read by reloads. Never freed: after the stop a callback
 * that was running may still read one, and the process exits next.
 */
static struct serve_old	*serve_configs;

/* serve_signal - the handler of SIGHUP, SIGTERM, SIGINT: one byte to the pipe */
static void
serve_signal(int sig)
{
	int	saved = errno;
	char	c = (char)sig;

	if (write(serve_pipe[1], &c, 1) == -1)
		(void)0;	/* full: a signal of each kind is already queued */
	errno = saved;
}

/* serve_poke - SIGUSR1: nothing; it only interrupts the listener's poll */
static void
serve_poke(int sig)
{
	(void)sig;
}

/* serve_main - the thread of smfi_main; says "stopped" on the pipe */
static void *
serve_main(void *arg)
{
	int		*rc = arg;
	sigset_t	 usr1;
	char		 c = 0;

	/* the poke: this thread only (its sessions inherit it, unused) */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	*rc = smfi_main();
	if (write(serve_pipe[1], &c, 1) == -1)
		log_warn("milter op=notify");
	return NULL;
}

/* serve_stopper - smfi_stop() blocks until the listener lets go of its lock */
static void *
serve_stopper(void *arg)
{
	(void)arg;
	smfi_stop();
	return NULL;
}

/*
 * serve_reload - SIGHUP: read the file again. The keys the reload column
 * of the configuration table marks as applied on SIGHUP for the milter
 * (the outbound policy, what is tracked, the rewrite settings, log_level)
 * apply to the next callback; a change of one read at start only
 * (milter_socket, the store, user, syslog) is named in the log and waits
 * for a restart. A file with errors changes nothing.
 */
static void
serve_reload(const char *path, const struct config **now,
    struct serve_old **old, int use_syslog)
{
	struct serve_old	*o;
	char			 err[512], q[LOG_STR_MAX], keys[512];

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_warn("reload=failed");
		return;
	}
	if (config_load(&o->cfg, path, err, sizeof(err)) == -1) {
		log_err("reload=failed error=%s", log_str(q, sizeof(q), err));
		free(o);
		return;
	}
	if (config_changed(*now, &o->cfg, CONFIG_MILTER, CONFIG_START, keys,
	    sizeof(keys)) > 0)
		log_warnx("reload=partial changed=%s reason=\"needs a restart\"",
		    keys);
	o->next = *old;
	*old = o;
	*now = &o->cfg;
	milter_reconfigure(*now);
	log_open("mtrack-milter", use_syslog, (enum log_level)o->cfg.log_level);
	log_info("reload=done file=%s", path ? path : "-");
}

/*
 * serve_stop - make smfi_main return now instead of within 5 s: poke the
 * listener until its thread says it is over (a zero byte on the pipe).
 * Returns 1 when it is, 0 when it did not stop within SERVE_POKES pokes.
 */
static int
serve_stop(pthread_t listener)
{
	struct pollfd	pfd = { serve_pipe[0], POLLIN, 0 };
	pthread_t	stopper;
	char		c;
	int		done = 0, have_stopper, i;

	have_stopper = pthread_create(&stopper, NULL, serve_stopper, NULL) == 0;
	if (!have_stopper)
		smfi_stop();	/* then at the listener's next look: 5 s */
	for (i = 0; !done && i < SERVE_POKES; i++) {
		pthread_kill(listener, SIGUSR1);
		if (poll(&pfd, 1, SERVE_POKE_MS) == 1 &&
		    read(serve_pipe[0], &c, 1) == 1 && c == 0)
			done = 1;
	}
	if (!done) {
		log_warnx("shutdown=listener reason=\"libmilter's listener did"
		    " not stop\"");
		return 0;
	}
	if (have_stopper)
		pthread_join(stopper, NULL);
	return 1;
}

int
serve_run(const char *path, const struct config *cfg, struct store *st,
    struct publish *pub, int use_syslog)
{
	const struct config	*now = cfg;
	struct sigaction	 sa;
	sigset_t		 set, all;
	pthread_t		 listener;
	unsigned int		 left;
	char			 c;
	int			 rc = MI_FAILURE, done = 0, stop = 0;

	if (pipe2(serve_pipe, O_CLOEXEC) == -1) {
		log_warn("milter op=pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = serve_poke;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = serve_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* the listener and every thread it starts block all four */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	all = set;
	sigaddset(&all, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (pthread_create(&listener, NULL, serve_main, &rc) != 0) {
		log_warn("milter op=thread");
		return -1;
	}
	/* this thread takes the three; SIGUSR1 stays blocked here */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!stop && !done) {
		if (read(serve_pipe[0], &c, 1) != 1) {
			if (errno != EINTR)
				log_warn("milter op=read");
			continue;
		}
		switch (c) {
		case 0:
			done = 1;
			break;
		case SIGHUP:
			serve_reload(path, &now, &serve_configs, use_syslog);
			break;
		default:
			log_info("signal=%s", c == SIGTERM ? "TERM" : "INT");
			stop = 1;
			break;
		}
	}
	/* a second signal while stopping changes nothing */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!done && !serve_stop(listener))
		return 1;	/* exit ends it; the store stays as committed */
	pthread_join(listener, NULL);
	if (!stop)
		log_err("milter stopped unasked rc=%d", rc);
	/*
	 * An end of message still running after the wait may use the store:
	 * it stays open; LMDB is consistent at its last commit, exit ends it.
	 */
	if ((left = milter_drain(SERVE_DRAIN_MS)) > 0) {
		log_warnx("shutdown=timeout ends_of_message_running=%u", left);
		return 1;
	}
	publish_stop(pub);
	store_close(st);
	close(serve_pipe[0]);
	close(serve_pipe[1]);
	/* asked to stop: done, whatever the listener said on its way out */
	return stop ? 0 : 1;
}
