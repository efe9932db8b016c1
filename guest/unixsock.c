/*
 * unixsock - self-checking test of AF_UNIX sockets between processes.
 *
 * Descriptors passed with SCM_RIGHTS (a pipe end, an open file and a
 * socket; MSG_CMSG_CLOEXEC), credentials with SCM_CREDENTIALS and
 * SO_PASSCRED, SO_PEERCRED, datagram sockets bound to paths (sendto and
 * recvfrom between named sockets), a stream server on an abstract name (and
 * its line in /proc/net/unix), seqpacket message boundaries, a writer that
 * blocks on a full stream until the reader drains it, poll readiness and
 * shutdown, and scatter/gather over many small buffers. Prints
 * "ok - <name>" or "not ok - <name>: <detail>" per check, then "<N> passed, <M> failed", and exits 0 if every check passed; every
 * check passes under qemu-aarch64-static. The working directory must be
 * writable. No pids or times are printed.
 *
 * "unixsock cycles N" instead makes N unreachable cycles of sockets (each
 * sent through itself, then closed) for the garbage collector.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s-%d", name, getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
}

/* send_fds sends one byte with n descriptors. */
static int send_fds(int s, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))] = {0};
	struct iovec iov = {"F", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(s, &mh, 0);
}

/* recv_fds receives one byte and up to max descriptors; it returns how
 * many came. */
static int recv_fds(int s, int *fds, int max, int flags)
{
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	char c;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	if (recvmsg(s, &mh, flags) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return 0;
	int n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (n > max)
		n = max;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return n;
}

static int wait_ok(pid_t pid)
{
	int st;
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void rights(void)
{
	int sv[2], p[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	int f = open("rights-file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	write(f, "file contents", 13);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int fds[3];
		if (recv_fds(sv[1], fds, 3, MSG_CMSG_CLOEXEC) != 3)
			_exit(1);
		if (!(fcntl(fds[0], F_GETFD) & FD_CLOEXEC) || !(fcntl(fds[1], F_GETFD) & FD_CLOEXEC))
			_exit(2);
		char buf[32] = {0};
		if (pread(fds[1], buf, sizeof buf - 1, 0) != 13 || strcmp(buf, "file contents") != 0)
			_exit(3);
		if (write(fds[0], "from child", 10) != 10)
			_exit(4);
		/* The third is a socket: answer through it. */
		if (send(fds[2], "via passed socket", 17, 0) != 17)
			_exit(5);
		_exit(0);
	}
	int other[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, other);
	int fds[3] = {p[1], f, other[1]};
	OK("sendmsg SCM_RIGHTS", send_fds(sv[0], fds, 3));
	close(p[1]);
	close(f);
	close(other[1]);
	char buf[32] = {0};
	int n = read(p[0], buf, sizeof buf - 1);
	TRUE("pipe end passed", n == 10 && strcmp(buf, "from child") == 0);
	memset(buf, 0, sizeof buf);
	n = recv(other[0], buf, sizeof buf - 1, 0);
	TRUE("socket passed", n == 17 && strcmp(buf, "via passed socket") == 0);
	TRUE("child checked the file and MSG_CMSG_CLOEXEC", wait_ok(pid));
	TRUE("pipe at EOF once the passed end closes", read(p[0], buf, 1) == 0);
	close(p[0]);
	close(other[0]);
	close(sv[0]);
	close(sv[1]);
	unlink("rights-file");
}

static void creds(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int one = 1;
	OK("SO_PASSCRED", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
	pid_t pid = fork();
	if (pid == 0) {
		send(sv[1], "implicit", 8, 0);
		struct ucred c = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
		char cbuf[CMSG_SPACE(sizeof c)] = {0};
		struct iovec iov = {"explicit", 8};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof c);
		memcpy(CMSG_DATA(cm), &c, sizeof c);
		if (sendmsg(sv[1], &mh, 0) != 8)
			_exit(1);
		c.pid = 0x3ffffff0;
		memcpy(CMSG_DATA(cm), &c, sizeof c);
		if (sendmsg(sv[1], &mh, 0) != -1 || errno != ESRCH)
			_exit(2);
		_exit(0);
	}
	for (int i = 0; i < 2; i++) {
		char buf[16] = {0}, cbuf[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {buf, sizeof buf};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
		int n = recvmsg(sv[0], &mh, 0);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		struct ucred c = {0};
		if (cm && cm->cmsg_type == SCM_CREDENTIALS)
			memcpy(&c, CMSG_DATA(cm), sizeof c);
		TRUE(i == 0 ? "credentials of a plain message" : "SCM_CREDENTIALS sent",
		     n == 8 && c.pid == pid && c.uid == getuid() && c.gid == getgid());
	}
	TRUE("SCM_CREDENTIALS of no process is ESRCH", wait_ok(pid));
	close(sv[0]);
	close(sv[1]);
}

static void dgram_paths(void)
{
	unlink("dgram-srv");
	unlink("dgram-cli");
	struct sockaddr_un sa, ca, from;
	socklen_t sn = path_addr(&sa, "dgram-srv"), cn = path_addr(&ca, "dgram-cli");
	int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
	OK("bind server path", bind(s, (struct sockaddr *)&sa, sn));
	OK("bind client path", bind(c, (struct sockaddr *)&ca, cn));
	pid_t pid = fork();
	if (pid == 0) {
		char buf[64];
		struct sockaddr_un f;
		socklen_t fl = sizeof f;
		int n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&f, &fl);
		if (n != 5 || strcmp(f.sun_path, "dgram-cli") != 0)
			_exit(1);
		if (sendto(s, "pong", 4, 0, (struct sockaddr *)&f, fl) != 4)
			_exit(2);
		_exit(0);
	}
	OK("sendto server", sendto(c, "ping!", 5, 0, (struct sockaddr *)&sa, sn));
	char buf[16] = {0};
	socklen_t fl = sizeof from;
	int n = recvfrom(c, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
	TRUE("reply from the server's path", n == 4 && strcmp(buf, "pong") == 0 && strcmp(from.sun_path, "dgram-srv") == 0 && fl == sn);
	TRUE("server saw the client's path", wait_ok(pid));
	close(s);
	close(c);
	unlink("dgram-srv");
	unlink("dgram-cli");
}

static void abstract_stream(void)
{
	struct sockaddr_un a;
	socklen_t n = abstract_addr(&a, "sissim-unixsock");
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	OK("bind abstract", bind(l, (struct sockaddr *)&a, n));
	OK("listen", listen(l, 8));
	char want[80];
	snprintf(want, sizeof want, " @%s\n", a.sun_path + 1);
	FILE *pn = fopen("/proc/net/unix", "r");
	int seen = 0;
	char line[512];
	while (pn && fgets(line, sizeof line, pn)) {
		size_t ll = strlen(line), wl = strlen(want);
		if (ll >= wl && strcmp(line + ll - wl, want) == 0 && strstr(line, " 00010000 0001 01 "))
			seen = 1;
	}
	if (pn)
		fclose(pn);
	TRUE("listener in /proc/net/unix", seen);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&a, n) != 0)
			_exit(1);
		struct sockaddr_un p;
		socklen_t pl = sizeof p;
		if (getpeername(c, (struct sockaddr *)&p, &pl) != 0 || pl != n || memcmp(&p, &a, n) != 0)
			_exit(2);
		char buf[16];
		if (write(c, "hello", 5) != 5 || read(c, buf, sizeof buf) != 5 || memcmp(buf, "HELLO", 5) != 0)
			_exit(3);
		_exit(0);
	}
	int s = accept(l, NULL, NULL);
	TRUE("accept", s >= 0);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
	TRUE("SO_PEERCRED is the client", cr.pid == pid);
	char buf[16];
	int k = read(s, buf, sizeof buf);
	for (int i = 0; i < k; i++)
		buf[i] -= 'a' - 'A';
	write(s, buf, k);
	TRUE("client saw its peer's abstract name and the reply", wait_ok(pid));
	close(s);
	close(l);
}

static void seqpacket(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	static char big[1000];
	memset(big, 'b', sizeof big);
	send(sv[0], "a", 1, 0);
	send(sv[0], big, 100, 0);
	send(sv[0], big, 1000, 0);
	char buf[2000];
	int a = recv(sv[1], buf, sizeof buf, 0), b = recv(sv[1], buf, sizeof buf, 0);
	struct iovec iov = {buf, 10};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int c = recvmsg(sv[1], &mh, 0);
	TRUE("seqpacket keeps message boundaries", a == 1 && b == 100 && c == 10 && (mh.msg_flags & MSG_TRUNC));
	close(sv[0]);
	TRUE("seqpacket end of stream", recv(sv[1], buf, sizeof buf, 0) == 0);
	close(sv[1]);
}

static void flow(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	enum { total = 1 << 20 };
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		static char chunk[65536];
		for (int i = 0; i < (int)sizeof chunk; i++)
			chunk[i] = (char)i;
		for (int sent = 0; sent < total;) {
			int n = write(sv[1], chunk, sizeof chunk);
			if (n <= 0)
				_exit(1);
			sent += n;
		}
		_exit(0);
	}
	close(sv[1]);
	long got = 0, sum = 0;
	char buf[3000];
	int n;
	while ((n = read(sv[0], buf, sizeof buf)) > 0) {
		for (int i = 0; i < n; i++)
			sum += (unsigned char)buf[i];
		got += n;
	}
	TRUE("1 MiB through a blocking stream", got == total && sum == 127.5 * total && wait_ok(pid));
	close(sv[0]);
}

static void readiness(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct pollfd pf = {.fd = sv[1], .events = POLLIN | POLLOUT | POLLRDHUP};
	TRUE("writable, not readable", poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT);
	write(sv[0], "x", 1);
	TRUE("readable", poll(&pf, 1, 0) == 1 && pf.revents == (POLLIN | POLLOUT));
	shutdown(sv[0], SHUT_WR);
	poll(&pf, 1, 0);
	TRUE("read hang-up after the peer's shutdown", pf.revents == (POLLIN | POLLOUT | POLLRDHUP));
	char c;
	read(sv[1], &c, 1);
	TRUE("end of stream after the data", read(sv[1], &c, 1) == 0);
	TRUE("the other way still works", write(sv[1], "y", 1) == 1 && read(sv[0], &c, 1) == 1 && c == 'y');
	close(sv[0]);
	poll(&pf, 1, 0);
	TRUE("hang-up after the peer's close", (pf.revents & (POLLHUP | POLLIN | POLLRDHUP)) == (POLLHUP | POLLIN | POLLRDHUP));
	close(sv[1]);
}

/* cycles makes n unreachable cycles of sockets: each socket of a pair
 * is sent through the pair itself, then both descriptors are closed. Only
 * a garbage collector (Linux's unix_gc) can free them. */
static int cycles(int n)
{
	for (int i = 0; i < n; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0, sv) != 0)
			return 1;
		if (send_fds(sv[0], sv, 2) != 1 || send_fds(sv[1], sv, 1) != 1)
			return 1;
		close(sv[0]);
		close(sv[1]);
	}
	printf("made %d cycles\n", n);
	return 0;
}

/* vectors: writev, readv, sendmsg and recvmsg scatter and gather across
 * many small buffers, on a stream and on a datagram socket. */
static void vectors(void)
{
	char src[10], dst[10], big[16];
	struct iovec out[10], in[3];
	int sv[2];

	for (int i = 0; i < 10; i++) {
		src[i] = 'a' + i;
		out[i] = (struct iovec){&src[i], 1};
	}
	in[0] = (struct iovec){dst, 2};
	in[1] = (struct iovec){dst + 2, 5};
	in[2] = (struct iovec){dst + 7, 3};
	for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++) {
		socketpair(AF_UNIX, type, 0, sv);
		memset(dst, 0, sizeof dst);
		TRUE(type == SOCK_STREAM ? "writev of ten 1-byte buffers, stream" : "writev of ten 1-byte buffers, datagram",
		     writev(sv[0], out, 10) == 10);
		TRUE("readv into three buffers", readv(sv[1], in, 3) == 10 && memcmp(dst, src, 10) == 0);
		struct msghdr m = {.msg_iov = out + 3, .msg_iovlen = 7};
		TRUE("sendmsg of seven buffers", sendmsg(sv[0], &m, 0) == 7);
		struct iovec one = {big, sizeof big};
		struct msghdr r = {.msg_iov = &one, .msg_iovlen = 1};
		TRUE("recvmsg gathers them", recvmsg(sv[1], &r, 0) == 7 && memcmp(big, src + 3, 7) == 0);
		close(sv[0]);
		close(sv[1]);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc == 3 && strcmp(argv[1], "cycles") == 0)
		return cycles(atoi(argv[2]));
	rights();
	creds();
	dgram_paths();
	abstract_stream();
	seqpacket();
	flow();
	readiness();
	vectors();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
