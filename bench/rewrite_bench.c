/*
 * rewrite_bench - the rewrite engine alone, and GMime as the baseline.
 *
 *   rewrite_bench rewrite CONF FILE N
 *       N x rewrite_message() on the message in FILE, with the store of
 *       CONF (links recorded durably, as the milter does)
 *   rewrite_bench gmime FILE N
 *       N x GMime parse of FILE and serialize of the result to memory:
 *       the least any GMime-based milter does with a message
 *
 * Prints "mode=... n=N bytes=B seconds=S per_msg_us=U mbps=M links=L".
 * Under valgrind --tool=callgrind, two runs with different N give the
 * instructions of one message (the difference divided by the N delta).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "config.h"
#include "mime.h"
#include "rewrite.h"
#include "store.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
slurp(const char *path, struct buf *b)
{
	FILE	*f;
	char	 chunk[65536];
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) == -1) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

/* one GMime parse + serialize; returns the bytes written */
static __attribute__((noinline)) size_t
gmime_once(const char *msg, size_t len)
{
	GMimeStream	*in, *out;
	GMimeParser	*parser;
	GMimeMessage	*m;
	ssize_t		 n = -1;

	in = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(in);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, NULL);
	if (m != NULL) {
		out = g_mime_stream_mem_new();
		n = g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, out);
		g_object_unref(out);
		g_object_unref(m);
	}
	g_object_unref(parser);
	g_object_unref(in);
	return n < 0 ? 0 : (size_t)n;
}

static __attribute__((noinline)) int
rewrite_once(const struct config *cfg, struct store *st, const char *msg,
    size_t len, unsigned *links)
{
	static const char	*rcpt[1] = { "reader@example.net" };
	struct rewrite_info	 info = { "news@example.com", rcpt, 1, NULL, NULL };
	struct rewrite_result	 r;
	int			 rc;

	rc = rewrite_message(cfg, st, &info, msg, len, &r);
	if (rc == 0 && !r.changed) {
		fprintf(stderr, "rewrite_bench: not rewritten: %s\n",
		    r.skip ? r.skip : "?");
		rc = -1;
	}
	*links = r.links;
	rewrite_result_free(&r);
	return rc;
}

int
main(int argc, char **argv)
{
	struct buf	 msg = BUF_INIT;
	struct config	 cfg;
	struct store	*st = NULL;
	unsigned	 links = 0;
	long		 i, n;
	double		 t0, t1;
	char		 err[512];
	int		 rewrite;

	if (argc < 4 || (strcmp(argv[1], "rewrite") == 0 && argc != 5)) {
		fprintf(stderr, "usage: rewrite_bench rewrite CONF FILE N | "
		    "gmime FILE N\n");
		return 2;
	}
	rewrite = strcmp(argv[1], "rewrite") == 0;
	mime_init();
	if (slurp(argv[rewrite ? 3 : 2], &msg) == -1)
		return 1;
	n = atol(argv[rewrite ? 4 : 3]);
	if (rewrite) {
		struct store_opts o;

		if (config_load(&cfg, argv[2], err, sizeof(err)) == -1) {
			fprintf(stderr, "rewrite_bench: %s\n", err);
			return 1;
		}
		store_opts_config(&o, &cfg);
		if ((st = store_open(cfg.db_path, &o, 0, err, sizeof(err)))
		    == NULL) {
			fprintf(stderr, "rewrite_bench: %s\n", err);
			return 1;
		}
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		if (rewrite) {
			if (rewrite_once(&cfg, st, msg.data, msg.len, &links) == -1)
				return 1;
		} else if (gmime_once(msg.data, msg.len) == 0) {
			fprintf(stderr, "rewrite_bench: GMime failed\n");
			return 1;
		}
	}
	t1 = now();
	printf("mode=%s n=%ld bytes=%zu seconds=%.4f per_msg_us=%.1f mbps=%.2f"
	    " links=%u\n", argv[1], n, msg.len, t1 - t0,
	    n ? (t1 - t0) * 1e6 / (double)n : 0.0,
	    t1 > t0 ? (double)msg.len * (double)n / (t1 - t0) / 1e6 : 0.0,
	    links);
	if (rewrite) {
		store_close(st);
		config_free(&cfg);
	}
	buf_free(&msg);
	return 0;
}
