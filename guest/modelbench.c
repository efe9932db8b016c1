/*
 * modelbench - run a SIS decision model (model.bin) on the machine and time
 * each inference: the model health check's latency in deterministic mode.
 *
 * Usage: modelbench MODEL.bin INPUTS OUT
 *
 * MODEL.bin is a model file (pkg/model's format 1). INPUTS holds the test
 * inputs, each as many little-endian float32 as the model has inputs. For
 * each input, modelbench reads CNTVCT_EL0, runs the inference as pkg/model's
 * Model.Infer does (float32, every product rounded before it is added, the
 * same exp and tanh, softmax, the first argmax), reads CNTVCT_EL0 again and
 * writes one line "<ticks> <action>" to OUT. Exit status 0, or 1 with a
 * message on stderr for bad arguments or files.
 *
 * Example: modelbench /models/v1.0.0/model.bin in.bin out.txt   writes
 *   "193 1\n..." (one line per input).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* No fused multiply-add: the results must be pkg/model's, bit for bit. */
#pragma GCC optimize("fp-contract=off")

#define MAX_LAYERS 16
#define MAX_WIDTH (1 << 16)

static unsigned char *read_file(const char *name, long *size)
{
	FILE *f = fopen(name, "rb");
	unsigned char *b;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (*size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(name);
		exit(1);
	}
	b = malloc(*size + 1);
	if (b == NULL || fread(b, 1, *size, f) != (size_t)*size) {
		fprintf(stderr, "%s: read failed\n", name);
		exit(1);
	}
	fclose(f);
	return b;
}

static uint32_t u32(const unsigned char *b)
{
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static float f32(const unsigned char *b)
{
	uint32_t u = u32(b);
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

static uint64_t cntvct(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}

/* exp32 is pkg/model's exp32: e^x for x <= 0 in double, to float. */
static float exp32(float x)
{
	const double ln2 = 0.6931471805599453;
	double k, r, p = 1.0, term = 1.0;
	int n;

	if (x < -87)
		return 0;
	k = floor((double)x / ln2 + 0.5);
	r = (double)x - k * ln2;
	for (n = 1; n <= 10; n++) {
		term = term * r / (double)n;
		p = p + term;
	}
	/* p * 2^k, exactly as ldexp (k is -126..0 here, a normal double). */
	uint64_t bits = (uint64_t)((int64_t)k + 1023) << 52;
	double scale;
	memcpy(&scale, &bits, sizeof scale);
	return (float)(p * scale);
}

static float tanh32(float v)
{
	float a = v, e, t;

	if (v > 20)
		return 1;
	if (v < -20)
		return -1;
	if (a > 0)
		a = -a;
	e = exp32(2 * a);
	t = (1 - e) / (1 + e);
	return v < 0 ? -t : t;
}

struct model {
	int n;			/* layer sizes */
	uint32_t sizes[MAX_LAYERS + 1];
	int tanh;
	float *params;		/* per layer: weights (out x in), biases */
};

static int infer(const struct model *m, const float *in, float *x, float *y)
{
	const float *p = m->params;
	int l, o, i, action = 0;
	float mx, sum;

	for (i = 0; i < (int)m->sizes[0]; i++)
		x[i] = isfinite(in[i]) ? in[i] : 0;
	for (l = 1; l < m->n; l++) {
		uint32_t nin = m->sizes[l - 1], nout = m->sizes[l];
		const float *w = p, *bias = p + (size_t)nin * nout;

		for (o = 0; o < (int)nout; o++) {
			const float *row = w + (size_t)o * nin;
			float acc = bias[o];

			for (i = 0; i < (int)nin; i++) {
				float prod = row[i] * x[i];
				acc += prod;
			}
			if (l < m->n - 1)
				acc = m->tanh ? tanh32(acc) : (acc < 0 ? 0 : acc);
			y[o] = acc;
		}
		p = bias + nout;
		memcpy(x, y, nout * sizeof *x);
	}
	/* softmax, then the first argmax of the scores */
	o = m->sizes[m->n - 1];
	mx = x[0];
	for (i = 0; i < o; i++)
		if (x[i] > mx)
			mx = x[i];
	sum = 0;
	for (i = 0; i < o; i++) {
		y[i] = exp32(x[i] - mx);
		sum += y[i];
	}
	for (i = 0; i < o; i++) {
		y[i] /= sum;
		if (y[i] > y[action])
			action = i;
	}
	return action;
}

int main(int argc, char **argv)
{
	struct model m;
	unsigned char *b, *ib;
	long size, isize, want, count, k;
	uint32_t widest = 0;
	float *in, *x, *y;
	FILE *out;
	int i;

	if (argc != 4) {
		fprintf(stderr, "usage: modelbench MODEL.bin INPUTS OUT\n");
		return 1;
	}
	b = read_file(argv[1], &size);
	if (size < 12 || memcmp(b, "SISM", 4) != 0 || (b[4] | b[5] << 8) != 1) {
		fprintf(stderr, "%s: not a format 1 model.bin\n", argv[1]);
		return 1;
	}
	m.tanh = (b[6] | b[7] << 8) == 1;
	m.n = (int)u32(b + 8);
	if (m.n < 2 || m.n > MAX_LAYERS + 1 || size < 12 + 4 * m.n) {
		fprintf(stderr, "%s: bad layer count\n", argv[1]);
		return 1;
	}
	want = 12 + 4 * m.n;
	for (i = 0; i < m.n; i++) {
		m.sizes[i] = u32(b + 12 + 4 * i);
		if (m.sizes[i] < 1 || m.sizes[i] > MAX_WIDTH) {
			fprintf(stderr, "%s: bad layer size\n", argv[1]);
			return 1;
		}
		if (m.sizes[i] > widest)
			widest = m.sizes[i];
		if (i > 0)
			want += 4 * ((long)m.sizes[i] * m.sizes[i - 1] + m.sizes[i]);
	}
	if (size != want) {
		fprintf(stderr, "%s: %ld bytes, the layer sizes need %ld\n", argv[1], size, want);
		return 1;
	}
	m.params = malloc(size - (12 + 4 * m.n));
	for (k = 0; k < (size - (12 + 4 * m.n)) / 4; k++)
		m.params[k] = f32(b + 12 + 4 * m.n + 4 * k);

	ib = read_file(argv[2], &isize);
	if (isize % (4 * (long)m.sizes[0]) != 0) {
		fprintf(stderr, "%s: not a whole number of inputs\n", argv[2]);
		return 1;
	}
	count = isize / (4 * (long)m.sizes[0]);
	out = fopen(argv[3], "w");
	in = malloc(m.sizes[0] * sizeof *in);
	x = malloc(widest * sizeof *x);
	y = malloc(widest * sizeof *y);
	if (out == NULL || in == NULL || x == NULL || y == NULL || m.params == NULL) {
		perror(argv[3]);
		return 1;
	}
	for (k = 0; k < count; k++) {
		uint64_t t0, t1;
		int action;

		for (i = 0; i < (int)m.sizes[0]; i++)
			in[i] = f32(ib + 4 * (k * m.sizes[0] + i));
		t0 = cntvct();
		action = infer(&m, in, x, y);
		t1 = cntvct();
		fprintf(out, "%llu %d\n", (unsigned long long)(t1 - t0), action);
	}
	if (fclose(out) != 0) {
		perror(argv[3]);
		return 1;
	}
	return 0;
}
