/*
 * mtrackctl keygen ID - print a new line for the link_keys file: a random
 * 256-bit key under ID (1-255). Appended as the last line, it seals new
 * links; the lines above keep opening old ones (docs/scale.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "seal_keys.h"

int
ctl_keygen(struct ctl *c, int argc, char **argv)
{
	char	 line[SEAL_KEY_LINE], *end;
	long	 id;

	(void)c;
	if (argc != 2) {
		fprintf(stderr, "usage: mtrackctl keygen ID   (ID 1-255)\n");
		return 2;
	}
	id = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || id < 1 || id > 255) {
		fprintf(stderr, "mtrackctl: keygen: ID must be 1-255\n");
		return 2;
	}
	if (seal_keys_line((int)id, line) == -1) {
		perror("mtrackctl: keygen");
		return 1;
	}
	if (fputs(line, stdout) == EOF || fflush(stdout) == EOF) {
		perror("mtrackctl: stdout");
		return 1;
	}
	return 0;
}
