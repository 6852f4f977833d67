/*
 * noop_milter - a milter that looks at everything and changes nothing:
 * the cost of the milter protocol itself, as a second baseline for
 * mtrack-milter.
 *
 *   noop_milter SOCKET [nodata] [noreply]
 *
 * SOCKET is a libmilter spec (inet:PORT@127.0.0.1). It asks for the same
 * actions as mtrack-milter and receives headers and body; with "nodata"
 * it also skips the DATA step (SMFIP_NODATA) as mtrack-milter does; with
 * "noreply" it asks the MTA not to wait for a reply to each header and
 * body chunk (SMFIP_NR_HDR, SMFIP_NR_BODY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

static int skip_data, no_reply;

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOHELO | SMFIP_NOUNKNOWN;

	(void)ctx;
	(void)f2;
	(void)f3;
	if (skip_data)
		want |= SMFIP_NODATA;
	if (no_reply)
		want |= SMFIP_NR_HDR | SMFIP_NR_BODY;
	*pf0 = f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS);
	*pf1 = want & f1;
	no_reply = (*pf1 & SMFIP_NR_BODY) != 0;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return no_reply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return no_reply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc;
	int		i;

	if (argc < 2) {
		fprintf(stderr, "usage: noop_milter SOCKET [nodata] [noreply]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "nodata") == 0)
			skip_data = 1;
		else if (strcmp(argv[i], "noreply") == 0)
			no_reply = 1;
		else {
			fprintf(stderr, "noop_milter: unknown option %s\n",
			    argv[i]);
			return 2;
		}
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "noop";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS;
	desc.xxfi_header = noop_header;
	desc.xxfi_body = noop_body;
	desc.xxfi_eom = noop_eom;
	desc.xxfi_negotiate = noop_negotiate;
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS) {
		fprintf(stderr, "noop_milter: cannot set up %s\n", argv[1]);
		return 1;
	}
	smfi_settimeout(300);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
