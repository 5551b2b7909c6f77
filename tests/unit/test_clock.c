/*
 * The readiness calls' start stamps (shim/clock.c): a stamp taken on the
 * success path becomes CLOCK_MONOTONIC only when an EINTR needs the time
 * left, and a stamp that cannot be placed says so instead of guessing.
 */
#include <criterion/criterion.h>
#include <time.h>

#include "../../shim/clock.c"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

Test(clock, a_stamp_before_the_reference_cannot_be_placed)
{
	struct sg_stamp s;

	sg_stamp_take(&s);
	cr_expect_eq(sg_stamp_ns(&s), -1, "no reference taken yet");
	sg_clock_init();
	cr_expect_eq(sg_stamp_ns(&s), -1, "a stamp from before the reference");
}

Test(clock, a_stamp_is_placed_within_a_millisecond_of_the_clock)
{
	struct sg_stamp s;

	sg_clock_init();
	sleep_ms(20);
	int64_t before = sg_now_ns();
	sg_stamp_take(&s);
	int64_t after = sg_now_ns();
	sleep_ms(150);
	int64_t at = sg_stamp_ns(&s);
	cr_expect_geq(at, before - 1000000, "%lld ns before the stamp was taken",
		      (long long)(before - at));
	cr_expect_leq(at, after + 1000000, "%lld ns after the stamp was taken",
		      (long long)(at - after));
}

Test(clock, a_stamp_taken_now_is_now)
{
	struct sg_stamp s;

	sg_clock_init();
	sleep_ms(5);
	sg_stamp_take(&s);
	int64_t now = sg_now_ns();
	int64_t at = sg_stamp_ns(&s);
	cr_expect(at <= now + 1000000 && at >= now - 1000000,
		  "stamp %lld, clock %lld", (long long)at, (long long)now);
}
