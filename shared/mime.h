/*
 * mime - the structure of a message as byte ranges of the original, and
 * the transfer encodings, on top of GMime.
 *
 * mime_parse() finds every leaf part reachable without entering
 * message/rfc822 parts, with the offsets of its header block, its
 * Content-Transfer-Encoding header and its raw content in the input.
 * Changed parts are spliced back into the original bytes, so every byte
 * outside them is kept exactly (GMime's writer is not a perfect round trip).
 */
#ifndef MTRACK_MIME_H
#define MTRACK_MIME_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum mime_enc { MIME_ENC_7BIT, MIME_ENC_8BIT, MIME_ENC_BINARY, MIME_ENC_QP,
    MIME_ENC_BASE64, MIME_ENC_OTHER };

struct mime_part {
	char		 type[32];	/* lower case, e.g. "text" */
	char		 subtype[64];	/* lower case, e.g. "html" */
	char		 charset[64];	/* lower case, "" when none */
	enum mime_enc	 enc;
	int		 attachment;	/* Content-Disposition: attachment */
	int		 top;		/* the message itself: headers are top-level */
	size_t		 hdr_end;	/* end of the header block (before the blank line) */
	ssize_t		 cte_start;	/* the CTE header line [start, end), -1: none */
	size_t		 cte_end;
	size_t		 body_start;	/* raw content [start, end) */
	size_t		 body_end;
	const char	*raw;		/* msg + body_start; NULL when not known */
	void		*gpart;		/* GMimePart, owned by the mime_msg */
};

struct mime_msg {
	void			*gmsg;		/* GMimeMessage */
	void			*stream;	/* GMimeStream over the input */
	void			*bytes;		/* GByteArray borrowing the input */
	struct mime_part	*parts;
	size_t			 nparts;
	int			 sealed;	/* signed or encrypted somewhere */
	size_t			 hdr_end;	/* end of the top-level header block */
	size_t			 body_start;	/* first byte after the blank line */
	const char		*nl;		/* "\r\n" or "\n", from the headers */
};

/* mime_init - once per process, before threads */
void	mime_init(void);
/*
 * mime_parse - parse msg (len bytes; must stay valid and unchanged until
 * mime_free). 0, or -1 with a static reason in *why.
 */
int	mime_parse(struct mime_msg *m, const char *msg, size_t len,
	    const char **why);
void	mime_free(struct mime_msg *m);
/* mime_header - the first value of a top-level header, unfolded, NULL if none; caller frees */
char	*mime_header(const struct mime_msg *m, const char *name);
/*
 * mime_decode - the part's content with its transfer encoding undone,
 * appended to out: the bytes GMime's decoder gives, malformed input
 * included.
 */
int	mime_decode(const struct mime_part *p, struct buf *out);
/*
 * mime_intact - decoding the part keeps all of its content: false for
 * base64 whose last quartet is cut short or whose '=' padding is not at
 * the end (decoders drop or guess there: such a part is left as it is)
 */
int	mime_intact(const struct mime_part *p);
/*
 * mime_charset_wide - a charset whose bytes are not ASCII where ASCII is
 * (UTF-16, ISO-2022-JP ...): a part in it is converted to UTF-8 first
 */
int	mime_charset_wide(const char *cs);
/*
 * mime_encode - encode data for a part as enc (7bit/8bit/binary: as is,
 * QP or base64) with line ends nl; appended to out. For QP, nl in the
 * data is a hard line break; other CR and LF bytes are encoded.
 */
int	mime_encode(enum mime_enc enc, const char *nl, const char *data,
	    size_t len, struct buf *out);
/* mime_fits - data may be sent as enc (7bit/8bit: line lengths, 8-bit and NUL bytes) */
int	mime_fits(enum mime_enc enc, const char *data, size_t len);
/* mime_enc_name - "7bit", "quoted-printable", ... */
const char *mime_enc_name(enum mime_enc enc);

#endif
