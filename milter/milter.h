/*
 * milter - the libmilter callbacks of mtrack-milter and their contexts.
 */
#ifndef MTRACK_MILTER_H
#define MTRACK_MILTER_H

#include "config.h"
#include "store.h"

/* milter_setup - the configuration and store the callbacks use (both outlive smfi_main) */
void	milter_setup(const struct config *cfg, struct store *st);
/* milter_register - smfi_register with mtrack's callbacks; 0 or -1 */
int	milter_register(void);

#endif
