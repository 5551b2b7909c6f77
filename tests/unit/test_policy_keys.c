/*
 * Every policy key of the man page: the values it accepts (and how check shows
 * them), the values it refuses, and the line number each problem names.
 */
#include "policy_test.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>

#include "../../policy/classify.h"
#include "../../policy/policy_int.h"

struct key_case {
	const char *key;
	const char *value;
	const char *shown;	/* NULL: the value must be refused */
};

static const struct key_case cases[] = {
	{ "mode", "harden", "harden" }, { "mode", "observe", "observe" },
	{ "mode", "off", "off" }, { "mode", "Harden", NULL },
	{ "mode", "on", NULL },
	{ "sigpipe", "ignore", "ignore" }, { "sigpipe", "socket", "socket" },
	{ "sigpipe", "off", "off" }, { "sigpipe", "default", NULL },
	{ "eintr", "retry", "retry" }, { "eintr", "pass", "pass" },
	{ "eintr", "always", NULL },
	{ "eintr_pass", "HUP,TERM", "HUP,TERM" },
	{ "eintr_pass", "sighup, SigTerm ,usr1", "HUP,USR1,TERM" },
	{ "eintr_pass", "none", "none" }, { "eintr_pass", "HUP,FOO", NULL },
	{ "eintr_pass", "HUP,,TERM", NULL }, { "eintr_pass", "1", "HUP" },
	{ "eintr_pass", "0", NULL }, { "eintr_pass", "65", NULL },
	{ "eagain", "off", "off" }, { "eagain", "blocking", "blocking" },
	{ "eagain", "auto", "auto" }, { "eagain", "unwatched", "unwatched" },
	{ "eagain", "always", "always" }, { "eagain", "never", NULL },
	{ "eagain_wait", "1", "1" }, { "eagain_wait", "3600000", "3600000" },
	{ "eagain_wait", "0", NULL }, { "eagain_wait", "3600001", NULL },
	{ "eagain_wait", "5s", NULL }, { "eagain_wait", "-1", NULL },
	{ "eagain_wait", "99999999999999999999999", NULL },
	{ "accept", "retry", "retry" }, { "accept", "pass", "pass" },
	{ "accept", "shed", NULL },
	{ "accept_emfile", "shed", "shed" }, { "accept_emfile", "pass", "pass" },
	{ "accept_emfile", "retry", NULL },
	{ "retry_max", "0", "0" }, { "retry_max", "1000000", "1000000" },
	{ "retry_max", "1000001", NULL }, { "retry_max", "1e3", NULL },
	{ "keepalive", "off", "off" }, { "keepalive", "on", "on" },
	{ "keepalive", "60,10,5", "60,10,5" },
	{ "keepalive", "60, 10, 5", "60,10,5" },
	{ "keepalive", "32767,32767,127", "32767,32767,127" },
	{ "keepalive", "0,10,5", NULL }, { "keepalive", "32768,10,5", NULL },
	{ "keepalive", "60,32768,5", NULL }, { "keepalive", "60,10,128", NULL },
	{ "keepalive", "60,10", NULL }, { "keepalive", "60,10,5,1", NULL },
	{ "keepalive", "yes", NULL },
	{ "user_timeout", "0", "0" }, { "user_timeout", "86400000", "86400000" },
	{ "user_timeout", "86400001", NULL }, { "user_timeout", "10 ms", NULL },
	{ "connect_timeout", "300", "300" },
	{ "connect_timeout", "86400001", NULL },
	{ "sndbuf", "0", "0" }, { "sndbuf", "1024", "1024" },
	{ "sndbuf", "1073741824", "1073741824" }, { "sndbuf", "1023", NULL },
	{ "sndbuf", "1073741825", NULL }, { "sndbuf", "4M", NULL },
	{ "rcvbuf", "65536", "65536" }, { "rcvbuf", "1", NULL },
	{ "log", "syslog", "syslog" }, { "log", "stderr", "stderr" },
	{ "log", "off", "off" }, { "log", "unix:/run/sg.sock", "unix:/run/sg.sock" },
	{ "log", "unix:relative", NULL }, { "log", "unix:", NULL },
	{ "log", "file:/x", NULL }, { "log", "auto", "auto" },
	{ "log", "journal", "journal" },
	{ "log", "unix:@sockguard", "unix:@sockguard" },
	{ "log", "unix:@a b:c", "unix:@a b:c" }, { "log", "unix:@", NULL },
	{ "log", "unix:/", "unix:/" }, { "log", "Journal", NULL },
	{ "log_facility", "daemon", "daemon" }, { "log_facility", "kern", "kern" },
	{ "log_facility", "authpriv", "authpriv" },
	{ "log_facility", "local0", "local0" },
	{ "log_facility", "local7", "local7" },
	{ "log_facility", "local8", NULL }, { "log_facility", "3", NULL },
	{ "log_events", "all", "all" }, { "log_events", "none", "none" },
	{ "log_events", "reset, timeout", "reset,timeout" },
	{ "log_events", "eof", "eof" }, { "log_events", "reset,bogus", NULL },
	{ "log_events", "reset,", NULL },
	{ "log_burst", "1", "1" }, { "log_burst", "1000000", "1000000" },
	{ "log_burst", "0", NULL }, { "log_burst", "1000001", NULL },
	{ "log_interval", "1", "1" }, { "log_interval", "86400", "86400" },
	{ "log_interval", "0", NULL }, { "log_interval", "86401", NULL },
	{ "log_max", "1", "1" }, { "log_max", "1000000", "1000000" },
	{ "log_max", "0", NULL }, { "log_max", "1000001", NULL },
	{ "log_max", "many", NULL },
	{ "log_format", "rfc3164", "rfc3164" },
	{ "log_format", "rfc5424", "rfc5424" },
	{ "log_format", "RFC5424", NULL }, { "log_format", "json", NULL },
	{ "log_summary_interval", "0", "0" },
	{ "log_summary_interval", "86400", "86400" },
	{ "log_summary_interval", "86401", NULL },
	{ "log_summary_interval", "5m", NULL },
};

static int key_of(const char *name)
{
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		if (strcmp(sg_key_name(k), name) == 0)
			return k;
	}
	cr_assert_fail("no key %s", name);
	return -1;
}

Test(policy_keys, every_value_is_accepted_or_refused_on_its_line)
{
	char text[512], where[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct key_case *c = &cases[i];
		/* Two lines of padding prove the line number is counted. */
		snprintf(text, sizeof(text), "# policy\n\n%s = %s # note\n",
			 c->key, c->value);
		int rc = parse_text(text);
		if (c->shown) {
			cr_assert_eq(rc, 0, "%s = %s refused: %s", c->key,
				     c->value, problems.text[0]);
			cr_assert_str_eq(value_for(NULL, key_of(c->key)),
					 c->shown, "%s = %s", c->key, c->value);
			continue;
		}
		cr_assert_eq(rc, -1, "%s = %s accepted", c->key, c->value);
		snprintf(where, sizeof(where), "t.conf:3: %s: ", c->key);
		expect_one_problem(where, text);
	}
}

Test(policy_keys, defaults_are_those_of_the_spec)
{
	static const char *const expected[SG_KEY_COUNT] = {
		"harden", "ignore", "retry", "HUP,INT,QUIT,USR1,USR2,ALRM,TERM",
		"auto", "5000", "retry", "shed", "100", "off", "0", "0", "0",
		"0", "auto", "daemon",
		"reset,refused,timeout,unreachable,pipe,aborted,fd_exhausted,"
		"suppressed,summary", "20", "10", "200", "rfc3164", "300",
	};

	cr_assert_eq(parse_text(""), 0);
	for (int k = 0; k < SG_KEY_COUNT; k++)
		cr_assert_str_eq(value_for(NULL, k), expected[k], "%s",
				 sg_key_name(k));
}

Test(policy_keys, settings_hold_the_parsed_numbers)
{
	struct sg_settings s;

	cr_assert_eq(parse_text("keepalive = 60,10,5\nlog = unix:/run/a.sock\n"
				"eintr_pass = HUP\nlog_events = reset\n"
				"log_facility = local3\n"), 0);
	sg_policy_for_program(policy, NULL, NULL, &s, NULL);
	cr_assert_eq(s.sock.keepalive, SG_KEEPALIVE_CUSTOM);
	cr_assert_eq(s.sock.keepalive_idle, 60);
	cr_assert_eq(s.sock.keepalive_intvl, 10);
	cr_assert_eq(s.sock.keepalive_cnt, 5);
	cr_assert_eq(s.sock.log_kind, SG_LOG_UNIX);
	cr_assert_str_eq(s.sock.log_path, "/run/a.sock");
	cr_assert_eq(s.eintr_pass, SG_SIGBIT(SIGHUP));
	cr_assert_eq(s.sock.log_events, 1u << SG_CLASS_RESET);
	cr_assert_eq(s.log_facility, 19);
}

Test(policy_keys, an_abstract_socket_name_is_kept_with_its_at_sign)
{
	struct sg_settings s;

	cr_assert_eq(parse_text("log = unix:@sg-events\nlog_format = rfc5424\n"
				"log_max = 50\nlog_summary_interval = 0\n"), 0);
	sg_policy_for_program(policy, NULL, NULL, &s, NULL);
	cr_assert_eq(s.sock.log_kind, SG_LOG_UNIX);
	cr_assert_str_eq(s.sock.log_path, "@sg-events");
	cr_assert_eq(s.log_format, SG_LOG_RFC5424);
	cr_assert_eq(s.log_max, 50);
	cr_assert_eq(s.log_summary_interval_s, 0);
	cr_assert_eq(sg_policy_parse_options(policy, "log=unix:@x:log=journal",
					     &problems), 0);
	sg_policy_for_program(policy, NULL, NULL, &s, NULL);
	cr_assert_eq(s.sock.log_kind, SG_LOG_JOURNAL);
	cr_assert_str_eq(s.sock.log_path, "");
}

Test(policy_keys, a_unix_path_must_fit_sun_path)
{
	char text[300];
	char path[200];

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[SG_LOG_PATH_MAX - 1] = '\0';	/* 107 bytes: fits */
	snprintf(text, sizeof(text), "log = unix:%s\n", path);
	cr_assert_eq(parse_text(text), 0);
	path[SG_LOG_PATH_MAX - 1] = 'a';
	path[SG_LOG_PATH_MAX] = '\0';		/* 108 bytes: no room for NUL */
	snprintf(text, sizeof(text), "log = unix:%s\n", path);
	cr_assert_eq(parse_text(text), -1);
	expect_one_problem("t.conf:1: log: ", "long path");
}

Test(policy_keys, unknown_keys_and_malformed_lines_are_named)
{
	cr_assert_eq(parse_text("mode = off\nmodes = off\n"), -1);
	expect_one_problem("t.conf:2: unknown key 'modes'", "unknown key");
	cr_assert_eq(parse_text("\nmode off\n"), -1);
	expect_one_problem("t.conf:2: expected 'key = value'", "no =");
	cr_assert_eq(parse_text("= off\n"), -1);
	expect_one_problem("t.conf:1: expected 'key = value'", "no key");
	cr_assert_eq(parse_text("mode =\n"), -1);
	expect_one_problem("t.conf:1: mode: missing value", "no value");
	cr_assert_eq(parse_text("mode = off\x01\n"), -1);
	expect_one_problem("t.conf:1: control character", "control byte");
}

Test(policy_keys, every_problem_is_reported_each_on_its_line)
{
	cr_assert_eq(parse_text("mode = x\nretry_max = -1\n[peer 10.0.0.0/8]\n"
				"mode = off\n[program]\nbogus = 1\n"), -1);
	cr_assert_eq(problems.count, 5);
	cr_assert(strstr(problems.text[0], "t.conf:1: mode:"));
	cr_assert(strstr(problems.text[1], "t.conf:2: retry_max:"));
	cr_assert(strstr(problems.text[2], "t.conf:4: mode: not a per-socket"));
	cr_assert(strstr(problems.text[3], "t.conf:5: bad section header"));
	cr_assert(strstr(problems.text[4], "t.conf:6: unknown key 'bogus'"));
}

Test(policy_keys, a_bad_policy_leaves_only_the_defaults)
{
	cr_assert_eq(parse_text("mode = off\neagain_wait = 7\nretry_max = x\n"),
		     -1);
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
	cr_assert_str_eq(value_for(NULL, SG_KEY_EAGAIN_WAIT), "5000");
	/* A later, valid source does not bring back half a policy. */
	cr_assert_eq(sg_policy_parse_options(policy, "mode=observe", &problems),
		     0);
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
}

Test(policy_keys, more_problems_than_kept_are_counted)
{
	char text[4096] = "";

	for (int i = 0; i < SG_PROBLEMS_MAX + 8; i++)
		strcat(text, "nope = 1\n");
	cr_assert_eq(parse_text(text), -1);
	cr_assert_eq(problems.count, SG_PROBLEMS_MAX + 8);
}

Test(policy_keys, signal_and_key_names_round_trip)
{
	cr_assert_eq(sg_signal_from_name("SIGHUP", 6), SIGHUP);
	cr_assert_eq(sg_signal_from_name("hup", 3), SIGHUP);
	cr_assert_eq(sg_signal_from_name("SIG", 3), -1);
	char buf[16];
	cr_assert_str_eq(sg_signal_name(SIGTERM, buf, sizeof buf), "TERM");
	cr_assert_str_eq(sg_signal_name(SIGRTMIN + 2, buf, sizeof buf), "RTMIN+2");
	cr_assert_str_eq(sg_signal_name(SIGRTMAX, buf, sizeof buf), "RTMAX");
	cr_assert_eq(sg_facility_from_name("local7", 6), 23);
	cr_assert_str_eq(sg_key_name(SG_KEY_LOG_INTERVAL), "log_interval");
	cr_assert_null(sg_key_name(SG_KEY_COUNT));
	for (int k = 0; k < SG_KEY_COUNT; k++) {
		const char *name = sg_key_name(k);
		char longer[64];

		cr_assert_eq(sg_key_from_name(name, strlen(name)), k, "%s", name);
		cr_assert_eq(sg_key_from_name(name, strlen(name) - 1), -1, "%s", name);
		snprintf(longer, sizeof(longer), "%sx", name);
		cr_assert_eq(sg_key_from_name(longer, strlen(longer)), -1, "%s", name);
	}
	cr_assert_eq(sg_key_from_name("", 0), -1);
	cr_assert_eq(sg_key_from_name("node", 4), -1, "mode's place, another name");
	cr_assert(sg_key_is_socket(SG_KEY_KEEPALIVE));
	cr_assert_not(sg_key_is_socket(SG_KEY_MODE));
}

Test(policy_keys, eintr_pass_names_realtime_signals_and_numbers)
{
	cr_assert_eq(sg_signal_from_name("RTMIN", 5), SIGRTMIN);
	cr_assert_eq(sg_signal_from_name("SIGRTMIN+1", 10), SIGRTMIN + 1);
	cr_assert_eq(sg_signal_from_name("rtmax-2", 7), SIGRTMAX - 2);
	cr_assert_eq(sg_signal_from_name("RTMAX", 5), SIGRTMAX);
	cr_assert_eq(sg_signal_from_name("40", 2), 40);
	cr_assert_eq(sg_signal_from_name("64", 2), 64);
	cr_assert_eq(sg_signal_from_name("65", 2), -1);
	cr_assert_eq(sg_signal_from_name("0", 1), -1);
	cr_assert_eq(sg_signal_from_name("RTMIN-1", 7), -1);
	cr_assert_eq(sg_signal_from_name("RTMAX+1", 7), -1);
	cr_assert_eq(sg_signal_from_name("RTMIN+99", 8), -1);

	cr_assert_eq(parse_text("eintr_pass = TERM,RTMIN+1,RTMAX,40\n"), 0,
		     "%s", problems.count ? problems.text[0] : "");
	struct sg_settings s;
	sg_policy_for_program(policy, NULL, NULL, &s, NULL);
	cr_assert(sg_signal_in(s.eintr_pass, SIGRTMIN + 1));
	cr_assert(sg_signal_in(s.eintr_pass, SIGRTMAX));
	cr_assert(sg_signal_in(s.eintr_pass, 40));
	char expect[64];
	snprintf(expect, sizeof expect, "TERM,RTMIN+1,RTMIN+%d,RTMAX",
		 40 - SIGRTMIN);
	cr_assert_str_eq(value_for(NULL, SG_KEY_EINTR_PASS), expect);
}

Test(policy_keys, signal_lists_and_class_names_are_found_in_every_form)
{
	char buf[16];
	uint64_t set;

	/* Every named signal, alone and in lower case, as the quick path reads it. */
	for (int signo = 1; signo <= 31; signo++) {
		const char *name = sg_signal_name(signo, buf, sizeof buf);
		char lower[16];
		size_t n = strlen(name);

		for (size_t i = 0; i <= n; i++)
			lower[i] = (char)tolower((unsigned char)name[i]);
		cr_assert_eq(sg_signal_set_quick(name, n, &set), 0, "%s", name);
		cr_assert_eq(set, SG_SIGBIT(signo), "%s", name);
		cr_assert_eq(sg_signal_set_quick(lower, n, &set), 0, "%s", lower);
		cr_assert_eq(set, SG_SIGBIT(signo), "%s", lower);
	}
	cr_assert_eq(sg_signal_set_quick(" hup , Term,usr1\t", 17, &set), 0);
	cr_assert_eq(set, SG_SIGBIT(SIGHUP) | SG_SIGBIT(SIGTERM) |
			  SG_SIGBIT(SIGUSR1));
	/* Anything else is left to the item-by-item reading. */
	cr_assert_eq(sg_signal_set_quick("HUP,", 4, &set), -1);
	cr_assert_eq(sg_signal_set_quick("SIGHUP", 6, &set), -1);
	cr_assert_eq(sg_signal_set_quick("HUPS", 4, &set), -1);
	cr_assert_eq(sg_signal_set_quick("15", 2, &set), -1);
	cr_assert_eq(sg_signal_set_quick("RTMIN+1", 7, &set), -1);

	for (int c = 0; c < SG_CLASS_COUNT; c++) {
		const char *name = sg_class_name(c);
		size_t n = strlen(name);

		cr_assert_eq(sg_class_from_name(name, n), c, "%s", name);
		cr_assert_eq(sg_class_from_name(name, n - 1), -1, "%s", name);
	}
	cr_assert_eq(sg_class_from_name("", 0), -1);
	cr_assert_eq(sg_class_from_name("rxxxt", 5), -1, "reset's place");
	cr_assert_eq(sg_class_from_name("Reset", 5), -1);
}

Test(policy_keys, names_of_ops_actions_deadlines_and_errnos_round_trip)
{
	for (int op = 0; op < SG_OP_COUNT; op++) {
		const char *name = sg_op_name(op);

		cr_assert_not_null(name);
		cr_assert_eq(sg_op_from_name(name, strlen(name)), op, "%s", name);
	}
	for (int a = 0; a < SG_ACTION_COUNT; a++) {
		const char *name = sg_action_name(a);

		cr_assert_not_null(name);
		cr_assert_eq(sg_action_from_name(name, strlen(name)), a, "%s", name);
	}
	cr_assert_null(sg_deadline_name(0), "no deadline has no name");
	cr_assert_str_eq(sg_deadline_name(SG_DEADLINE_COUNT - 1), "eagain_wait");
	cr_assert_null(sg_deadline_name(SG_DEADLINE_COUNT));
	cr_assert_null(sg_op_name(SG_OP_COUNT));
	cr_assert_eq(sg_op_from_name("", 0), -1);
	cr_assert_str_eq(sg_errno_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
	cr_assert_eq(sg_errno_from_name("ECONNRESET", 10), ECONNRESET);
	cr_assert_null(sg_errno_name(0));
}
