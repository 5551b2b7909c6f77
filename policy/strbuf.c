/*
 * A bounded string builder for problem messages and formatted values.  The
 * shim calls the policy code from its constructor, where stdio and malloc are
 * off limits, so messages are put together by hand; output that does not fit
 * is cut short, never overflowed.
 */
#include "policy_int.h"

#include <string.h>

/* The longest piece of an offending value quoted back in a message. */
#define QUOTE_MAX 64

void sg_buf_init(struct sg_buf *b, char *s, size_t cap)
{
	b->s = s;
	b->len = 0;
	b->cap = cap;
	if (cap)
		s[0] = '\0';
}

void sg_buf_addn(struct sg_buf *b, const char *s, size_t n)
{
	if (b->cap == 0)
		return;
	size_t room = b->cap - 1 - b->len;
	if (n > room)
		n = room;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sg_buf_add(struct sg_buf *b, const char *s)
{
	sg_buf_addn(b, s, strlen(s));
}

void sg_buf_add_uint(struct sg_buf *b, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sg_buf_addn(b, digits + i, sizeof(digits) - i);
}

void sg_buf_add_quoted(struct sg_buf *b, const char *s, size_t n)
{
	size_t shown = n > QUOTE_MAX ? QUOTE_MAX : n;

	sg_buf_add(b, "'");
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		char out = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		sg_buf_addn(b, &out, 1);
	}
	sg_buf_add(b, n > shown ? "...'" : "'");
}
