/*
 * agentsys-bench: the AgentSys frame-rate benchmark. Usage:
 * agentsys-bench [N [PATH]]. Sends N (default 10000) FS_STAT requests for
 * PATH (default /tmp) as the system agent through /dev/agentsys, one
 * write and one reply read each, and checks every reply is OK. Prints
 * "agentsys-bench: <N> frames ok" and exits 0; on the first failure
 * prints "agentsys-bench: frame <i>: <reason>" and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentsys.h"

static struct agentsys_reply reply;
static unsigned char frame[AGENTSYS_HEADER + 8 + 2 + 4096];

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 10000;
	const char *path = argc > 2 ? argv[2] : "/tmp";
	int fd = agentsys_open();
	if (fd < 0) {
		printf("agentsys-bench: open: %s\n", strerror(errno));
		return 1;
	}
	unsigned char args[2 + 4096];
	size_t an = agentsys_path_args(args, sizeof args, path, NULL, 0);
	size_t fn = agentsys_frame(frame, sizeof frame, AGENTSYS_FS_STAT, agentsys_token(AGENTSYS_AGENT_SYSTEM), args, an);
	if (an == 0 || fn == 0) {
		printf("agentsys-bench: path too long\n");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		if (agentsys_send(fd, frame, fn, &reply) < 0) {
			printf("agentsys-bench: frame %ld: %s\n", i, strerror(errno));
			return 1;
		}
		if (reply.status != AGENTSYS_OK) {
			printf("agentsys-bench: frame %ld: status %s\n", i, agentsys_status_name(reply.status));
			return 1;
		}
	}
	printf("agentsys-bench: %ld frames ok\n", n);
	return 0;
}
