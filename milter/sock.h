/*
 * sock - the milter's unix socket: its mode and group, and a plain word at
 * start when Postfix could not connect to it.
 */
#ifndef MTRACK_SOCK_H
#define MTRACK_SOCK_H

#include "config.h"

/*
 * sock_setup - after libmilter created the socket, before the privilege
 * drop: a unix socket gets milter_socket_mode and milter_socket_group (the
 * process umask no longer decides); warn when the milter stays root, and
 * when the postfix group cannot write the socket. 0, or -1 (logged).
 */
int	sock_setup(const struct config *cfg);

#endif
