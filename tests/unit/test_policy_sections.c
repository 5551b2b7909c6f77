/*
 * [program] and [peer] sections, SOCKGUARD_OPTIONS, and the order in which
 * they apply: defaults, then matching sections in file order, then options.
 */
#include "policy_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static struct sockaddr_storage peer_ss;
static socklen_t peer_len;

/* Fills peer_ss from "10.1.2.3" or "2001:db8::1" and a port. */
static const struct sockaddr *peer(const char *addr, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&peer_ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&peer_ss;

	memset(&peer_ss, 0, sizeof(peer_ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		peer_len = sizeof(*in);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		peer_len = sizeof(*in6);
	}
	return (const struct sockaddr *)&peer_ss;
}

/* user_timeout for a socket of program name to addr:port; sets *mask. */
static uint32_t timeout_for(const char *name, const char *addr, int port,
			    uint64_t *mask)
{
	struct sg_sock_settings s;
	const struct sockaddr *sa = peer(addr, port);
	uint64_t m = sg_policy_for_peer(policy, name, NULL, sa, peer_len, &s);

	if (mask)
		*mask = m;
	return s.user_timeout_ms;
}

Test(policy_sections, program_sections_match_the_short_name_glob)
{
	cr_assert_eq(parse_text("mode = observe\n[program nginx]\nmode = harden\n"
				"[program *sql*]\nmode = off\n"), 0);
	cr_assert_str_eq(value_for("nginx", SG_KEY_MODE), "harden");
	cr_assert_str_eq(value_for("nginx2", SG_KEY_MODE), "observe");
	cr_assert_str_eq(value_for("postgresql", SG_KEY_MODE), "off");
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "observe");
}

Test(policy_sections, later_matching_sections_win_in_file_order)
{
	cr_assert_eq(parse_text("[program ng*]\nretry_max = 1\n"
				"[program nginx]\nretry_max = 2\n"
				"[program ng*]\neagain_wait = 9\n"), 0);
	cr_assert_str_eq(value_for("nginx", SG_KEY_RETRY_MAX), "2");
	cr_assert_str_eq(value_for("nginx", SG_KEY_EAGAIN_WAIT), "9");
	cr_assert_str_eq(value_for("ngrok", SG_KEY_RETRY_MAX), "1");
}

Test(policy_sections, path_globs_match_the_executable_path)
{
	struct sg_settings s;

	cr_assert_eq(parse_text("[program /usr/sbin/*]\nmode = off\n"), 0);
	sg_policy_for_program(policy, "nginx", "/usr/sbin/nginx", &s, NULL);
	cr_assert_eq(s.mode, SG_MODE_OFF);
	sg_policy_for_program(policy, "nginx", "/usr/sbin/x/nginx", &s, NULL);
	cr_assert_eq(s.mode, SG_MODE_HARDEN, "'*' does not cross '/'");
	sg_policy_for_program(policy, "nginx", NULL, &s, NULL);
	cr_assert_eq(s.mode, SG_MODE_HARDEN);
}

Test(policy_sections, glob_brackets_ranges_and_escapes)
{
	cr_assert_eq(parse_text("[program [a-c]?[!x]]\nretry_max = 1\n"
				"[program \\*]\nretry_max = 2\n"
				"[program []]x]\nretry_max = 3\n"), 0);
	cr_assert_str_eq(value_for("b1y", SG_KEY_RETRY_MAX), "1");
	cr_assert_str_eq(value_for("b1x", SG_KEY_RETRY_MAX), "100");
	cr_assert_str_eq(value_for("d1y", SG_KEY_RETRY_MAX), "100");
	cr_assert_str_eq(value_for("*", SG_KEY_RETRY_MAX), "2");
	cr_assert_str_eq(value_for("a", SG_KEY_RETRY_MAX), "100");
	cr_assert_str_eq(value_for("]x", SG_KEY_RETRY_MAX), "3");
}

Test(policy_sections, bad_globs_and_headers_are_refused)
{
	static const char *const bad[] = {
		"[program ngin[x]\n", "[program x\\]\n", "[program]\n",
		"[peer]\n", "[server x]\n", "[program x\n", "[]\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "mode = off\n%s", bad[i]);
		cr_assert_eq(parse_text(text), -1, "%s", bad[i]);
		expect_one_problem("t.conf:2: ", bad[i]);
	}
}

Test(policy_sections, peer_sections_match_cidr_and_port)
{
	uint64_t mask;

	cr_assert_eq(parse_text("user_timeout = 1\n"
				"[peer 10.0.0.0/8]\nuser_timeout = 2\n"
				"[peer 10.1.2.3:443]\nuser_timeout = 3\n"
				"[peer 192.168.0.0/16:80]\nuser_timeout = 4\n"),
		     0);
	cr_assert(sg_policy_has_peer_sections(policy));
	cr_assert_eq(timeout_for("x", "10.9.9.9", 22, &mask), 2);
	cr_assert_eq(mask, 1);
	cr_assert_eq(timeout_for("x", "10.1.2.3", 443, &mask), 3);
	cr_assert_eq(mask, 3);
	cr_assert_eq(timeout_for("x", "10.1.2.3", 444, NULL), 2);
	cr_assert_eq(timeout_for("x", "192.168.7.7", 80, &mask), 4);
	cr_assert_eq(mask, 4);
	cr_assert_eq(timeout_for("x", "192.168.7.7", 81, &mask), 1);
	cr_assert_eq(mask, 0);
	cr_assert_eq(timeout_for("x", "11.0.0.1", 443, NULL), 1);
}

Test(policy_sections, ipv6_peers_with_prefixes_and_ports)
{
	cr_assert_eq(parse_text("[peer [2001:db8::]/32:443]\nuser_timeout = 1\n"
				"[peer [::1]:80]\nuser_timeout = 2\n"
				"[peer [2001:db8::1]]\nuser_timeout = 3\n"
				"[peer fd00::/8]\nuser_timeout = 4\n"), 0);
	cr_assert_eq(timeout_for("x", "2001:db8:ffff::5", 443, NULL), 1);
	cr_assert_eq(timeout_for("x", "2001:db8:ffff::5", 80, NULL), 0);
	cr_assert_eq(timeout_for("x", "2001:db9::5", 443, NULL), 0);
	cr_assert_eq(timeout_for("x", "::1", 80, NULL), 2);
	cr_assert_eq(timeout_for("x", "::1", 81, NULL), 0);
	cr_assert_eq(timeout_for("x", "2001:db8::1", 443, NULL), 3);
	cr_assert_eq(timeout_for("x", "2001:db8::1", 22, NULL), 3);
	cr_assert_eq(timeout_for("x", "fdab::1", 22, NULL), 4);
	cr_assert_eq(timeout_for("x", "10.0.0.1", 443, NULL), 0);
}

Test(policy_sections, ipv4_mapped_peers_match_ipv4_cidrs)
{
	cr_assert_eq(parse_text("[peer 10.0.0.0/8:443]\nuser_timeout = 7\n"), 0);
	cr_assert_eq(timeout_for("x", "::ffff:10.1.2.3", 443, NULL), 7);
	cr_assert_eq(timeout_for("x", "::ffff:11.1.2.3", 443, NULL), 0);
	cr_assert_eq(timeout_for("x", "::10.1.2.3", 443, NULL), 0);
}

Test(policy_sections, bad_peer_addresses_are_refused)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0", "10.0.0.1:0", "10.0.0.1:65536",
		"10.0.0.1:http", "[::1", "[::1]:", "[::1]/129", "[10.0.0.1]",
		"2001:db8::/200", "[::1]x", "10.0.0.0/8/8", "host.example",
		"10.0.0.1/", " ",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "\n[peer %s]\n", bad[i]);
		cr_assert_eq(parse_text(text), -1, "%s", bad[i]);
		expect_one_problem("t.conf:2: ", bad[i]);
	}
}

Test(policy_sections, peer_sections_take_only_socket_keys)
{
	static const char *const socket_keys =
		"[peer 10.0.0.0/8]\nkeepalive = on\nuser_timeout = 1\n"
		"connect_timeout = 1\nsndbuf = 0\nrcvbuf = 0\nlog = off\n"
		"log_events = all\n";

	cr_assert_eq(parse_text(socket_keys), 0);
	cr_assert_eq(parse_text("[peer 10.0.0.0/8]\nretry_max = 1\n"), -1);
	expect_one_problem("t.conf:2: retry_max: not a per-socket key", "peer");
}

Test(policy_sections, program_and_peer_sections_apply_in_file_order)
{
	cr_assert_eq(parse_text("[peer 10.0.0.0/8]\nuser_timeout = 1\n"
				"[program curl]\nuser_timeout = 2\n"
				"[peer 10.1.0.0/16]\nuser_timeout = 3\n"), 0);
	cr_assert_eq(timeout_for("curl", "10.9.0.1", 80, NULL), 2);
	cr_assert_eq(timeout_for("wget", "10.9.0.1", 80, NULL), 1);
	cr_assert_eq(timeout_for("curl", "10.1.0.1", 80, NULL), 3);
	cr_assert_str_eq(value_for("curl", SG_KEY_USER_TIMEOUT), "2",
			 "[peer] sections do not apply to the program");
}

Test(policy_sections, no_peer_sections_means_no_lookup_needed)
{
	cr_assert_eq(parse_text("[program x]\nkeepalive = on\n"), 0);
	cr_assert_not(sg_policy_has_peer_sections(policy));
	cr_assert_eq(parse_text("[peer 1.2.3.4]\nkeepalive = on\nx = 1\n"), -1);
	cr_assert_not(sg_policy_has_peer_sections(policy));
}

Test(policy_sections, too_many_peer_sections_are_refused)
{
	char text[8192] = "";

	for (int i = 0; i < SG_POLICY_MAX_PEER_SECTIONS + 1; i++) {
		char line[64];
		snprintf(line, sizeof(line), "[peer 10.0.0.%d]\nlog = off\n", i);
		strcat(text, line);
	}
	cr_assert_eq(parse_text(text), -1);
	expect_one_problem("t.conf:129: too many [peer] sections", "limit");
}

Test(policy_sections, too_many_sections_are_refused_and_still_checked)
{
	static char text[32768];
	size_t len = 0;

	for (int i = 0; i < SG_POLICY_MAX_SECTIONS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"[program p%d]\nretry_max = 1\n", i);
	snprintf(text + len, sizeof(text) - len,
		 "[program last]\nretry_max = 2\nretry_max = x\n");
	cr_assert_eq(parse_text(text), -1);
	cr_assert_eq(problems.count, 2);
	cr_assert(strstr(problems.text[0], "t.conf:513: too many sections (limit 256)"),
		  "%s", problems.text[0]);
	cr_assert(strstr(problems.text[1], "t.conf:515: retry_max: "),
		  "the keys of a section past the limit are checked: %s",
		  problems.text[1]);
	cr_assert_str_eq(value_for("p0", SG_KEY_RETRY_MAX), "100",
			 "a refused policy is the empty one");
}

Test(policy_sections, options_apply_after_the_file)
{
	cr_assert_eq(parse_text("[program nginx]\nretry_max = 1\nmode = off\n"),
		     0);
	cr_assert_eq(sg_policy_parse_options(policy, "retry_max=7", &problems),
		     0);
	cr_assert_str_eq(value_for("nginx", SG_KEY_RETRY_MAX), "7");
	cr_assert_str_eq(value_for("nginx", SG_KEY_MODE), "off");
	cr_assert_str_eq(value_for("other", SG_KEY_RETRY_MAX), "7");
}

Test(policy_sections, options_override_peer_sections_too)
{
	cr_assert_eq(parse_text("[peer 10.0.0.0/8]\nuser_timeout = 1\n"), 0);
	cr_assert_eq(sg_policy_parse_options(policy, "user_timeout=5",
					     &problems), 0);
	cr_assert_eq(timeout_for("x", "10.0.0.1", 1, NULL), 5);
}

Test(policy_sections, options_keep_the_colon_of_a_unix_path)
{
	fresh_policy();
	cr_assert_eq(sg_policy_parse_options(policy,
		"eintr_pass=HUP,TERM:log=unix:/run/a:b.sock:eagain=always",
		&problems), 0, "%s", problems.text[0]);
	cr_assert_str_eq(value_for(NULL, SG_KEY_LOG), "unix:/run/a:b.sock");
	cr_assert_str_eq(value_for(NULL, SG_KEY_EINTR_PASS), "HUP,TERM");
	cr_assert_str_eq(value_for(NULL, SG_KEY_EAGAIN), "always");
}

Test(policy_sections, options_tolerate_empty_pairs_and_spaces)
{
	fresh_policy();
	cr_assert_eq(sg_policy_parse_options(policy, ": mode = off ::", &problems),
		     0);
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "off");
	fresh_policy();
	cr_assert_eq(sg_policy_parse_options(policy, NULL, &problems), 0);
	cr_assert_eq(sg_policy_parse_options(policy, "", &problems), 0);
}

Test(policy_sections, option_problems_name_the_key)
{
	fresh_policy();
	cr_assert_eq(sg_policy_parse_options(policy, "junk:mode=off:retry_max=x",
					     &problems), -1);
	cr_assert_eq(problems.count, 2);
	cr_assert(strstr(problems.text[0], "SOCKGUARD_OPTIONS: expected "
			 "key=value, not 'junk'"));
	cr_assert(strstr(problems.text[1], "SOCKGUARD_OPTIONS: retry_max: "));
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "harden");
}

Test(policy_sections, origins_name_file_line_options_or_default)
{
	struct sg_settings s;
	struct sg_origin o[SG_KEY_COUNT];

	cr_assert_eq(parse_text("mode = observe\n[program x]\nretry_max = 3\n"),
		     0);
	cr_assert_eq(sg_policy_parse_options(policy, "eagain=off", &problems), 0);
	sg_policy_for_program(policy, "x", NULL, &s, o);
	cr_assert_str_eq(o[SG_KEY_MODE].source, "t.conf");
	cr_assert_eq(o[SG_KEY_MODE].line, 1);
	cr_assert_eq(o[SG_KEY_RETRY_MAX].line, 3);
	cr_assert_str_eq(o[SG_KEY_EAGAIN].source, "SOCKGUARD_OPTIONS");
	cr_assert_eq(o[SG_KEY_EAGAIN].line, 0);
	cr_assert_null(o[SG_KEY_SIGPIPE].source);
}

Test(policy_sections, section_list_reports_matches)
{
	struct sg_section_info info;

	cr_assert_eq(parse_text("mode = observe\n[program x*]\nmode = off\n"
				"[peer [::1]:80]\nlog = off\n"), 0);
	cr_assert_eq(sg_policy_section_count(policy), 3);
	cr_assert_eq(sg_policy_section_info(policy, 1, &info), 0);
	cr_assert_eq(info.kind, SG_SECTION_PROGRAM);
	cr_assert_str_eq(info.arg, "x*");
	cr_assert_eq(info.line, 2);
	cr_assert_eq(info.keys, 1u << SG_KEY_MODE);
	cr_assert(sg_policy_section_matches(policy, 1, "xy", NULL));
	cr_assert_not(sg_policy_section_matches(policy, 1, "y", NULL));
	cr_assert_not(sg_policy_section_matches(policy, 2, "xy", NULL));
	cr_assert_eq(sg_policy_section_info(policy, 3, &info), -1);
}

Test(policy_sections, comments_and_crlf_lines)
{
	cr_assert_eq(parse_text("# c\r\n  mode = off   # trailing\r\n"
				"\t# indented comment\nlog = unix:/tmp/a#b\n"
				"[program x] # after a header\n"), 0);
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "off");
	cr_assert_str_eq(value_for(NULL, SG_KEY_LOG), "unix:/tmp/a#b");
}

Test(policy_sections, a_byte_order_mark_is_skipped)
{
	cr_assert_eq(parse_text("\xef\xbb\xbfmode = off\n"), 0);
	cr_assert_str_eq(value_for(NULL, SG_KEY_MODE), "off");
}
