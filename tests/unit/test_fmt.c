/*
 * The async-signal-safe formatting (policy/fmt.c), checked against libc's own
 * inet_ntop(3) and gmtime_r(3)/strftime(3) where libc has an equivalent.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "../../policy/fmt.h"

static char mem[512];
static struct sg_fmt f;

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	sg_fmt_init(&f, mem, sizeof(mem) - 1);
}

static const char *text(void)
{
	mem[f.len] = '\0';
	return mem;
}

TestSuite(fmt, .init = setup);

Test(fmt, decimal_covers_zero_and_the_extremes)
{
	sg_fmt_u64(&f, 0);
	sg_fmt_char(&f, ' ');
	sg_fmt_u64(&f, UINT64_MAX);
	sg_fmt_char(&f, ' ');
	sg_fmt_i64(&f, INT64_MIN);
	sg_fmt_char(&f, ' ');
	sg_fmt_i64(&f, -42);
	cr_assert_str_eq(text(),
			 "0 18446744073709551615 -9223372036854775808 -42");
}

Test(fmt, padding_uses_the_given_character)
{
	sg_fmt_u64_pad(&f, 5, 2, ' ');
	sg_fmt_u64_pad(&f, 7, 2, '0');
	sg_fmt_u64_pad(&f, 123, 2, '0');
	cr_assert_str_eq(text(), " 507123");
}

Test(fmt, hex_is_lowercase_without_leading_zeros)
{
	sg_fmt_hex(&f, 0);
	sg_fmt_char(&f, ' ');
	sg_fmt_hex(&f, 0xdb8);
	sg_fmt_char(&f, ' ');
	sg_fmt_hex(&f, UINT64_MAX);
	cr_assert_str_eq(text(), "0 db8 ffffffffffffffff");
}

Test(fmt, field_escaping_hides_separators_and_control_bytes)
{
	const char name[] = "a b=c\\d\ne\x7f\xc3\xa9";

	sg_fmt_escaped(&f, name, sizeof(name) - 1, SG_ESC_FIELD);
	cr_assert_str_eq(text(), "a\\x20b\\x3dc\\x5cd\\x0ae\\x7f\\xc3\\xa9");
}

Test(fmt, text_escaping_keeps_spaces_but_not_newlines)
{
	const char msg[] = "file:3: bad value\nclass=reset";

	sg_fmt_escaped(&f, msg, sizeof(msg) - 1, SG_ESC_TEXT);
	cr_assert_str_eq(text(), "file:3: bad value\\x0aclass=reset");
}

Test(fmt, an_append_that_does_not_fit_writes_nothing_and_sets_full)
{
	char small[8];
	struct sg_fmt s;

	sg_fmt_init(&s, small, sizeof(small));
	sg_fmt_str(&s, "abcde");
	sg_fmt_str(&s, "fghij");
	cr_assert_eq(s.len, 5);
	cr_assert(s.full);
	sg_fmt_str(&s, "x");
	cr_assert_eq(s.len, 5, "nothing is written once full");
}

Test(fmt, commit_takes_back_a_field_that_did_not_fit_whole)
{
	char small[16];
	struct sg_fmt s;
	size_t mark;

	sg_fmt_init(&s, small, sizeof(small));
	sg_fmt_str(&s, "class=x");
	mark = sg_fmt_mark(&s);
	sg_fmt_str(&s, " peer=");
	sg_fmt_str(&s, "/a/very/long/path");
	sg_fmt_commit(&s, mark);
	cr_assert_eq(s.len, 7);
	cr_assert_not(s.full);
	mark = sg_fmt_mark(&s);
	sg_fmt_str(&s, " fd=7");
	sg_fmt_commit(&s, mark);
	cr_assert_eq(memcmp(small, "class=x fd=7", 12), 0);
}

Test(fmt, a_message_is_a_c_string_cut_short_to_fill_its_buffer)
{
	char msg[12];
	struct sg_fmt m;

	memset(msg, 'x', sizeof(msg));
	sg_fmt_init_cstr(&m, msg, sizeof(msg));
	cr_assert_str_eq(msg, "");
	sg_fmt_str(&m, "port ");
	sg_fmt_u64(&m, 8080);
	cr_assert_str_eq(msg, "port 8080");
	sg_fmt_str(&m, " is out of range");
	cr_assert_str_eq(msg, "port 8080 i", "cut short, still terminated");
	cr_assert(m.full);
	sg_fmt_str(&m, "!");
	cr_assert_str_eq(msg, "port 8080 i");
}

Test(fmt, quoted_text_hides_control_bytes_and_is_shortened)
{
	char longer[100];

	sg_fmt_quoted(&f, "a\tb\x7f", 4);
	cr_assert_str_eq(text(), "'a?b?'");
	memset(longer, 'z', sizeof(longer));
	setup();
	sg_fmt_quoted(&f, longer, sizeof(longer));
	cr_assert_eq(f.len, 64 + 5, "64 bytes shown between quotes, then ...");
	cr_assert(strstr(text(), "z...'"));
}

Test(fmt, ipv4_dotted_quad)
{
	const unsigned char a[4] = { 10, 0, 255, 1 };

	sg_fmt_ipv4(&f, a);
	cr_assert_str_eq(text(), "10.0.255.1");
}

static void check_v6(const char *in)
{
	unsigned char a[16];
	char want[INET6_ADDRSTRLEN];

	cr_assert_eq(inet_pton(AF_INET6, in, a), 1, "%s", in);
	inet_ntop(AF_INET6, a, want, sizeof(want));
	setup();
	sg_fmt_ipv6(&f, a);
	cr_assert_str_eq(text(), want, "for %s", in);
}

Test(fmt, ipv6_follows_rfc5952_like_inet_ntop)
{
	static const char *const cases[] = {
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:1:0:0:1",
		"2001:0:0:1:0:0:0:1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8",
		"1:0:2:0:3:0:4:0", "0:1:0:0:0:0:0:0", "::ffff:192.0.2.1",
		"1:2:3:4:5:6:0:0",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_v6(cases[i]);
}

Test(fmt, ipv6_matches_inet_ntop_on_random_addresses)
{
	srand(5);
	for (int n = 0; n < 20000; n++) {
		unsigned char a[16];
		char want[INET6_ADDRSTRLEN];

		/* Mostly zero groups, so that runs of every length occur. */
		for (int i = 0; i < 16; i += 2) {
			int zero = rand() % 3 != 0;
			a[i] = zero ? 0 : (unsigned char)rand();
			a[i + 1] = zero ? 0 : (unsigned char)rand();
		}
		/* glibc writes the deprecated IPv4-compatible form (::1.2.3.4)
		 * for these; RFC 5952 section 5 keeps mixed notation for
		 * ::ffff: only. */
		if (memcmp(a, (const unsigned char[12]){ 0 }, 12) == 0)
			continue;
		inet_ntop(AF_INET6, a, want, sizeof(want));
		setup();
		sg_fmt_ipv6(&f, a);
		cr_assert_str_eq(text(), want);
	}
}

Test(fmt, ipv4_compatible_addresses_stay_hexadecimal)
{
	unsigned char a[16] = { [12] = 156, 27, 241, 237 };

	sg_fmt_ipv6(&f, a);
	cr_assert_str_eq(text(), "::9c1b:f1ed");
}

Test(fmt, inet_addresses_with_and_without_port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(80) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(443) };

	inet_pton(AF_INET, "1.2.3.4", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	cr_assert_eq(sg_fmt_sockaddr(&f, (struct sockaddr *)&sin, sizeof(sin), 1), 0);
	sg_fmt_char(&f, ' ');
	sg_fmt_sockaddr(&f, (struct sockaddr *)&sin6, sizeof(sin6), 1);
	sg_fmt_char(&f, ' ');
	sg_fmt_sockaddr(&f, (struct sockaddr *)&sin6, sizeof(sin6), 0);
	sg_fmt_char(&f, ' ');
	sin6.sin6_scope_id = 2;
	sg_fmt_sockaddr(&f, (struct sockaddr *)&sin6, sizeof(sin6), 1);
	cr_assert_str_eq(text(), "1.2.3.4:80 [2001:db8::1]:443 [2001:db8::1] "
				 "[2001:db8::1%2]:443");
}

static socklen_t unix_addr(struct sockaddr_un *sun, const char *path,
			   size_t n)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

Test(fmt, unix_paths_are_escaped)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(&sun, "/run/my sock\n=x", 16);

	cr_assert_eq(sg_fmt_sockaddr(&f, (struct sockaddr *)&sun, len, 1), 0);
	cr_assert_str_eq(text(), "/run/my\\x20sock\\x0a\\x3dx");
}

Test(fmt, abstract_unix_names_start_with_an_at_sign)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(&sun, "\0name\0x", 7);

	sg_fmt_sockaddr(&f, (struct sockaddr *)&sun, len, 1);
	cr_assert_str_eq(text(), "@name\\x00x");
}

Test(fmt, a_path_starting_with_at_is_not_taken_for_abstract)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(&sun, "@x", 3);

	sg_fmt_sockaddr(&f, (struct sockaddr *)&sun, len, 1);
	cr_assert_str_eq(text(), "\\x40x");
}

Test(fmt, unnamed_and_unknown_addresses_write_nothing)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sockaddr sa = { .sa_family = AF_PACKET };
	struct sockaddr_in sin = { .sin_family = AF_INET };

	cr_assert_eq(sg_fmt_sockaddr(&f, (struct sockaddr *)&sun,
				     sizeof(sa_family_t), 1), -1);
	cr_assert_eq(sg_fmt_sockaddr(&f, &sa, sizeof(sa), 1), -1);
	cr_assert_eq(sg_fmt_sockaddr(&f, (struct sockaddr *)&sin, 4, 1), -1);
	cr_assert_eq(sg_fmt_sockaddr(&f, NULL, 0, 1), -1);
	cr_assert_eq(f.len, 0);
}

static void check_time(int64_t t)
{
	char want[32];
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(want, sizeof(want), "%b %e %H:%M:%S", &tm);
	setup();
	sg_fmt_rfc3164_time(&f, t);
	cr_assert_str_eq(text(), want, "at %lld", (long long)t);
}

Test(fmt, rfc3164_time_matches_strftime)
{
	static const int64_t fixed[] = {
		0, -1, 86399, 86400, 951782400 /* 2000-02-29 */,
		1732562451 /* the man page example's day */, 4102444800LL,
		-2208988800LL, 253402300799LL,
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_time(fixed[i]);
	srand(7);
	for (int n = 0; n < 20000; n++)
		check_time(((int64_t)rand() << 8 ^ rand()) % 20000000000LL -
			   5000000000LL);
}

Test(fmt, rfc3164_days_below_ten_are_space_padded)
{
	sg_fmt_rfc3164_time(&f, 1730851200 + 3661);	/* 2024-11-06 01:01:01 */
	cr_assert_str_eq(text(), "Nov  6 01:01:01");
}

static void check_time5424(int64_t t, unsigned usec)
{
	char want[64], date[32];
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(want, sizeof(want), "%s.%06u+00:00", date, usec);
	setup();
	sg_fmt_rfc5424_time(&f, t, usec);
	cr_assert_str_eq(text(), want, "at %lld", (long long)t);
}

Test(fmt, rfc5424_time_matches_strftime_with_microseconds_and_offset)
{
	static const int64_t fixed[] = {
		0, 86399, 951782400 /* 2000-02-29 */, 1796167109,
		4102444800LL, 253402300799LL /* 9999-12-31 */,
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_time5424(fixed[i], (unsigned)(i * 123457) % 1000000);
	srand(11);
	for (int n = 0; n < 20000; n++)
		check_time5424(((int64_t)rand() << 8 ^ rand()) % 20000000000LL,
			       (unsigned)rand() % 1000000);
}

Test(fmt, rfc5424_time_of_the_example)
{
	sg_fmt_rfc5424_time(&f, 1796167109, 123456);
	cr_assert_str_eq(text(), "2026-12-01T23:18:29.123456+00:00");
}
