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

	sg_rl_check(cls, (const struct sockaddr *)p, p ? sizeof(*p) : 0, now,
		    3, 1000, &v);
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

	for (int i = 0; i < 100; i++) {
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1, 0, 1000, &v);
		cr_assert(v.allow);
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1, 3, 0, &v);
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
	unsigned cursor = 0;

	srand(3);
	for (uint64_t now = 1; now < 200000; now += 1 + rand() % 3) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.%d.%d.1", rand() % 4, rand() % 250);
		struct sockaddr_in p = peer4(ip, 1000);
		sg_rl_check(rand() % 3, (struct sockaddr *)&p, sizeof(p), now,
			    2, 50, &v);
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

	for (int i = 0; i < 200000; i++) {
		sg_rl_check(0, (struct sockaddr *)&p, sizeof(p), 1000 + i / 1000,
			    5, 10, &v);
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
