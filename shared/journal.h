/*
 * journal - an append-only record journal shared by the threads of one
 * process, read back by one reader thread that folds it somewhere durable.
 *
 * A position ("lsn") is a byte offset in one endless address space that
 * only grows; it is cut into segment files of a fixed size named after the
 * position they start at ("%016x.jnl" in the journal's directory). Each
 * segment is a shared file mapping: an appender reserves room with one
 * atomic add, copies its record in and publishes it by storing its header
 * last. No system call per record: the data lives in the page cache as
 * soon as it is copied, so the death of the process (even SIGKILL) loses
 * no record whose append returned. journal_sync makes it survive a power
 * loss too (the reader calls it every few milliseconds).
 *
 * The reader folds records elsewhere and stores the position it folded up
 * to in the same transaction as their effects; it then calls
 * journal_folded, which removes the segments wholly before it. At the next
 * start journal_open is given that position and the reader replays from
 * it: every record is applied exactly once, whatever the point of a crash.
 *
 * Records are framed by a header (length, 32 bits of an XXH3 hash seeded
 * with the position): a record torn by a power loss, or a hole a dead
 * appender left in its reservation, is found and skipped at replay.
 *
 * Appenders wait (backpressure) while more than max_pending bytes are
 * appended but not folded.
 *
 * Threads: journal_append from any thread; journal_read, journal_rewind,
 * journal_idle,
 * journal_folded, journal_sync, journal_prepare from the one reader thread;
 * journal_stats from any.
 */
#ifndef MTRACK_JOURNAL_H
#define MTRACK_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct journal;

#define JOURNAL_SEG_SIZE	(32ULL << 20)	/* default segment size */

struct journal_opts {
	uint64_t	 max_pending;	/* bytes appended, not folded, before appenders wait */
	uint64_t	 seg_size;	/* bytes per segment; 0: JOURNAL_SEG_SIZE */
	/* called by an appender when a record arrives while the reader idles */
	void		(*notify)(void *);
	void		*notify_arg;
};

/*
 * journal_open - open (create) the journal in directory dir (made if
 * missing). folded: the position the reader had folded up to (0 the first
 * time); segments before it are removed, the rest are replayed by
 * journal_read. NULL with the reason in err.
 */
struct journal	*journal_open(const char *dir, uint64_t folded,
		    const struct journal_opts *o, char *err, size_t errlen);
/*
 * journal_close - unmap and close; wakes appenders waiting for room (they
 * fail). Segments whose records are all folded are removed.
 */
void		 journal_close(struct journal *j);

/*
 * journal_append - copy len bytes (1 .. seg_size / 4) into the journal.
 * Waits while the journal is over max_pending. 0, or -1 (errno: EINVAL,
 * ESHUTDOWN when closing, or from creating a segment file).
 */
int	journal_append(struct journal *j, const void *rec, size_t len);

/*
 * journal_read - the next record at the read position: 0 with *rec and
 * *len set (the bytes stay valid until journal_folded passes *end, the
 * position after the record); 1 when there is none yet; -1 on error.
 */
int	journal_read(struct journal *j, const void **rec, size_t *len,
	    uint64_t *end);
/* journal_read_pos - the position after the last record read */
uint64_t journal_read_pos(const struct journal *j);
/*
 * journal_rewind - read again from pos (a position journal_read_pos gave,
 * not before the folded one): the fold of what was read since failed
 */
void	journal_rewind(struct journal *j, uint64_t pos);
/*
 * journal_idle - the reader is about to sleep: 1 when a record is ready
 * (do not sleep), else 0 and the next appender calls notify once
 */
int	journal_idle(struct journal *j);
/*
 * journal_folded - everything before pos is folded (durably): segments
 * wholly before it are removed, appenders waiting for room may go on; 0 or -1
 */
int	journal_folded(struct journal *j, uint64_t pos);
/* journal_sync - make every record appended so far durable (fdatasync); 0 or -1 */
int	journal_sync(struct journal *j);
/* journal_prepare - create the next segment ahead of the appenders; 0 or -1 */
int	journal_prepare(struct journal *j);

struct journal_stats {
	uint64_t	tail;		/* position after the last reservation */
	uint64_t	folded;		/* position folded up to */
	uint64_t	synced;		/* position made durable up to */
	uint64_t	appends;	/* records appended since open */
	uint64_t	waits;		/* appends that waited for room */
	uint64_t	skipped;	/* bytes of damaged data skipped at replay */
	uint64_t	max_pending;
	int		backpressure;	/* appenders wait now */
};
/* journal_stats - a snapshot of the counters */
void	journal_stats(struct journal *j, struct journal_stats *st);

#endif
