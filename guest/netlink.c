/*
 * netlink - what a program learns of the machine's network through
 * NETLINK_ROUTE: glibc's getifaddrs and if_nameindex (both netlink
 * dumps), then raw requests: a dump of the routes, RTM_GETLINK of one
 * interface by index, a request for an unknown interface, a change the
 * kernel refuses, an acknowledged request, a receive into a short buffer
 * (MSG_TRUNC), and the socket's port id.
 *
 * Usage: netlink
 * Output depends only on the machine's network configuration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *addr(const struct sockaddr *sa, char *buf, size_t n)
{
	if (sa == NULL)
		return "-";
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, n);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, n);
	snprintf(buf, n, "family %d", sa->sa_family);
	return buf;
}

static void ifaddrs(void)
{
	struct ifaddrs *ifa, *p;
	char a[64], m[64];

	if (getifaddrs(&ifa) != 0) {
		printf("getifaddrs: %s\n", strerror(errno));
		return;
	}
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr != NULL && p->ifa_addr->sa_family == AF_PACKET) {
			printf("ifaddr %s packet flags %#x\n", p->ifa_name, p->ifa_flags);
			continue;
		}
		printf("ifaddr %s %s/%s flags %#x\n", p->ifa_name, addr(p->ifa_addr, a, sizeof a),
		       addr(p->ifa_netmask, m, sizeof m), p->ifa_flags);
	}
	freeifaddrs(ifa);
}

static void nameindex(void)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	char name[IF_NAMESIZE];

	if (ni == NULL) {
		printf("if_nameindex: %s\n", strerror(errno));
		return;
	}
	for (p = ni; p->if_index != 0; p++)
		printf("index %u %s\n", p->if_index, p->if_name);
	if_freenameindex(ni);
	printf("if_nametoindex eth0 %u\n", if_nametoindex("eth0"));
	printf("if_indextoname 1 %s\n", if_indextoname(1, name) ? name : strerror(errno));
}

static int request(int s, int type, int flags, const void *body, size_t len)
{
	struct {
		struct nlmsghdr h;
		char body[64];
	} req;

	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = NLMSG_LENGTH(len);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | flags;
	req.h.nlmsg_seq = 42;
	memcpy(req.body, body, len);
	return send(s, &req, req.h.nlmsg_len, 0);
}

/* replies prints the messages of the replies until NLMSG_DONE or an
 * error message. */
static void replies(int s)
{
	char buf[8192], a[64];

	for (;;) {
		int n = recv(s, buf, sizeof buf, 0);
		if (n < 0) {
			printf("recv: %s\n", strerror(errno));
			return;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				printf("done seq %u\n", h->nlmsg_seq);
				return;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				printf("error %s for type %d\n", e->error ? strerror(-e->error) : "none",
				       e->msg.nlmsg_type);
				return;
			}
			if (h->nlmsg_type == RTM_NEWROUTE) {
				struct rtmsg *r = NLMSG_DATA(h);
				int len = RTM_PAYLOAD(h);
				char dst[64] = "default", gw[64] = "-";
				int oif = 0;
				for (struct rtattr *at = RTM_RTA(r); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
					if (at->rta_type == RTA_DST)
						snprintf(dst, sizeof dst, "%s/%d",
							 inet_ntop(r->rtm_family, RTA_DATA(at), a, sizeof a), r->rtm_dst_len);
					if (at->rta_type == RTA_GATEWAY)
						inet_ntop(r->rtm_family, RTA_DATA(at), gw, sizeof gw);
					if (at->rta_type == RTA_OIF)
						oif = *(int *)RTA_DATA(at);
				}
				printf("route %s via %s dev %d table %d scope %d\n", dst, gw, oif, r->rtm_table, r->rtm_scope);
			}
			if (h->nlmsg_type == RTM_NEWLINK) {
				struct ifinfomsg *i = NLMSG_DATA(h);
				int len = IFLA_PAYLOAD(h);
				for (struct rtattr *at = IFLA_RTA(i); RTA_OK(at, len); at = RTA_NEXT(at, len))
					if (at->rta_type == IFLA_IFNAME)
						printf("link %d %s type %d flags %#x multi %d\n", i->ifi_index,
						       (char *)RTA_DATA(at), i->ifi_type, i->ifi_flags,
						       !!(h->nlmsg_flags & NLM_F_MULTI));
				if (!(h->nlmsg_flags & NLM_F_MULTI))
					return;
			}
		}
	}
}

int main(void)
{
	struct sockaddr_nl sa;
	socklen_t salen = sizeof sa;
	struct rtmsg rtm = {.rtm_family = AF_INET};
	struct ifinfomsg ifi = {.ifi_index = 2};
	char small[16];
	int s, s2, n;

	ifaddrs();
	nameindex();

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0) {
		printf("socket: %s\n", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	printf("bind: %d\n", bind(s, (struct sockaddr *)&sa, sizeof sa));
	getsockname(s, (struct sockaddr *)&sa, &salen);
	printf("port is pid: %d\n", sa.nl_pid == (unsigned)getpid());
	s2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	sa.nl_pid = getpid();
	printf("bind taken port: %s\n", bind(s2, (struct sockaddr *)&sa, sizeof sa) ? strerror(errno) : "ok");
	printf("other protocol: %s\n", socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK) < 0 ? strerror(errno) : "ok");

	request(s, RTM_GETROUTE, NLM_F_DUMP, &rtm, sizeof rtm);
	replies(s);
	request(s, RTM_GETLINK, 0, &ifi, sizeof ifi);
	replies(s);
	ifi.ifi_index = 99;
	request(s, RTM_GETLINK, 0, &ifi, sizeof ifi);
	replies(s);
	ifi.ifi_index = 1;
	request(s, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
	replies(s);
	request(s, RTM_GETLINK, NLM_F_ACK, &ifi, sizeof ifi);
	replies(s);
	replies(s);

	request(s, RTM_GETLINK, 0, &ifi, sizeof ifi);
	n = recv(s, small, sizeof small, MSG_TRUNC);
	printf("short recv: %d > %zu\n", n, sizeof small);
	n = recv(s, small, sizeof small, MSG_DONTWAIT);
	printf("queue empty: %s\n", n < 0 ? strerror(errno) : "no");
	return 0;
}
