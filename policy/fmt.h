/*
 * Async-signal-safe formatting into a caller's buffer: the one bounded text
 * builder of the project, used by the shim's log writer and by the policy
 * code's problem messages (which the shim's constructor builds, where stdio
 * and malloc are off limits).  Nothing here allocates, takes a lock, touches
 * errno or calls libc beyond memcpy/strlen, so it may run inside a signal
 * handler.  It depends on nothing else (the unit tests compile fmt.c alone).
 *
 * A struct sg_fmt never overflows: an append that does not fit sets `full`
 * and writes nothing more.  Fields are written between sg_fmt_mark() and
 * sg_fmt_commit(), which takes back a field that did not fit whole, so a
 * truncated line still consists of complete `key=value` fields.  A builder
 * made by sg_fmt_init_cstr() is for messages read as C strings: its text is
 * NUL-terminated after every append, and the append that does not fit is
 * cut short to fill the buffer.
 */
#ifndef SG_FMT_H
#define SG_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sg_fmt {
	char *p;
	size_t len;
	size_t cap;
	int full;	/* an append did not fit */
	int cstr;	/* keeps p NUL-terminated (one byte of mem reserved) */
};

/* Escaping modes for sg_fmt_escaped(). */
#define SG_ESC_FIELD	1	/* a field value: also space, '=', '\\', non-ASCII */
#define SG_ESC_TEXT	2	/* free text: control bytes and '\\' only */

static inline void sg_fmt_init(struct sg_fmt *f, char *mem, size_t cap)
{
	f->p = mem;
	f->len = 0;
	f->cap = cap;
	f->full = 0;
	f->cstr = 0;
}

/* A builder whose text in mem (cap bytes, cap >= 1) is always a C string. */
static inline void sg_fmt_init_cstr(struct sg_fmt *f, char *mem, size_t cap)
{
	sg_fmt_init(f, mem, cap - 1);
	f->cstr = 1;
	mem[0] = '\0';
}

static inline size_t sg_fmt_mark(const struct sg_fmt *f)
{
	return f->len;
}

void sg_fmt_commit(struct sg_fmt *f, size_t mark);

void sg_fmt_mem(struct sg_fmt *f, const void *s, size_t n);
void sg_fmt_str(struct sg_fmt *f, const char *s);
void sg_fmt_char(struct sg_fmt *f, char c);
void sg_fmt_u64(struct sg_fmt *f, uint64_t v);
void sg_fmt_i64(struct sg_fmt *f, int64_t v);
/* v in decimal, left-padded with `pad` to at least `width` characters. */
void sg_fmt_u64_pad(struct sg_fmt *f, uint64_t v, unsigned width, char pad);
/* v in lowercase hexadecimal without prefix or leading zeros. */
void sg_fmt_hex(struct sg_fmt *f, uint64_t v);

/*
 * A piece of untrusted text quoted back in a message: between single quotes,
 * control bytes shown as '?', at most 64 bytes of it followed by "..." when
 * longer.
 */
void sg_fmt_quoted(struct sg_fmt *f, const char *s, size_t n);

/* n bytes of s, each byte the mode forbids written as \xNN (lowercase). */
void sg_fmt_escaped(struct sg_fmt *f, const char *s, size_t n, int mode);

void sg_fmt_ipv4(struct sg_fmt *f, const unsigned char a[4]);
/* RFC 5952 text: lowercase, longest zero run as "::", ::ffff:a.b.c.d. */
void sg_fmt_ipv6(struct sg_fmt *f, const unsigned char a[16]);

/*
 * A socket address as the log line shows it: 1.2.3.4:80, [2001:db8::1]:443,
 * a unix path (escaped), @name for an abstract one.  with_port 0 leaves the
 * port out (host only, IPv6 still bracketed).  Returns 0, or -1 when there is
 * nothing to show (unnamed unix socket, unknown family, short length) and
 * nothing was written.
 */
int sg_fmt_sockaddr(struct sg_fmt *f, const struct sockaddr *sa,
		    socklen_t len, int with_port);

/* "Mmm dd hh:mm:ss" (RFC 3164 TIMESTAMP) for t seconds since the epoch. */
void sg_fmt_rfc3164_time(struct sg_fmt *f, int64_t t);

/*
 * "YYYY-MM-DDThh:mm:ss.uuuuuu+00:00" (RFC 5424 TIMESTAMP, in UTC) for t
 * seconds and usec microseconds since the epoch; years 0..9999 only.
 */
void sg_fmt_rfc5424_time(struct sg_fmt *f, int64_t t, unsigned usec);

#endif
