/*
 * seal_revoked - the revocation list of links (see seal_revoked.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seal_revoked.h"

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
seal_revoked_load(struct seal_revoked *r, const char *path, char *err,
    size_t errlen)
{
	FILE		*fp;
	char		*line = NULL, *p, *end;
	size_t		 cap = 0, room = 0, lineno = 0;
	uint64_t	*v;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		end = p + strspn(p, "0123456789abcdefABCDEF");
		if (end - p != 16 || end[strspn(end, " \t\r\n")] != '\0') {
			snprintf(err, errlen, "%s:%zu: want a sequence number,"
			    " 16 hex digits", path, lineno);
			goto out;
		}
		if (r->n == room) {
			room = room ? room * 2 : 256;
			if ((v = realloc(r->v, room * sizeof(*v))) == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			r->v = v;
		}
		r->v[r->n++] = strtoull(p, NULL, 16);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	qsort(r->v, r->n, sizeof(*r->v), u64_cmp);
	rc = 0;
out:
	if (rc == -1)
		seal_revoked_free(r);
	free(line);
	fclose(fp);
	return rc;
}

int
seal_revoked_has(const struct seal_revoked *r, uint64_t seq)
{
	return r->n && bsearch(&seq, r->v, r->n, sizeof(*r->v), u64_cmp) != NULL;
}

void
seal_revoked_free(struct seal_revoked *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}
