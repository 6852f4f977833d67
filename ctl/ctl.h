/*
 * ctl - mtrackctl, the operator's tool: one file per subcommand.
 */
#ifndef MTRACK_CTL_H
#define MTRACK_CTL_H

#include "config.h"
#include "store.h"

/* the state every subcommand gets */
struct ctl {
	const char	*conf_path;	/* config_path(): NULL for built-in defaults */
	struct config	 cfg;
};

/*
 * the filters of stats and report, set through stats_filter by option
 * name (the value of each is not 0, '?' or an option character in use)
 */
#define CTL_FILTER_OPTIONS \
	{ "since", required_argument, NULL, 's' }, \
	{ "until", required_argument, NULL, 'u' }, \
	{ "campaign", required_argument, NULL, 'C' }, \
	{ "domain", required_argument, NULL, 'D' }, \
	{ "message", required_argument, NULL, 'M' }
#define CTL_TIME_HELP \
	"TIME: YYYY-MM-DD[THH:MM[:SS]] (UTC), @EPOCH, or Nd / Nh / Nm ago\n"

/*
 * ctl_tprint - prefix, s as esc_tty makes it safe for a terminal ("-" for
 * NULL), suffix, on standard output; ctl_eprint - prefix and s, and a new
 * line, on standard error
 */
void	ctl_tprint(const char *prefix, const char *s, const char *suffix);
void	ctl_eprint(const char *prefix, const char *s);

/* ctl_store - open the configured store (flags: STORE_RDONLY...); NULL after a message */
struct store	*ctl_store(struct ctl *c, int flags);

int	ctl_rewrite(struct ctl *c, int argc, char **argv);
int	ctl_stats(struct ctl *c, int argc, char **argv);
int	ctl_report(struct ctl *c, int argc, char **argv);
int	ctl_domain(struct ctl *c, int argc, char **argv);
int	ctl_show(struct ctl *c, int argc, char **argv);
int	ctl_export(struct ctl *c, int argc, char **argv);
int	ctl_prune(struct ctl *c, int argc, char **argv);
int	ctl_collect(struct ctl *c, int argc, char **argv);
int	ctl_keygen(struct ctl *c, int argc, char **argv);
int	ctl_webhook(struct ctl *c, int argc, char **argv);
int	ctl_verdict(struct ctl *c, int argc, char **argv);

#endif
