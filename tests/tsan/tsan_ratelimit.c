/*
 * The shim's lock-free rate limit under ThreadSanitizer (make
 * test-sanitize): four threads on one key and four on many keys, under the
 * per-key limit and the process-wide ceiling.  A plain
 * program, since Criterion's process arena cannot start under TSan.  TSan
 * fails the run on a data race; the counts must add up exactly, with one
 * key and with many keys churning through the 256 slots (a line counted on
 * a slot while another thread evicts it goes to the evicted key's count).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>

#include "../../shim/ratelimit.c"

#define THREADS 4
#define LINES 100000

struct job {
	int spread;		/* 1: each line from another peer */
	uint64_t allowed;
	uint64_t handed;
};

static const struct sg_rl_limits lim = { 5, 50, 10 };

static uint64_t over_total(const struct sg_rl_over *o)
{
	uint64_t n = 0;

	for (int c = 0; o->any && c < SG_RL_CLASSES; c++)
		n += o->count[c];
	return n;
}

/* A key's count: reported now, or added to the ceiling's counts. */
static uint64_t spend(int cls, uint64_t count, uint64_t now)
{
	struct sg_rl_over o;
	uint64_t n = sg_rl_spend(cls, count, now, &lim, &o) ? count : 0;

	return n + over_total(&o);
}

static void *storm(void *arg)
{
	struct job *j = arg;
	struct sockaddr_in p = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sg_rl_verdict v;

	for (int i = 0; i < LINES; i++) {
		uint64_t now = 1000 + i / 1000;

		p.sin_addr.s_addr = htonl(0x0a000000u + (j->spread ? (unsigned)i % 1000 : 9));
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), now, &lim, &v);
		j->allowed += v.allow;
		j->handed += over_total(&v.over);
		if (v.flushed)
			j->handed += spend(0, v.flushed, now);
		if (v.evicted.count)
			j->handed += spend(v.evicted.cls, v.evicted.count, now);
	}
	return NULL;
}

static int run(int spread)
{
	pthread_t t[THREADS];
	struct job jobs[THREADS] = { { 0 } };
	uint64_t allowed = 0, handed = 0;
	struct sg_rl_held h;
	unsigned cursor = 0;

	sg_rl_reset();
	for (int i = 0; i < THREADS; i++) {
		jobs[i].spread = spread;
		pthread_create(&t[i], NULL, storm, &jobs[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		allowed += jobs[i].allowed;
		handed += jobs[i].handed;
	}
	struct sg_rl_over o;

	while (sg_rl_take_held(&cursor, &h))
		handed += spend(h.cls, h.count, 2000);
	sg_rl_take_over(&o);
	handed += over_total(&o);
	printf("%s: %llu allowed + %llu held = %llu of %d\n",
	       spread ? "many keys" : "one key", (unsigned long long)allowed,
	       (unsigned long long)handed, (unsigned long long)(allowed + handed),
	       THREADS * LINES);
	return allowed + handed == (uint64_t)THREADS * LINES ? 0 : 1;
}

int main(void)
{
	return run(0) | run(1);
}
