/* test_journal - the event journal: appends from threads, segments, replay,
 * damage, backpressure, and folding into LMDB exactly once across SIGKILLs */
#include "unit.h"
#include "unit.inc"

#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>

#include <lmdb.h>

#include "journal.h"

#define SEG	(64 * 1024)	/* small segments: many boundaries crossed */

static char *dir;
static char jdir[4096];

static int
setup(void **state)
{
	(void)state;
	dir = unit_tmpdir();
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unit_rmrf(dir);
	free(dir);
	return 0;
}

static struct journal *
jopen(uint64_t folded, uint64_t max_pending)
{
	struct journal_opts	o = { max_pending, SEG, NULL, NULL };
	char			err[256];
	struct journal		*j = journal_open(jdir, folded, &o, err, sizeof(err));

	if (j == NULL)
		fail_msg("journal_open: %s", err);
	return j;
}

/* a record: thread, sequence, then a pattern of a length that varies */
struct rec {
	uint32_t	thread, seq;
	char		fill[600];
};

static size_t
rec_make(struct rec *r, uint32_t thread, uint32_t seq)
{
	size_t n = 1 + (seq * 37 + thread * 11) % sizeof(r->fill), i;

	r->thread = thread;
	r->seq = seq;
	for (i = 0; i < n; i++)
		r->fill[i] = (char)('a' + (seq + i) % 26);
	return offsetof(struct rec, fill) + n;
}

static int
rec_ok(const void *p, size_t len, uint32_t *thread, uint32_t *seq)
{
	struct rec	want;
	struct rec	got;

	if (len < offsetof(struct rec, fill) || len > sizeof(got))
		return 0;
	memcpy(&got, p, len);
	*thread = got.thread;
	*seq = got.seq;
	return rec_make(&want, got.thread, got.seq) == len &&
	    memcmp(&want, &got, len) == 0;
}

static size_t
segments(void)
{
	DIR		*d = opendir(jdir);
	struct dirent	*de;
	size_t		 n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".jnl") != NULL;
	closedir(d);
	return n;
}

#define THREADS	4
#define PER	3000

struct app {
	struct journal	*j;
	uint32_t	 thread, n;
	int		 failed;
};

static void *
appender(void *arg)
{
	struct app	*a = arg;
	struct rec	 r;
	uint32_t	 i;

	for (i = 0; i < a->n; i++) {
		size_t len = rec_make(&r, a->thread, i);

		if (journal_append(a->j, &r, len) != 0)
			a->failed++;
	}
	return NULL;
}

/* drain - read every record there is: count per thread, order kept */
static void
drain(struct journal *j, uint32_t *next, uint64_t *pos, int fold)
{
	const void	*p;
	size_t		 len;
	uint64_t	 end;
	uint32_t	 t, s;

	while (journal_read(j, &p, &len, &end) == 0) {
		assert_true(rec_ok(p, len, &t, &s));
		assert_true(t < THREADS);
		assert_int_equal(s, next[t]);	/* each thread's order, none twice */
		next[t]++;
		*pos = end;
		if (fold)
			assert_int_equal(journal_folded(j, end), 0);
	}
}

static void
test_threads_and_segments(void **state)
{
	struct journal		*j;
	struct app		 a[THREADS];
	pthread_t		 th[THREADS];
	uint32_t		 next[THREADS] = { 0 };
	struct journal_stats	 st;
	uint64_t		 pos = 0;
	int			 i, done;

	(void)state;
	j = jopen(0, 64 << 20);
	for (i = 0; i < THREADS; i++) {
		a[i].j = j;
		a[i].thread = (uint32_t)i;
		a[i].n = PER;
		a[i].failed = 0;
		assert_int_equal(pthread_create(&th[i], NULL, appender, &a[i]), 0);
	}
	/* read while they append: records appear in each thread's order */
	do {
		drain(j, next, &pos, 1);
		assert_int_equal(journal_prepare(j), 0);
		for (done = 0, i = 0; i < THREADS; i++)
			done += next[i] == PER;
		if (done < THREADS)
			sched_yield();
	} while (done < THREADS);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].failed, 0);
	}
	assert_int_equal(journal_read(j, &(const void *){ NULL }, &(size_t){ 0 },
	    &(uint64_t){ 0 }), 1);
	journal_stats(j, &st);
	assert_int_equal(st.appends, THREADS * PER);
	assert_true(st.tail > 20 * SEG);	/* many segment boundaries */
	assert_int_equal(st.folded, pos);
	/* folded segments are gone: the current one and the next remain */
	assert_true(segments() <= 2);
	assert_int_equal(journal_sync(j), 0);
	journal_close(j);
	/* everything folded: a clean close leaves no segment */
	assert_int_equal(segments(), 0);
}

static void
test_replay_from_position(void **state)
{
	struct journal	*j;
	struct rec	 r;
	const void	*p;
	size_t		 len;
	uint64_t	 end, mid = 0;
	uint32_t	 i, t, s;

	(void)state;
	j = jopen(0, 64 << 20);
	for (i = 0; i < 1000; i++)
		assert_int_equal(journal_append(j, &r, rec_make(&r, 0, i)), 0);
	/* the reader folds 400, then the process goes */
	for (i = 0; i < 400; i++)
		assert_int_equal(journal_read(j, &p, &len, &mid), 0);
	assert_int_equal(journal_folded(j, mid), 0);
	journal_close(j);
	assert_true(segments() > 1);

	/* a new process starts at the stored position: 400 .. 999, once */
	j = jopen(mid, 64 << 20);
	for (i = 400; i < 1000; i++) {
		assert_int_equal(journal_read(j, &p, &len, &end), 0);
		assert_true(rec_ok(p, len, &t, &s));
		assert_int_equal(s, i);
	}
	assert_int_equal(journal_read(j, &p, &len, &end), 1);
	/* new appends follow the replayed ones */
	assert_int_equal(journal_append(j, &r, rec_make(&r, 1, 7)), 0);
	assert_int_equal(journal_read(j, &p, &len, &end), 0);
	assert_true(rec_ok(p, len, &t, &s));
	assert_int_equal(t, 1);
	assert_int_equal(s, 7);
	assert_int_equal(journal_folded(j, end), 0);
	journal_close(j);
	assert_int_equal(segments(), 0);
}

/* the first segment file, its path in out */
static void
first_segment(char *out, size_t outsz)
{
	DIR		*d = opendir(jdir);
	struct dirent	*de;
	char		 best[64] = "";

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".jnl") &&
		    (!best[0] || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof(best), "%.60s", de->d_name);
	closedir(d);
	assert_true(best[0] != '\0');
	snprintf(out, outsz, "%s/%s", jdir, best);
}

/* poke - overwrite bytes of a file */
static void
poke(const char *path, off_t at, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, n, at), (ssize_t)n);
	close(fd);
}

static void
test_damage_and_holes(void **state)
{
	struct journal		*j;
	struct journal_stats	 st;
	struct rec		 r;
	const void		*p;
	size_t			 len;
	uint64_t		 end, pos3 = 0, pos5 = 0, pos6 = 0;
	uint32_t		 i, t, s, seen[10] = { 0 };
	char			 path[4200], zero[700] = { 0 };

	(void)state;
	j = jopen(0, 64 << 20);
	for (i = 0; i < 10; i++)
		assert_int_equal(journal_append(j, &r, rec_make(&r, 0, i)), 0);
	/* where records 3 and 5 start */
	for (i = 0; i < 10; i++) {
		assert_int_equal(journal_read(j, &p, &len, &end), 0);
		if (i == 2)
			pos3 = end;
		if (i == 4)
			pos5 = end;
		if (i == 5)
			pos6 = end;
	}
	journal_close(j);
	first_segment(path, sizeof(path));
	/* 3: a power loss tore its payload; 5: a reservation never written */
	poke(path, (off_t)(pos3 % SEG) + 20, "XY", 2);
	poke(path, (off_t)(pos5 % SEG), zero, (size_t)(pos6 - pos5));

	j = jopen(0, 64 << 20);
	while (journal_read(j, &p, &len, &end) == 0) {
		assert_true(rec_ok(p, len, &t, &s));
		seen[s]++;
	}
	for (i = 0; i < 10; i++)
		assert_int_equal(seen[i], i == 3 || i == 5 ? 0 : 1);
	journal_stats(j, &st);
	assert_true(st.skipped > 0);	/* the damage is counted */
	assert_int_equal(journal_folded(j, journal_read_pos(j)), 0);
	journal_close(j);
}

struct bp {
	struct journal	*j;
	int		 n, done;
};

static void *
bp_appender(void *arg)
{
	struct bp	*b = arg;
	struct rec	 r;
	int		 i;

	for (i = 0; i < b->n; i++)
		assert_int_equal(journal_append(b->j, &r,
		    rec_make(&r, 0, (uint32_t)i)), 0);
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_backpressure(void **state)
{
	struct journal		*j;
	struct journal_stats	 st;
	struct bp		 b;
	pthread_t		 th;
	const void		*p;
	size_t			 len;
	uint64_t		 end;
	int			 i, n = 0;

	(void)state;
	/* a bound of 4 segments; the appender writes ten times that */
	j = jopen(0, 4 * SEG);
	b.j = j;
	b.n = 40 * SEG / 350;
	b.done = 0;
	assert_int_equal(pthread_create(&th, NULL, bp_appender, &b), 0);
	/* nothing is folded: the appender must stop at the bound */
	for (i = 0; i < 100000; i++) {
		journal_stats(j, &st);
		if (st.backpressure)
			break;
		usleep(100);
	}
	assert_int_equal(st.backpressure, 1);
	assert_int_equal(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE), 0);
	assert_true(st.tail - st.folded <= 5 * SEG);
	/* folding lets it go on, to the end */
	while (n < b.n) {
		if (journal_read(j, &p, &len, &end) == 0) {
			n++;
			assert_int_equal(journal_folded(j, end), 0);
		} else
			sched_yield();
	}
	pthread_join(th, NULL);
	assert_int_equal(journal_read(j, &p, &len, &end), 1);
	assert_int_equal(n, b.n);
	journal_stats(j, &st);
	assert_true(st.waits > 0);
	assert_int_equal(st.backpressure, 0);
	journal_close(j);
}

/*
 * Crash at any point: a child appends from two threads and folds records
 * into LMDB ("r:ID" counts how often each was applied), storing the journal
 * position in the same transaction. It dies by SIGKILL at a point that
 * changes every round: while appending, between applying and committing,
 * between the commit and journal_folded, after it. Each round's child first
 * replays what the last left. Every record whose append returned (its ID
 * went down the pipe before the kill) must be applied exactly once.
 */
#define ROUNDS		12
#define CHILD_THREADS	2
#define CHILD_PER	6000
#define BATCH		150

struct child {
	struct journal	*j;
	int		 pipe, round, thread;
};

static int finished;	/* appender threads of the child done */

static void *
child_appender(void *arg)
{
	struct child	*c = arg;
	struct rec	 r;
	uint32_t	 i, id;

	for (i = 0; i < CHILD_PER; i++) {
		id = (uint32_t)(c->round * 100000 + c->thread * 10000) + i;
		if (journal_append(c->j, &r, rec_make(&r, id, i)) != 0)
			_exit(3);
		if (write(c->pipe, &id, sizeof(id)) != sizeof(id))
			_exit(4);
	}
	__atomic_add_fetch(&finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int
db_open(MDB_env **env, MDB_dbi *dbi, MDB_txn **txn)
{
	char	path[4200];

	snprintf(path, sizeof(path), "%s/db", dir);
	mkdir(path, 0700);
	if (mdb_env_create(env) || mdb_env_set_mapsize(*env, 256 << 20) ||
	    mdb_env_open(*env, path, 0, 0600) ||
	    mdb_txn_begin(*env, NULL, 0, txn) ||
	    mdb_dbi_open(*txn, NULL, 0, dbi))
		return -1;
	return 0;
}

static uint64_t
db_pos(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_val	k = { 3, (void *)"pos" }, v;
	uint64_t pos = 0;

	if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == sizeof(pos))
		memcpy(&pos, v.mv_data, sizeof(pos));
	return pos;
}

/* fold_batch - apply up to BATCH records and the position in one txn */
static int
fold_batch(struct journal *j, MDB_env *env, MDB_dbi dbi, int kill_at,
    int *nbatch)
{
	MDB_txn		*txn;
	const void	*p;
	size_t		 len;
	uint64_t	 end = 0, start;
	uint32_t	 id, seq, cnt;
	int		 n = 0;
	char		 key[16];

	if (mdb_txn_begin(env, NULL, 0, &txn))
		_exit(5);
	start = journal_read_pos(j);
	while (n < BATCH && journal_read(j, &p, &len, &end) == 0) {
		MDB_val k, v;

		if (!rec_ok(p, len, &id, &seq))
			_exit(6);
		snprintf(key, sizeof(key), "r:%08" PRIu32, id);
		k.mv_data = key;
		k.mv_size = strlen(key);
		cnt = 0;
		if (mdb_get(txn, dbi, &k, &v) == 0)
			memcpy(&cnt, v.mv_data, sizeof(cnt));
		cnt++;
		v.mv_data = &cnt;
		v.mv_size = sizeof(cnt);
		if (mdb_put(txn, dbi, &k, &v, 0))
			_exit(7);
		n++;
	}
	/* the position also moves over pads and holes: it is stored too */
	end = journal_read_pos(j);
	if (end == start) {
		mdb_txn_abort(txn);
		return 0;
	}
	{
		MDB_val k = { 3, (void *)"pos" }, v = { sizeof(end), &end };

		if (mdb_put(txn, dbi, &k, &v, 0))
			_exit(8);
	}
	++*nbatch;
	if (kill_at == 1 && *nbatch == 7)
		raise(SIGKILL);
	if (mdb_txn_commit(txn))
		_exit(9);
	if (kill_at == 2 && *nbatch == 7)
		raise(SIGKILL);
	journal_folded(j, end);
	if (kill_at == 3 && *nbatch == 7)
		raise(SIGKILL);
	return n;
}

static void
child_main(int round, int pfd)
{
	struct journal_opts	 o = { 1 << 20, SEG, NULL, NULL };
	struct child		 c[CHILD_THREADS];
	pthread_t		 th[CHILD_THREADS];
	MDB_env			*env;
	MDB_txn			*txn;
	MDB_dbi			 dbi;
	struct journal		*j;
	char			 err[256];
	int			 i, nbatch = 0, kill_at = round % 4;

	if (db_open(&env, &dbi, &txn))
		_exit(1);
	if ((j = journal_open(jdir, db_pos(txn, dbi), &o, err,
	    sizeof(err))) == NULL)
		_exit(2);
	mdb_txn_abort(txn);
	/* what the last child left first */
	while (fold_batch(j, env, dbi, -1, &nbatch) > 0)
		;
	nbatch = 0;
	for (i = 0; i < CHILD_THREADS; i++) {
		c[i].j = j;
		c[i].pipe = pfd;
		c[i].round = round;
		c[i].thread = i;
		if (pthread_create(&th[i], NULL, child_appender, &c[i]))
			_exit(10);
	}
	while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < CHILD_THREADS) {
		if (fold_batch(j, env, dbi, kill_at, &nbatch) == 0)
			sched_yield();
		journal_prepare(j);
		journal_sync(j);
		if (kill_at == 0 && nbatch > 40)
			raise(SIGKILL);	/* while the appenders run */
	}
	for (i = 0; i < CHILD_THREADS; i++)
		pthread_join(th[i], NULL);
	while (fold_batch(j, env, dbi, -1, &nbatch) > 0)
		;
	journal_close(j);
	mdb_env_close(env);
	_exit(0);
}

static void
test_crash_exactly_once(void **state)
{
	static uint8_t	 sent[ROUNDS * 100000];
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_cursor	*cur;
	MDB_val		 k, v;
	uint32_t	 id, cnt;
	size_t		 nsent = 0, napplied = 0, extra = 0, i;
	int		 round, killed = 0, rc;

	(void)state;
	memset(sent, 0, sizeof(sent));
	for (round = 0; round < ROUNDS; round++) {
		int	pfd[2], st;
		pid_t	pid;

		assert_int_equal(pipe(pfd), 0);
		if ((pid = fork()) == 0) {
			close(pfd[0]);
			child_main(round, pfd[1]);
		}
		assert_true(pid > 0);
		close(pfd[1]);
		while (read(pfd[0], &id, sizeof(id)) == sizeof(id)) {
			assert_true(id < sizeof(sent));
			sent[id] = 1;
			nsent++;
		}
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (WIFSIGNALED(st))
			killed++;
		else
			assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_true(killed >= ROUNDS / 2);	/* the kill points were reached */

	/* the last replay, in this process */
	{
		struct journal	*j;
		int		 nb = 0;

		assert_int_equal(db_open(&env, &dbi, &txn), 0);
		j = jopen(db_pos(txn, dbi), 1 << 20);
		mdb_txn_abort(txn);
		while (fold_batch(j, env, dbi, -1, &nb) > 0)
			;
		journal_close(j);
	}
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char key[16];

		if (k.mv_size != 10 || memcmp(k.mv_data, "r:", 2) != 0)
			continue;
		memcpy(key, k.mv_data, 10);
		key[10] = '\0';
		id = (uint32_t)strtoul(key + 2, NULL, 10);
		memcpy(&cnt, v.mv_data, sizeof(cnt));
		assert_int_equal(cnt, 1);	/* never twice */
		if (sent[id])
			sent[id] = 2;
		else
			extra++;	/* appended, killed before it was told */
		napplied++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	for (i = 0; i < sizeof(sent); i++)
		if (sent[i] == 1)
			fail_msg("record %zu was appended but never applied", i);
	assert_true(napplied >= nsent);
	assert_true(extra <= (size_t)ROUNDS * CHILD_THREADS);
	assert_int_equal(segments() <= 2, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_threads_and_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_from_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_and_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_exactly_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
