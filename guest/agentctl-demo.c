/*
 * agentctl-demo: a guest agent that talks to AgentSys through
 * /dev/agentsys with the client library guest/agentsys.h.
 *
 * With no arguments it runs the demo as files_agent (agent 2): creates
 * /tmp/files, lists it, writes /tmp/files/demo.txt, reads it back, stats
 * it and lists the directory again, printing each reply's status and the
 * service's output lines, then "agentctl-demo: ok" (exit 0). A read-back
 * that differs prints "agentctl-demo: read back differs" and exits 1.
 *
 * agentctl-demo [-a AGENT] OP [ARGS...] sends one request and prints
 * "status=<name>", the output lines and, for read, "data=<bytes>"; it
 * exits 0 when the status is OK and 3 otherwise. OPs: list PATH,
 * read PATH [OFF LEN], write PATH OFF TEXT, stat PATH, create PATH [dir],
 * delete PATH, play TRACK, stop, volume LEVEL, docnew NAME,
 * docedit REF OPS, docsave REF, screenshot, record MS, raw HEX (a frame
 * given as hex bytes, sent as is).
 *
 * agentctl-demo badframes sends malformed frames (too short, wrong magic,
 * wrong version, a length that lies both ways, an oversize length, a bad
 * token, an unknown op) and then a valid FS_STAT of /tmp, printing one
 * "<case>: status=<name>" line for each; exit 0.
 *
 * agentctl-demo multi N forks; parent and child each open the device and
 * send N FS_STAT requests (parent /tmp, child /bin), checking every reply
 * names their own path. Prints "multi: parent ok" and "multi: child ok".
 *
 * Errors of the device print "agentctl-demo: <step>: <strerror>" and exit 1;
 * bad usage exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "agentsys.h"

static struct agentsys_reply reply;

static int fail(const char *step) {
	printf("agentctl-demo: %s: %s\n", step, strerror(errno));
	return 1;
}

static void show(const struct agentsys_reply *r) {
	printf("status=%s\n", agentsys_status_name(r->status));
	if (r->retry_after_ms)
		printf("retry_after_ms=%u\n", r->retry_after_ms);
	fputs(r->output, stdout);
}

static int demo(int fd) {
	uint64_t tok = agentsys_token(AGENTSYS_AGENT_FILES);
	static const char text[] = "hello from a guest agent\n";
	struct {
		const char *what;
		int rc;
	} steps[6];
	int k = 0;

	/* The directory may exist already: that is an error reply, not a failure. */
	steps[k].what = "create /tmp/files";
	steps[k++].rc = agentsys_fs_create(fd, tok, "/tmp/files", 1, &reply);
	show(&reply);
	steps[k].what = "list /tmp/files";
	steps[k++].rc = agentsys_fs_list(fd, tok, "/tmp/files", &reply);
	show(&reply);
	steps[k].what = "write";
	steps[k++].rc = agentsys_fs_write(fd, tok, "/tmp/files/demo.txt", 0, text, sizeof text - 1, &reply);
	show(&reply);
	steps[k].what = "read";
	steps[k++].rc = agentsys_fs_read(fd, tok, "/tmp/files/demo.txt", 0, 512, &reply);
	show(&reply);
	int same = reply.status == AGENTSYS_OK && reply.data_len == sizeof text - 1 &&
		   memcmp(reply.data, text, sizeof text - 1) == 0;
	steps[k].what = "stat";
	steps[k++].rc = agentsys_fs_stat(fd, tok, "/tmp/files/demo.txt", &reply);
	show(&reply);
	steps[k].what = "list again";
	steps[k++].rc = agentsys_fs_list(fd, tok, "/tmp/files", &reply);
	show(&reply);
	for (int i = 0; i < k; i++)
		if (steps[i].rc < 0)
			return fail(steps[i].what);
	if (!same) {
		printf("agentctl-demo: read back differs\n");
		return 1;
	}
	printf("agentctl-demo: ok\n");
	return 0;
}

static int hexval(int c) {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned char frame[AGENTSYS_HEADER + AGENTSYS_MAX_PAYLOAD + 64];

static int one(int fd, uint64_t tok, int argc, char **argv) {
	const char *op = argv[0];
	int rc;
#define NEED(n)                                                                                    \
	do {                                                                                       \
		if (argc < (n)) {                                                                  \
			fprintf(stderr, "agentctl-demo: %s needs %d argument(s)\n", op, (n) - 1); \
			return 2;                                                          \
		}                                                                                  \
	} while (0)
	if (!strcmp(op, "list")) {
		NEED(2);
		rc = agentsys_fs_list(fd, tok, argv[1], &reply);
	} else if (!strcmp(op, "read")) {
		NEED(2);
		if (argc >= 4)
			rc = agentsys_fs_read(fd, tok, argv[1], strtoull(argv[2], 0, 0), (uint32_t)strtoul(argv[3], 0, 0), &reply);
		else
			rc = agentsys_path_op(fd, AGENTSYS_FS_READ, tok, argv[1], NULL, 0, &reply);
	} else if (!strcmp(op, "write")) {
		NEED(4);
		rc = agentsys_fs_write(fd, tok, argv[1], strtoull(argv[2], 0, 0), argv[3], strlen(argv[3]), &reply);
	} else if (!strcmp(op, "stat")) {
		NEED(2);
		rc = agentsys_fs_stat(fd, tok, argv[1], &reply);
	} else if (!strcmp(op, "create")) {
		NEED(2);
		rc = agentsys_fs_create(fd, tok, argv[1], argc > 2 && !strcmp(argv[2], "dir"), &reply);
	} else if (!strcmp(op, "delete")) {
		NEED(2);
		rc = agentsys_fs_delete(fd, tok, argv[1], &reply);
	} else if (!strcmp(op, "play")) {
		NEED(2);
		rc = agentsys_audio_play(fd, tok, (uint32_t)strtoul(argv[1], 0, 0), &reply);
	} else if (!strcmp(op, "stop")) {
		rc = agentsys_audio_stop(fd, tok, &reply);
	} else if (!strcmp(op, "volume")) {
		NEED(2);
		rc = agentsys_audio_volume(fd, tok, (uint8_t)strtoul(argv[1], 0, 0), &reply);
	} else if (!strcmp(op, "docnew")) {
		NEED(2);
		rc = agentsys_doc_new(fd, tok, argv[1], &reply);
	} else if (!strcmp(op, "docedit")) {
		NEED(3);
		rc = agentsys_doc_edit(fd, tok, (uint32_t)strtoul(argv[1], 0, 0), (uint16_t)strtoul(argv[2], 0, 0), &reply);
	} else if (!strcmp(op, "docsave")) {
		NEED(2);
		rc = agentsys_doc_save(fd, tok, (uint32_t)strtoul(argv[1], 0, 0), &reply);
	} else if (!strcmp(op, "screenshot")) {
		rc = agentsys_screenshot(fd, tok, &reply);
	} else if (!strcmp(op, "record")) {
		NEED(2);
		rc = agentsys_record(fd, tok, (uint32_t)strtoul(argv[1], 0, 0), &reply);
	} else if (!strcmp(op, "raw")) {
		NEED(2);
		size_t n = 0;
		for (const char *p = argv[1]; p[0] && p[1] && n < sizeof frame; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0) {
				fprintf(stderr, "agentctl-demo: raw: bad hex\n");
				return 2;
			}
			frame[n++] = (unsigned char)(hi << 4 | lo);
		}
		rc = agentsys_send(fd, frame, n, &reply);
	} else {
		fprintf(stderr, "agentctl-demo: unknown op %s\n", op);
		return 2;
	}
	if (rc < 0)
		return fail(op);
	show(&reply);
	if (!strcmp(op, "read") && reply.status == AGENTSYS_OK)
		printf("data=%.*s\n", (int)(reply.data_len < AGENTSYS_MAX_DATA ? reply.data_len : AGENTSYS_MAX_DATA),
		       (const char *)reply.data);
	return reply.status == AGENTSYS_OK ? 0 : 3;
}

/* badframes sends malformed frames; each must get an error reply. */
static int badframes(int fd) {
	uint64_t tok = agentsys_token(AGENTSYS_AGENT_SYSTEM);
	unsigned char args[64];
	size_t an = agentsys_path_args(args, sizeof args, "/tmp", NULL, 0);
	size_t n = agentsys_frame(frame, sizeof frame, AGENTSYS_FS_STAT, tok, args, an);
	static const char *const cases[] = {
		"short", "magic", "version", "truncated", "trailing",
		"oversize", "token", "unknown-op", "no-token",
	};
	static unsigned char bad[sizeof frame];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = n;
		memcpy(bad, frame, n);
		const char *c = cases[i];
		if (!strcmp(c, "short"))
			len = 5;
		else if (!strcmp(c, "magic"))
			bad[0] = 'X';
		else if (!strcmp(c, "version"))
			bad[1] = 1;
		else if (!strcmp(c, "truncated"))
			len = n - 2; /* the header's length says 2 more bytes */
		else if (!strcmp(c, "trailing"))
			bad[len++] = 0; /* one byte more than the header's length */
		else if (!strcmp(c, "oversize"))
			agentsys_put32(bad + 4, AGENTSYS_MAX_PAYLOAD + 1);
		else if (!strcmp(c, "token"))
			bad[8] ^= 1;
		else if (!strcmp(c, "unknown-op"))
			bad[2] = 0x7F;
		else if (!strcmp(c, "no-token")) {
			agentsys_put32(bad + 4, 4);
			len = AGENTSYS_HEADER + 4;
		}
		if (agentsys_send(fd, bad, len, &reply) < 0)
			return fail(c);
		printf("%s: status=%s\n", c, agentsys_status_name(reply.status));
	}
	if (agentsys_send(fd, frame, n, &reply) < 0)
		return fail("valid");
	printf("valid: status=%s\n", agentsys_status_name(reply.status));
	return 0;
}

/* multi checks that each open file has its own reply queue. */
static int multi(long n) {
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	const char *path = pid == 0 ? "/bin" : "/tmp";
	int fd = agentsys_open();
	if (fd < 0)
		return fail("open");
	char want[64];
	snprintf(want, sizeof want, "[FS] Stat: %s ", path);
	int ok = 1;
	for (long i = 0; i < n; i++) {
		/* Write two frames before reading: replies queue in order. */
		unsigned char args[16];
		size_t an = agentsys_path_args(args, sizeof args, path, NULL, 0);
		size_t fn = agentsys_frame(frame, sizeof frame, AGENTSYS_FS_STAT, agentsys_token(0), args, an);
		if (write(fd, frame, fn) != (ssize_t)fn || write(fd, frame, fn) != (ssize_t)fn)
			return fail("write");
		for (int j = 0; j < 2; j++) {
			if (agentsys_read_reply(fd, &reply) < 0)
				return fail("read");
			if (reply.status != AGENTSYS_OK || strncmp(reply.output, want, strlen(want)) != 0)
				ok = 0;
		}
	}
	if (read(fd, frame, 1) != -1 || errno != EAGAIN)
		ok = 0;
	if (pid == 0) {
		printf("multi: child %s\n", ok ? "ok" : "FAILED");
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("multi: parent %s\n", ok ? "ok" : "FAILED");
	return ok && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "multi"))
		return multi(argc > 2 ? atol(argv[2]) : 10);
	int fd = agentsys_open();
	if (fd < 0)
		return fail("open " AGENTSYS_DEVICE);
	if (argc == 1)
		return demo(fd);
	if (!strcmp(argv[1], "badframes"))
		return badframes(fd);
	uint16_t agent = AGENTSYS_AGENT_SYSTEM;
	int i = 1;
	if (!strcmp(argv[i], "-a")) {
		if (argc < 4) {
			fprintf(stderr, "usage: agentctl-demo [-a AGENT] OP [ARGS...]\n");
			return 2;
		}
		agent = (uint16_t)strtoul(argv[2], 0, 0);
		i = 3;
	}
	return one(fd, agentsys_token(agent), argc - i, argv + i);
}
