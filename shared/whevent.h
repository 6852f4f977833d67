/*
 * whevent - the JSON body of a webhook: one click or open, built from the
 * records the store holds (the event, its message, its link), so the
 * privacy settings apply exactly as they did to the store: an address cut
 * by anonymize_ip, a User-Agent not stored, raw data erased after
 * raw_retention_days are sent the same way (null when not kept).
 *
 *   {"type":"click","timestamp":"2026-12-06T21:58:00.123456Z",
 *    "data":{"id":"evt_...","time":"...","class":"human","reason":"-",
 *            "message_id":"<...>","campaign":..,"domain":..,
 *            "recipients":[..],"url":"https://...","position":0,
 *            "ip":"192.0.2.1","user_agent":"...","method":"GET","host":..}}
 *
 * "url" and "position" only for clicks. Times are RFC 3339 in UTC.
 */
#ifndef MTRACK_WHEVENT_H
#define MTRACK_WHEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* "evt_" + the event's record key (20 hex digits) + NUL */
#define WHEVENT_ID_LEN	(4 + 20 + 1)

/* what the delivery needs to know of an event besides its body */
struct whevent_info {
	char		id[WHEVENT_ID_LEN];	/* the webhook-id */
	unsigned	type;			/* WH_CLICK or WH_OPEN */
	char		cls[16];		/* class, for filters */
	int64_t		time_us;
};

/*
 * whevent_build - append the JSON body of the event stored under key
 * (20 hex digits) to out. ev is the event record; msg and link are its
 * message and link records (NULL when pruned or, for opens, no link):
 * what they would give is then null. 0, or -1 (not an event record, or
 * memory). *info (when not NULL) is filled.
 */
int	whevent_build(const char *key, const char *ev, size_t evlen,
	    const char *msg, size_t msglen, const char *link, size_t linklen,
	    struct buf *out, struct whevent_info *info);
/* whevent_time - microseconds since the epoch as RFC 3339 UTC into out (32 bytes) */
void	whevent_time(int64_t us, char out[32]);
/*
 * whevent_sample - append the body of a made-up click (for "webhook test")
 * to out, with id "evt_test_" + now; 0 or -1
 */
int	whevent_sample(struct buf *out, struct whevent_info *info);

#endif
