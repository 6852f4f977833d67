/*
 * sealgen - sealed click tokens for the benchmark: N tokens sealed with
 * the last key of a keys file, one a line, links of messages of 100 links
 * to URLs of a typical newsletter's length (about 100 bytes, utm_ tags).
 *
 *   sealgen KEYS_FILE N OUT_FILE
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seal.h"
#include "seal_keys.h"

int
main(int argc, char **argv)
{
	struct seal_keys	*k;
	struct seal_msg		 m;
	struct buf		 tok = BUF_INIT;
	char			 err[512], url[256];
	FILE			*fp;
	long			 n, i;
	size_t			 total = 0;

	if (argc != 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: sealgen KEYS_FILE N OUT_FILE\n");
		return 2;
	}
	if ((k = seal_keys_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "sealgen: %s\n", err);
		return 1;
	}
	if ((fp = fopen(argv[3], "w")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof(url), "https://www.example.com/products/"
		    "item-%ld?utm_source=newsletter&utm_medium=email"
		    "&utm_campaign=bench-%ld", i, i / 100);
		memset(&m, 0, sizeof(m));
		m.kind = SEAL_CLICK;
		m.msg = (uint64_t)(i / 100 + 1);
		m.link = (uint64_t)(i + 1);
		m.pos = (unsigned)(i % 100);
		/* sent a day ago: no click is "too fast" */
		m.sent_us = ((int64_t)time(NULL) - 86400) * 1000000;
		m.url = url;
		m.url_len = strlen(url);
		buf_reset(&tok);
		if (seal_token(k, &m, &tok) == -1) {
			fprintf(stderr, "sealgen: cannot seal\n");
			return 1;
		}
		total += tok.len;
		fprintf(fp, "%s\n", tok.data);
	}
	if (fclose(fp) == EOF) {
		perror(argv[3]);
		return 1;
	}
	fprintf(stderr, "sealgen: %ld tokens, %zu characters on average\n", n,
	    total / (size_t)n);
	buf_free(&tok);
	seal_keys_free(k);
	return 0;
}
