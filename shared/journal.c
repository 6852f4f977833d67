/*
 * journal - append-only record journal in shared file mappings (see
 * journal.h).
 *
 * Layout: a record is an 8-byte header { uint32 len, uint32 check } and
 * len bytes, padded to a multiple of 8. check is the low 32 bits of
 * XXH3(payload, seed = the record's position). A header with len 0 is not
 * written yet; JPAD in len marks a pad: a reservation that did not fit in
 * its segment, whose rest (in the next segment) is skipped. The appender stores len last, with release order: a
 * reader that sees it sees the payload.
 *
 * Live segments sit in a ring of nring slots, segment k in slot k % nring;
 * a slot is reused only when its segment is folded, and backpressure keeps
 * the reservations within the ring. Segments found at open ("old") are
 * replayed first, from their own mappings; the live ones start after them.
 * A hole in an old segment (a reservation its appender did not fill before
 * the process died, or a record torn by a power loss) is skipped by
 * looking for the next valid header. In the live zone a zero header means
 * "not yet": an appender that failed after reserving records its hole.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "journal.h"
#include "log.h"

#define JHDR		8
#define JPAD		0x80000000u
#define JREC_MAX	(1u << 20)	/* longest record, whatever the segment size */
#define ALIGN8(n)	(((uint64_t)(n) + 7) & ~(uint64_t)7)
#define ATOMIC_GET(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMIC_SET(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

struct jhdr {
	uint32_t	len;	/* written last (release) */
	uint32_t	check;
};

/* a live segment: slot k % nring holds segment k while idx == k + 1 */
struct jseg {
	uint64_t	 idx;	/* 0: free */
	char		*base;
	int		 fd;
};

/* a segment found at open: replayed, then removed once folded */
struct jold {
	uint64_t	 start, size;
	char		*base;
	int		 fd;
};

struct jhole {
	uint64_t	pos, len;
};

struct journal {
	char		*dir;
	uint64_t	 seg, maxrec, max_pending;
	void		(*notify)(void *);
	void		*notify_arg;

	/* shared by appenders (atomics) */
	uint64_t	 tail;		/* next reservation */
	uint64_t	 folded;
	uint64_t	 appends, waits;
	int		 idle;		/* the reader sleeps: notify */
	size_t		 nholes;

	pthread_mutex_t	 lock;		/* segment creation, holes, room */
	pthread_cond_t	 room;
	int		 closing;
	int		 bp;		/* backpressure on */
	struct jhole	*holes;
	size_t		 capholes;
	int		 newfile;	/* a segment file created since the last sync */

	struct jseg	*ring;
	size_t		 nring;
	uint64_t	 live0;		/* the first live position */

	/* the reader's */
	uint64_t	 rpos;
	struct jold	*old;
	size_t		 nold, oldi;
	uint64_t	 free_k;	/* lowest live segment not removed */
	uint64_t	 synced;
	uint64_t	 skipped;
};

static uint32_t
jcheck(const void *p, size_t len, uint64_t pos)
{
	return (uint32_t)XXH3_64bits_withSeed(p, len, pos);
}

static void
seg_path(const struct journal *j, uint64_t start, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%016" PRIx64 ".jnl", j->dir, start);
}

/* seg_create - map a new live segment k into its slot; with j->lock held */
static int
seg_create(struct journal *j, struct jseg *s, uint64_t k)
{
	char	 path[4096];
	void	*base;
	int	 fd, rc;

	seg_path(j, k * j->seg, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) == -1)
		return -1;
	/* blocks now: a full disk fails here, not as SIGBUS in a store */
	if ((rc = posix_fallocate(fd, 0, (off_t)j->seg)) != 0) {
		close(fd);
		unlink(path);
		errno = rc;
		return -1;
	}
	base = mmap(NULL, j->seg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		rc = errno;
		close(fd);
		unlink(path);
		errno = rc;
		return -1;
	}
	s->base = base;
	s->fd = fd;
	j->newfile = 1;
	ATOMIC_SET(&s->idx, k + 1);
	return 0;
}

/*
 * seg_get - the mapping of live segment k, created when missing; waits
 * while its slot still holds an older segment. NULL on error.
 */
static char *
seg_get(struct journal *j, uint64_t k)
{
	struct jseg	*s = &j->ring[k % j->nring];
	char		*base = NULL;

	if (ATOMIC_GET(&s->idx) == k + 1)
		return s->base;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		uint64_t idx = ATOMIC_GET(&s->idx);

		if (idx == k + 1) {
			base = s->base;
			break;
		}
		if (j->closing) {
			errno = ESHUTDOWN;
			break;
		}
		if (idx == 0) {
			if (seg_create(j, s, k) == 0)
				base = s->base;
			break;
		}
		if (idx > k + 1) {	/* long folded: a reader's mistake */
			errno = EINVAL;
			break;
		}
		pthread_cond_wait(&j->room, &j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return base;
}

/* hole_add - an appender reserved [pos, pos + len) and could not fill it */
static void
hole_add(struct journal *j, uint64_t pos, uint64_t len)
{
	pthread_mutex_lock(&j->lock);
	if (j->nholes == j->capholes) {
		size_t		 cap = j->capholes ? j->capholes * 2 : 16;
		struct jhole	*h = realloc(j->holes, cap * sizeof(*h));

		if (h == NULL) {
			/* the reader would wait for it forever: say so */
			log_warnx("journal op=hole pos=%" PRIu64 " error=\"out of"
			    " memory: the fold stops here\"", pos);
			pthread_mutex_unlock(&j->lock);
			return;
		}
		j->holes = h;
		j->capholes = cap;
	}
	j->holes[j->nholes].pos = pos;
	j->holes[j->nholes].len = len;
	ATOMIC_SET(&j->nholes, j->nholes + 1);
	pthread_mutex_unlock(&j->lock);
}

/* hole_take - the length of a recorded hole at pos (removed), or 0 */
static uint64_t
hole_take(struct journal *j, uint64_t pos)
{
	uint64_t	len = 0;
	size_t		i;

	if (ATOMIC_GET(&j->nholes) == 0)
		return 0;
	pthread_mutex_lock(&j->lock);
	for (i = 0; i < j->nholes; i++)
		if (j->holes[i].pos == pos) {
			len = j->holes[i].len;
			j->holes[i] = j->holes[j->nholes - 1];
			ATOMIC_SET(&j->nholes, j->nholes - 1);
			break;
		}
	pthread_mutex_unlock(&j->lock);
	return len;
}

static void
wake_reader(struct journal *j)
{
	if (ATOMIC_GET(&j->idle) &&
	    __atomic_exchange_n(&j->idle, 0, __ATOMIC_ACQ_REL) && j->notify)
		j->notify(j->notify_arg);
}

/* room_wait - backpressure: wait while the journal is over its bound */
static int
room_wait(struct journal *j)
{
	uint64_t	pending;
	int		rc = 0;

	pthread_mutex_lock(&j->lock);
	pending = ATOMIC_GET(&j->tail) - ATOMIC_GET(&j->folded);
	if (!j->bp && pending > j->max_pending) {
		j->bp = 1;
		log_warnx("journal backpressure=on pending=%" PRIu64 " max=%"
		    PRIu64 ": requests wait for the fold", pending,
		    j->max_pending);
	}
	if (j->bp)
		__atomic_add_fetch(&j->waits, 1, __ATOMIC_RELAXED);
	while (j->bp && !j->closing) {
		wake_reader(j);
		pthread_cond_wait(&j->room, &j->lock);
	}
	if (j->closing) {
		errno = ESHUTDOWN;
		rc = -1;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

int
journal_append(struct journal *j, const void *rec, size_t len)
{
	uint64_t	 need = JHDR + ALIGN8(len), pos, k, off;
	struct jhdr	*h;
	char		*base;

	if (len == 0 || len > j->maxrec) {
		errno = EINVAL;
		return -1;
	}
	if (ATOMIC_GET(&j->tail) - ATOMIC_GET(&j->folded) > j->max_pending &&
	    room_wait(j) == -1)
		return -1;
	for (;;) {
		pos = __atomic_fetch_add(&j->tail, need, __ATOMIC_SEQ_CST);
		k = pos / j->seg;
		off = pos % j->seg;
		if ((base = seg_get(j, k)) == NULL) {
			int e = errno;

			hole_add(j, pos, off + need > j->seg ? j->seg - off : need);
			wake_reader(j);
			if (e != ESHUTDOWN)
				log_warnx("journal op=segment pos=%" PRIu64
				    " error=\"%s\"", pos, strerror(e));
			errno = e;
			return -1;
		}
		h = (struct jhdr *)(base + off);
		if (off + need <= j->seg)
			break;
		/* does not fit: the whole reservation is a pad; take another */
		{
			uint32_t pad = (uint32_t)(need - JHDR);

			h->check = jcheck(&pad, sizeof(pad), pos);
			ATOMIC_SET(&h->len, JPAD | pad);
		}
	}
	h->check = jcheck(rec, len, pos);
	memcpy(h + 1, rec, len);
	ATOMIC_SET(&h->len, (uint32_t)len);
	__atomic_add_fetch(&j->appends, 1, __ATOMIC_RELAXED);
	wake_reader(j);
	return 0;
}

/* hdr_valid - whether a header at pos (off bytes into a mapping of size
 * bytes) frames a whole record; *skip: its size including the header */
static int
hdr_valid(const char *base, uint64_t off, uint64_t size, uint64_t pos,
    uint64_t *skip)
{
	const struct jhdr	*h = (const struct jhdr *)(base + off);
	uint32_t		 len = ATOMIC_GET(&h->len);

	if (len == 0 || size - off < JHDR)
		return 0;
	if (len & JPAD) {
		/* a pad reaches into the next segment: only its header is here */
		uint32_t pad = len & ~JPAD;

		*skip = JHDR + pad;
		return pad % 8 == 0 && pad <= JREC_MAX + 8 &&
		    h->check == jcheck(&pad, sizeof(pad), pos);
	}
	if (len > JREC_MAX || ALIGN8(len) > size - off - JHDR)
		return 0;
	*skip = JHDR + ALIGN8(len);
	return h->check == jcheck(h + 1, len, pos);
}

/*
 * old_read - the next record of the segments found at open; 1 when they
 * are done (the read position moves to the live zone)
 */
static int
old_read(struct journal *j, const void **rec, size_t *len, uint64_t *end)
{
	while (j->oldi < j->nold) {
		struct jold	*o = &j->old[j->oldi];
		uint64_t	 off, skip = 0, from;

		if (j->rpos >= o->start + o->size) {
			j->oldi++;
			continue;
		}
		if (j->rpos < o->start)
			j->rpos = o->start;
		off = j->rpos - o->start;
		if (o->base == NULL || off + JHDR > o->size) {
			j->rpos = o->start + o->size;
			j->oldi++;
			continue;
		}
		if (hdr_valid(o->base, off, o->size, j->rpos, &skip)) {
			const struct jhdr *h = (const struct jhdr *)(o->base + off);

			j->rpos += skip;
			if (h->len & JPAD)
				continue;
			*rec = h + 1;
			*len = h->len;
			*end = j->rpos;
			return 0;
		}
		/* a hole or damage: on to the next valid header */
		from = off;
		for (off += 8; off + JHDR <= o->size; off += 8)
			if (*(const uint32_t *)(o->base + off) != 0 &&
			    hdr_valid(o->base, off, o->size, o->start + off, &skip))
				break;
		if (*(const uint32_t *)(o->base + from) != 0) {
			ATOMIC_SET(&j->skipped, j->skipped + off - from);
			log_warnx("journal op=replay segment=%016" PRIx64
			    " offset=%" PRIu64 " skipped=%" PRIu64
			    " error=\"damaged record\"", o->start, from, off - from);
		}
		j->rpos = o->start + (off + JHDR <= o->size ? off : o->size);
	}
	j->rpos = j->live0;
	return 1;
}

int
journal_read(struct journal *j, const void **rec, size_t *len, uint64_t *end)
{
	for (;;) {
		uint64_t	 k, off, skip = 0, hole;
		struct jseg	*s;
		struct jhdr	*h;
		uint32_t	 n;

		if (j->rpos < j->live0 && old_read(j, rec, len, end) == 0)
			return 0;
		if (j->rpos >= ATOMIC_GET(&j->tail))
			return 1;
		k = j->rpos / j->seg;
		off = j->rpos % j->seg;
		s = &j->ring[k % j->nring];
		if (ATOMIC_GET(&s->idx) != k + 1) {
			/* being created, or an appender failed to */
			if ((hole = hole_take(j, j->rpos)) == 0)
				return 1;
			j->rpos += hole;
			continue;
		}
		h = (struct jhdr *)(s->base + off);
		if ((n = ATOMIC_GET(&h->len)) == 0) {
			if ((hole = hole_take(j, j->rpos)) == 0)
				return 1;	/* being written */
			j->rpos += hole;
			continue;
		}
		if (!hdr_valid(s->base, off, j->seg, j->rpos, &skip)) {
			/* cannot happen but by a bug or a stray write */
			log_warnx("journal op=read pos=%" PRIu64 " error=\"damaged"
			    " record: rest of segment skipped\"", j->rpos);
			ATOMIC_SET(&j->skipped, j->skipped + j->seg - off);
			j->rpos += j->seg - off;
			continue;
		}
		j->rpos += skip;
		if (n & JPAD)
			continue;
		*rec = h + 1;
		*len = n;
		*end = j->rpos;
		return 0;
	}
}

uint64_t
journal_read_pos(const struct journal *j)
{
	return j->rpos;
}

void
journal_rewind(struct journal *j, uint64_t pos)
{
	j->rpos = pos;
	j->oldi = 0;	/* old_read finds the segment again */
}

int
journal_idle(struct journal *j)
{
	uint64_t	 k, off;
	struct jseg	*s;

	__atomic_store_n(&j->idle, 1, __ATOMIC_SEQ_CST);
	if (j->rpos < j->live0 || ATOMIC_GET(&j->nholes) > 0)
		goto ready;
	if (j->rpos >= __atomic_load_n(&j->tail, __ATOMIC_SEQ_CST))
		return 0;
	k = j->rpos / j->seg;
	off = j->rpos % j->seg;
	s = &j->ring[k % j->nring];
	if (ATOMIC_GET(&s->idx) == k + 1 &&
	    ATOMIC_GET(&((struct jhdr *)(s->base + off))->len) != 0)
		goto ready;
	return 0;
ready:
	__atomic_store_n(&j->idle, 0, __ATOMIC_SEQ_CST);
	return 1;
}

/* seg_drop - unmap, close and remove a live segment's file */
static void
seg_drop(struct journal *j, struct jseg *s, uint64_t k, int unlink_it)
{
	char path[4096];

	munmap(s->base, j->seg);
	close(s->fd);
	if (unlink_it) {
		seg_path(j, k * j->seg, path, sizeof(path));
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("journal op=remove path=%s", path);
	}
	s->base = NULL;
	s->fd = -1;
	ATOMIC_SET(&s->idx, 0);
}

static void
old_drop(struct journal *j, struct jold *o, int unlink_it)
{
	char path[4096];

	if (o->base)
		munmap(o->base, o->size);
	if (o->fd != -1)
		close(o->fd);
	if (unlink_it) {
		seg_path(j, o->start, path, sizeof(path));
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("journal op=remove path=%s", path);
	}
	o->base = NULL;
	o->fd = -1;
	o->size = 0;
}

int
journal_folded(struct journal *j, uint64_t pos)
{
	uint64_t	pending;
	size_t		i;
	int		freed = 0;

	if (pos <= ATOMIC_GET(&j->folded))
		return 0;
	ATOMIC_SET(&j->folded, pos);
	for (i = 0; i < j->nold; i++)
		if (j->old[i].fd != -1 && j->old[i].start + j->old[i].size <= pos)
			old_drop(j, &j->old[i], 1);
	while ((j->free_k + 1) * j->seg <= pos) {
		struct jseg *s = &j->ring[j->free_k % j->nring];

		pthread_mutex_lock(&j->lock);
		if (ATOMIC_GET(&s->idx) == j->free_k + 1) {
			seg_drop(j, s, j->free_k, 1);
			freed = 1;
		}
		pthread_mutex_unlock(&j->lock);
		j->free_k++;
	}
	pthread_mutex_lock(&j->lock);
	pending = ATOMIC_GET(&j->tail) - pos;
	/* off again below three quarters of the bound: no flapping */
	if (j->bp && pending <= j->max_pending - j->max_pending / 4) {
		j->bp = 0;
		log_warnx("journal backpressure=off pending=%" PRIu64, pending);
		freed = 1;
	}
	if (freed)
		pthread_cond_broadcast(&j->room);
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int
journal_sync(struct journal *j)
{
	uint64_t	target = __atomic_load_n(&j->tail, __ATOMIC_SEQ_CST), k;
	int		newfile, dfd, rc = 0;

	if (target <= j->synced)
		return 0;
	pthread_mutex_lock(&j->lock);
	newfile = j->newfile;
	j->newfile = 0;
	pthread_mutex_unlock(&j->lock);
	for (k = (j->synced > j->live0 ? j->synced : j->live0) / j->seg;
	    k * j->seg < target; k++) {
		struct jseg *s = &j->ring[k % j->nring];

		/* an appender may be creating it: its records follow the sync */
		if (ATOMIC_GET(&s->idx) == k + 1 && fdatasync(s->fd) == -1) {
			log_warn("journal op=sync segment=%" PRIu64, k);
			rc = -1;
		}
	}
	if (newfile) {
		if ((dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    fsync(dfd) == -1) {
			log_warn("journal op=sync path=%s", j->dir);
			rc = -1;
		}
		if (dfd != -1)
			close(dfd);
	}
	if (rc == 0)
		ATOMIC_SET(&j->synced, target);
	return rc;
}

int
journal_prepare(struct journal *j)
{
	uint64_t	tail = ATOMIC_GET(&j->tail), k = tail / j->seg, idx;

	/* past the middle of a segment: make the next one */
	if (tail % j->seg >= j->seg / 2)
		k++;
	/* never wait here for a slot: only this thread's folding frees it */
	idx = ATOMIC_GET(&j->ring[k % j->nring].idx);
	if (idx != 0 && idx != k + 1)
		return 0;
	return seg_get(j, k) == NULL ? -1 : 0;
}

void
journal_stats(struct journal *j, struct journal_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->folded = ATOMIC_GET(&j->folded);
	st->tail = ATOMIC_GET(&j->tail);
	st->appends = ATOMIC_GET(&j->appends);
	st->waits = ATOMIC_GET(&j->waits);
	st->max_pending = j->max_pending;
	st->synced = ATOMIC_GET(&j->synced);
	st->skipped = ATOMIC_GET(&j->skipped);
	pthread_mutex_lock(&j->lock);
	st->backpressure = j->bp;
	pthread_mutex_unlock(&j->lock);
}

static int
old_cmp(const void *a, const void *b)
{
	const struct jold *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* old_scan - list the segments in the directory; those before folded go */
static int
old_scan(struct journal *j, uint64_t folded, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 path[4096], *e;
	uint64_t	 start;

	if ((d = opendir(j->dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", j->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 20 || strcmp(de->d_name + 16, ".jnl"))
			continue;
		errno = 0;
		start = strtoull(de->d_name, &e, 16);
		if (errno || e != de->d_name + 16)
			continue;
		seg_path(j, start, path, sizeof(path));
		if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
			continue;
		if (start + (uint64_t)sb.st_size <= folded) {
			if (unlink(path) == -1)
				log_warn("journal op=remove path=%s", path);
			continue;
		}
		if (j->nold % 16 == 0) {
			struct jold *o = realloc(j->old, (j->nold + 16) * sizeof(*o));

			if (o == NULL) {
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			j->old = o;
		}
		j->old[j->nold].start = start;
		j->old[j->nold].size = (uint64_t)sb.st_size & ~(uint64_t)7;
		j->old[j->nold].base = NULL;
		j->old[j->nold].fd = -1;
		j->nold++;
	}
	closedir(d);
	if (j->nold > 1)
		qsort(j->old, j->nold, sizeof(*j->old), old_cmp);
	return 0;
}

/* old_map - map the segments to replay; make them durable first */
static int
old_map(struct journal *j, char *err, size_t errlen)
{
	char	path[4096];
	size_t	i;

	for (i = 0; i < j->nold; i++) {
		struct jold *o = &j->old[i];

		seg_path(j, o->start, path, sizeof(path));
		if ((o->fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		/* what a killed process left in the page cache */
		fdatasync(o->fd);
		if (o->size == 0)
			continue;
		o->base = mmap(NULL, o->size, PROT_READ, MAP_SHARED, o->fd, 0);
		if (o->base == MAP_FAILED) {
			o->base = NULL;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct journal *
journal_open(const char *dir, uint64_t folded, const struct journal_opts *o,
    char *err, size_t errlen)
{
	struct journal	*j;
	uint64_t	 end, k;
	size_t		 i;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->room, NULL);
	j->seg = o->seg_size ? o->seg_size : JOURNAL_SEG_SIZE;
	j->seg = (j->seg + 4095) & ~(uint64_t)4095;
	j->maxrec = j->seg / 4 < JREC_MAX ? j->seg / 4 : JREC_MAX;
	j->max_pending = o->max_pending ? o->max_pending : 1ULL << 30;
	j->notify = o->notify;
	j->notify_arg = o->notify_arg;
	/* room for every segment the bound lets appenders reach, and spares */
	j->nring = (size_t)(j->max_pending / j->seg) + 8;
	if ((j->dir = strdup(dir)) == NULL ||
	    (j->ring = calloc(j->nring, sizeof(*j->ring))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (old_scan(j, folded, err, errlen) == -1 ||
	    old_map(j, err, errlen) == -1)
		goto fail;
	/*
	 * The live zone starts on a fresh segment after everything there,
	 * and after the farthest a pad at their end can reach: the reader
	 * leaves the old zone at or before live0, never inside the new records.
	 */
	end = folded;
	for (i = 0; i < j->nold; i++)
		if (j->old[i].start + j->old[i].size + JHDR + JREC_MAX + 8 > end)
			end = j->old[i].start + j->old[i].size + JHDR + JREC_MAX + 8;
	k = (end + j->seg - 1) / j->seg;
	j->live0 = k * j->seg;
	j->tail = j->live0;
	j->folded = folded;
	j->rpos = folded;
	j->synced = j->live0;
	j->free_k = k;
	if (seg_get(j, k) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (j->nold)
		log_info("journal op=open segments_to_replay=%zu from=%" PRIu64,
		    j->nold, folded);
	return j;
fail:
	journal_close(j);
	return NULL;
}

void
journal_close(struct journal *j)
{
	uint64_t	tail, folded;
	size_t		i;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->lock);
	j->closing = 1;
	pthread_cond_broadcast(&j->room);
	pthread_mutex_unlock(&j->lock);
	tail = ATOMIC_GET(&j->tail);
	folded = ATOMIC_GET(&j->folded);
	for (i = 0; j->ring && i < j->nring; i++) {
		struct jseg	*s = &j->ring[i];
		uint64_t	 k = s->idx - 1;

		/* a segment with no record left to fold goes */
		if (s->idx)
			seg_drop(j, s, k, folded >= tail ||
			    (k + 1) * j->seg <= folded || k * j->seg >= tail);
	}
	for (i = 0; i < j->nold; i++)
		if (j->old[i].fd != -1)
			old_drop(j, &j->old[i], j->old[i].start + j->old[i].size <=
			    folded);
	free(j->old);
	free(j->holes);
	free(j->ring);
	free(j->dir);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->room);
	free(j);
}
