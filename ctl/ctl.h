/*
 * ctl - mtrackctl, the operator's tool: one file per subcommand.
 */
#ifndef MTRACK_CTL_H
#define MTRACK_CTL_H

#include "config.h"
#include "store.h"

/* the state every subcommand gets */
struct ctl {
	const char	*conf_path;	/* NULL: built-in defaults */
	struct config	 cfg;
};

/* ctl_store - open the configured store (flags: STORE_RDONLY...); NULL after a message */
struct store	*ctl_store(struct ctl *c, int flags);

int	ctl_rewrite(struct ctl *c, int argc, char **argv);
int	ctl_stats(struct ctl *c, int argc, char **argv);
int	ctl_domain(struct ctl *c, int argc, char **argv);
int	ctl_show(struct ctl *c, int argc, char **argv);
int	ctl_export(struct ctl *c, int argc, char **argv);
int	ctl_prune(struct ctl *c, int argc, char **argv);
int	ctl_verdict(struct ctl *c, int argc, char **argv);

#endif
