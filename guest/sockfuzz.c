/*
 * sockfuzz - random socket system calls with random arguments.
 *
 *   sockfuzz SEED N
 *
 * Opens non-blocking AF_UNIX pairs (stream, datagram, seqpacket), TCP and
 * UDP sockets on loopback (one listening) and a pipe, then makes N calls
 * from socket, socketpair, bind, listen, accept4, connect, shutdown,
 * getsockname, getpeername, sendto, recvfrom, sendmsg, recvmsg, sendmmsg,
 * recvmmsg, setsockopt, getsockopt, ioctl, close and dup, choosing each
 * argument at random: a descriptor of the set or any number, a valid
 * buffer, NULL, an unmapped or a kernel address, random lengths, flags,
 * levels, options and control messages. Every receive carries
 * MSG_DONTWAIT, so nothing waits. It prints "done N" and exits 0: the test
 * is that the kernel answers every call (with an error or not) and stays
 * sound.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static uint64_t state;

static uint64_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static unsigned pick(unsigned n) { return (unsigned)(rnd() % n); }

enum { nfds = 16 };
static int fds[nfds];
static unsigned char buf[4096] __attribute__((aligned(16)));

static long fd_arg(void)
{
	switch (pick(8)) {
	case 0:
		return (long)(int)rnd();
	case 1:
		return -1;
	default:
		return fds[pick(nfds)];
	}
}

/* ptr_arg returns a buffer, NULL, an unmapped or a kernel address, or
 * garbage; the buffer is filled with random bytes, sometimes shaped as a
 * msghdr, an iovec or a sockaddr. */
static long ptr_arg(void)
{
	switch (pick(10)) {
	case 0:
		return 0;
	case 1:
		return 8;
	case 2:
		return (long)0xffff800000000000ul;
	case 3:
		return (long)rnd();
	}
	for (unsigned i = 0; i < sizeof buf; i += 8) {
		uint64_t v = rnd();
		memcpy(buf + i, &v, 8);
	}
	switch (pick(4)) {
	case 0: { /* a msghdr with sane pieces */
		struct iovec *iov = (struct iovec *)(buf + 1024);
		iov[0] = (struct iovec){buf + 2048, pick(2048)};
		struct msghdr *m = (struct msghdr *)buf;
		m->msg_name = pick(2) ? buf + 512 : NULL;
		m->msg_namelen = pick(130);
		m->msg_iov = iov;
		m->msg_iovlen = pick(3);
		m->msg_control = pick(2) ? buf + 3072 : NULL;
		m->msg_controllen = pick(600);
		struct cmsghdr *c = (struct cmsghdr *)(buf + 3072);
		c->cmsg_len = pick(64);
		c->cmsg_level = pick(2) ? SOL_SOCKET : (int)rnd();
		c->cmsg_type = 1 + pick(3);
		int *f = (int *)(buf + 3072 + 16);
		for (int i = 0; i < 8; i++)
			f[i] = pick(2) ? fds[pick(nfds)] : (int)rnd();
		break;
	}
	case 1: { /* a sockaddr of a family we have */
		unsigned short fam = (unsigned short[]){AF_UNIX, AF_INET, AF_INET6, AF_UNSPEC}[pick(4)];
		memcpy(buf, &fam, 2);
		if (fam == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)buf;
			a->sin_addr.s_addr = htonl(pick(2) ? INADDR_LOOPBACK : 0x0a00020f);
		}
		break;
	}
	}
	return (long)buf;
}

static long len_arg(void)
{
	switch (pick(6)) {
	case 0:
		return (long)rnd();
	case 1:
		return -1;
	case 2:
		return 0;
	default:
		return pick(200);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sockfuzz SEED N\n");
		return 2;
	}
	state = strtoull(argv[1], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
	long n = atol(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	int sv[2], k = 0;
	int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 3; i++) {
		socketpair(AF_UNIX, types[i] | SOCK_NONBLOCK, 0, sv);
		fds[k++] = sv[0];
		fds[k++] = sv[1];
	}
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	bind(l, (struct sockaddr *)&lo, sizeof lo);
	listen(l, 4);
	socklen_t ln = sizeof lo;
	getsockname(l, (struct sockaddr *)&lo, &ln);
	fds[k++] = l;
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	connect(c, (struct sockaddr *)&lo, sizeof lo);
	fds[k++] = c;
	fds[k++] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[k++] = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[k++] = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int p[2];
	pipe(p);
	fds[k++] = p[0];
	fds[k++] = p[1];
	while (k < nfds)
		fds[k++] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	static const long nrs[] = {SYS_socket, SYS_socketpair, SYS_bind, SYS_listen, SYS_accept4, SYS_connect,
				   SYS_shutdown, SYS_getsockname, SYS_getpeername, SYS_sendto, SYS_recvfrom,
				   SYS_sendmsg, SYS_recvmsg, SYS_sendmmsg, SYS_recvmmsg, SYS_setsockopt,
				   SYS_getsockopt, SYS_ioctl, SYS_close, SYS_dup};
	static const unsigned long reqs[] = {FIONREAD, FIONBIO, TIOCOUTQ, SIOCGIFCONF, SIOCGIFADDR, SIOCGIFFLAGS,
					     SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFHWADDR, SIOCGIFMTU, SIOCGIFNETMASK, FIOCLEX};
	for (long i = 0; i < n; i++) {
		long nr = nrs[pick(sizeof nrs / sizeof nrs[0])];
		long a[6] = {fd_arg(), ptr_arg(), len_arg(), (long)rnd(), ptr_arg(), len_arg()};
		switch (nr) {
		case SYS_socket:
		case SYS_socketpair:
			a[0] = pick(3) ? (long[]){AF_UNIX, AF_INET, AF_INET6}[pick(3)] : (long)(int)rnd();
			a[1] = pick(4) ? (long)(types[pick(3)] | SOCK_NONBLOCK) : (long)(int)rnd();
			a[2] = pick(4) ? 0 : (long)(int)rnd();
			if (nr == SYS_socketpair)
				a[3] = ptr_arg();
			break;
		case SYS_recvfrom:
		case SYS_recvmsg:
		case SYS_recvmmsg:
			a[nr == SYS_recvfrom ? 3 : (nr == SYS_recvmsg ? 2 : 3)] |= MSG_DONTWAIT;
			if (nr == SYS_recvmmsg)
				a[2] = pick(4), a[4] = 0;
			else if (nr == SYS_recvmsg)
				a[2] = (a[2] & 0x7fffffff) | MSG_DONTWAIT;
			break;
		case SYS_sendto:
			a[3] = (a[3] & 0x7fffffff) | MSG_DONTWAIT;
			break;
		case SYS_sendmsg:
			a[2] = (pick(2) ? 0 : a[2] & 0x7fffffff) | MSG_DONTWAIT;
			break;
		case SYS_sendmmsg:
			a[2] = pick(4);
			a[3] = (a[3] & 0x7fffffff) | MSG_DONTWAIT;
			break;
		case SYS_setsockopt:
		case SYS_getsockopt:
			a[1] = pick(2) ? (long[]){SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6}[pick(4)] : (long)(int)rnd();
			a[2] = pick(4) ? (long)pick(70) : (long)(int)rnd();
			a[3] = ptr_arg();
			if (nr == SYS_getsockopt) {
				a[4] = ptr_arg();
				if (a[4] == (long)buf)
					*(int *)buf = (int)len_arg();
			} else
				a[4] = len_arg();
			break;
		case SYS_ioctl:
			a[1] = pick(6) ? (long)reqs[pick(sizeof reqs / sizeof reqs[0])] : (long)rnd();
			a[2] = ptr_arg();
			break;
		case SYS_close:
		case SYS_dup:
			if (a[0] >= 0 && a[0] <= 2) /* keep the standard streams */
				a[0] = -1;
			break;
		case SYS_listen:
			a[1] = (long)(int)rnd();
			break;
		case SYS_accept4:
			a[3] = pick(2) ? SOCK_NONBLOCK : (long)(int)rnd();
			break;
		}
		if ((nr == SYS_connect || nr == SYS_accept4) && a[0] >= 0 && a[0] < 1024) {
			/* never wait: connect and accept only non-blocking sockets */
			int fl = 1;
			ioctl((int)a[0], FIONBIO, &fl);
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		/* Descriptors the calls made (or received) go from time to time. */
		if (i % 16 == 15)
			for (int fd = 3 + nfds + 8; fd < 160; fd++)
				close(fd);
	}
	printf("done %ld\n", n);
	return 0;
}
