/*
 * The address of [peer ADDR[/PREFIX][:PORT]]: IPv4 as 10.0.0.0/8:443, IPv6
 * in brackets as [2001:db8::]/32:443 (or bare, without a port, as
 * 2001:db8::/32).  A bare address is a single host (/32 or /128).  Matching
 * treats an IPv4-mapped IPv6 peer (::ffff:a.b.c.d, what a dual-stack socket
 * reports) as the IPv4 address it carries.
 */
#include "policy_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const char *find_char(const char *s, size_t n, char c)
{
	return memchr(s, c, n);
}

static int bad(struct sg_buf *why, const char *what, const char *s, size_t n)
{
	sg_buf_add(why, what);
	sg_buf_add(why, " ");
	sg_buf_add_quoted(why, s, n);
	return -1;
}

/* Parses all of s as a decimal number in 0..max. */
static int parse_small(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_addr(const char *s, size_t n, int family, struct sg_cidr *c)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(family, tmp, c->addr) != 1)
		return -1;
	c->family = (uint8_t)family;
	return 0;
}

/* Clears the host bits below the prefix, so matching compares whole bytes. */
static void mask_host_bits(struct sg_cidr *c)
{
	unsigned bytes = c->family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = c->prefix > i * 8 ? c->prefix - i * 8 : 0;
		if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* Splits "ADDR[/PREFIX]" and fills c; the port was handled by the caller. */
static int parse_prefixed(const char *s, size_t n, int family,
			  struct sg_cidr *c, struct sg_buf *why)
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
		      struct sg_buf *why)
{
	unsigned port;

	if (parse_small(s, n, 65535, &port) < 0 || port == 0)
		return bad(why, "bad port (1..65535)", s, n);
	c->port = (uint16_t)port;
	return 0;
}

/* "[v6]/len:port", with the prefix and port optional. */
static int parse_bracketed(const char *s, size_t n, struct sg_cidr *c,
			   struct sg_buf *why)
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

int sg_cidr_parse(const char *s, size_t n, struct sg_cidr *c,
		  struct sg_buf *why)
{
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
	struct sg_buf b;

	sg_buf_init(&b, why, whylen);
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
