/*
 * http - the tracker's HTTP service on libmicrohttpd.
 *
 * Routes of the public listener:
 *   GET|HEAD /.well-known/acme-challenge/{token}
 *                             the file under acme_webroot (first route)
 *   GET|HEAD /click/{id}      302 to the recorded URL, click event queued
 *   GET|HEAD /open/{id}.png   200 1x1 transparent PNG, open event queued;
 *                             the same image, unrecorded, for any other ID
 *   GET|HEAD /healthz         200 "ok" when the store answers, else 503
 * Everything else is 404, other methods 405. Each answer is a line of the
 * access log when one is open (access.h). /metrics (Prometheus text)
 * is served only by the admin listener, never by the public one: behind
 * a local reverse proxy every public request comes from loopback too.
 *
 * The HTTPS listener (tls_listen) is a second daemon with the same
 * handler and the public routes; its threads are a pool of the same size.
 *
 * Threads: one epoll thread per worker (a pool of tracker_threads), each
 * with its own copies of the fixed responses and its own counters, so
 * the request path takes no lock. One struct http per process: the
 * per-thread state is thread-local. Events go to the store's writer queue;
 * a request never waits for a commit.
 */
#ifndef MTRACK_HTTP_H
#define MTRACK_HTTP_H

#include <stddef.h>

#include "config.h"
#include "store.h"

struct http;

/* the listening backlog asked of the kernel (capped by net.core.somaxconn) */
#define HTTP_BACKLOG	4096

/*
 * http_listen - parse "HOST:PORT", "[V6]:PORT" or "*:PORT" (all addresses,
 * IPv6 and IPv4), create a socket, bind it and listen. Returns the socket
 * (non-blocking, close-on-exec) or -1 with the reason in err.
 * With fd == NULL only checks the form (for -n).
 */
int	http_listen(const char *spec, int *fd, char *err, size_t errlen);

/* http_threads - the worker threads of each public listener: configured, or one per core */
unsigned int	http_threads(const struct config *c);

/*
 * http_start - serve on the listening socket fd, the same routes over
 * HTTPS on tls_fd (-1: none; certificates from tls.h, loaded before), and
 * /metrics on admin_fd (-1: no admin listener). The sockets belong to h
 * from then on, also on failure. c is read during the call only; s must
 * outlive h. NULL with the reason in err.
 */
struct http	*http_start(const struct config *c, struct store *s, int fd,
		    int tls_fd, int admin_fd, char *err, size_t errlen);
/*
 * http_reload - take the HTTP settings of c that the configuration table
 * marks as applied on SIGHUP (config.h: CONFIG_HUP for CONFIG_TRACKER).
 * Requests in flight keep the settings they started with. 0, or -1 with
 * the reason in err (a verdict_networks, link_keys or link_revoked file,
 * memory) and the old ones kept.
 */
int		 http_reload(struct http *h, const struct config *c, char *err,
		    size_t errlen);
/*
 * http_check - read the files the HTTP settings of c name (verdict_networks,
 * link_keys, link_revoked) as a start would, and drop them: the early check
 * at start and for -n. 0, or -1 with the reason in err.
 */
int		 http_check(const struct config *c, char *err, size_t errlen);
struct publish;
/* http_set_publish - p's backlog and results go into /metrics (NULL: none) */
void		 http_set_publish(struct http *h, struct publish *p);
struct whdeliver;
/* http_webhooks - show the counters of w (NULL: none) in /metrics; set before requests come */
void		 http_webhooks(struct http *h, struct whdeliver *w);
/* http_quiesce - stop accepting connections; open ones are still served */
void		 http_quiesce(struct http *h);
/* http_active - requests being handled right now (not idle keep-alives) */
unsigned	 http_active(struct http *h);
/* http_stop - close every connection, stop the threads, free h */
void		 http_stop(struct http *h);

#endif
