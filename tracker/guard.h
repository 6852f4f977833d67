/*
 * guard - a cap on the time a client may take to send a request's headers.
 *
 * libmicrohttpd's connection timeout counts idle time: every byte received
 * starts it again, so a client sending a header byte every few seconds
 * (slowloris) holds a connection for as long as it likes. The guard
 * clocks each connection from its accept, and again from the end of each
 * response, to the moment its next request's headers are complete; past
 * the cap it shuts the socket down, and the library closes the connection
 * as it would any connection its peer closed.
 */
#ifndef MTRACK_GUARD_H
#define MTRACK_GUARD_H

#include <microhttpd.h>

struct guard;

/* guard_new - a guard with a cap of secs seconds and its thread; NULL on error */
struct guard	*guard_new(unsigned int secs);
/* guard_free - stop the thread; after every daemon using the guard stopped */
void		 guard_free(struct guard *g);
/*
 * guard_notify - the MHD_OPTION_NOTIFY_CONNECTION callback (cls: the
 * guard): the clock starts at accept; the entry goes at close
 */
void		 guard_notify(void *cls, struct MHD_Connection *c,
		    void **socket_context, enum MHD_ConnectionNotificationCode toe);
/* guard_request - c's request headers are complete: its clock stops */
void		 guard_request(struct guard *g, struct MHD_Connection *c);
/* guard_idle - c's response is done: the clock runs for its next request */
void		 guard_idle(struct guard *g, struct MHD_Connection *c);

#endif
