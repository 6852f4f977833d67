/*
 * idle_conns - hold many idle keep-alive HTTP connections open.
 *
 *   idle_conns HOST PORT N PATH
 *
 * Opens N connections to HOST:PORT, sends one keep-alive GET PATH on
 * each and reads its response, then prints "ready N" and keeps every
 * connection open (idle) until the process is signalled (SIGTERM).
 * Used to measure a server's memory per idle connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* read until the end of the response headers (the bodies here are tiny) */
static int
read_response(int fd)
{
	char	buf[4096];
	size_t	have = 0;
	ssize_t	n;
	struct pollfd p = { fd, POLLIN, 0 };

	for (;;) {
		if (poll(&p, 1, 5000) != 1)
			return -1;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
		if (have == sizeof(buf) - 1)
			return -1;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sa;
	struct rlimit		 rl;
	char			 req[512];
	int			 n, i, fd, ok = 0, *fds;

	if (argc != 5) {
		fprintf(stderr, "usage: idle_conns HOST PORT N PATH\n");
		return 2;
	}
	n = atoi(argv[3]);
	rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		perror("idle_conns: setrlimit");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "idle_conns: bad address %s\n", argv[1]);
		return 2;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: idle_conns\r\nConnection: keep-alive\r\n\r\n",
	    argv[4], argv[1]);
	if ((fds = calloc((size_t)n, sizeof(int))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
			perror("idle_conns: socket");
			break;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
		    read_response(fd) == -1) {
			fprintf(stderr, "idle_conns: connection %d failed: %s\n",
			    i, errno ? strerror(errno) : "bad response");
			close(fd);
			break;
		}
		fds[ok++] = fd;
	}
	printf("ready %d\n", ok);
	fflush(stdout);
	/* hold until signalled: the default action ends the process */
	for (;;)
		pause();
}
