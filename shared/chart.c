/*
 * chart - stacked bar charts as SVG (see chart.h).
 *
 * Geometry in the user units of a fixed viewBox; the page scales the
 * element to its width. Colours are attributes, not CSS, so a chart
 * copied out of the page looks the same.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chart.h"
#include "esc.h"

#define W	560
#define H	220
#define ML	56	/* left margin: y labels */
#define MR	12
#define MT	28	/* top: the legend */
#define MB	40	/* bottom: x labels */
#define XLABELS	8	/* x labels shown at most */
#define BARMAX	40	/* the widest bar */

static const char *const chart_fill[CHART_SERIES] = {
	"#2563eb", "#b8bec9", "#f59e0b", "#10b981"
};

uint64_t
chart_step(uint64_t max, unsigned n)
{
	uint64_t	p = 1, raw;

	if (n == 0)
		n = 1;
	raw = max / n + (max % n != 0);
	if (raw <= 1)
		return 1;
	while (p <= UINT64_MAX / 10 && p * 10 <= raw)
		p *= 10;
	if (p >= raw)
		return p;
	if (2 * p >= raw)
		return 2 * p;
	if (5 * p >= raw || p > UINT64_MAX / 10)
		return 5 * p;
	return 10 * p;
}

/* chart_num - a count as axis text: 950, 1.2k, 3.4M */
static void
chart_num(uint64_t v, char *out, size_t n)
{
	if (v >= 10000000)
		snprintf(out, n, "%" PRIu64 "M", v / 1000000);
	else if (v >= 1000000)
		snprintf(out, n, "%.1fM", (double)v / 1e6);
	else if (v >= 10000)
		snprintf(out, n, "%" PRIu64 "k", v / 1000);
	else
		snprintf(out, n, "%" PRIu64, v);
}

static int
chart_axes(struct buf *o, uint64_t top, uint64_t step)
{
	uint64_t	v;
	double		y;
	char		t[24];

	for (v = 0; v <= top; v += step) {
		y = MT + (double)(H - MT - MB) * (1.0 - (double)v / (double)top);
		chart_num(v, t, sizeof(t));
		if (buf_printf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" "
		    "x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>"
		    "<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		    "font-size=\"12\" fill=\"#4b5563\">%s</text>", ML, y, W - MR,
		    y, ML - 6, y + 4, t) == -1)
			return -1;
		if (v > UINT64_MAX - step)
			break;
	}
	return buf_printf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
	    "y2=\"%d\" stroke=\"#374151\"/><line class=\"axis\" x1=\"%d\" "
	    "y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#374151\"/>", ML, MT, ML,
	    H - MB, ML, H - MB, W - MR, H - MB);
}

static int
chart_legend(struct buf *o, const struct chart *c)
{
	size_t	i;
	int	x = ML;

	if (buf_puts(o, "<g class=\"legend\">") == -1)
		return -1;
	for (i = 0; i < c->nseries; i++) {
		if (buf_printf(o, "<rect x=\"%d\" y=\"8\" width=\"12\" "
		    "height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"18\" "
		    "font-size=\"12\" fill=\"#111827\">", x, chart_fill[i],
		    x + 16) == -1 || esc_html_str(o, c->series[i]) == -1 ||
		    buf_puts(o, "</text>") == -1)
			return -1;
		x += 28 + 8 * (int)(c->series[i] ? strlen(c->series[i]) : 0);
	}
	return buf_puts(o, "</g>");
}

/* chart_bar - one stacked bar in slot i of width slot */
static int
chart_bar(struct buf *o, const struct chart *c, size_t i, double slot,
    uint64_t top)
{
	const struct chart_bar	*b = &c->bars[i];
	double			 x, w, y = H - MB, h;
	size_t			 s;

	w = slot * 0.75 < BARMAX ? slot * 0.75 : BARMAX;
	x = ML + slot * (double)i + (slot - w) / 2;
	for (s = 0; s < c->nseries; s++) {
		h = (double)(H - MT - MB) * (double)b->v[s] / (double)top;
		y -= h;
		if (b->v[s] == 0)
			continue;
		if (buf_printf(o, "<rect class=\"bar s%zu\" x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", s, x, y,
		    w, h, chart_fill[s]) == -1 ||
		    esc_html_str(o, b->label) == -1 || buf_puts(o, ": ") == -1 ||
		    esc_html_str(o, c->series[s]) == -1 ||
		    buf_printf(o, " %" PRIu64 "</title></rect>", b->v[s]) == -1)
			return -1;
	}
	return 0;
}

/*
 * chart_xlabel - the label of bar i, cut with an ellipsis to the room of
 * the bars it stands for (about 7 units a character; the whole label is
 * in the bar's tooltip)
 */
static int
chart_xlabel(struct buf *o, const struct chart *c, size_t i, double slot)
{
	size_t		 every = (c->nbars + XLABELS - 1) / XLABELS, n, room;
	const char	*l = c->bars[i].label ? c->bars[i].label : "";

	if (every > 1 && i % every != 0)
		return 0;
	room = (size_t)(slot * (double)every / 7.0);
	if (room < 4)
		room = 4;
	n = strlen(l);
	if (n > room) {
		n = room - 1;
		while (n > 0 && ((unsigned char)l[n] & 0xc0) == 0x80)
			n--;	/* not inside a UTF-8 sequence */
	}
	if (buf_printf(o, "<text class=\"xtick\" x=\"%.1f\" y=\"%d\" "
	    "text-anchor=\"middle\" font-size=\"12\" fill=\"#4b5563\">",
	    ML + slot * ((double)i + 0.5), H - MB + 16) == -1 ||
	    esc_html(o, l, n) == -1 ||
	    (n < strlen(l) && buf_puts(o, "\xe2\x80\xa6") == -1))
		return -1;
	return buf_puts(o, "</text>");
}

int
chart_svg(struct buf *out, const struct chart *c)
{
	uint64_t	max = 0, sum, step, top;
	double		slot;
	size_t		i, s;

	if (c->nseries == 0 || c->nseries > CHART_SERIES)
		return -1;
	for (i = 0; i < c->nbars; i++) {
		for (sum = 0, s = 0; s < c->nseries; s++)
			sum += c->bars[i].v[s];
		if (sum > max)
			max = sum;
	}
	step = chart_step(max, 4);
	top = max == 0 ? step : (max + step - 1) / step * step;
	if (buf_printf(out, "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", W, H) == -1 ||
	    esc_html_str(out, c->title) == -1 ||
	    buf_puts(out, "\"><title>") == -1 ||
	    esc_html_str(out, c->title) == -1 ||
	    buf_puts(out, "</title>") == -1 ||
	    chart_legend(out, c) == -1 || chart_axes(out, top, step) == -1)
		return -1;
	if (c->nbars == 0)
		return buf_printf(out, "<text class=\"empty\" x=\"%d\" y=\"%d\" "
		    "text-anchor=\"middle\" font-size=\"13\" fill=\"#6b7280\">"
		    "no events</text></svg>", (ML + W - MR) / 2, (MT + H - MB) / 2);
	slot = (double)(W - ML - MR) / (double)c->nbars;
	if (buf_puts(out, "<g class=\"bars\">") == -1)
		return -1;
	for (i = 0; i < c->nbars; i++)
		if (chart_bar(out, c, i, slot, top) == -1)
			return -1;
	if (buf_puts(out, "</g>") == -1)
		return -1;
	for (i = 0; i < c->nbars; i++)
		if (chart_xlabel(out, c, i, slot) == -1)
			return -1;
	return buf_puts(out, "</svg>");
}
