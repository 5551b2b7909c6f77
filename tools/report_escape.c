/*
 * Making names from log lines safe to print.  Hosts, programs and peers
 * come from untrusted bytes: a terminal must not receive control
 * characters, and JSON and XML must be valid UTF-8 without raw control
 * characters.  Every byte that is not printable ASCII or part of a valid
 * UTF-8 sequence is written as \xNN, the escape the shim itself uses.
 */
#include "report/report.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (2 to 4), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Bytes the escaped form of p[0..] takes, and how many input bytes. */
static size_t piece(const unsigned char *p, size_t n, char *tmp, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	size_t u8;

	if (p[0] >= 0x20 && p[0] < 0x7f) {
		tmp[0] = (char)p[0];
		*used = 1;
		return 1;
	}
	if (p[0] >= 0x80 && (u8 = utf8_len(p, n)) > 0) {
		memcpy(tmp, p, u8);
		*used = u8;
		return u8;
	}
	tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[p[0] >> 4], tmp[3] = hex[p[0] & 15];
	*used = 1;
	return 4;
}

/* Length of the printable form of p[0..n). */
static size_t printable_len(const unsigned char *s, size_t n)
{
	size_t out = 0, used;
	char tmp[4];

	for (size_t i = 0; i < n; i += used)
		out += piece(s + i, n - i, tmp, &used);
	return out;
}

size_t sg_report_name(char *buf, size_t size, const char *p, size_t n,
		      size_t width)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t out = 0, used;

	if (size < 8)
		return 0;
	if (width > size - 1)
		width = size - 1;
	if (width < 4)
		width = 4;
	/* When it all fits, all of it; else as much as leaves room for "...". */
	size_t room = printable_len(s, n) <= width ? width : width - 3;
	for (size_t i = 0; i < n; i += used) {
		char tmp[4];
		size_t k = piece(s + i, n - i, tmp, &used);
		if (out + k > room) {
			memcpy(buf + out, "...", 3);
			out += 3;
			break;
		}
		memcpy(buf + out, tmp, k);
		out += k;
	}
	buf[out] = 0;
	return out;
}

void sg_report_put_json_str(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', out);
		putc(*s, out);
	}
	putc('"', out);
}

void sg_report_put_xml(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: putc(*s, out);
		}
	}
}
