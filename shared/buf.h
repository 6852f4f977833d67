/*
 * buf - growable byte buffer.
 *
 * A buf owns its memory. buf_free() releases it; after any append the
 * old value of b->data may have moved: never keep pointers into it across
 * appends. data is always NUL-terminated (not counted in len) so text
 * callers may use it as a C string.
 */
#ifndef MTRACK_BUF_H
#define MTRACK_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT	{ NULL, 0, 0 }

/* buf_reserve - make room for n more bytes; 0 or -1 (ENOMEM) */
int	buf_reserve(struct buf *b, size_t n);
/* buf_append_grow - buf_append when the buffer must grow first */
int	buf_append_grow(struct buf *b, const void *p, size_t n);

/*
 * buf_append - append n bytes; 0 or -1. Inline: most appends fit in the
 * room the buffer has.
 */
static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n >= b->cap - b->len)
		return buf_append_grow(b, p, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* buf_puts - append a C string; 0 or -1 */
int	buf_puts(struct buf *b, const char *s);

/* buf_putc - append one byte; 0 or -1 */
static inline int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	if (b->cap - b->len < 2)
		return buf_append_grow(b, &ch, 1);
	b->data[b->len++] = ch;
	b->data[b->len] = '\0';
	return 0;
}

/* buf_printf - append formatted text; 0 or -1 */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* the longest decimal buf_dec writes: 20 digits, or '-' and 19 */
#define BUF_DEC_MAX	20
/* buf_dec - v in decimal into out (BUF_DEC_MAX bytes, no NUL), without printf; its length */
size_t	buf_dec(char *out, uint64_t v);
/* buf_put_i64 - append v in decimal, without printf (hot paths); 0 or -1 */
int	buf_put_i64(struct buf *b, int64_t v);
/* buf_reset - empty the buffer, keep the memory */
void	buf_reset(struct buf *b);
/* buf_free - release the memory; the buf is empty and reusable */
void	buf_free(struct buf *b);
/* buf_steal - hand the memory to the caller (free() it); the buf is empty */
char	*buf_steal(struct buf *b, size_t *lenp);

#endif
