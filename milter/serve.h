/*
 * serve - run the milter until SIGTERM or SIGINT, reloading the
 * configuration on SIGHUP; at the end wait for the messages in flight.
 */
#ifndef MTRACK_SERVE_H
#define MTRACK_SERVE_H

#include "config.h"
#include "publish.h"
#include "store.h"

/*
 * serve_run - call after the socket is open, milter_setup(cfg, st) is done
 * and before any other thread starts except the store's (which must block
 * SIGHUP, SIGTERM, SIGINT and SIGUSR1). path is the file SIGHUP reads
 * again; cfg is the configuration in use until a reload replaces it
 * (keep it to the exit: a callback may still read it after the call).
 * When every message in flight is done it stops pub (the stream
 * publisher, NULL: none) and closes st.
 * Returns the exit status: 0 after SIGTERM or SIGINT, 1 when the milter
 * stopped on its own or messages were still in flight.
 */
int	serve_run(const char *path, const struct config *cfg, struct store *st,
	    struct publish *pub, int use_syslog);

#endif
