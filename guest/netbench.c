/*
 * netbench - socket benchmarks (make bench): a forked peer and a loop.
 *
 *   netbench tcp MIB        stream MIB MiB over TCP loopback (64 KiB writes)
 *   netbench unix N         N one-byte round trips over an AF_UNIX stream
 *                           socketpair (ping-pong)
 *   netbench connect N      N TCP loopback connections, each: connect, one
 *                           byte each way, close (connections per second)
 *
 * With 0 it only starts and sets up (the benchmark's start-up time). It
 * prints what it moved and exits 0; errors go to stderr with status 1.
 * Timing is the caller's business.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static int listener(struct sockaddr_in *a)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	*a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof *a;
	if (l < 0 || bind(l, (struct sockaddr *)a, n) != 0 || listen(l, 128) != 0 || getsockname(l, (struct sockaddr *)a, &n) != 0)
		return -1;
	return l;
}

static int reap(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int tcp_stream(long mib)
{
	struct sockaddr_in a;
	int l = listener(&a);
	if (l < 0)
		return fail("netbench: listen");
	static char buf[65536];
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
			_exit(1);
		for (long left = mib * 16; left > 0; left--)
			for (int off = 0; off < (int)sizeof buf;) {
				int n = write(c, buf + off, sizeof buf - off);
				if (n <= 0)
					_exit(1);
				off += n;
			}
		_exit(0);
	}
	int s = accept(l, NULL, NULL);
	if (s < 0)
		return fail("netbench: accept");
	long got = 0;
	int n;
	while ((n = read(s, buf, sizeof buf)) > 0)
		got += n;
	printf("%ld MiB over TCP\n", got >> 20);
	return reap(pid) || got != mib << 20;
}

static int unix_pingpong(long rounds)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return fail("netbench: socketpair");
	pid_t pid = fork();
	char c = 'x';
	if (pid == 0) {
		for (long i = 0; i < rounds; i++)
			if (read(sv[1], &c, 1) != 1 || write(sv[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	for (long i = 0; i < rounds; i++)
		if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
			return fail("netbench: ping-pong");
	printf("%ld round trips over AF_UNIX\n", rounds);
	return reap(pid);
}

static int connections(long n)
{
	struct sockaddr_in a;
	int l = listener(&a);
	if (l < 0)
		return fail("netbench: listen");
	pid_t pid = fork();
	char c = 'x';
	if (pid == 0) {
		for (long i = 0; i < n; i++) {
			int s = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 || write(s, &c, 1) != 1 || read(s, &c, 1) != 1)
				_exit(1);
			close(s);
		}
		_exit(0);
	}
	for (long i = 0; i < n; i++) {
		int s = accept(l, NULL, NULL);
		if (s < 0 || read(s, &c, 1) != 1 || write(s, &c, 1) != 1)
			return fail("netbench: serve");
		close(s);
	}
	printf("%ld TCP connections\n", n);
	return reap(pid);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: netbench tcp MIB | unix N | connect N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (strcmp(argv[1], "tcp") == 0)
		return tcp_stream(n);
	if (strcmp(argv[1], "unix") == 0)
		return unix_pingpong(n);
	if (strcmp(argv[1], "connect") == 0)
		return connections(n);
	fprintf(stderr, "netbench: unknown benchmark %s\n", argv[1]);
	return 2;
}
