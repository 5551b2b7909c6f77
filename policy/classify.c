/*
 * The classification table: one place that says which errno is which class,
 * used by the shim to build events and by `sockguard report` to read them.
 */
#include "classify.h"
#include "policy_int.h"

#include <errno.h>
#include <string.h>

/*
 * The names are kept in the tables, each row wide enough for the longest
 * and its NUL, rather than pointed to: each pointer in a table is one more
 * relocation for the dynamic loader to apply in every process.
 */
static const char class_names[SG_CLASS_COUNT][13] = {
	"reset", "refused", "timeout", "unreachable", "pipe",
	"aborted", "eof", "fd_exhausted", "suppressed", "summary",
};

static const char action_names[SG_ACTION_COUNT][19] = {
	"returned", "retried", "sigpipe_suppressed", "shed", "timed_out",
};

static const char deadline_names[SG_DEADLINE_COUNT][16] = {
	"", "retrans", "so_rcvtimeo", "so_sndtimeo", "connect_timeout",
	"eagain_wait",
};

static const char op_names[SG_OP_COUNT][12] = {
	"recv", "recvfrom", "recvmsg", "recvmmsg", "read", "readv",
	"send", "sendto", "sendmsg", "sendmmsg", "write", "writev", "sendfile",
	"accept", "accept4", "connect",
	"poll", "ppoll", "select", "pselect", "epoll_wait", "epoll_pwait",
};

struct errno_entry {
	int err;
	char name[14];
};

/* The errnos a socket call can meet that the log line may name. */
static const struct errno_entry errno_table[] = {
	{ ECONNRESET, "ECONNRESET" },	{ ECONNREFUSED, "ECONNREFUSED" },
	{ ETIMEDOUT, "ETIMEDOUT" },	{ EHOSTUNREACH, "EHOSTUNREACH" },
	{ ENETUNREACH, "ENETUNREACH" },	{ EHOSTDOWN, "EHOSTDOWN" },
	{ ENETDOWN, "ENETDOWN" },	{ EPIPE, "EPIPE" },
	{ ECONNABORTED, "ECONNABORTED" }, { EPROTO, "EPROTO" },
	{ EMFILE, "EMFILE" },		{ ENFILE, "ENFILE" },
	{ EAGAIN, "EAGAIN" },		{ EINTR, "EINTR" },
	{ ENOPROTOOPT, "ENOPROTOOPT" },	{ ENONET, "ENONET" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },	{ ENOSYS, "ENOSYS" },
	{ ENOBUFS, "ENOBUFS" },		{ ENOMEM, "ENOMEM" },
	{ EBADF, "EBADF" },		{ ENOTCONN, "ENOTCONN" },
	{ EINPROGRESS, "EINPROGRESS" },	{ EALREADY, "EALREADY" },
	{ EADDRINUSE, "EADDRINUSE" },	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
	{ EACCES, "EACCES" },		{ EPERM, "EPERM" },
	{ ENOTSOCK, "ENOTSOCK" },	{ EINVAL, "EINVAL" },
};

/* Row i of a table of n names, width bytes each; NULL if out or empty. */
static const char *name_at(const char *names, size_t width, int n, int i)
{
	return i >= 0 && i < n && names[i * width] ? names + i * width : NULL;
}

static int index_of(const char *names, size_t width, int n, const char *s,
		    size_t len)
{
	for (int i = 0; i < n; i++) {
		const char *name = names + i * width;

		if (name[0] && sg_span_is(s, len, name))
			return i;
	}
	return -1;
}

#define NAME_AT(table, n, i) \
	name_at((const char *)(table), sizeof((table)[0]), n, i)
#define INDEX_OF(table, n, s, len) \
	index_of((const char *)(table), sizeof((table)[0]), n, s, len)

const char *sg_class_name(int cls)
{
	return NAME_AT(class_names, SG_CLASS_COUNT, cls);
}

const char *sg_action_name(int action)
{
	return NAME_AT(action_names, SG_ACTION_COUNT, action);
}

const char *sg_deadline_name(int deadline)
{
	return NAME_AT(deadline_names, SG_DEADLINE_COUNT, deadline);
}

/*
 * Where each class name falls by its first and last letters and its
 * length (collision-free for these names; a name added that falls on a
 * taken place breaks the build, -Woverride-init): log_events lists
 * several, and a policy is read by every process at start-up.  A place
 * holds the class plus one (0: none) and the length of its name.
 */
#define CLASS_HASH(first, last, len) (((first) + (last) + (len)) & 15)

struct class_place {
	uint8_t cls;
	uint8_t len;
};
#define CLASS_AT(first, last, len, cls) \
	[CLASS_HASH(first, last, len)] = { (cls) + 1, (len) }

static const struct class_place class_by_hash[16] = {
	CLASS_AT('r', 't', 5, SG_CLASS_RESET),
	CLASS_AT('r', 'd', 7, SG_CLASS_REFUSED),
	CLASS_AT('t', 't', 7, SG_CLASS_TIMEOUT),
	CLASS_AT('u', 'e', 11, SG_CLASS_UNREACHABLE),
	CLASS_AT('p', 'e', 4, SG_CLASS_PIPE),
	CLASS_AT('a', 'd', 7, SG_CLASS_ABORTED),
	CLASS_AT('e', 'f', 3, SG_CLASS_EOF),
	CLASS_AT('f', 'd', 12, SG_CLASS_FD_EXHAUSTED),
	CLASS_AT('s', 'd', 10, SG_CLASS_SUPPRESSED),
	CLASS_AT('s', 'y', 7, SG_CLASS_SUMMARY),
};

int sg_class_from_name(const char *s, size_t n)
{
	if (n == 0)
		return -1;
	const struct class_place *e = &class_by_hash[CLASS_HASH(
		(unsigned char)s[0], (unsigned char)s[n - 1], n)];
	if (e->len != n || !sg_same_bytes(s, class_names[e->cls - 1], n))
		return -1;
	return e->cls - 1;
}

int sg_action_from_name(const char *s, size_t n)
{
	return INDEX_OF(action_names, SG_ACTION_COUNT, s, n);
}

const char *sg_op_name(int op)
{
	return NAME_AT(op_names, SG_OP_COUNT, op);
}

int sg_op_from_name(const char *s, size_t n)
{
	return INDEX_OF(op_names, SG_OP_COUNT, s, n);
}

int sg_classify_errno(int err, int op)
{
	int accepting = sg_op_kind(op) == SG_KIND_ACCEPT;

	switch (err) {
	case ECONNRESET:
		return SG_CLASS_RESET;
	case ECONNREFUSED:
		return SG_CLASS_REFUSED;
	case ETIMEDOUT:
		return SG_CLASS_TIMEOUT;
	case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN: case ENETDOWN:
		return SG_CLASS_UNREACHABLE;
	case EPIPE:
		return SG_CLASS_PIPE;
	case ECONNABORTED:
		return SG_CLASS_ABORTED;
	case EPROTO: case ENOPROTOOPT: case ENONET: case EOPNOTSUPP:
		/* accept(2) lists these as pending network errors. */
		if (!accepting)
			return SG_CLASS_NONE;
		return err == EPROTO ? SG_CLASS_ABORTED : SG_CLASS_UNREACHABLE;
	case EMFILE: case ENFILE:
		return accepting ? SG_CLASS_FD_EXHAUSTED : SG_CLASS_NONE;
	default:
		return SG_CLASS_NONE;
	}
}

const char *sg_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
		if (errno_table[i].err == err)
			return errno_table[i].name;
	}
	return NULL;
}

int sg_errno_from_name(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++) {
		const char *name = errno_table[i].name;
		if (sg_span_is(s, n, name))
			return errno_table[i].err;
	}
	return -1;
}

int sg_class_severity(int cls)
{
	switch (cls) {
	case SG_CLASS_SUMMARY: case SG_CLASS_EOF:
		return 6;	/* informational */
	case SG_CLASS_SUPPRESSED:
		return 5;	/* notice */
	case SG_CLASS_FD_EXHAUSTED:
		return 3;	/* error */
	default:
		return 4;	/* warning */
	}
}
