/*
 * The few string functions the shim (and the policy code linked into it)
 * uses, as the shim's own hidden symbols.  Each libc function a shared
 * object imports is one more symbol the dynamic loader looks up in every
 * process at start-up, before main, and the shim is preloaded into every
 * process of a host: these simple loops are not on any success path, so
 * they cost nothing there and save a lookup each at every start.
 *
 * The compiler must not turn the loops below back into calls to the very
 * functions they define.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shim.h"

#define SG_LOOP __attribute__((optimize("no-tree-loop-distribute-patterns")))

#pragma GCC visibility push(hidden)

/* Words of 8 bytes that may alias anything (the bulk of memcpy/memset). */
typedef uint64_t __attribute__((may_alias, aligned(1))) sg_word;

SG_LOOP void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	for (; n >= 8; n -= 8, dp += 8, sp += 8)
		*(sg_word *)dp = *(const sg_word *)sp;
	while (n--)
		*dp++ = *sp++;
	return d;
}

SG_LOOP void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

SG_LOOP void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;

	for (; n >= 8; n -= 8, dp += 8)
		*(sg_word *)dp = w;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

SG_LOOP int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

SG_LOOP void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

SG_LOOP size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

SG_LOOP size_t strnlen(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i])
		i++;
	return i;
}

SG_LOOP char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

SG_LOOP int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

SG_LOOP int strcmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
}

SG_LOOP char *strncpy(char *restrict d, const char *restrict s, size_t n)
{
	size_t i = 0;

	for (; i < n && s[i]; i++)
		d[i] = s[i];
	for (; i < n; i++)
		d[i] = '\0';
	return d;
}

SG_LOOP char *strncat(char *restrict d, const char *restrict s, size_t n)
{
	char *p = d + strlen(d);

	while (n-- && *s)
		*p++ = *s++;
	*p = '\0';
	return d;
}

#pragma GCC visibility pop
