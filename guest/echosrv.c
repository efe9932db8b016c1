/*
 * echosrv - a non-blocking echo server driven by poll(2) or epoll(7),
 * serving many concurrent clients.
 *
 *   echosrv poll|epoll tcp|unix N
 *
 * The server listens (127.0.0.1 on an ephemeral port, or an abstract AF_UNIX
 * name), forks N client processes, and serves them all at once from one
 * event loop: each client connects, writes a 20000-byte message in pieces
 * (so the server sees partial reads and, when the client is slow to read,
 * partial writes), reads the echo back, checks it byte for byte, and exits
 * 0. The server echoes what it reads, closes a connection at end of file
 * once everything was echoed, and ends when N connections are done. It
 * prints one line:
 *
 *   echo <poll|epoll> <tcp|unix>: N clients, K ok, B bytes echoed
 *
 * and exits 0 when every client passed. Nothing in the output depends on
 * timing or pids.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum { msglen = 20000, maxconn = 1024, bufsz = 65536 };

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int unix_mode;

static unsigned char pattern(int client, int i) { return (unsigned char)(client * 131 + i * 7); }

static int client(int id)
{
	int s = socket(unix_mode ? AF_UNIX : AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&addr, addrlen) != 0)
		return 1;
	static unsigned char out[msglen], in[msglen];
	for (int i = 0; i < msglen; i++)
		out[i] = pattern(id, i);
	/* Write in pieces of varying size, reading back as we go. */
	int sent = 0, got = 0, piece = 1000 + id * 37 % 3000;
	while (got < msglen) {
		if (sent < msglen) {
			int k = msglen - sent < piece ? msglen - sent : piece;
			int n = write(s, out + sent, k);
			if (n <= 0)
				return 2;
			sent += n;
			if (sent == msglen)
				shutdown(s, SHUT_WR);
		}
		struct pollfd pf = {.fd = s, .events = POLLIN};
		if (poll(&pf, 1, sent < msglen ? 0 : -1) > 0) {
			int n = read(s, in + got, msglen - got);
			if (n <= 0)
				return 3;
			got += n;
		}
	}
	char c;
	if (read(s, &c, 1) != 0) /* the server closes after the echo */
		return 4;
	return memcmp(in, out, msglen) != 0 ? 5 : 0;
}

struct conn {
	int fd;
	unsigned char buf[bufsz];
	int len, off; /* pending echo: buf[off:len] */
	int eof;
};

static struct conn *conns[maxconn];
static long echoed;
static int done;

static void setnb(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* service moves data for one connection; it returns 1 when the connection
 * is finished (closed). */
static int service(struct conn *c)
{
	for (;;) {
		if (c->off < c->len) {
			int n = write(c->fd, c->buf + c->off, c->len - c->off);
			if (n < 0 && errno == EAGAIN)
				return 0;
			if (n <= 0)
				break;
			c->off += n;
			echoed += n;
			continue;
		}
		if (c->eof)
			break;
		c->off = c->len = 0;
		int n = read(c->fd, c->buf, bufsz);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			c->eof = 1;
			continue;
		}
		c->len = n;
	}
	close(c->fd);
	return 1;
}

/* wants is what a connection waits for. */
static int wants_out(struct conn *c) { return c->off < c->len; }

static int serve_poll(int l, int n)
{
	static struct pollfd pf[maxconn + 1];
	int nc = 0;
	while (done < n) {
		pf[0] = (struct pollfd){.fd = l, .events = POLLIN};
		for (int i = 0; i < nc; i++)
			pf[i + 1] = (struct pollfd){.fd = conns[i]->fd, .events = wants_out(conns[i]) ? POLLOUT : POLLIN};
		if (poll(pf, nc + 1, -1) < 0)
			return 1;
		for (int i = nc - 1; i >= 0; i--) {
			if (!pf[i + 1].revents || !service(conns[i]))
				continue;
			free(conns[i]);
			conns[i] = conns[--nc];
			done++;
		}
		if (pf[0].revents & POLLIN) {
			int fd;
			while (nc < maxconn && (fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				struct conn *c = calloc(1, sizeof *c);
				c->fd = fd;
				conns[nc++] = c;
			}
		}
	}
	return 0;
}

static int serve_epoll(int l, int n)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	struct epoll_event evs[64];
	while (done < n) {
		int k = epoll_wait(ep, evs, 64, -1);
		if (k < 0)
			return 1;
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof *c);
					c->fd = fd;
					struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			if (service(c)) { /* close removes it from the interest list */
				free(c);
				done++;
			}
		}
	}
	close(ep);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "poll") && strcmp(argv[1], "epoll")) || (strcmp(argv[2], "tcp") && strcmp(argv[2], "unix"))) {
		fprintf(stderr, "usage: echosrv poll|epoll tcp|unix N\n");
		return 2;
	}
	int n = atoi(argv[3]);
	if (n < 1 || n > maxconn) {
		fprintf(stderr, "echosrv: N must be 1..%d\n", maxconn);
		return 2;
	}
	unix_mode = strcmp(argv[2], "unix") == 0;
	int l;
	if (unix_mode) {
		struct sockaddr_un *a = (struct sockaddr_un *)&addr;
		a->sun_family = AF_UNIX;
		snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "echosrv-%d", getpid());
		addrlen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&addr;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		addrlen = sizeof *a;
		l = socket(AF_INET, SOCK_STREAM, 0);
	}
	if (l < 0 || bind(l, (struct sockaddr *)&addr, addrlen) != 0 || listen(l, 128) != 0) {
		perror("echosrv: listen");
		return 1;
	}
	getsockname(l, (struct sockaddr *)&addr, &addrlen);
	setnb(l);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("echosrv: fork");
			return 1;
		}
		if (pid == 0) {
			close(l);
			_exit(client(i));
		}
	}
	int err = strcmp(argv[1], "poll") == 0 ? serve_poll(l, n) : serve_epoll(l, n);
	int ok = 0, st;
	while (wait(&st) > 0)
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	printf("echo %s %s: %d clients, %d ok, %ld bytes echoed\n", argv[1], argv[2], n, ok, echoed);
	return err || ok != n;
}
