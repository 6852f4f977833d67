/*
 * noop_milter - a milter that looks at everything and changes nothing:
 * the cost of the milter protocol itself, as a second baseline for
 * mtrack-milter.
 *
 *   noop_milter SOCKET
 *
 * SOCKET is a libmilter spec (inet:PORT@127.0.0.1, unix:/PATH). It asks
 * for the same actions and the same protocol steps as mtrack-milter: no
 * HELO, unknown commands and end of header; no reply to connect, MAIL,
 * RCPT, headers and body chunks; a reply at DATA and at end of message.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NOOP_NOREPLY	(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
			 SMFIP_NR_HDR | SMFIP_NR_BODY)

static unsigned long noop_pflags;	/* the same for every connection */

static sfsistat
noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS);
	*pf1 = (SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOEOH | NOOP_NOREPLY) &
	    f1;
	noop_pflags = *pf1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/* noop_next - no reply where none was negotiated */
static sfsistat
noop_next(unsigned long noreply)
{
	return noop_pflags & noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return noop_next(SMFIP_NR_CONN);
}

static sfsistat
noop_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return noop_next(SMFIP_NR_MAIL);
}

static sfsistat
noop_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return noop_next(SMFIP_NR_RCPT);
}

static sfsistat
noop_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
noop_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx;
	(void)name;
	(void)value;
	return noop_next(SMFIP_NR_HDR);
}

static sfsistat
noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	(void)chunk;
	(void)len;
	return noop_next(SMFIP_NR_BODY);
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

	if (argc != 2) {
		fprintf(stderr, "usage: noop_milter SOCKET\n");
		return 2;
	}
	if (strncmp(argv[1], "unix:", 5) == 0)
		unlink(argv[1] + 5);
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "noop";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS;
	desc.xxfi_connect = noop_connect;
	desc.xxfi_envfrom = noop_envfrom;
	desc.xxfi_envrcpt = noop_envrcpt;
	desc.xxfi_data = noop_data;
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
