/*
 * guard - a cap on the time a client may take to send a request's headers
 * (see guard.h).
 *
 * One entry per connection, in a list under one lock: the library's
 * threads add and remove them (notify callback), a thread of the guard
 * looks at the deadlines twice a second. The socket is shut down, never
 * closed, under the lock that the close notification takes too: the
 * library notifies before it closes the socket, so an entry in the list
 * always names the connection's own socket, never a reused number.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <sys/socket.h>

#include "guard.h"
#include "now.h"

struct guard_conn {
	struct guard_conn	*prev, *next;
	int			 fd;
	int64_t			 deadline;	/* us, monotonic; 0: in a request */
};

struct guard {
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	struct guard_conn	*conns;
	int64_t			 cap_us;
	int			 stop;
	pthread_t		 thread;
};

/* guard_reap - shut down the connections past their deadline */
static void
guard_reap(struct guard *g, int64_t now)
{
	struct guard_conn *e;

	for (e = g->conns; e != NULL; e = e->next) {
		if (e->deadline == 0 || now < e->deadline)
			continue;
		/* the library sees the end of input and closes it */
		shutdown(e->fd, SHUT_RDWR);
		e->deadline = 0;
	}
}

static void *
guard_main(void *arg)
{
	struct guard	*g = arg;
	struct timespec	 ts;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
		guard_reap(g, now_mono_us());
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct guard *
guard_new(unsigned int secs)
{
	struct guard		*g;
	pthread_condattr_t	 ca;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->cap_us = (int64_t)secs * 1000000;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(&g->thread, NULL, guard_main, g)) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

void
guard_free(struct guard *g)
{
	struct guard_conn *e, *n;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	for (e = g->conns; e != NULL; e = n) {
		n = e->next;
		free(e);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void
guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct guard			*g = cls;
	struct guard_conn		*e = *socket_context;
	const union MHD_ConnectionInfo	*ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		/* out of memory: this connection goes unguarded */
		if (ci == NULL || (e = calloc(1, sizeof(*e))) == NULL)
			return;
		e->fd = ci->connect_fd;
		pthread_mutex_lock(&g->lock);
		e->deadline = now_mono_us() + g->cap_us;
		if ((e->next = g->conns) != NULL)
			e->next->prev = e;
		g->conns = e;
		pthread_mutex_unlock(&g->lock);
		*socket_context = e;
		return;
	}
	if (e == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (e->prev)
		e->prev->next = e->next;
	else
		g->conns = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&g->lock);
	free(e);
	*socket_context = NULL;
}

/* guard_set - the deadline of c's entry, if it has one */
static void
guard_set(struct guard *g, struct MHD_Connection *c, int64_t deadline)
{
	const union MHD_ConnectionInfo	*ci;
	struct guard_conn		*e;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (e = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	e->deadline = deadline;
	pthread_mutex_unlock(&g->lock);
}

void
guard_request(struct guard *g, struct MHD_Connection *c)
{
	guard_set(g, c, 0);
}

void
guard_idle(struct guard *g, struct MHD_Connection *c)
{
	guard_set(g, c, now_mono_us() + g->cap_us);
}
