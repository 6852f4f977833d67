/*
 * prune - delete what is past retention: messages sent before a time,
 * their links, their events (found through the msgevents index), their
 * per-message and per-link counters and their unique markers. Campaign,
 * domain and day counters keep their history. A pruned link answers 404
 * (or fallback_url) at the tracker.
 */
#ifndef MTRACK_PRUNE_H
#define MTRACK_PRUNE_H

#include <stdint.h>

#include "store.h"

struct prune_counts {
	uint64_t	messages, links, events, counters;
};

/*
 * prune_before - delete messages sent before before_us, in transactions
 * of a bounded size (other writers get their turn). 0 or -1.
 */
int	prune_before(struct store *s, int64_t before_us, struct prune_counts *n);
/*
 * prune_count - what prune_before would delete, counted exactly by doing
 * the same work in transactions that are rolled back. 0 or -1.
 */
int	prune_count(struct store *s, int64_t before_us, struct prune_counts *n);

#endif
