/*
 * seal_keys - the keys file of sealed links (see seal_keys.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "id.h"
#include "seal_keys.h"

#define SEAL_KEYS_FILE_MAX	(64 * 1024)

/* hexval - the value of one hex digit, or -1 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* seal_keys_one - parse one line (no newline) into k; NULL or the reason */
static const char *
seal_keys_one(struct seal_keys *k, const char *p, const char *end)
{
	uint8_t	 key[SEAL_KEY_LEN];
	long	 id = 0;
	int	 i, digits = 0;

	while (p < end && *p >= '0' && *p <= '9' && digits < 4) {
		id = id * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || (p < end && *p >= '0' && *p <= '9'))
		return "want \"ID HEX\": ID a number 1-255";
	if (id < 1 || id > 255)
		return "key ID out of range 1-255";
	if (p == end || (*p != ' ' && *p != '\t'))
		return "want \"ID HEX\": a space after the ID";
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (i = 0; i < 2 * SEAL_KEY_LEN; i++) {
		int v = p + i < end ? hexval(p[i]) : -1;

		if (v < 0) {
			explicit_bzero(key, sizeof(key));
			return "the key must be 64 hex digits";
		}
		if (i & 1)
			key[i / 2] = (uint8_t)(key[i / 2] | v);
		else
			key[i / 2] = (uint8_t)(v << 4);
	}
	p += 2 * SEAL_KEY_LEN;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p != end) {
		explicit_bzero(key, sizeof(key));
		return "the key must be 64 hex digits (text after it)";
	}
	if (k->have[id]) {
		explicit_bzero(key, sizeof(key));
		return "key ID listed twice";
	}
	memcpy(k->key[id], key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	k->have[id] = 1;
	k->seal = (int)id;
	k->count++;
	return NULL;
}

struct seal_keys *
seal_keys_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct seal_keys	*k;
	const char		*p = text, *end = text + len, *eol, *why;
	int			 line = 0;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	while (p < end) {
		line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p < eol && *p != '#' && !(eol - p == 1 && *p == '\r') &&
		    (why = seal_keys_one(k, p, eol)) != NULL) {
			snprintf(err, errlen, "%s:%d: %s", name, line, why);
			seal_keys_free(k);
			return NULL;
		}
		p = eol < end ? eol + 1 : end;
	}
	if (k->count == 0) {
		snprintf(err, errlen, "%s: no key (want lines \"ID HEX\";"
		    " mtrackctl keygen ID prints one)", name);
		seal_keys_free(k);
		return NULL;
	}
	return k;
}

struct seal_keys *
seal_keys_load(const char *path, char *err, size_t errlen)
{
	struct seal_keys	*k = NULL;
	struct stat		 st;
	char			*text = NULL;
	ssize_t			 r;
	size_t			 got = 0;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IRWXO)) {
		snprintf(err, errlen, "%s: bad permissions %04o: other users may"
		    " read or change the keys (chmod 600, or 640 for a group)",
		    path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > SEAL_KEYS_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    SEAL_KEYS_FILE_MAX);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, text + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: %s", path, r == 0 ?
			    "shorter than its size" : strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	k = seal_keys_parse(text, got, path, err, errlen);
out:
	if (text) {
		explicit_bzero(text, got);
		free(text);
	}
	close(fd);
	return k;
}

void
seal_keys_free(struct seal_keys *k)
{
	if (k == NULL)
		return;
	explicit_bzero(k, sizeof(*k));
	free(k);
}

int
seal_keys_line(int id, char out[SEAL_KEY_LINE])
{
	uint8_t	raw[SEAL_KEY_LEN];
	int	i, o;

	if (id < 1 || id > 255 || id_random(raw, sizeof(raw)) == -1)
		return -1;
	o = snprintf(out, SEAL_KEY_LINE, "%d ", id);
	for (i = 0; i < SEAL_KEY_LEN; i++)
		o += snprintf(out + o, (size_t)(SEAL_KEY_LINE - o), "%02x",
		    raw[i]);
	snprintf(out + o, (size_t)(SEAL_KEY_LINE - o), "\n");
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
