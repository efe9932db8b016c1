/*
 * sockerr - socket calls on bad and edge-case input, for differential tests.
 *
 * Prints one line per call, "<case>: <result>", where the result is the
 * return value (and what it reports) or the errno's name, and exits 0. The
 * output has no pids, ports, inode numbers or times, so sissim and
 * qemu-aarch64-static (whose socket calls are the host kernel's) must print
 * the same: ENOTSOCK, EBADF, EINVAL on bad address lengths, EFAULT on bad
 * pointers, EADDRINUSE, ECONNREFUSED, EPROTOTYPE, EPIPE and SIGPIPE,
 * EISCONN, ENOTCONN, EAGAIN on non-blocking sockets, option values and
 * sizes, the address formats of AF_UNIX, MSG_TRUNC, SCM_RIGHTS truncation,
 * FIONREAD/FIONBIO, and the loopback interface's SIOCGIF* answers.
 *
 * It runs in its working directory (which must be writable) and uses only
 * loopback, ephemeral ports and abstract names made unique by the pid.
 * With the argument "strict" it adds the cases where qemu-user itself
 * differs from Linux (it rewrites socket types, option lengths and control
 * messages); those are compared with the same source built for the host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int sigpipes;
static int strict; /* argument "strict": also the cases qemu-user gets wrong */
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }

/* An unmapped address (through a volatile, so that the compiler does not
 * warn about the calls that pass it). */
static void *volatile bad_ptr = (void *)8;
#define BAD bad_ptr

/* show prints a call's outcome: its value or its errno's name. */
static void show(const char *name, long r)
{
	if (r < 0)
		printf("%s: %s\n", name, strerrorname_np(errno));
	else
		printf("%s: %ld\n", name, r);
	fflush(stdout);
}

#define T(name, call) do { errno = 0; show(name, (long)(call)); } while (0)

static struct sockaddr_in lo4(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		return -1;
	return ntohs(a.sin_port);
}

static socklen_t un_addr(struct sockaddr_un *a, const char *path, int abstract)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (abstract) {
		snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "sissim-sockerr-%d-%s", getpid(), path);
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a->sun_path + 1);
	}
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static void creation(void)
{
	if (strict) {
		/* qemu-user drops unknown type flags instead of passing them on. */
		T("socket bad flags", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
		T("socket unix type 99", socket(AF_UNIX, 99, 0));
	}
	T("socket family 9999", socket(9999, SOCK_STREAM, 0));
	T("socket family -1", socket(-1, SOCK_STREAM, 0));
	T("socket unix type 11", socket(AF_UNIX, 11, 0));
	T("socket unix rdm", socket(AF_UNIX, SOCK_RDM, 0));
	T("socket unix protocol 5", socket(AF_UNIX, SOCK_STREAM, 5) >= 0 ? 0 : -1);
	T("socket inet stream udp", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	T("socket inet dgram tcp", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	T("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}));
	T("socketpair bad pointer", socketpair(AF_UNIX, SOCK_STREAM, 0, BAD));
	int sv[2];
	T("socketpair unix flags", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
	T("  fd flags cloexec", fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	T("  status nonblock", (fcntl(sv[1], F_GETFL) & O_NONBLOCK) != 0);
	close(sv[0]);
	close(sv[1]);
}

static void notsock(void)
{
	int p[2];
	pipe(p);
	struct sockaddr_in a = lo4(1);
	socklen_t n = sizeof a;
	int v = 1;
	char c;
	T("bind pipe", bind(p[0], (struct sockaddr *)&a, sizeof a));
	T("listen pipe", listen(p[0], 1));
	T("accept pipe", accept(p[0], NULL, NULL));
	T("connect pipe", connect(p[0], (struct sockaddr *)&a, sizeof a));
	T("connect pipe bad address", connect(p[0], BAD, sizeof a));
	T("getsockname pipe", getsockname(p[0], (struct sockaddr *)&a, &n));
	T("getpeername pipe", getpeername(p[0], (struct sockaddr *)&a, &n));
	T("send pipe", send(p[1], "x", 1, 0));
	T("recv pipe", recv(p[0], &c, 1, MSG_DONTWAIT));
	T("setsockopt pipe", setsockopt(p[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	T("getsockopt pipe", getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &n));
	T("shutdown pipe", shutdown(p[0], SHUT_RD));
	T("bind -1", bind(-1, (struct sockaddr *)&a, sizeof a));
	T("connect 999", connect(999, (struct sockaddr *)&a, sizeof a));
	close(p[0]);
	close(p[1]);
}

static void lengths(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int s6 = socket(AF_INET6, SOCK_STREAM, 0);
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_in a = lo4(0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	char big[256] = {0};
	struct sockaddr_un ua;
	T("bind inet len 4", bind(s, (struct sockaddr *)&a, 4));
	T("bind inet len 200", bind(s, (struct sockaddr *)big, 200));
	T("bind inet len -1", bind(s, (struct sockaddr *)&a, -1));
	T("connect inet len 0", connect(s, (struct sockaddr *)&a, 0));
	T("bind inet6 with sockaddr_in", bind(s6, (struct sockaddr *)&a, sizeof a));
	T("bind inet with sockaddr_in6", bind(s, (struct sockaddr *)&a6, sizeof a6));
	T("bind unix len 1", bind(u, (struct sockaddr *)&ua, 1));
	memset(&ua, 0, sizeof ua);
	ua.sun_family = AF_UNIX;
	strcpy(ua.sun_path, "x");
	T("bind unix len 111", bind(u, (struct sockaddr *)&ua, 111));
	ua.sun_family = AF_INET;
	T("bind unix family inet", bind(u, (struct sockaddr *)&ua, sizeof ua));
	ua.sun_family = AF_UNIX;
	T("connect unix len 2", connect(u, (struct sockaddr *)&ua, 2));
	T("bind inet bad pointer", bind(s, BAD, sizeof a));
	T("connect inet bad pointer", connect(s, BAD, sizeof a));
	socklen_t n = sizeof a;
	T("getsockname bad address", getsockname(s, BAD, &n));
	T("getsockname bad length", getsockname(s, (struct sockaddr *)&a, BAD));
	n = -1;
	T("getsockname negative length", getsockname(s, (struct sockaddr *)&a, &n));
	n = 3;
	T("getsockname short length", getsockname(u, (struct sockaddr *)&ua, &n));
	T("  reported length", n);
	int v;
	n = sizeof v;
	T("getsockopt bad optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, BAD));
	T("getsockopt bad optval", getsockopt(s, SOL_SOCKET, SO_TYPE, BAD, &n));
	T("setsockopt bad optval", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, BAD, sizeof v));
	if (strict) /* qemu-user takes optlen as unsigned */
		T("setsockopt negative optlen", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, -1));
	T("setsockopt short optlen", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	n = -1;
	T("getsockopt negative optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &n));
	close(s);
	close(s6);
	close(u);
}

static void inuse(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = lo4(0);
	T("tcp bind ephemeral", bind(a, (struct sockaddr *)&sa, sizeof sa));
	sa = lo4(port_of(a));
	T("tcp bind taken port", bind(b, (struct sockaddr *)&sa, sizeof sa));
	T("tcp bind twice", bind(a, (struct sockaddr *)&sa, sizeof sa));
	/* Bound, not listening: a connect is refused. */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	T("tcp connect bound port", connect(c, (struct sockaddr *)&sa, sizeof sa));
	close(a);
	close(b);
	close(c);
	a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	sa = lo4(0);
	bind(a, (struct sockaddr *)&sa, sizeof sa);
	sa = lo4(port_of(a));
	T("udp bind taken port", bind(b, (struct sockaddr *)&sa, sizeof sa));
	close(a);
	close(b);

	struct sockaddr_un ua;
	socklen_t n;
	unlink("sock-a");
	int f = open("plain-file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	close(f);
	a = socket(AF_UNIX, SOCK_STREAM, 0), b = socket(AF_UNIX, SOCK_STREAM, 0);
	n = un_addr(&ua, "sock-a", 0);
	T("unix bind path", bind(a, (struct sockaddr *)&ua, n));
	struct stat st;
	T("  node is a socket", stat("sock-a", &st) == 0 && S_ISSOCK(st.st_mode));
	T("  open node", open("sock-a", O_RDONLY));
	T("unix bind taken path", bind(b, (struct sockaddr *)&ua, n));
	T("unix bind again", bind(a, (struct sockaddr *)&ua, n));
	n = un_addr(&ua, "plain-file", 0);
	T("unix bind existing file", bind(b, (struct sockaddr *)&ua, n));
	T("unix connect regular file", connect(b, (struct sockaddr *)&ua, n));
	n = un_addr(&ua, "no-such-file", 0);
	T("unix connect missing path", connect(b, (struct sockaddr *)&ua, n));
	n = un_addr(&ua, "no-such-dir/x", 0);
	T("unix bind missing dir", bind(b, (struct sockaddr *)&ua, n));
	n = un_addr(&ua, "sock-a", 0);
	T("unix connect not listening", connect(b, (struct sockaddr *)&ua, n));
	close(a);
	T("unix connect closed socket's path", connect(b, (struct sockaddr *)&ua, n));
	T("unix bind closed socket's path", bind(b, (struct sockaddr *)&ua, n));
	close(b);
	unlink("sock-a");
	unlink("plain-file");

	a = socket(AF_UNIX, SOCK_DGRAM, 0), b = socket(AF_UNIX, SOCK_DGRAM, 0);
	n = un_addr(&ua, "abs", 1);
	T("abstract bind", bind(a, (struct sockaddr *)&ua, n));
	T("abstract bind taken", bind(b, (struct sockaddr *)&ua, n));
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	T("abstract connect wrong type", connect(c, (struct sockaddr *)&ua, n));
	n = un_addr(&ua, "none", 1);
	T("abstract connect missing", connect(c, (struct sockaddr *)&ua, n));
	close(a);
	close(b);
	close(c);
}

static void names(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ua;
	socklen_t n = sizeof ua;
	T("unbound getsockname", getsockname(s, (struct sockaddr *)&ua, &n));
	T("  length", n);
	n = 2;
	memset(&ua, 0, sizeof ua);
	ua.sun_family = AF_UNIX;
	T("autobind", bind(s, (struct sockaddr *)&ua, n));
	n = sizeof ua;
	getsockname(s, (struct sockaddr *)&ua, &n);
	T("  length", n);
	T("  abstract", ua.sun_path[0] == 0);
	T("autobind again", bind(s, (struct sockaddr *)&ua, 2));
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink("sock-n");
	n = un_addr(&ua, "sock-n", 0);
	bind(s, (struct sockaddr *)&ua, n + 5); /* a longer length: the path ends at its NUL */
	n = sizeof ua;
	T("path getsockname", getsockname(s, (struct sockaddr *)&ua, &n));
	T("  length", n);
	printf("  path: %s\n", ua.sun_path);
	T("getpeername unconnected", getpeername(s, (struct sockaddr *)&ua, &n));
	close(s);
	unlink("sock-n");
}

static void streams(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0);
	char c = 'x';
	struct sockaddr_un ua;
	socklen_t n;
	T("listen unbound", listen(s, 1));
	T("listen dgram", listen(d, 1));
	T("accept not listening", accept(s, NULL, NULL));
	T("accept dgram", accept(d, NULL, NULL));
	T("recv unconnected stream", recv(s, &c, 1, MSG_DONTWAIT));
	T("send unconnected stream", send(s, &c, 1, MSG_NOSIGNAL));
	T("send unconnected dgram", send(d, &c, 1, 0));
	T("shutdown unconnected unix", shutdown(s, SHUT_RDWR));
	T("shutdown bad how", shutdown(s, 5));
	unlink("sock-l");
	n = un_addr(&ua, "sock-l", 0);
	T("bind shut-down socket", bind(s, (struct sockaddr *)&ua, n));
	T("listen shut-down socket", listen(s, 1));
	int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
	T("connect to shut-down listener", connect(c0, (struct sockaddr *)&ua, n));
	close(c0);
	close(s);
	unlink("sock-l");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(s, (struct sockaddr *)&ua, n);
	T("listen", listen(s, 5));
	T("listen again", listen(s, 8));
	int c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	T("connect", connect(c1, (struct sockaddr *)&ua, n));
	T("connect listening socket", connect(s, (struct sockaddr *)&ua, n));
	T("connect again", connect(c1, (struct sockaddr *)&ua, n));
	T("sendto on connected stream", sendto(c1, &c, 1, 0, (struct sockaddr *)&ua, n));
	int nb = 1;
	T("FIONBIO listener", ioctl(s, FIONBIO, &nb));
	int a1 = accept(s, NULL, NULL);
	T("accept", a1 >= 0 ? 0 : -1);
	T("accept empty non-blocking", accept(s, NULL, NULL));
	struct sockaddr_un pa;
	n = sizeof pa;
	T("client getpeername", getpeername(c1, (struct sockaddr *)&pa, &n));
	printf("  path: %s\n", pa.sun_path);
	n = sizeof pa;
	T("accepted getsockname", getsockname(a1, (struct sockaddr *)&pa, &n));
	n = sizeof pa;
	T("accepted getpeername", getpeername(a1, (struct sockaddr *)&pa, &n));
	T("recv empty MSG_DONTWAIT", recv(a1, &c, 1, MSG_DONTWAIT));
	T("send 5", send(c1, "hello", 5, 0));
	int q;
	T("FIONREAD", ioctl(a1, FIONREAD, &q));
	T("  bytes", q);
	char buf[8];
	T("recv bad buffer", recv(a1, BAD, 5, 0));
	T("send bad buffer", send(c1, BAD, 5, 0));
	T("recv MSG_PEEK", recv(a1, buf, 3, MSG_PEEK));
	T("recv 8", recv(a1, buf, 8, 0));
	struct ucred cr;
	n = sizeof cr;
	T("SO_PEERCRED", getsockopt(a1, SOL_SOCKET, SO_PEERCRED, &cr, &n));
	T("  same pid", cr.pid == getpid());
	T("  uid", cr.uid);
	int v;
	n = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &n);
	T("SO_ACCEPTCONN listener", v);
	getsockopt(a1, SOL_SOCKET, SO_TYPE, &v, &n);
	T("SO_TYPE", v);
	getsockopt(a1, SOL_SOCKET, SO_DOMAIN, &v, &n);
	T("SO_DOMAIN", v);
	getsockopt(a1, SOL_SOCKET, SO_SNDBUF, &v, &n);
	T("SO_SNDBUF default", v);
	v = 10000;
	setsockopt(a1, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	n = sizeof v;
	getsockopt(a1, SOL_SOCKET, SO_SNDBUF, &v, &n);
	T("SO_SNDBUF 10000", v);
	v = 1;
	setsockopt(a1, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
	getsockopt(a1, SOL_SOCKET, SO_SNDBUF, &v, &n);
	T("SO_SNDBUF 1", v);
	n = 2;
	T("getsockopt short", getsockopt(a1, SOL_SOCKET, SO_TYPE, &v, &n));
	T("  optlen", n);
	n = sizeof v;
	T("getsockopt unknown", getsockopt(a1, SOL_SOCKET, 9999, &v, &n));
	if (strict) /* qemu-user answers unknown levels itself */
		T("getsockopt level 999", getsockopt(a1, 999, 1, &v, &n));
	T("setsockopt level tcp on unix", setsockopt(a1, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
	n = sizeof cr;
	getsockopt(d, SOL_SOCKET, SO_PEERCRED, &cr, &n);
	printf("unconnected SO_PEERCRED: pid %d uid %d gid %d\n", cr.pid, cr.uid, cr.gid);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 2000000};
	T("SO_RCVTIMEO bad usec", setsockopt(a1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	tv = (struct timeval){.tv_sec = 0, .tv_usec = 20000};
	T("SO_RCVTIMEO 20ms", setsockopt(a1, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	T("recv times out", recv(a1, buf, 1, 0));
	n = sizeof tv;
	getsockopt(a1, SOL_SOCKET, SO_RCVTIMEO, &tv, &n);
	printf("  SO_RCVTIMEO: %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);

	/* SIGPIPE and EPIPE. */
	signal(SIGPIPE, on_sigpipe);
	T("shutdown write", shutdown(c1, SHUT_WR));
	T("send after shutdown", send(c1, "x", 1, 0));
	T("  sigpipes", sigpipes);
	T("recv after peer shutdown", recv(a1, buf, 8, 0));
	T("send MSG_NOSIGNAL after shutdown", send(c1, "x", 1, MSG_NOSIGNAL));
	T("  sigpipes", sigpipes);
	T("send to client", send(a1, "yz", 2, 0));
	close(c1);
	T("write to closed peer", write(a1, "x", 1));
	T("  sigpipes", sigpipes);
	close(a1);

	/* Unread data at close resets the peer. */
	c1 = socket(AF_UNIX, SOCK_STREAM, 0);
	connect(c1, (struct sockaddr *)&ua, n = un_addr(&ua, "sock-l", 0));
	a1 = accept(s, NULL, NULL);
	send(c1, "abc", 3, 0);
	close(a1);
	T("recv after reset", recv(c1, buf, 8, 0));
	T("recv after reset again", recv(c1, buf, 8, 0));
	close(c1);
	close(s);
	close(d);
	unlink("sock-l");
	sigpipes = 0;
}

static void dgrams(void)
{
	int sv[2];
	char buf[16];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	T("dgram send 10", send(sv[0], "0123456789", 10, 0));
	T("dgram recv 3", recv(sv[1], buf, 3, 0));
	send(sv[0], "0123456789", 10, 0);
	T("dgram recv 3 MSG_TRUNC", recv(sv[1], buf, 3, MSG_TRUNC));
	send(sv[0], "0123456789", 10, 0);
	struct iovec iov = {buf, 4};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	T("dgram recvmsg 4", recvmsg(sv[1], &mh, 0));
	T("  msg_flags", mh.msg_flags);
	struct sockaddr_un from;
	socklen_t fl = 77;
	send(sv[0], "ab", 2, 0);
	T("dgram recvfrom unbound sender", recvfrom(sv[1], buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
	T("  fromlen untouched", fl);
	int q;
	send(sv[0], "abcdef", 6, 0);
	send(sv[0], "gh", 2, 0);
	ioctl(sv[1], FIONREAD, &q);
	T("dgram FIONREAD", q);
	recv(sv[1], buf, sizeof buf, 0);
	recv(sv[1], buf, sizeof buf, 0);
	/* A full queue (not to a connected-back peer) blocks senders. */
	int r = socket(AF_UNIX, SOCK_DGRAM, 0), w = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ua;
	socklen_t n = un_addr(&ua, "qlen", 1);
	bind(r, (struct sockaddr *)&ua, n);
	int sent = 0;
	while (sendto(w, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&ua, n) == 1 && sent < 1000)
		sent++;
	printf("dgram queue limit: %d, then %s\n", sent, strerrorname_np(errno));
	T("connect to queue", connect(w, (struct sockaddr *)&ua, n));
	struct pollfd pf = {.fd = w, .events = POLLOUT};
	T("poll full peer", poll(&pf, 1, 0));
	T("  revents", pf.revents);
	recv(r, buf, 1, 0);
	T("poll after a read", poll(&pf, 1, 0));
	int o = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t on = un_addr(&from, "other", 1);
	bind(o, (struct sockaddr *)&from, on);
	connect(o, (struct sockaddr *)&ua, n);
	T("sendto a socket connected elsewhere", sendto(w, "x", 1, 0, (struct sockaddr *)&from, on));
	close(r);
	T("send to closed peer", send(w, "x", 1, 0));
	T("send again", send(w, "x", 1, 0));
	close(w);
	close(o);
	close(sv[1]);
	T("socketpair send to closed", send(sv[0], "x", 1, 0));
	T("socketpair send again", send(sv[0], "x", 1, 0));
	close(sv[0]);

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	send(sv[0], "abcdef", 6, 0);
	send(sv[0], "gh", 2, 0);
	T("seqpacket recv 4", recv(sv[1], buf, 4, 0));
	T("seqpacket recv next", recv(sv[1], buf, 16, 0));
	signal(SIGPIPE, on_sigpipe);
	close(sv[1]);
	T("seqpacket send to closed", send(sv[0], "x", 1, 0));
	T("  sigpipes", sigpipes);
	T("seqpacket recv closed", recv(sv[0], buf, 16, 0));
	close(sv[0]);
	int sp = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	T("seqpacket send unconnected", send(sp, "x", 1, 0));
	T("seqpacket recv unconnected", recv(sp, buf, 1, 0));
	close(sp);
}

static void rights(void)
{
	int sv[2], p[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = {"r", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	int fds[3] = {p[0], p[1], p[0]};
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	T("sendmsg 3 fds", sendmsg(sv[0], &mh, 0));
	char small[CMSG_SPACE(3 * sizeof(int))];
	char c;
	struct iovec riov = {&c, 1};
	struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = small, .msg_controllen = CMSG_LEN(2 * sizeof(int))};
	if (!strict) /* qemu-user receives into a bigger buffer and never truncates */
		rh.msg_controllen = sizeof small;
	T("recvmsg room for 2", recvmsg(sv[1], &rh, MSG_CMSG_CLOEXEC));
	T("  msg_flags", rh.msg_flags);
	T("  controllen", rh.msg_controllen);
	cm = CMSG_FIRSTHDR(&rh);
	T("  cmsg_len", cm ? (long)cm->cmsg_len : -1);
	int got[2];
	memcpy(got, CMSG_DATA(cm), sizeof got);
	T("  first is cloexec", fcntl(got[0], F_GETFD));
	T("  second works", write(got[1], "z", 1));
	char z;
	T("  through the first", read(got[0], &z, 1));
	close(got[0]);
	close(got[1]);

	cm = CMSG_FIRSTHDR(&mh);
	fds[0] = 999;
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	T("sendmsg bad fd", sendmsg(sv[0], &mh, 0));
	if (strict) { /* qemu-user converts control messages itself, leniently */
		cm->cmsg_len = 8;
		T("sendmsg short cmsg_len", sendmsg(sv[0], &mh, 0));
		cm->cmsg_len = 1000;
		T("sendmsg long cmsg_len", sendmsg(sv[0], &mh, 0));
	}
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_type = 99;
	T("sendmsg unknown type", sendmsg(sv[0], &mh, 0));
	cm->cmsg_type = SCM_CREDENTIALS;
	T("sendmsg bad creds length", sendmsg(sv[0], &mh, 0));
	cm->cmsg_level = 999;
	T("sendmsg other level", sendmsg(sv[0], &mh, 0));
	recv(sv[1], &c, 1, 0);
	mh.msg_control = BAD;
	T("sendmsg bad control", sendmsg(sv[0], &mh, 0));
	T("sendmsg bad msghdr", sendmsg(sv[0], BAD, 0));
	mh.msg_control = NULL;
	mh.msg_controllen = 0;
	mh.msg_iovlen = 2000;
	T("sendmsg 2000 iovecs", sendmsg(sv[0], &mh, 0));
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void tcp(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = lo4(0);
	bind(l, (struct sockaddr *)&sa, sizeof sa);
	T("tcp listen", listen(l, 4));
	sa = lo4(port_of(l));
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	T("tcp connect non-blocking", connect(c, (struct sockaddr *)&sa, sizeof sa));
	struct pollfd pf = {.fd = c, .events = POLLOUT};
	T("  poll", poll(&pf, 1, 1000));
	T("  revents", pf.revents);
	int v;
	socklen_t n = sizeof v;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &n);
	T("  SO_ERROR", v);
	T("tcp connect again", connect(c, (struct sockaddr *)&sa, sizeof sa));
	int a = accept(l, NULL, NULL);
	T("tcp accept", a >= 0 ? 0 : -1);
	v = 1;
	T("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v));
	n = sizeof v;
	getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &n);
	T("  value", v);
	T("tcp getsockopt unknown", getsockopt(c, SOL_SOCKET, 9999, &v, &n));
	char buf[8];
	T("tcp recv empty", recv(a, buf, 8, MSG_DONTWAIT));
	send(c, "ping", 4, 0);
	poll(&(struct pollfd){.fd = a, .events = POLLIN}, 1, 1000);
	int q;
	T("tcp FIONREAD", ioctl(a, FIONREAD, &q));
	T("  bytes", q);
	T("tcp recv", recv(a, buf, 8, 0));
	signal(SIGPIPE, on_sigpipe);
	shutdown(c, SHUT_WR);
	T("tcp send after shutdown", send(c, "x", 1, 0));
	T("  sigpipes", sigpipes);
	poll(&(struct pollfd){.fd = a, .events = POLLIN}, 1, 1000);
	T("tcp recv after shutdown", recv(a, buf, 8, 0));
	int u = socket(AF_INET, SOCK_STREAM, 0);
	T("tcp shutdown unconnected", shutdown(u, SHUT_RD));
	T("tcp getpeername unconnected", getpeername(u, (struct sockaddr *)&sa, &n));
	T("tcp accept not listening", accept(u, NULL, NULL));
	T("udp listen", listen(socket(AF_INET, SOCK_DGRAM, 0), 1));
	close(u);
	close(a);
	close(c);
	close(l);
}

static void ioctls(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	T("SIOCGIFFLAGS lo", ioctl(s, SIOCGIFFLAGS, &ifr));
	T("  flags", ifr.ifr_flags & (IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_BROADCAST));
	T("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &ifr));
	T("  index", ifr.ifr_ifindex);
	T("SIOCGIFMTU lo", ioctl(s, SIOCGIFMTU, &ifr));
	T("  mtu", ifr.ifr_mtu);
	T("SIOCGIFADDR lo", ioctl(s, SIOCGIFADDR, &ifr));
	printf("  addr: %s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr));
	T("SIOCGIFNETMASK lo", ioctl(s, SIOCGIFNETMASK, &ifr));
	printf("  netmask: %s\n", inet_ntoa(((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr));
	T("SIOCGIFHWADDR lo", ioctl(s, SIOCGIFHWADDR, &ifr));
	T("  family", ifr.ifr_hwaddr.sa_family);
	ifr.ifr_ifindex = 1;
	T("SIOCGIFNAME 1", ioctl(s, SIOCGIFNAME, &ifr));
	printf("  name: %s\n", ifr.ifr_name);
	strcpy(ifr.ifr_name, "nosuch0");
	T("SIOCGIFFLAGS unknown", ioctl(s, SIOCGIFFLAGS, &ifr));
	T("SIOCGIFFLAGS bad pointer", ioctl(s, SIOCGIFFLAGS, BAD));
	int p[2];
	pipe(p);
	T("SIOCGIFFLAGS on a pipe", ioctl(p[0], SIOCGIFFLAGS, &ifr));
	int nb = 1, q;
	T("FIONBIO pipe", ioctl(p[0], FIONBIO, &nb));
	char c;
	T("  read", read(p[0], &c, 1));
	write(p[1], "abc", 3);
	T("FIONREAD pipe", ioctl(p[0], FIONREAD, &q));
	T("  bytes", q);
	nb = 0;
	ioctl(p[0], FIONBIO, &nb);
	T("  O_NONBLOCK cleared", fcntl(p[0], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	close(s);
}

static unsigned short csum(const void *p, int n)
{
	const unsigned short *w = p;
	unsigned long sum = 0;
	for (; n > 1; n -= 2)
		sum += *w++;
	if (n)
		sum += *(const unsigned char *)w;
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return ~sum;
}

/* raw: an ICMP echo through a raw socket on loopback (the socket hears its
 * own request and the reply, IP header first), and who may open one. */
static void raw(void)
{
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	printf("raw ICMP socket: %s\n", s >= 0 ? "ok" : strerror(errno));
	struct timeval tv = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct icmphdr h = {.type = ICMP_ECHO};
	h.un.echo.id = htons(7);
	h.un.echo.sequence = htons(1);
	h.checksum = csum(&h, sizeof h);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	printf("sendto: %zd\n", sendto(s, &h, sizeof h, 0, (struct sockaddr *)&to, sizeof to));
	for (int i = 0; i < 2; i++) {
		unsigned char buf[128];
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			printf("recvfrom: %s\n", strerror(errno));
			break;
		}
		struct iphdr *ip = (struct iphdr *)buf;
		struct icmphdr *r = (struct icmphdr *)(buf + ip->ihl * 4);
		printf("%zd bytes from %s: IPv%d protocol %d, ICMP type %d id %d seq %d\n", n, inet_ntoa(from.sin_addr),
		       ip->version, ip->protocol, r->type, ntohs(r->un.echo.id), ntohs(r->un.echo.sequence));
	}
	close(s);
	printf("protocol 0: %s\n", socket(AF_INET, SOCK_RAW, 0) < 0 ? strerror(errno) : "ok");
	fflush(stdout);
	if (fork() == 0) {
		if (setuid(1000) == 0)
			printf("as uid 1000: %s\n", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) < 0 ? strerror(errno) : "ok");
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "raw") == 0) {
		raw();
		return 0;
	}
	strict = argc > 1 && strcmp(argv[1], "strict") == 0;
	creation();
	notsock();
	lengths();
	inuse();
	names();
	streams();
	dgrams();
	rights();
	tcp();
	ioctls();
	return 0;
}
