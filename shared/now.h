/*
 * now - the clock, in microseconds.
 */
#ifndef MTRACK_NOW_H
#define MTRACK_NOW_H

#include <stdint.h>

/* now_us - wall-clock time since the epoch */
int64_t	now_us(void);
/* now_mono_us - monotonic time, for intervals and deadlines */
int64_t	now_mono_us(void);

#endif
