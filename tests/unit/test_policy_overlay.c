/*
 * Overlays (policy/overlay.c), what `sockguard set` is made of: one
 * KEY=VALUE parsed exactly as the policy parses it, the keys that may not
 * change in a running process, keys applied on top of settings, the keys
 * two settings differ in, and the check the shim makes of a block another
 * process wrote.
 */
#include "policy_test.h"

#include "../../policy/classify.h"

static const char *const pairs[] = {
	"mode=observe", "mode=Harden", "eintr=pass", "eintr_pass=HUP,WINCH",
	"eintr_pass=none", "eintr_pass=HUP,,TERM", "eagain=unwatched",
	"eagain=never", "eagain_wait=1", "eagain_wait=0", "eagain_wait=5s",
	"accept=pass", "accept_emfile=shed", "retry_max=0", "retry_max=1000001",
	"keepalive=on", "keepalive=60,10,6", "keepalive=60,10", "keepalive=0,1,1",
	"user_timeout=86400000", "user_timeout=86400001", "connect_timeout=500",
	"sndbuf=0", "sndbuf=1023", "rcvbuf=1048576", "log_events=all",
	"log_events=reset,eof", "log_events=bogus", "log_burst=0",
	"log_interval=86400", "log_max=1000000", "log_summary_interval=0",
	"sigpipe=socket", "log=unix:/run/x.sock", "log_facility=local3",
	"log_format=rfc5424",
};

/* The settings SOCKGUARD_OPTIONS=pair gives, or -1 when it refuses it. */
static int options_give(const char *pair, struct sg_settings *out)
{
	fresh_policy();
	if (sg_policy_parse_options(policy, pair, &problems) < 0)
		return -1;
	sg_policy_for_program(policy, "p", "/bin/p", out, NULL);
	return 0;
}

Test(overlay, pair_is_accepted_and_valued_as_the_policy_does)
{
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct sg_settings want, got;
		char why[SG_PROBLEM_LEN];
		int key;

		sg_settings_default(&got);
		int rc = sg_settings_parse_pair(pairs[i], &key, &got, why, sizeof(why));
		cr_expect_eq(rc, options_give(pairs[i], &want), "%s: %s", pairs[i], why);
		if (rc < 0)
			continue;
		cr_expect_str_eq(why, "", "%s", pairs[i]);
		cr_expect_eq(sg_settings_differ(&got, &want), 0, "%s", pairs[i]);
		cr_expect_eq(sg_settings_check_live(1u << key, &got),
			     sg_key_live_refusal(key) ? key : -1, "%s", pairs[i]);
	}
}

Test(overlay, pair_problems_read_as_check_says_them)
{
	static const struct {
		const char *pair, *why;
	} bad[] = {
		{ "retry_max=abc", "retry_max: 'abc' is not a whole number of retries" },
		{ "mode=on", "mode: 'on' is not one of harden, observe, off" },
		{ "bogus=1", "unknown key 'bogus'" },
		{ "mode", "expected KEY=VALUE, not 'mode'" },
		{ "=observe", "expected KEY=VALUE, not '=observe'" },
		{ "mode=", "mode: missing value" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sg_settings s;
		char why[SG_PROBLEM_LEN];
		int key;

		sg_settings_default(&s);
		cr_expect_eq(sg_settings_parse_pair(bad[i].pair, &key, &s, why,
						    sizeof(why)), -1, "%s", bad[i].pair);
		cr_expect_str_eq(why, bad[i].why);
	}
}

Test(overlay, only_sigpipe_and_the_log_writer_keys_are_refused_live)
{
	uint32_t want = (1u << SG_KEY_SIGPIPE) | (1u << SG_KEY_LOG) |
			(1u << SG_KEY_LOG_FACILITY) | (1u << SG_KEY_LOG_FORMAT);

	cr_expect_eq(sg_live_refused_keys(), want);
	for (int k = 0; k < SG_KEY_COUNT; k++)
		cr_expect_eq(sg_key_live_refusal(k) != NULL, (want >> k) & 1, "%s",
			     sg_key_name(k));
	cr_expect_null(sg_key_live_refusal(-1));
	cr_expect_null(sg_key_live_refusal(SG_KEY_COUNT));
}

Test(overlay, apply_copies_exactly_the_keys_given)
{
	struct sg_settings base, vals, out;

	sg_settings_default(&base);
	sg_settings_default(&vals);
	vals.mode = SG_MODE_OBSERVE;
	vals.retry_max = 5;
	vals.log_burst = 2;
	vals.sock.user_timeout_ms = 1000;
	out = base;
	sg_settings_apply(&out, (1u << SG_KEY_MODE) | (1u << SG_KEY_USER_TIMEOUT),
			  &vals);
	cr_expect_eq(out.mode, SG_MODE_OBSERVE);
	cr_expect_eq(out.sock.user_timeout_ms, 1000);
	cr_expect_eq(out.retry_max, 100, "not given: the base's");
	cr_expect_eq(sg_settings_differ(&base, &out),
		     (1u << SG_KEY_MODE) | (1u << SG_KEY_USER_TIMEOUT));

	struct sg_sock_settings sock = base.sock;
	sg_sock_settings_apply(&sock, (1u << SG_KEY_MODE) |
			       (1u << SG_KEY_USER_TIMEOUT), &vals);
	cr_expect_eq(sock.user_timeout_ms, 1000, "a socket key");
	cr_expect_eq(memcmp(&sock.log_events, &base.sock.log_events,
			    sizeof(sock.log_events)), 0);
}

Test(overlay, differ_sees_each_key_and_nothing_else)
{
	struct sg_settings a, b;

	sg_settings_default(&a);
	b = a;
	cr_expect_eq(sg_settings_differ(&a, &b), 0);
	b.sock.keepalive = SG_KEEPALIVE_CUSTOM;
	b.sock.keepalive_cnt = 3;
	cr_expect_eq(sg_settings_differ(&a, &b), 1u << SG_KEY_KEEPALIVE);
	b = a;
	b.eintr_pass = 0;
	b.sock.log_events = SG_CLASS_ALL_EVENTS;
	cr_expect_eq(sg_settings_differ(&a, &b),
		     (1u << SG_KEY_EINTR_PASS) | (1u << SG_KEY_LOG_EVENTS));
}

Test(overlay, a_block_out_of_range_is_refused_by_its_key)
{
	struct sg_settings s;

	sg_settings_default(&s);
	cr_expect_eq(sg_settings_check_live(0, &s), -1, "--reset");
	s.mode = 7;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_MODE, &s), SG_KEY_MODE);
	sg_settings_default(&s);
	s.retry_max = 2000000;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_RETRY_MAX, &s),
		     SG_KEY_RETRY_MAX);
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_MODE, &s), -1,
		     "only the keys set are looked at");
	sg_settings_default(&s);
	s.eagain_wait_ms = 0;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_EAGAIN_WAIT, &s),
		     SG_KEY_EAGAIN_WAIT);
	sg_settings_default(&s);
	s.sock.sndbuf = 5;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_SNDBUF, &s), SG_KEY_SNDBUF);
	s.sock.sndbuf = 0;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_SNDBUF, &s), -1);
	s.sock.keepalive = SG_KEEPALIVE_CUSTOM;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_KEEPALIVE, &s),
		     SG_KEY_KEEPALIVE, "custom with zero times");
	s.sock.keepalive = 9;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_KEEPALIVE, &s),
		     SG_KEY_KEEPALIVE);
	sg_settings_default(&s);
	s.sock.log_events = 1u << 31;
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_LOG_EVENTS, &s),
		     SG_KEY_LOG_EVENTS);
	sg_settings_default(&s);
	cr_expect_eq(sg_settings_check_live(1u << SG_KEY_SIGPIPE, &s), SG_KEY_SIGPIPE);
	cr_expect_eq(sg_settings_check_live(1u << 30, &s), SG_KEY_COUNT);
}
