/*
 * udpcat - UDP in both directions, as nc -u does it (Debian's busybox nc
 * has no -u).
 *
 *   udpcat listen PORT N    bind 0.0.0.0:PORT, print each of N datagrams
 *                           received ("<from-port-kind> <text>") and answer
 *                           each with "ack <text>"
 *   udpcat send HOST PORT TEXT...
 *                           send each TEXT as one datagram from a connected
 *                           socket and print the answers
 *
 * Exits 0 on success; errors go to stderr with status 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[2048];
	if (argc == 4 && strcmp(argv[1], "listen") == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
		if (bind(s, (struct sockaddr *)&a, sizeof a) != 0)
			return die("udpcat: bind");
		for (int i = 0, n = atoi(argv[3]); i < n; i++) {
			struct sockaddr_in from;
			socklen_t fl = sizeof from;
			int k = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
			if (k < 0)
				return die("udpcat: recvfrom");
			buf[k] = 0;
			printf("%s %s\n", ntohs(from.sin_port) >= 1024 ? "from an ephemeral port:" : "from a low port:", buf);
			char ack[2100];
			int m = snprintf(ack, sizeof ack, "ack %s", buf);
			if (sendto(s, ack, m, 0, (struct sockaddr *)&from, fl) != m)
				return die("udpcat: sendto");
		}
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "send") == 0) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
		if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
			fprintf(stderr, "udpcat: bad address %s\n", argv[2]);
			return 1;
		}
		if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
			return die("udpcat: connect");
		for (int i = 4; i < argc; i++) {
			if (send(s, argv[i], strlen(argv[i]), 0) < 0)
				return die("udpcat: send");
			int k = recv(s, buf, sizeof buf - 1, 0);
			if (k < 0)
				return die("udpcat: recv");
			buf[k] = 0;
			printf("%s\n", buf);
		}
		return 0;
	}
	fprintf(stderr, "usage: udpcat listen PORT N | udpcat send HOST PORT TEXT...\n");
	return 2;
}
