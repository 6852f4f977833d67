/*
 * writer_bench - durable event writes per second of the store's writer
 * thread alone, and of bare LMDB as the baseline.
 *
 *   writer_bench store DBDIR N [BATCH_MS BATCH_MAX]
 *       records 1,000 messages of 100 links first (not timed), then
 *       (WB_MSGS=N in the environment: N messages instead)
 *       N x store_put_event (clicks and opens on those, at random, as the
 *       tracker records them: appended to the event journal, folded by
 *       the writer), then store_flush; the clock runs from the first put
 *       to the end of the flush, so every event counted is committed
 *       (durable): the rate the fold sustains. append_rate: the puts alone.
 *   writer_bench lmdb DBDIR N [BATCH_MAX]
 *       the floor: the same number of records (keys of the same shape,
 *       a pre-rendered JSON value of the same size) appended with
 *       MDB_APPEND in durable transactions of BATCH_MAX records.
 *
 * Prints "events=N seconds=S rate=R commits=C ...".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "store.h"

static const char ua[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define LINKS_PER_MSG	100

static int	nmsgs = 1000;	/* messages of LINKS_PER_MSG links */

/* the messages and links the events refer to */
static int
fill(struct store *st, uint64_t *mseq, uint64_t *lfirst)
{
	static struct store_link links[LINKS_PER_MSG];
	static char		 urls[LINKS_PER_MSG][96];
	const char		*rcpt[1] = { "reader@example.net" };
	char			 mid[64];
	struct store_msg	 m;
	int			 i, k;

	for (i = 0; i < nmsgs; i++) {
		if (store_reserve(st, ID_MSG, 1, &mseq[i]) == -1 ||
		    store_reserve(st, ID_LINK, LINKS_PER_MSG, &lfirst[i]) == -1)
			return -1;
		for (k = 0; k < LINKS_PER_MSG; k++) {
			snprintf(urls[k], sizeof(urls[k]), "https://www.example."
			    "com/articles/%d?utm_source=newsletter&utm_campaign=%d",
			    k, i);
			links[k].seq = lfirst[i] + (uint64_t)k;
			links[k].url = urls[k];
		}
		snprintf(mid, sizeof(mid), "<writer.%d@example.com>", i);
		memset(&m, 0, sizeof(m));
		m.seq = mseq[i];
		m.time_us = wall_us() - 3600 * (int64_t)1000000;
		m.message_id = mid;
		m.from = "news@example.com";
		m.rcpt = rcpt;
		m.nrcpt = 1;
		m.links = links;
		m.nlinks = LINKS_PER_MSG;
		m.pixel = 1;
		if (store_put_message(st, &m) == -1)
			return -1;
	}
	return 0;
}

static int
bench_store(const char *dir, uint64_t n, int batch_ms, int batch_max)
{
	struct store_opts	 o;
	struct store		*st;
	struct store_event	 ev;
	struct store_wstats	 ws, ws0;
	uint64_t		*mseq, *lfirst;
	char			 err[256], ip[32];
	uint64_t		 i, r, refused = 0;
	double			 t0, t1, ta;

	memset(&o, 0, sizeof(o));
	o.map_size = (size_t)4 << 30;
	o.batch_ms = batch_ms;
	o.batch_max = batch_max;
	/* the tracker's path: events through the journal, folded by the writer */
	if ((st = store_open(dir, &o, STORE_EVENTS, err, sizeof(err))) == NULL) {
		fprintf(stderr, "writer_bench: %s: %s\n", dir, err);
		return 1;
	}
	mseq = calloc((size_t)nmsgs, sizeof(*mseq));
	lfirst = calloc((size_t)nmsgs, sizeof(*lfirst));
	if (mseq == NULL || lfirst == NULL || fill(st, mseq, lfirst) == -1) {
		fprintf(stderr, "writer_bench: cannot record the messages\n");
		return 1;
	}
	store_writer_stats(st, &ws0);
	memset(&ev, 0, sizeof(ev));
	ev.ua = ua;
	ev.method = "GET";
	ev.host = "track.example.com";
	ev.ip = ip;
	r = 88172645463325252ULL;
	t0 = now();
	for (i = 0; i < n; i++) {
		uint64_t m, k;

		r ^= r << 13;	/* xorshift64: a message and a link at random */
		r ^= r >> 7;
		r ^= r << 17;
		m = r % (uint64_t)nmsgs;
		k = (r >> 20) % LINKS_PER_MSG;
		ev.type = i % 4 ? STORE_EV_CLICK : STORE_EV_OPEN;
		ev.time_us = wall_us();
		ev.msg = mseq[m];
		ev.seq = ev.type == STORE_EV_CLICK ? lfirst[m] + k : mseq[m];
		snprintf(ip, sizeof(ip), "198.51.%u.%u", (unsigned)(r >> 40) & 255,
		    (unsigned)(r >> 48) & 255);
		if (store_put_event(st, &ev) == -1)
			refused++;
	}
	ta = now();
	store_flush(st);
	t1 = now();
	store_writer_stats(st, &ws);
	printf("events=%" PRIu64 " seconds=%.4f rate=%.0f commits=%" PRIu64
	    " refused=%" PRIu64 " commit_ms_max=%.2f append_rate=%.0f\n",
	    n - refused, t1 - t0, (double)(n - refused) / (t1 - t0),
	    ws.commits - ws0.commits, refused,
	    (double)ws.commit_us_max / 1000.0, (double)n / (ta - t0));
	store_close(st);
	free(mseq);
	free(lfirst);
	return refused ? 1 : 0;
}

static int
bench_lmdb(const char *dir, uint64_t n, uint64_t batch_max)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 k, v;
	char		 key[24], val[512];
	uint64_t	 i = 0, commits = 0;
	double		 t0, t1;
	int		 rc;

	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)4 << 30)) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0640))) {
		fprintf(stderr, "writer_bench: %s\n", mdb_strerror(rc));
		return 1;
	}
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &dbi)) ||
	    (rc = mdb_txn_commit(txn))) {
		fprintf(stderr, "writer_bench: %s\n", mdb_strerror(rc));
		return 1;
	}
	t0 = now();
	while (i < n) {
		uint64_t end = i + batch_max < n ? i + batch_max : n;

		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
			break;
		for (; i < end; i++) {
			int64_t t = wall_us();

			snprintf(key, sizeof(key), "%016" PRIx64 "%04x",
			    (uint64_t)t, (unsigned)(i & 0xffff));
			v.mv_size = (size_t)snprintf(val, sizeof(val),
			    "{\"time\":%" PRId64 ",\"type\":\"click\",\"link\":"
			    "\"%016" PRIx64 "\",\"msg\":\"%016" PRIx64 "\",\"ip\":"
			    "\"198.51.%u.%u\",\"ua\":\"%s\",\"method\":\"GET\","
			    "\"host\":\"track.example.com\",\"class\":null,"
			    "\"reason\":null}", t, 1 + i % 1000000, 1 + i % 10000,
			    (unsigned)(i >> 8) & 255, (unsigned)i & 255, ua);
			v.mv_data = val;
			k.mv_data = key;
			k.mv_size = 20;
			rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
			if (rc == MDB_KEYEXIST)
				rc = mdb_put(txn, dbi, &k, &v, 0);
			if (rc != 0)
				break;
		}
		if (rc != 0 || (rc = mdb_txn_commit(txn)) != 0)
			break;
		commits++;
	}
	t1 = now();
	if (rc != 0) {
		fprintf(stderr, "writer_bench: %s\n", mdb_strerror(rc));
		return 1;
	}
	printf("events=%" PRIu64 " seconds=%.4f rate=%.0f commits=%" PRIu64 "\n",
	    n, t1 - t0, (double)n / (t1 - t0), commits);
	mdb_env_close(env);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t n;

	if (argc < 4) {
		fprintf(stderr, "usage: writer_bench store|lmdb DBDIR N "
		    "[BATCH_MS] [BATCH_MAX]\n");
		return 2;
	}
	n = strtoull(argv[3], NULL, 10);
	if (getenv("WB_MSGS") != NULL && atoi(getenv("WB_MSGS")) > 0)
		nmsgs = atoi(getenv("WB_MSGS"));
	if (strcmp(argv[1], "store") == 0)
		return bench_store(argv[2], n, argc > 4 ? atoi(argv[4]) : 10,
		    argc > 5 ? atoi(argv[5]) : 4096);
	if (strcmp(argv[1], "lmdb") == 0)
		return bench_lmdb(argv[2], n, argc > 4 ?
		    strtoull(argv[4], NULL, 10) : 4096);
	fprintf(stderr, "writer_bench: unknown mode %s\n", argv[1]);
	return 2;
}
