/*
 * sock - the milter's unix socket (see sock.h).
 *
 * libmilter creates the socket with the process umask: started by hand as
 * root, without systemd's UMask=0007, it was srwxr-xr-x root root and
 * Postfix (user postfix) could not connect; every message then passed
 * untracked, with nothing said. The mode is set here instead, and the
 * group when one is configured.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "log.h"
#include "sock.h"

#define SOCK_POSTFIX_GROUP	"postfix"

/* sock_path - the path of a unix: or local: socket spec, else NULL */
static const char *
sock_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* group_can - st grants gid the permission bits grp (and oth to others) */
static int
group_can(const struct stat *st, gid_t gid, mode_t grp, mode_t oth)
{
	return (st->st_gid == gid && (st->st_mode & grp)) ||
	    (st->st_gid != gid && (st->st_mode & oth));
}

/* sock_check_postfix - say plainly when the postfix group cannot connect */
static void
sock_check_postfix(const char *path)
{
	struct group	*gr;
	struct stat	 st, dst;
	char		*dir;
	int		 ok;

	if ((gr = getgrnam(SOCK_POSTFIX_GROUP)) == NULL) {
		log_debug("milter_socket: no group %s to check against",
		    SOCK_POSTFIX_GROUP);
		return;
	}
	if (stat(path, &st) == -1) {
		log_warn("milter_socket: %s", path);
		return;
	}
	if ((dir = strdup(path)) == NULL)
		return;
	ok = stat(dirname(dir), &dst) == 0 &&
	    group_can(&dst, gr->gr_gid, S_IXGRP, S_IXOTH);
	free(dir);
	if (!ok)
		log_warnx("milter_socket: Postfix (group %s) cannot reach %s:"
		    " its directory is not searchable by that group: mail will"
		    " pass untracked", SOCK_POSTFIX_GROUP, path);
	else if (!group_can(&st, gr->gr_gid, S_IWGRP, S_IWOTH))
		log_warnx("milter_socket: Postfix (group %s) cannot connect to"
		    " %s (mode %04o, group %ld): mail will pass untracked; set"
		    " milter_socket_group = %s (or make the directory set-group-ID"
		    " %s)", SOCK_POSTFIX_GROUP, path,
		    (unsigned)(st.st_mode & 07777), (long)st.st_gid,
		    SOCK_POSTFIX_GROUP, SOCK_POSTFIX_GROUP);
}

int
sock_setup(const struct config *cfg)
{
	const char	*path = sock_path(cfg->milter_socket);
	struct group	*gr;
	mode_t		 mode;

	if (geteuid() == 0 && cfg->user == NULL)
		log_warnx("running as root: set user (e.g. user = mtrack) to"
		    " drop privileges after the socket is made");
	if (path == NULL)
		return 0;
	mode = (mode_t)strtol(cfg->milter_socket_mode, NULL, 8);
	if (cfg->milter_socket_group != NULL) {
		if ((gr = getgrnam(cfg->milter_socket_group)) == NULL) {
			log_err("milter_socket_group: no group \"%s\"",
			    cfg->milter_socket_group);
			return -1;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) == -1) {
			log_warn("milter_socket: chown %s to group %s", path,
			    cfg->milter_socket_group);
			return -1;
		}
	}
	if (chmod(path, mode) == -1) {
		log_warn("milter_socket: chmod %s %04o", path, (unsigned)mode);
		return -1;
	}
	sock_check_postfix(path);
	return 0;
}
