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
/* milter_register - smfi_register with mtrack's callbacks; 0 or -1 */
int	milter_register(void);

#endif
