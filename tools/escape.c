/*
 * One escaping function per output kind (see escape.h).  They share one
 * idea of a character: printable ASCII, or a valid UTF-8 sequence (no
 * overlong forms, no UTF-16 surrogates, nothing past U+10FFFF); any other
 * byte is shown as \xNN, the escape the shim uses in its log lines.
 */
#include "escape.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

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
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Writes \xNN for byte c into out (4 bytes). */
static void hex_escape(char *out, unsigned char c)
{
	out[0] = '\\', out[1] = 'x', out[2] = hex[c >> 4], out[3] = hex[c & 15];
}

/*
 * The terminal form of the character at p[0..n): into tmp (at most 4
 * bytes), its length returned, the input bytes it takes in *used.
 */
static size_t piece(const unsigned char *p, size_t n, char *tmp, size_t *used)
{
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
	hex_escape(tmp, p[0]);
	*used = 1;
	return 4;
}

/* Length of the terminal form of p[0..n). */
static size_t text_len(const unsigned char *s, size_t n)
{
	size_t out = 0, used;
	char tmp[4];

	for (size_t i = 0; i < n; i += used)
		out += piece(s + i, n - i, tmp, &used);
	return out;
}

size_t sg_esc_text(char *buf, size_t size, const char *p, size_t n,
		   size_t width)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t out = 0, used;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	if (width > size - 1)
		width = size - 1;
	if (width < 4)
		width = 4;
	/* When it all fits, all of it; else as much as leaves room for "...". */
	size_t room = text_len(s, n) <= width ? width : width - 3;
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
	buf[out] = '\0';
	return out;
}

const char *sg_esc_str(char *buf, size_t size, const char *s)
{
	sg_esc_text(buf, size, s, strlen(s), size - 1);
	return buf;
}

const char *sg_esc_arg(int slot, const char *s)
{
	static char buf[SG_ESC_SLOTS][SG_ESC_TEXT_SIZE(PATH_MAX)];

	slot = slot >= 0 && slot < SG_ESC_SLOTS ? slot : 0;
	return sg_esc_str(buf[slot], sizeof(buf[slot]), s);
}

void sg_esc_put_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used;
	char tmp[4];

	for (size_t i = 0; i < n; i += used)
		fwrite(tmp, 1, piece(p + i, n - i, tmp, &used), out);
}

void sg_esc_put_json(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), u8;
	char tmp[4];

	putc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			putc('\\', out);
			putc(p[i], out);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(out, "\\u%04x", p[i]);
		} else if (p[i] < 0x80) {
			putc(p[i], out);
		} else if ((u8 = utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, u8, out);
			i += u8 - 1;
		} else {
			hex_escape(tmp, p[i]);
			fputc('\\', out);	/* the backslash of \xNN, escaped */
			fwrite(tmp, 1, 4, out);
		}
	}
	putc('"', out);
}

void sg_esc_put_xml(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used;
	char tmp[4];

	for (size_t i = 0; i < n; i += used) {
		switch (p[i]) {
		case '&': fputs("&amp;", out), used = 1; break;
		case '<': fputs("&lt;", out), used = 1; break;
		case '>': fputs("&gt;", out), used = 1; break;
		case '"': fputs("&quot;", out), used = 1; break;
		case '\'': fputs("&apos;", out), used = 1; break;
		default:
			fwrite(tmp, 1, piece(p + i, n - i, tmp, &used), out);
		}
	}
}

void sg_esc_put_prom_label(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), used;
	char tmp[4];

	for (size_t i = 0; i < n; i += used) {
		size_t k = piece(p + i, n - i, tmp, &used);
		for (size_t j = 0; j < k; j++) {
			if (tmp[j] == '\\' || tmp[j] == '"')
				putc('\\', out);
			putc(tmp[j], out);
		}
	}
}

char *sg_esc_unit_value(const char *s, int keep_specifiers)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0, u8;
	char *out = malloc(n * 4 + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)p[i];
		} else if (p[i] == '%') {
			out[o++] = '%';
			if (!keep_specifiers)
				out[o++] = '%';
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			hex_escape(out + o, p[i]);
			o += 4;
		} else if (p[i] < 0x80) {
			out[o++] = (char)p[i];
		} else if ((u8 = utf8_len(p + i, n - i)) > 0) {
			memcpy(out + o, p + i, u8);
			o += u8;
			i += u8 - 1;
		} else {
			free(out);
			errno = EILSEQ;
			return NULL;
		}
	}
	out[o] = '\0';
	return out;
}
