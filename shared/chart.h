/*
 * chart - stacked bar charts as inline SVG, written by hand from the
 * numbers: no script, no font or file to load, a few kilobytes a chart.
 */
#ifndef MTRACK_CHART_H
#define MTRACK_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CHART_SERIES	4	/* stacked parts of a bar at most */

struct chart_bar {
	const char	*label;			/* x axis: an hour, a day, a name */
	uint64_t	 v[CHART_SERIES];	/* parts, bottom first */
};

struct chart {
	const char		*title;		/* the chart's accessible name */
	const char *const	*series;	/* name of each part (legend) */
	size_t			 nseries;	/* 1..CHART_SERIES */
	const struct chart_bar	*bars;
	size_t			 nbars;
};

/*
 * chart_svg - append c as one <svg class="chart"> element: a y axis with
 * round ticks, one stacked bar per entry (<rect class="bar sN">, each with
 * a <title> tooltip), x labels (thinned out when there are many) and a
 * legend. Text is HTML-escaped. 0, or -1 when memory is short.
 */
int	chart_svg(struct buf *out, const struct chart *c);

/* chart_step - the round tick step (1, 2 or 5 times a power of ten) for max over about n ticks */
uint64_t chart_step(uint64_t max, unsigned n);

#endif
