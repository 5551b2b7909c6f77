/*
 * The address of [peer ADDR[/PREFIX][:PORT]]: IPv4 as 10.0.0.0/8:443, IPv6
 * in brackets as [2001:db8::]/32:443 (or bare, without a port, as
 * 2001:db8::/32).  A bare address is a single host (/32 or /128).  Matching
 * treats an IPv4-mapped IPv6 peer (::ffff:a.b.c.d, what a dual-stack socket
 * reports) as the IPv4 address it carries.
 */
#include "policy_int.h"

#include <netinet/in.h>
#include <string.h>

static const char *find_char(const char *s, size_t n, char c)
{
	return memchr(s, c, n);
}

static int bad(struct sg_fmt *why, const char *what, const char *s, size_t n)
{
	sg_fmt_str(why, what);
	sg_fmt_str(why, " ");
	sg_fmt_quoted(why, s, n);
	return -1;
}

/* Parses all of s (at most 5 digits) as a decimal number in 0..max. */
static int parse_small(const char *s, size_t n, unsigned max, unsigned *out)
{
	uint64_t v;

	if (n > 5 || sg_parse_decimal(s, n, max, &v) < 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * The addresses are read here rather than by inet_pton(3): the shim links
 * this code, and each libc symbol it imports is looked up in every process
 * at start-up.  Both forms are the ones inet_pton accepts.
 */

/*
 * "a.b.c.d", each part 0..255 in decimal without leading zeros, into 4
 * bytes, in one pass.
 */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		for (; i < n && s[i] != '.'; i++) {
			unsigned d = (unsigned)(unsigned char)s[i] - '0';
			if (d > 9 || i - start == 3)
				return -1;
			v = v * 10 + d;
		}
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (uint8_t)v;
		if (part < 3 && i++ >= n)
			return -1;
	}
	return i == n ? 0 : -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One group of 1 to 4 hex digits; its length, or -1. */
static int parse_group(const char *s, size_t n, unsigned *v)
{
	size_t i = 0;

	*v = 0;
	for (int d; i < n && i < 5 && (d = hex_digit(s[i])) >= 0; i++)
		*v = *v * 16 + (unsigned)d;
	return i >= 1 && i <= 4 ? (int)i : -1;
}

/*
 * The groups of one side of "::" (or of an address without it) into
 * words; an IPv4 dotted quad may end the last side.  Returns the number
 * of 16-bit words, or -1.
 */
static int parse_groups(const char *s, size_t n, int last, uint16_t *w, int max)
{
	int count = 0;
	size_t pos = 0;

	while (pos < n) {
		const char *colon = find_char(s + pos, n - pos, ':');
		size_t len = colon ? (size_t)(colon - (s + pos)) : n - pos;
		uint8_t q[4];
		unsigned v;

		if (last && !colon && find_char(s + pos, len, '.')) {
			if (count + 2 > max || parse_ipv4(s + pos, len, q) < 0)
				return -1;
			w[count++] = (uint16_t)(q[0] << 8 | q[1]);
			w[count++] = (uint16_t)(q[2] << 8 | q[3]);
			return count;
		}
		if (count >= max || parse_group(s + pos, len, &v) != (int)len)
			return -1;
		w[count++] = (uint16_t)v;
		pos += len;
		if (colon && ++pos == n)
			return -1;	/* a trailing single colon */
	}
	return count;
}

/* An IPv6 address in any form inet_pton takes, into 16 bytes. */
static int parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t head[8], tail[8];
	const char *gap = NULL;
	int h, t = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == ':' && s[i + 1] == ':') {
			if (gap)
				return -1;
			gap = s + i;
		}
	}
	if (!gap) {
		if ((h = parse_groups(s, n, 1, head, 8)) != 8)
			return -1;
	} else {
		size_t hl = (size_t)(gap - s), tl = n - hl - 2;
		h = hl ? parse_groups(s, hl, 0, head, 7) : 0;
		t = tl ? parse_groups(gap + 2, tl, 1, tail, 7) : 0;
		if (h < 0 || t < 0 || h + t > 7)
			return -1;
	}
	memset(out, 0, 16);
	for (int i = 0; i < h; i++) {
		out[2 * i] = (uint8_t)(head[i] >> 8);
		out[2 * i + 1] = (uint8_t)head[i];
	}
	for (int i = 0; i < t; i++) {
		out[16 - 2 * (t - i)] = (uint8_t)(tail[i] >> 8);
		out[16 - 2 * (t - i) + 1] = (uint8_t)tail[i];
	}
	return 0;
}

static int parse_addr(const char *s, size_t n, int family, struct sg_cidr *c)
{
	int r = family == AF_INET ? parse_ipv4(s, n, c->addr) :
				    parse_ipv6(s, n, c->addr);
	if (n == 0 || r < 0)
		return -1;
	c->family = (uint8_t)family;
	return 0;
}

/* Clears the host bits below the prefix, so matching compares whole bytes. */
static void mask_host_bits(struct sg_cidr *c)
{
	unsigned bytes = c->family == AF_INET ? 4 : 16;
	unsigned whole = c->prefix / 8;

	if (whole >= bytes)
		return;
	c->addr[whole] &= (uint8_t)(0xff00u >> (c->prefix % 8));
	for (unsigned i = whole + 1; i < bytes; i++)
		c->addr[i] = 0;
}

/* Splits "ADDR[/PREFIX]" and fills c; the port was handled by the caller. */
static int parse_prefixed(const char *s, size_t n, int family,
			  struct sg_cidr *c, struct sg_fmt *why)
{
	const char *slash = find_char(s, n, '/');
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned max = family == AF_INET ? 32 : 128, prefix = max;

	if (parse_addr(s, alen, family, c) < 0)
		return bad(why, family == AF_INET ? "bad IPv4 address" :
			   "bad IPv6 address", s, alen);
	if (slash && parse_small(slash + 1, n - alen - 1, max, &prefix) < 0)
		return bad(why, "bad prefix length (0..32 for IPv4, 0..128 for "
			   "IPv6)", slash + 1, n - alen - 1);
	c->prefix = (uint8_t)prefix;
	mask_host_bits(c);
	return 0;
}

static int parse_port(const char *s, size_t n, struct sg_cidr *c,
		      struct sg_fmt *why)
{
	unsigned port;

	if (parse_small(s, n, 65535, &port) < 0 || port == 0)
		return bad(why, "bad port (1..65535)", s, n);
	c->port = (uint16_t)port;
	return 0;
}

/* "[v6]/len:port", with the prefix and port optional. */
static int parse_bracketed(const char *s, size_t n, struct sg_cidr *c,
			   struct sg_fmt *why)
{
	const char *close = find_char(s, n, ']');

	if (!close)
		return bad(why, "missing ']' in", s, n);
	size_t alen = (size_t)(close - s) - 1, i = alen + 2;
	if (parse_addr(s + 1, alen, AF_INET6, c) < 0)
		return bad(why, "bad IPv6 address", s + 1, alen);
	const char *colon = find_char(s + i, n - i, ':');
	size_t end = colon ? (size_t)(colon - s) : n;
	unsigned prefix = 128;
	if (end > i && (s[i] != '/' ||
			parse_small(s + i + 1, end - i - 1, 128, &prefix) < 0))
		return bad(why, "bad prefix length (0..128 for IPv6)", s + i,
			   end - i);
	if (colon && parse_port(colon + 1, n - end - 1, c, why) < 0)
		return -1;
	c->prefix = (uint8_t)prefix;
	mask_host_bits(c);
	return 0;
}

/*
 * What the quick parses below accept after an address, from s[i] to the
 * end: a /PREFIX of at most `digits` digits and at most max, then a :PORT
 * (1..65535), each optional; 0, or -1 for anything else.  *prefix and
 * *port are left as they are where absent.
 */
static inline __attribute__((always_inline)) int
quick_suffix(const char *s, size_t n, size_t i, size_t digits,
	     unsigned max, unsigned *prefix, unsigned *port)
{
	if (i < n && s[i] == '/') {
		i++;
		if (sg_read_digits(s, n, &i, digits, prefix) == 0 || *prefix > max)
			return -1;
	}
	if (i < n && s[i] == ':') {
		i++;
		if (sg_read_digits(s, n, &i, 5, port) == 0 || *port == 0 ||
		    *port > 65535)
			return -1;
	}
	return i == n ? 0 : -1;
}

/*
 * The usual IPv4 forms, a.b.c.d with a /PREFIX of one or two digits and a
 * :PORT, read in one pass; -1 for anything else, which the general parse
 * below reads or refuses (so this one accepts nothing it would not, and
 * stores what it would).  Every process reads its [peer] headers at
 * start-up.
 */
static int parse_ipv4_quick(const char *s, size_t n, struct sg_cidr *c)
{
	uint32_t addr = 0;
	unsigned v, prefix = 32, port = 0;
	size_t i = 0, len;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		if ((len = sg_read_digits(s, n, &i, 3, &v)) == 0 || v > 255 ||
		    (s[start] == '0' && len > 1) ||
		    (part < 3 && (i >= n || s[i++] != '.')))
			return -1;
		addr = addr << 8 | v;
	}
	if (quick_suffix(s, n, i, 2, 32, &prefix, &port) < 0)
		return -1;
	if (prefix < 32)
		addr &= prefix ? ~0u << (32 - prefix) : 0;
	memset(c, 0, sizeof(*c));
	c->family = AF_INET;
	c->prefix = (uint8_t)prefix;
	c->port = (uint16_t)port;
	for (int b = 0; b < 4; b++)
		c->addr[b] = (uint8_t)(addr >> (24 - 8 * b));
	return 0;
}

/*
 * An IPv6 address of hex groups alone (no dotted quad at its end), into 16
 * bytes in one pass; -1 for anything parse_ipv6 would refuse, and for the
 * forms this one leaves to it.
 */
static int parse_ipv6_quick(const char *s, size_t n, uint8_t out[16])
{
	uint16_t w[8];
	int count = 0, gap = -1, d;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < n) {
		size_t start = i;
		unsigned v = 0;
		for (; i < n && i - start < 4 && (d = hex_digit(s[i])) >= 0; i++)
			v = v * 16 + (unsigned)d;
		if (i == start || count == 8)
			return -1;
		w[count++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':' || ++i == n)
			return -1;
		if (s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = count;
			i++;
		}
	}
	if (gap < 0 ? count != 8 : count > 7)
		return -1;
	int skip = gap < 0 ? 0 : 8 - count;
	memset(out, 0, 16);
	for (int k = 0; k < count; k++) {
		int at = k < gap || gap < 0 ? k : k + skip;
		out[2 * at] = (uint8_t)(w[k] >> 8);
		out[2 * at + 1] = (uint8_t)w[k];
	}
	return 0;
}

/*
 * "[v6]" with a /PREFIX of up to three digits and a :PORT, as usually
 * written, read in one pass; -1 for anything else, which parse_bracketed
 * reads or refuses.
 */
static int parse_bracketed_quick(const char *s, size_t n, struct sg_cidr *c)
{
	size_t close = 1;
	unsigned prefix = 128, port = 0;

	while (close < n && s[close] != ']')
		close++;
	if (close == n || close == 1)
		return -1;
	if (quick_suffix(s, n, close + 1, 3, 128, &prefix, &port) < 0)
		return -1;
	memset(c, 0, sizeof(*c));
	if (parse_ipv6_quick(s + 1, close - 1, c->addr) < 0)
		return -1;
	c->family = AF_INET6;
	c->prefix = (uint8_t)prefix;
	c->port = (uint16_t)port;
	mask_host_bits(c);
	return 0;
}

int sg_cidr_parse(const char *s, size_t n, struct sg_cidr *c,
		  struct sg_fmt *why)
{
	if (n > 0 && s[0] == '[' ? parse_bracketed_quick(s, n, c) == 0 :
	    parse_ipv4_quick(s, n, c) == 0)
		return 0;
	memset(c, 0, sizeof(*c));
	if (n > 0 && s[0] == '[')
		return parse_bracketed(s, n, c, why);
	const char *colon = find_char(s, n, ':');
	if (colon && find_char(colon + 1, n - (size_t)(colon - s) - 1, ':'))
		return parse_prefixed(s, n, AF_INET6, c, why);
	size_t alen = colon ? (size_t)(colon - s) : n;
	if (parse_prefixed(s, alen, AF_INET, c, why) < 0)
		return -1;
	if (colon)
		return parse_port(colon + 1, n - alen - 1, c, why);
	return 0;
}

int sg_cidr_parse_text(const char *text, struct sg_cidr *out, char *why,
		       size_t whylen)
{
	struct sg_fmt b;

	sg_fmt_init_cstr(&b, why, whylen);
	return sg_cidr_parse(text, strlen(text), out, &b);
}

static int prefix_equal(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[whole] & mask) == net[whole];
}

static const uint8_t v4_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int sg_cidr_match(const struct sg_cidr *c, const struct sockaddr *sa,
		  socklen_t len)
{
	const uint8_t *addr;
	int family;
	uint16_t port;

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;
		addr = (const uint8_t *)&in->sin_addr;
		family = AF_INET;
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		addr = in6->sin6_addr.s6_addr;
		family = AF_INET6;
		port = ntohs(in6->sin6_port);
		if (c->family == AF_INET && memcmp(addr, v4_mapped, 12) == 0) {
			addr += 12;
			family = AF_INET;
		}
	} else {
		return 0;
	}
	if (family != c->family || (c->port && c->port != port))
		return 0;
	return prefix_equal(addr, c->addr, c->prefix);
}
