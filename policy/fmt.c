/*
 * Formatting into a bounded buffer: decimal, hexadecimal, quoted text, IP
 * addresses, unix paths and RFC 3164/5424 time stamps.  inet_ntop(3) and
 * strftime(3) are not on the async-signal-safe list of signal-safety(7)
 * (strftime reads the locale and the time zone), so both are done by hand.
 */
#include "fmt.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

static const char hexdigits[] = "0123456789abcdef";

/* The longest piece of an offending value quoted back in a message. */
#define QUOTE_MAX 64

void sg_fmt_commit(struct sg_fmt *f, size_t mark)
{
	/* A field that did not fit whole is taken back, so that the line
	 * never ends in half a value that a reader would take for a whole one. */
	if (f->full) {
		f->len = mark;
		f->full = 0;
		if (f->cstr)
			f->p[f->len] = '\0';
	}
}

void sg_fmt_mem(struct sg_fmt *f, const void *s, size_t n)
{
	if (f->full || n > f->cap - f->len) {
		if (f->cstr && !f->full) {
			/* A message is cut short rather than left without its end. */
			memcpy(f->p + f->len, s, f->cap - f->len);
			f->len = f->cap;
			f->p[f->len] = '\0';
		}
		f->full = 1;
		return;
	}
	memcpy(f->p + f->len, s, n);
	f->len += n;
	if (f->cstr)
		f->p[f->len] = '\0';
}

void sg_fmt_str(struct sg_fmt *f, const char *s)
{
	sg_fmt_mem(f, s, strlen(s));
}

void sg_fmt_char(struct sg_fmt *f, char c)
{
	sg_fmt_mem(f, &c, 1);
}

void sg_fmt_u64_pad(struct sg_fmt *f, uint64_t v, unsigned width, char pad)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (sizeof(tmp) - i < width && i > 0)
		tmp[--i] = pad;
	sg_fmt_mem(f, tmp + i, sizeof(tmp) - i);
}

void sg_fmt_u64(struct sg_fmt *f, uint64_t v)
{
	sg_fmt_u64_pad(f, v, 0, '0');
}

void sg_fmt_i64(struct sg_fmt *f, int64_t v)
{
	if (v < 0) {
		sg_fmt_char(f, '-');
		/* Negating in unsigned arithmetic is defined for INT64_MIN too. */
		sg_fmt_u64(f, 0 - (uint64_t)v);
		return;
	}
	sg_fmt_u64(f, (uint64_t)v);
}

void sg_fmt_hex(struct sg_fmt *f, uint64_t v)
{
	char tmp[16];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = hexdigits[v & 0xf];
		v >>= 4;
	} while (v);
	sg_fmt_mem(f, tmp + i, sizeof(tmp) - i);
}

static int must_escape(unsigned char c, int mode)
{
	if (c < 0x20 || c == 0x7f || c == '\\')
		return 1;
	if (mode == SG_ESC_FIELD)
		return c == ' ' || c == '=' || c >= 0x80;
	return 0;
}

void sg_fmt_escaped(struct sg_fmt *f, const char *s, size_t n, int mode)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4] = { '\\', 'x', hexdigits[c >> 4], hexdigits[c & 0xf] };

		if (must_escape(c, mode))
			sg_fmt_mem(f, esc, sizeof(esc));
		else
			sg_fmt_char(f, (char)c);
	}
}

void sg_fmt_quoted(struct sg_fmt *f, const char *s, size_t n)
{
	size_t shown = n > QUOTE_MAX ? QUOTE_MAX : n;

	sg_fmt_char(f, '\'');
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		sg_fmt_char(f, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	sg_fmt_str(f, n > shown ? "...'" : "'");
}

void sg_fmt_ipv4(struct sg_fmt *f, const unsigned char a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i)
			sg_fmt_char(f, '.');
		sg_fmt_u64(f, a[i]);
	}
}

/* The longest run of two or more zero groups (the first of equals), for "::". */
static void longest_zero_run(const uint16_t g[8], int *start, int *len)
{
	*start = -1;
	*len = 0;
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i >= 2 && j - i > *len) {
			*start = i;
			*len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

static int is_v4_mapped(const unsigned char a[16])
{
	static const unsigned char prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

void sg_fmt_ipv6(struct sg_fmt *f, const unsigned char a[16])
{
	uint16_t g[8];
	int run, runlen;

	if (is_v4_mapped(a)) {
		sg_fmt_str(f, "::ffff:");
		sg_fmt_ipv4(f, a + 12);
		return;
	}
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	longest_zero_run(g, &run, &runlen);
	for (int i = 0; i < 8; i++) {
		if (i == run) {
			sg_fmt_str(f, "::");
			i += runlen - 1;
			continue;
		}
		if (i > 0 && i != run + runlen)
			sg_fmt_char(f, ':');
		sg_fmt_hex(f, g[i]);
	}
}

static int fmt_sin(struct sg_fmt *f, const struct sockaddr_in *sin,
		   socklen_t len, int with_port)
{
	if (len < sizeof(*sin))
		return -1;
	sg_fmt_ipv4(f, (const unsigned char *)&sin->sin_addr);
	if (with_port) {
		sg_fmt_char(f, ':');
		sg_fmt_u64(f, ntohs(sin->sin_port));
	}
	return 0;
}

static int fmt_sin6(struct sg_fmt *f, const struct sockaddr_in6 *sin6,
		    socklen_t len, int with_port)
{
	if (len < sizeof(*sin6))
		return -1;
	sg_fmt_char(f, '[');
	sg_fmt_ipv6(f, sin6->sin6_addr.s6_addr);
	/* if_indextoname(3) is not async-signal-safe: the scope stays a number. */
	if (sin6->sin6_scope_id) {
		sg_fmt_char(f, '%');
		sg_fmt_u64(f, sin6->sin6_scope_id);
	}
	sg_fmt_char(f, ']');
	if (with_port) {
		sg_fmt_char(f, ':');
		sg_fmt_u64(f, ntohs(sin6->sin6_port));
	}
	return 0;
}

static int fmt_sun(struct sg_fmt *f, const struct sockaddr_un *sun,
		   socklen_t len)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n;

	if (len <= off)
		return -1;	/* unnamed (unix(7), "Address format") */
	n = len - off;
	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (sun->sun_path[0] == '\0') {
		sg_fmt_char(f, '@');
		sg_fmt_escaped(f, sun->sun_path + 1, n - 1, SG_ESC_FIELD);
		return 0;
	}
	n = strnlen(sun->sun_path, n);
	/* A path that starts with '@' is escaped so it never reads as abstract. */
	if (sun->sun_path[0] == '@') {
		sg_fmt_str(f, "\\x40");
		sg_fmt_escaped(f, sun->sun_path + 1, n - 1, SG_ESC_FIELD);
		return 0;
	}
	sg_fmt_escaped(f, sun->sun_path, n, SG_ESC_FIELD);
	return 0;
}

int sg_fmt_sockaddr(struct sg_fmt *f, const struct sockaddr *sa,
		    socklen_t len, int with_port)
{
	if (!sa || len < sizeof(sa_family_t))
		return -1;
	switch (sa->sa_family) {
	case AF_INET:
		return fmt_sin(f, (const struct sockaddr_in *)sa, len, with_port);
	case AF_INET6:
		return fmt_sin6(f, (const struct sockaddr_in6 *)sa, len,
				with_port);
	case AF_UNIX:
		return fmt_sun(f, (const struct sockaddr_un *)sa, len);
	default:
		return -1;
	}
}

/*
 * The proleptic Gregorian date of a day counted from 1970-01-01.  Years are
 * taken to start on 1 March, so that the leap day is the last day of its
 * year, and are grouped in 400-year eras of 146097 days, which repeat
 * exactly; within an era the usual 4/100/400 corrections apply.
 */
static void date_of_day(int64_t day, int64_t *year, unsigned *month,
			unsigned *mday)
{
	int64_t z = day + 719468;	/* days from 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;	/* 0 = March */

	*mday = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

/* Splits t into its day since 1970-01-01 and the seconds into that day. */
static int64_t day_of(int64_t t, int64_t *secs)
{
	int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);

	*secs = t - day * 86400;
	return day;
}

static void clock_time(struct sg_fmt *f, int64_t secs)
{
	sg_fmt_u64_pad(f, (uint64_t)(secs / 3600), 2, '0');
	sg_fmt_char(f, ':');
	sg_fmt_u64_pad(f, (uint64_t)(secs / 60 % 60), 2, '0');
	sg_fmt_char(f, ':');
	sg_fmt_u64_pad(f, (uint64_t)(secs % 60), 2, '0');
}

void sg_fmt_rfc3164_time(struct sg_fmt *f, int64_t t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t secs, year;
	unsigned month, mday;

	date_of_day(day_of(t, &secs), &year, &month, &mday);
	sg_fmt_mem(f, months + 3 * (month - 1), 3);
	sg_fmt_char(f, ' ');
	/* RFC 3164 4.1.2: a day below 10 is padded with a space, not a zero. */
	sg_fmt_u64_pad(f, mday, 2, ' ');
	sg_fmt_char(f, ' ');
	clock_time(f, secs);
}

void sg_fmt_rfc5424_time(struct sg_fmt *f, int64_t t, unsigned usec)
{
	int64_t secs, year;
	unsigned month, mday;

	date_of_day(day_of(t, &secs), &year, &month, &mday);
	/* RFC 5424 6.2.3: DATE-FULLYEAR is four digits. */
	sg_fmt_u64_pad(f, year < 0 ? 0 : year > 9999 ? 9999 : (uint64_t)year,
		       4, '0');
	sg_fmt_char(f, '-');
	sg_fmt_u64_pad(f, month, 2, '0');
	sg_fmt_char(f, '-');
	sg_fmt_u64_pad(f, mday, 2, '0');
	sg_fmt_char(f, 'T');
	clock_time(f, secs);
	sg_fmt_char(f, '.');
	sg_fmt_u64_pad(f, usec % 1000000, 6, '0');
	sg_fmt_str(f, "+00:00");
}
