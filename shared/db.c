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
	[DB_FEED] = "feed",
	[DB_WEBHOOKS] = "webhooks",
	[DB_PARKED] = "parked",
};

const char *
db_name(enum db d)
{
	return (unsigned)d < DB_COUNT ? db_names[d] : NULL;
}

int
db_hex16_get(const void *p, size_t len, uint64_t *v)
{
	const char	*s = p;
	uint64_t	 n = 0;
	size_t		 i;

	if (len != DB_SEQ_LEN)
		return -1;
	for (i = 0; i < DB_SEQ_LEN; i++) {
		n <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			n |= (uint64_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			n |= (uint64_t)(s[i] - 'a' + 10);
		else
			return -1;
	}
	*v = n;
	return 0;
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
