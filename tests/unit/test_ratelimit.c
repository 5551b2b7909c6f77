/*
 * The rate limit on its own: windows, held counts, keys by host, eviction,
 * and counts that add up exactly whatever the number of peers.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>

#include "../../shim/ratelimit.c"

static struct sockaddr_in peer4(const char *ip, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* One line at time now: 1 if let through; *flushed gets a held count. */
static int line(int cls, const struct sockaddr_in *p, uint64_t now,
		uint64_t *flushed)
{
	struct sg_rl_verdict v;

	struct sg_rl_limits lim = { 3, 0, 1000 };

	sg_rl_check(cls, (const struct sockaddr *)p, p ? sizeof(*p) : 0, now,
		    &lim, &v);
	cr_assert_eq(v.evicted.count, 0, "no eviction expected here");
	if (flushed)
		*flushed += v.flushed;
	return v.allow;
}

TestSuite(ratelimit, .init = sg_rl_reset);

Test(ratelimit, lets_burst_lines_through_then_counts_the_rest)
{
	struct sockaddr_in p = peer4("10.0.0.2", 80);
	uint64_t flushed = 0;
	int allowed = 0;

	for (int i = 0; i < 10; i++)
		allowed += line(0, &p, 5000 + i, &flushed);
	cr_assert_eq(allowed, 3);
	cr_assert_eq(flushed, 0);
	cr_assert(line(0, &p, 6000, &flushed), "a new window opens");
	cr_assert_eq(flushed, 7, "the held lines are handed back once");
	cr_assert(line(0, &p, 6001, &flushed));
	cr_assert_eq(flushed, 7);
}

Test(ratelimit, the_window_opens_with_its_first_line_not_on_a_grid)
{
	struct sockaddr_in p = peer4("10.0.0.2", 80);

	for (int i = 0; i < 3; i++)
		cr_assert(line(0, &p, 5900, NULL));
	cr_assert_not(line(0, &p, 6100, NULL), "still the window of 5900");
	cr_assert(line(0, &p, 6900, NULL));
}

Test(ratelimit, classes_and_hosts_are_separate_keys)
{
	struct sockaddr_in a = peer4("10.0.0.2", 80), b = peer4("10.0.0.3", 80);

	for (int i = 0; i < 3; i++)
		line(0, &a, 100, NULL);
	cr_assert_not(line(0, &a, 100, NULL));
	cr_assert(line(1, &a, 100, NULL), "another class");
	cr_assert(line(0, &b, 100, NULL), "another host");
	cr_assert(line(0, NULL, 100, NULL), "no peer is a key of its own");
}

Test(ratelimit, the_key_is_the_host_whatever_the_port)
{
	for (int i = 0; i < 3; i++) {
		struct sockaddr_in p = peer4("10.0.0.2", 40000 + i);
		cr_assert(line(0, &p, 100, NULL));
	}
	struct sockaddr_in p = peer4("10.0.0.2", 50000);
	cr_assert_not(line(0, &p, 100, NULL));
}

Test(ratelimit, no_limit_when_burst_or_interval_is_zero)
{
	struct sockaddr_in p = peer4("10.0.0.2", 80);
	struct sg_rl_verdict v;

	struct sg_rl_limits no_burst = { 0, 0, 1000 }, no_interval = { 3, 5, 0 };

	for (int i = 0; i < 100; i++) {
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1, &no_burst, &v);
		cr_assert(v.allow);
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1, &no_interval,
			    &v);
		cr_assert(v.allow);
	}
}

Test(ratelimit, held_counts_are_taken_at_exit_with_their_key)
{
	struct sockaddr_in p = peer4("192.0.2.7", 443);
	struct sg_rl_held h;
	unsigned cursor = 0;

	for (int i = 0; i < 8; i++)
		line(2, &p, 100, NULL);
	cr_assert(sg_rl_take_held(&cursor, &h));
	cr_assert_eq(h.count, 5);
	cr_assert_eq(h.cls, 2);
	cr_assert_eq(h.peerlen, sizeof(struct sockaddr_in));
	struct sockaddr_in *got = (struct sockaddr_in *)&h.peer;
	cr_assert_eq(got->sin_addr.s_addr, p.sin_addr.s_addr);
	cr_assert_eq(got->sin_port, 0, "the key is the host");
	cr_assert_not(sg_rl_take_held(&cursor, &h));
	cursor = 0;
	cr_assert_not(sg_rl_take_held(&cursor, &h), "taken only once");
}

/*
 * Many more hosts than slots: every line is either let through or counted,
 * and every count comes back exactly once (on eviction, on a new window, or
 * at exit).
 */
Test(ratelimit, counts_add_up_exactly_with_more_peers_than_slots)
{
	uint64_t allowed = 0, handed = 0, lines = 0;
	struct sg_rl_verdict v;
	struct sg_rl_held h;
	struct sg_rl_limits lim = { 2, 0, 50 };
	unsigned cursor = 0;

	srand(3);
	for (uint64_t now = 1; now < 200000; now += 1 + rand() % 3) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.%d.%d.1", rand() % 4, rand() % 250);
		struct sockaddr_in p = peer4(ip, 1000);
		sg_rl_check(rand() % 3, (struct sockaddr *)&p, sizeof(p), now,
			    &lim, &v);
		lines++;
		allowed += v.allow;
		handed += v.flushed + v.evicted.count;
	}
	while (sg_rl_take_held(&cursor, &h))
		handed += h.count;
	cr_assert_eq(allowed + handed, lines);
	cr_assert_lt(allowed, lines, "the limit held some lines back");
}

static void *storm(void *arg)
{
	uint64_t *out = arg;
	struct sockaddr_in p = peer4("10.0.0.9", 80);
	struct sg_rl_verdict v;
	struct sg_rl_limits lim = { 5, 0, 10 };

	for (int i = 0; i < 200000; i++) {
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1000 + i / 1000,
			    &lim, &v);
		out[0] += v.allow;
		out[1] += v.flushed + v.evicted.count;
	}
	return NULL;
}

Test(ratelimit, threads_hammering_one_key_lose_no_count)
{
	pthread_t t[4];
	uint64_t res[4][2] = { { 0 } };
	uint64_t allowed = 0, handed = 0;
	struct sg_rl_held h;
	unsigned cursor = 0;

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, storm, res[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		allowed += res[i][0];
		handed += res[i][1];
	}
	while (sg_rl_take_held(&cursor, &h))
		handed += h.count;
	cr_assert_eq(allowed + handed, 4 * 200000);
	/* The clocks run from 1000 to 1199 ms: at most 21 windows of 10 ms,
	 * 5 lines each, plus the few let through while the key was claimed. */
	cr_assert_leq(allowed, 21 * 5 + 4);
}

/* Sums what a verdict or an exit hands back, like event.c writes it. */
struct tally {
	uint64_t lines;		/* event lines let through */
	uint64_t held_lines;	/* suppressed lines written for keys */
	uint64_t over_lines;	/* suppressed lines for the ceiling's counts */
	uint64_t counted;	/* the counts those suppressed lines report */
};

static void add_over(struct tally *t, const struct sg_rl_over *o)
{
	for (int c = 0; o->any && c < SG_RL_CLASSES; c++) {
		if (o->count[c]) {
			t->over_lines++;
			t->counted += o->count[c];
		}
	}
}

/* A key's count: a line if the ceiling allows one more, else the ceiling's. */
static void spend(struct tally *t, int cls, uint64_t count, uint64_t now,
		  const struct sg_rl_limits *lim)
{
	struct sg_rl_over o;

	if (sg_rl_spend(cls, count, now, lim, &o)) {
		t->held_lines++;
		t->counted += count;
	}
	add_over(t, &o);
}

static void verdict(struct tally *t, int cls, const struct sg_rl_verdict *v,
		    uint64_t now, const struct sg_rl_limits *lim)
{
	add_over(t, &v->over);
	if (v->evicted.count)
		spend(t, v->evicted.cls, v->evicted.count, now, lim);
	if (v->flushed)
		spend(t, cls, v->flushed, now, lim);
	t->lines += v->allow;
}

static void at_exit(struct tally *t, uint64_t now,
		    const struct sg_rl_limits *lim)
{
	struct sg_rl_held h;
	struct sg_rl_over o;
	unsigned cursor = 0;

	while (sg_rl_take_held(&cursor, &h))
		spend(t, h.cls, h.count, now, lim);
	sg_rl_take_over(&o);
	add_over(t, &o);
}

/*
 * 2,000 lines from 400 hosts in one interval: each new key would let its
 * first line through, but the process writes at most max lines, plus one
 * line per class for what went over, and every line is reported once.
 */
Test(ratelimit, the_process_ceiling_bounds_lines_whatever_the_peer_count)
{
	struct sg_rl_limits lim = { 20, 200, 10000 };
	struct tally t = { 0 };
	struct sg_rl_verdict v;

	for (int i = 0; i < 2000; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.%d.%d", i % 400 / 200,
			 i % 200 + 1);
		struct sockaddr_in p = peer4(ip, 1000 + i);
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 5000 + i, &lim,
			    &v);
		verdict(&t, 0, &v, 5000 + i, &lim);
	}
	cr_assert_leq(t.lines + t.held_lines, 200, "%lu event and %lu "
		      "suppressed lines", t.lines, t.held_lines);
	cr_assert_eq(t.lines, 200, "the first lines pass");
	at_exit(&t, 5000 + 2000, &lim);
	cr_assert_eq(t.lines + t.counted, 2000, "every line reported once");
	cr_assert_leq(t.over_lines, 1, "one line for the class");
}

/* An IPv6 flood (a new host every line) over many intervals. */
Test(ratelimit, an_ipv6_flood_stays_under_the_ceiling_in_every_interval)
{
	struct sg_rl_limits lim = { 5, 50, 1000 };
	struct tally t = { 0 };
	uint64_t window_lines = 0, window = 0;
	struct sg_rl_verdict v;
	const int n = 100000;

	for (int i = 0; i < n; i++) {
		struct sockaddr_in6 p = { .sin6_family = AF_INET6 };
		uint64_t now = 1000000 + (uint64_t)i / 10, before;

		p.sin6_addr.s6_addr[0] = 0x20;
		memcpy(&p.sin6_addr.s6_addr[8], &i, sizeof(i));
		before = t.lines + t.held_lines + t.over_lines;
		sg_rl_check(i % 3, (struct sockaddr *)&p, sizeof(p), now, &lim,
			    &v);
		verdict(&t, i % 3, &v, now, &lim);
		if (now / 1000 != window) {
			window = now / 1000;
			window_lines = 0;
		}
		window_lines += t.lines + t.held_lines + t.over_lines - before;
		cr_assert_leq(window_lines, 50 + SG_RL_CLASSES,
			      "%lu lines in the window of %lu ms", window_lines,
			      window * 1000);
	}
	at_exit(&t, 1000000 + n / 10, &lim);
	cr_assert_eq(t.lines + t.counted, (uint64_t)n);
}
