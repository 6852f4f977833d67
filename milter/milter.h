/*
 * milter - the libmilter callbacks of mtrack-milter and their contexts.
 */
#ifndef MTRACK_MILTER_H
#define MTRACK_MILTER_H

#include "config.h"
#include "seal_keys.h"
#include "store.h"

/*
 * milter_setup - the configuration, store and sealing keys (NULL: stored
 * IDs) the callbacks use (all outlive smfi_main)
 */
void	milter_setup(const struct config *cfg, struct store *st,
	    const struct seal_keys *keys);
/*
 * milter_reconfigure - the callbacks use cfg from now on; a callback that
 * runs keeps the one it started with, so the old one must stay allocated
 * until smfi_main has returned and milter_drain is done.
 */
void	milter_reconfigure(const struct config *cfg);
/*
 * milter_drain - from now on a message that reaches its end passes
 * untracked; wait until the ends of message being processed are done, at
 * most timeout_ms. Returns how many still run (0: none; then no callback
 * uses the store any more).
 */
unsigned int	milter_drain(int timeout_ms);
/* milter_register - smfi_register with mtrack's callbacks; 0 or -1 */
int	milter_register(void);

#endif
