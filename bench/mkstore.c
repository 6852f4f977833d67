/*
 * mkstore - fill a store with many links quickly, for the tracker
 * benchmarks.
 *
 *   mkstore CONF NLINKS LINKS_PER_MSG LINK_IDS_FILE MSG_IDS_FILE
 *
 * Opens the store of CONF (db_path) and records NLINKS links in messages
 * of LINKS_PER_MSG links each, through the same calls the rewrite engine
 * uses (store_reserve + store_put_message). Several threads submit at
 * once, so the store's writer commits them in groups. Prints the public
 * ID of every link (one a line) to LINK_IDS_FILE and of every message to
 * MSG_IDS_FILE: wrk's scripts pick IDs from them at random.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "id.h"
#include "store.h"

#define THREADS	4

struct job {
	struct store	*st;
	uint64_t	 nmsgs, per;
	uint64_t	*mseq;		/* per message: its seq */
	uint64_t	*lfirst;	/* per message: first link seq */
	uint64_t	 next;		/* next message to write (shared) */
	pthread_mutex_t	 lock;
	int		 failed;
};

static void *
filler(void *arg)
{
	struct job		*j = arg;
	struct store_link	*links;
	char			**urls;
	const char		*rcpt[1] = { "reader@example.net" };
	char			 mid[96];
	uint64_t		 i, k, first, seq;

	links = calloc(j->per, sizeof(*links));
	urls = calloc(j->per, sizeof(*urls));
	if (links == NULL || urls == NULL)
		goto fail;
	for (k = 0; k < j->per; k++)
		if ((urls[k] = malloc(160)) == NULL)
			goto fail;
	for (;;) {
		struct store_msg m;

		pthread_mutex_lock(&j->lock);
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->nmsgs)
			break;
		if (store_reserve(j->st, ID_MSG, 1, &seq) == -1 ||
		    store_reserve(j->st, ID_LINK, j->per, &first) == -1)
			goto fail;
		for (k = 0; k < j->per; k++) {
			snprintf(urls[k], 160, "https://www.example.com/articles/"
			    "%" PRIu64 "/spring-collection?utm_source=newsletter"
			    "&utm_medium=email&utm_campaign=%" PRIu64, k, i);
			links[k].seq = first + k;
			links[k].url = urls[k];
		}
		snprintf(mid, sizeof(mid), "<bench.%" PRIu64 "@example.com>", i);
		memset(&m, 0, sizeof(m));
		m.seq = seq;
		m.time_us = (int64_t)time(NULL) * 1000000;
		m.message_id = mid;
		m.queue_id = NULL;
		m.from = "news@example.com";
		m.rcpt = rcpt;
		m.nrcpt = 1;
		m.links = links;
		m.nlinks = j->per;
		m.pixel = 1;
		if (store_put_message(j->st, &m) == -1)
			goto fail;
		j->mseq[i] = seq;
		j->lfirst[i] = first;
	}
	goto out;
fail:
	j->failed = 1;
out:
	if (urls)
		for (k = 0; k < j->per; k++)
			free(urls[k]);
	free(urls);
	free(links);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct config		 cfg;
	struct store_opts	 o;
	struct job		 j;
	pthread_t		 t[THREADS];
	FILE			*lf, *mf;
	char			 err[512], id[ID_LEN + 1];
	uint64_t		 nlinks, i, k;
	struct timespec		 t0, t1;
	int			 n;

	if (argc != 6) {
		fprintf(stderr, "usage: mkstore CONF NLINKS LINKS_PER_MSG "
		    "LINK_IDS MSG_IDS\n");
		return 2;
	}
	if (config_load(&cfg, argv[1], err, sizeof(err)) == -1) {
		fprintf(stderr, "mkstore: %s\n", err);
		return 1;
	}
	store_opts_config(&o, &cfg);
	memset(&j, 0, sizeof(j));
	if ((j.st = store_open(cfg.db_path, &o, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mkstore: %s: %s\n", cfg.db_path, err);
		return 1;
	}
	nlinks = strtoull(argv[2], NULL, 10);
	j.per = strtoull(argv[3], NULL, 10);
	if (j.per == 0 || nlinks < j.per) {
		fprintf(stderr, "mkstore: bad counts\n");
		return 2;
	}
	j.nmsgs = nlinks / j.per;
	j.mseq = calloc(j.nmsgs, sizeof(uint64_t));
	j.lfirst = calloc(j.nmsgs, sizeof(uint64_t));
	if (j.mseq == NULL || j.lfirst == NULL)
		return 1;
	pthread_mutex_init(&j.lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < THREADS; n++)
		pthread_create(&t[n], NULL, filler, &j);
	for (n = 0; n < THREADS; n++)
		pthread_join(t[n], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (j.failed) {
		fprintf(stderr, "mkstore: a store write failed\n");
		return 1;
	}
	if ((lf = fopen(argv[4], "w")) == NULL ||
	    (mf = fopen(argv[5], "w")) == NULL) {
		perror("mkstore");
		return 1;
	}
	for (i = 0; i < j.nmsgs; i++) {
		id_encode(store_key(j.st), ID_MSG, j.mseq[i], id);
		fprintf(mf, "%s\n", id);
		for (k = 0; k < j.per; k++) {
			id_encode(store_key(j.st), ID_LINK, j.lfirst[i] + k, id);
			fprintf(lf, "%s\n", id);
		}
	}
	if (fclose(lf) != 0 || fclose(mf) != 0) {
		perror("mkstore");
		return 1;
	}
	printf("links=%" PRIu64 " messages=%" PRIu64 " seconds=%.2f\n",
	    j.nmsgs * j.per, j.nmsgs, (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	store_close(j.st);
	config_free(&cfg);
	return 0;
}
