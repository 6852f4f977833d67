/*
 * db - database names and key builders (see db.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char *const db_names[DB_COUNT] = {
	[DB_META] = "meta",
	[DB_MESSAGES] = "messages",
	[DB_MSGIDS] = "msgids",
	[DB_LINKS] = "links",
	[DB_EVENTS] = "events",
	[DB_COUNTERS] = "counters",
	[DB_DOMAINS] = "domains",
	[DB_UNIQ] = "uniq",
	[DB_MSGEVENTS] = "msgevents",
	[DB_PENDING] = "pending",
};

const char *
db_name(enum db d)
{
	return (unsigned)d < DB_COUNT ? db_names[d] : NULL;
}

uint64_t
db_hex16_parse(const char *key)
{
	char	t[DB_SEQ_LEN + 1];

	memcpy(t, key, DB_SEQ_LEN);
	t[DB_SEQ_LEN] = '\0';
	return strtoull(t, NULL, 16);
}

void
db_ikey_from(char out[DB_IKEY_LEN + 1], uint64_t msg, int64_t from_us)
{
	db_hex16(out, msg);
	db_event_key(out + DB_SEQ_LEN, from_us, 0);
}

int
db_uniq_key(char *out, size_t outlen, char kind, const char *seq16,
    const char *who, int human)
{
	int n;

	if (who == NULL)
		n = snprintf(out, outlen, "%c:%s:", kind, seq16);
	else
		n = snprintf(out, outlen, "%c:%s:%s%s", kind, seq16, who,
		    human ? ":h" : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
