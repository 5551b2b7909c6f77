/*
 * The classification table: one place that says which errno is which class,
 * used by the shim to build events and by `sockguard report` to read them.
 */
#include "classify.h"
#include "policy_int.h"

#include <errno.h>
#include <string.h>

static const char *const class_names[SG_CLASS_COUNT] = {
	"reset", "refused", "timeout", "unreachable", "pipe",
	"aborted", "eof", "fd_exhausted", "suppressed", "summary",
};

static const char *const action_names[SG_ACTION_COUNT] = {
	"returned", "retried", "sigpipe_suppressed", "shed", "timed_out",
};

static const char *const deadline_names[SG_DEADLINE_COUNT] = {
	NULL, "retrans", "so_rcvtimeo", "so_sndtimeo", "connect_timeout",
	"eagain_wait",
};

static const char *const op_names[SG_OP_COUNT] = {
	"recv", "recvfrom", "recvmsg", "recvmmsg", "read", "readv",
	"send", "sendto", "sendmsg", "sendmmsg", "write", "writev", "sendfile",
	"accept", "accept4", "connect",
	"poll", "ppoll", "select", "pselect", "epoll_wait", "epoll_pwait",
};

struct errno_entry {
	int err;
	const char *name;
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

static const char *name_at(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : NULL;
}

static int index_of(const char *const *names, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++) {
		if (names[i] && sg_span_is(s, len, names[i]))
			return i;
	}
	return -1;
}

const char *sg_class_name(int cls)
{
	return name_at(class_names, SG_CLASS_COUNT, cls);
}

const char *sg_action_name(int action)
{
	return name_at(action_names, SG_ACTION_COUNT, action);
}

const char *sg_deadline_name(int deadline)
{
	return name_at(deadline_names, SG_DEADLINE_COUNT, deadline);
}

int sg_class_from_name(const char *s, size_t n)
{
	return index_of(class_names, SG_CLASS_COUNT, s, n);
}

int sg_action_from_name(const char *s, size_t n)
{
	return index_of(action_names, SG_ACTION_COUNT, s, n);
}

const char *sg_op_name(int op)
{
	return name_at(op_names, SG_OP_COUNT, op);
}

int sg_op_from_name(const char *s, size_t n)
{
	return index_of(op_names, SG_OP_COUNT, s, n);
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
