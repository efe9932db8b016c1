/*
 * agentsys.h: a header-only C client of the SIS agent control plane for
 * guests. A guest opens /dev/agentsys, writes one request frame per
 * write(2) and reads the reply with read(2); see docs/agentsys-devices.md.
 *
 * Request frame (little endian):
 *   'C' | version 0 | cmd | flags 0 | length u32 | token u64 | arguments
 * where length counts the token and the arguments.
 * Reply:
 *   status i32 | retry_after_ms u32 | output_len u32 | data_len u32 |
 *   output (text lines, each ending in '\n') | data (FS_READ's bytes)
 *
 * Typical use:
 *   int fd = agentsys_open();
 *   struct agentsys_reply r;
 *   if (agentsys_fs_list(fd, agentsys_token(AGENTSYS_AGENT_FILES),
 *                        "/tmp/files", &r) == 0)
 *           fputs(r.output, stdout);
 *
 * Every call returns 0 when a reply was read (whatever its status, which
 * is in r->status) and -1 with errno set when the device failed.
 */
#ifndef AGENTSYS_H
#define AGENTSYS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define AGENTSYS_DEVICE "/dev/agentsys"
#define AGENTSYS_MAGIC 0x43
#define AGENTSYS_HEADER 8
#define AGENTSYS_REPLY_HEADER 16
/* The largest payload the service accepts by default (64 KiB). */
#define AGENTSYS_MAX_PAYLOAD (64 * 1024)
/* The largest output and data a reply buffer keeps; more is discarded
 * and r->truncated set. */
#define AGENTSYS_MAX_OUTPUT 8192
#define AGENTSYS_MAX_DATA (64 * 1024)

/* Operations. */
enum {
	AGENTSYS_FS_LIST = 0x30,
	AGENTSYS_FS_READ = 0x31,
	AGENTSYS_FS_WRITE = 0x32,
	AGENTSYS_FS_STAT = 0x33,
	AGENTSYS_FS_CREATE = 0x34,
	AGENTSYS_FS_DELETE = 0x35,
	AGENTSYS_AUDIO_PLAY = 0x36,
	AGENTSYS_AUDIO_STOP = 0x37,
	AGENTSYS_AUDIO_VOLUME = 0x38,
	AGENTSYS_DOC_NEW = 0x39,
	AGENTSYS_DOC_EDIT = 0x3A,
	AGENTSYS_DOC_SAVE = 0x3B,
	AGENTSYS_SCREENSHOT = 0x3C,
	AGENTSYS_RECORD = 0x3D,
};

/* Reply statuses (CtrlError). */
enum {
	AGENTSYS_OK = 0,
	AGENTSYS_BAD_FRAME = 1,
	AGENTSYS_UNSUPPORTED = 2,
	AGENTSYS_OVERSIZE = 3,
	AGENTSYS_AUTH_FAILED = 4,
	AGENTSYS_PERMISSION_DENIED = 5,
	AGENTSYS_IO_ERROR = 6,
	AGENTSYS_INVALID_FORMAT = 7,
	AGENTSYS_RESOURCE_LIMIT = 8,
};

/* Built-in agents. */
enum {
	AGENTSYS_AGENT_SYSTEM = 0,
	AGENTSYS_AGENT_AGENTD = 1,
	AGENTSYS_AGENT_FILES = 2,
	AGENTSYS_AGENT_DOCS = 3,
	AGENTSYS_AGENT_MUSIC = 4,
	AGENTSYS_AGENT_ASSISTANT = 5,
	AGENTSYS_AGENT_TEST = 0xFFFF,
};

struct agentsys_reply {
	int32_t status;          /* AGENTSYS_OK or an error above */
	uint32_t retry_after_ms; /* with AGENTSYS_RESOURCE_LIMIT */
	uint32_t output_len;     /* as sent; output holds at most
	                            AGENTSYS_MAX_OUTPUT of it */
	uint32_t data_len;       /* as sent; data holds at most
	                            AGENTSYS_MAX_DATA of it */
	int truncated;           /* output or data did not fit */
	char output[AGENTSYS_MAX_OUTPUT + 1]; /* NUL-terminated */
	unsigned char data[AGENTSYS_MAX_DATA];
};

static inline const char *agentsys_status_name(int32_t st) {
	static const char *const names[] = {
		"OK", "BadFrame", "Unsupported", "Oversize", "AuthFailed",
		"PermissionDenied", "IoError", "InvalidFormat", "ResourceLimit",
	};
	if (st >= 0 && st < (int32_t)(sizeof names / sizeof names[0]))
		return names[st];
	return "Unknown";
}

/* agentsys_token returns the capability token of an agent: the agent id
 * in the top 16 bits and its check value in the low 48. */
static inline uint64_t agentsys_token(uint16_t agent) {
	uint64_t check = ((uint64_t)agent * 0x9E3779B97F4A7C15ull) ^ 0x534953414754ull;
	return (uint64_t)agent << 48 | (check & 0xFFFFFFFFFFFFull);
}

static inline void agentsys_put16(unsigned char *p, uint16_t v) {
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void agentsys_put32(unsigned char *p, uint32_t v) {
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void agentsys_put64(unsigned char *p, uint64_t v) {
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t agentsys_get32(const unsigned char *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* agentsys_open opens the device for reading and writing. */
static inline int agentsys_open(void) {
	return open(AGENTSYS_DEVICE, O_RDWR | O_CLOEXEC);
}

/* agentsys_frame encodes a frame into out (cap bytes): the header, the
 * token, then args_len bytes of args. It returns the frame's size, or 0
 * when it does not fit or the payload is too long. */
static inline size_t agentsys_frame(unsigned char *out, size_t cap, uint8_t cmd,
				    uint64_t token, const void *args, size_t args_len) {
	size_t payload = 8 + args_len;
	if (payload > AGENTSYS_MAX_PAYLOAD || AGENTSYS_HEADER + payload > cap)
		return 0;
	out[0] = AGENTSYS_MAGIC;
	out[1] = 0;
	out[2] = cmd;
	out[3] = 0;
	agentsys_put32(out + 4, (uint32_t)payload);
	agentsys_put64(out + 8, token);
	if (args_len)
		memcpy(out + 16, args, args_len);
	return AGENTSYS_HEADER + payload;
}

/* agentsys_read_full reads exactly n bytes (a reply never ends early). */
static inline int agentsys_read_full(int fd, void *buf, size_t n) {
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EPROTO;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* agentsys_read_reply reads the next queued reply into r. */
static inline int agentsys_read_reply(int fd, struct agentsys_reply *r) {
	unsigned char h[AGENTSYS_REPLY_HEADER];
	if (agentsys_read_full(fd, h, sizeof h) < 0)
		return -1;
	r->status = (int32_t)agentsys_get32(h);
	r->retry_after_ms = agentsys_get32(h + 4);
	r->output_len = agentsys_get32(h + 8);
	r->data_len = agentsys_get32(h + 12);
	r->truncated = 0;
	uint64_t left[2] = {r->output_len, r->data_len};
	unsigned char *dst[2] = {(unsigned char *)r->output, r->data};
	uint64_t room[2] = {AGENTSYS_MAX_OUTPUT, AGENTSYS_MAX_DATA};
	unsigned char skip[512];
	for (int part = 0; part < 2; part++) {
		uint64_t keep = left[part] < room[part] ? left[part] : room[part];
		if (agentsys_read_full(fd, dst[part], (size_t)keep) < 0)
			return -1;
		for (uint64_t rest = left[part] - keep; rest > 0;) {
			size_t k = rest < sizeof skip ? (size_t)rest : sizeof skip;
			if (agentsys_read_full(fd, skip, k) < 0)
				return -1;
			rest -= k;
			r->truncated = 1;
		}
		if (part == 0)
			r->output[keep] = 0;
	}
	return 0;
}

/* agentsys_send writes a whole encoded frame and reads its reply. */
static inline int agentsys_send(int fd, const void *frame, size_t len, struct agentsys_reply *r) {
	ssize_t w;
	do
		w = write(fd, frame, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	if ((size_t)w != len) {
		errno = EIO;
		return -1;
	}
	return agentsys_read_reply(fd, r);
}

/* agentsys_call encodes and sends one request and reads its reply. */
static inline int agentsys_call(int fd, uint8_t cmd, uint64_t token, const void *args,
				size_t args_len, struct agentsys_reply *r) {
	static unsigned char frame[AGENTSYS_HEADER + AGENTSYS_MAX_PAYLOAD];
	size_t n = agentsys_frame(frame, sizeof frame, cmd, token, args, args_len);
	if (n == 0) {
		errno = EMSGSIZE;
		return -1;
	}
	return agentsys_send(fd, frame, n, r);
}

/* agentsys_path_args encodes path_len u16, path, then extra bytes;
 * it returns the length, or 0 when it does not fit in cap. */
static inline size_t agentsys_path_args(unsigned char *out, size_t cap, const char *path,
					const void *extra, size_t extra_len) {
	size_t n = strlen(path);
	if (n > 0xFFFF || 2 + n + extra_len > cap)
		return 0;
	agentsys_put16(out, (uint16_t)n);
	memcpy(out + 2, path, n);
	if (extra_len)
		memcpy(out + 2 + n, extra, extra_len);
	return 2 + n + extra_len;
}

static inline int agentsys_path_op(int fd, uint8_t cmd, uint64_t token, const char *path,
				   const void *extra, size_t extra_len, struct agentsys_reply *r) {
	static unsigned char args[AGENTSYS_MAX_PAYLOAD];
	size_t n = agentsys_path_args(args, sizeof args - 8, path, extra, extra_len);
	if (n == 0) {
		errno = EMSGSIZE;
		return -1;
	}
	return agentsys_call(fd, cmd, token, args, n, r);
}

static inline int agentsys_fs_list(int fd, uint64_t token, const char *path, struct agentsys_reply *r) {
	return agentsys_path_op(fd, AGENTSYS_FS_LIST, token, path, NULL, 0, r);
}

/* agentsys_fs_read reads len bytes at off (into r->data). */
static inline int agentsys_fs_read(int fd, uint64_t token, const char *path, uint64_t off,
				   uint32_t len, struct agentsys_reply *r) {
	unsigned char x[12];
	agentsys_put64(x, off);
	agentsys_put32(x + 8, len);
	return agentsys_path_op(fd, AGENTSYS_FS_READ, token, path, x, sizeof x, r);
}

static inline int agentsys_fs_write(int fd, uint64_t token, const char *path, uint64_t off,
				    const void *data, size_t len, struct agentsys_reply *r) {
	static unsigned char x[AGENTSYS_MAX_PAYLOAD];
	if (len > sizeof x - 8) {
		errno = EMSGSIZE;
		return -1;
	}
	agentsys_put64(x, off);
	memcpy(x + 8, data, len);
	return agentsys_path_op(fd, AGENTSYS_FS_WRITE, token, path, x, 8 + len, r);
}

static inline int agentsys_fs_stat(int fd, uint64_t token, const char *path, struct agentsys_reply *r) {
	return agentsys_path_op(fd, AGENTSYS_FS_STAT, token, path, NULL, 0, r);
}

/* agentsys_fs_create creates a file (dir 0) or a directory (dir 1). */
static inline int agentsys_fs_create(int fd, uint64_t token, const char *path, int dir,
				     struct agentsys_reply *r) {
	unsigned char kind = dir ? 1 : 0;
	return agentsys_path_op(fd, AGENTSYS_FS_CREATE, token, path, &kind, 1, r);
}

static inline int agentsys_fs_delete(int fd, uint64_t token, const char *path, struct agentsys_reply *r) {
	return agentsys_path_op(fd, AGENTSYS_FS_DELETE, token, path, NULL, 0, r);
}

static inline int agentsys_u32_op(int fd, uint8_t cmd, uint64_t token, uint32_t v, struct agentsys_reply *r) {
	unsigned char x[4];
	agentsys_put32(x, v);
	return agentsys_call(fd, cmd, token, x, sizeof x, r);
}

static inline int agentsys_audio_play(int fd, uint64_t token, uint32_t track, struct agentsys_reply *r) {
	return agentsys_u32_op(fd, AGENTSYS_AUDIO_PLAY, token, track, r);
}

static inline int agentsys_audio_stop(int fd, uint64_t token, struct agentsys_reply *r) {
	return agentsys_call(fd, AGENTSYS_AUDIO_STOP, token, NULL, 0, r);
}

static inline int agentsys_audio_volume(int fd, uint64_t token, uint8_t level, struct agentsys_reply *r) {
	return agentsys_call(fd, AGENTSYS_AUDIO_VOLUME, token, &level, 1, r);
}

static inline int agentsys_doc_new(int fd, uint64_t token, const char *name, struct agentsys_reply *r) {
	return agentsys_path_op(fd, AGENTSYS_DOC_NEW, token, name, NULL, 0, r);
}

static inline int agentsys_doc_edit(int fd, uint64_t token, uint32_t ref, uint16_t ops,
				    struct agentsys_reply *r) {
	unsigned char x[6];
	agentsys_put32(x, ref);
	agentsys_put16(x + 4, ops);
	return agentsys_call(fd, AGENTSYS_DOC_EDIT, token, x, sizeof x, r);
}

static inline int agentsys_doc_save(int fd, uint64_t token, uint32_t ref, struct agentsys_reply *r) {
	return agentsys_u32_op(fd, AGENTSYS_DOC_SAVE, token, ref, r);
}

static inline int agentsys_screenshot(int fd, uint64_t token, struct agentsys_reply *r) {
	return agentsys_call(fd, AGENTSYS_SCREENSHOT, token, NULL, 0, r);
}

/* agentsys_record records the screen for ms milliseconds of machine time. */
static inline int agentsys_record(int fd, uint64_t token, uint32_t ms, struct agentsys_reply *r) {
	return agentsys_u32_op(fd, AGENTSYS_RECORD, token, ms, r);
}

#endif
