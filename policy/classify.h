/*
 * The classification table shared by the shim and `sockguard report`:
 * event classes, actions, operations and errno names, as they appear in the
 * log line (tools/sockguard.8, LOG LINE).  Plain C, no knowledge of
 * interposition.
 */
#ifndef SG_CLASSIFY_H
#define SG_CLASSIFY_H

#include <stddef.h>

enum sg_class {
	SG_CLASS_RESET,
	SG_CLASS_REFUSED,
	SG_CLASS_TIMEOUT,
	SG_CLASS_UNREACHABLE,
	SG_CLASS_PIPE,
	SG_CLASS_ABORTED,
	SG_CLASS_EOF,
	SG_CLASS_FD_EXHAUSTED,
	SG_CLASS_SUPPRESSED,
	SG_CLASS_SUMMARY,
	SG_CLASS_COUNT,
	SG_CLASS_NONE = -1
};

/* What the shim did about an event: the log line's `action` field. */
enum sg_action {
	SG_ACTION_RETURNED,
	SG_ACTION_RETRIED,
	SG_ACTION_SIGPIPE_SUPPRESSED,
	SG_ACTION_SHED,
	SG_ACTION_TIMED_OUT,
	SG_ACTION_COUNT
};

/* Which deadline fired, for class=timeout: the log line's `deadline` field. */
enum sg_deadline {
	SG_DEADLINE_NONE,
	SG_DEADLINE_RETRANS,	/* ETIMEDOUT from the kernel: retransmissions, keepalive or user timeout */
	SG_DEADLINE_SO_RCVTIMEO,
	SG_DEADLINE_SO_SNDTIMEO,
	SG_DEADLINE_CONNECT_TIMEOUT,
	SG_DEADLINE_EAGAIN_WAIT,
	SG_DEADLINE_COUNT
};

/*
 * The operations the shim intercepts and retries: the log line's `op` field.
 * Grouped by what they are; sg_op_kind() tells which group.
 */
enum sg_op {
	SG_OP_RECV, SG_OP_RECVFROM, SG_OP_RECVMSG, SG_OP_RECVMMSG,
	SG_OP_READ, SG_OP_READV,
	SG_OP_SEND, SG_OP_SENDTO, SG_OP_SENDMSG, SG_OP_SENDMMSG,
	SG_OP_WRITE, SG_OP_WRITEV, SG_OP_SENDFILE,
	SG_OP_ACCEPT, SG_OP_ACCEPT4, SG_OP_CONNECT,
	SG_OP_POLL, SG_OP_PPOLL, SG_OP_SELECT, SG_OP_PSELECT,
	SG_OP_EPOLL_WAIT, SG_OP_EPOLL_PWAIT,
	SG_OP_COUNT
};

enum sg_op_kind {
	SG_KIND_RECEIVE,	/* waits for POLLIN, may meet the end of a stream */
	SG_KIND_SEND,		/* waits for POLLOUT, may be completed */
	SG_KIND_ACCEPT,
	SG_KIND_CONNECT,
	SG_KIND_READINESS	/* poll, select, epoll_wait and their variants */
};

const char *sg_op_name(int op);
int sg_op_from_name(const char *s, size_t n);

/* Inline: the retry decision asks it several times on every slow path. */
static inline int sg_op_kind(int op)
{
	if (op <= SG_OP_READV)
		return SG_KIND_RECEIVE;
	if (op <= SG_OP_SENDFILE)
		return SG_KIND_SEND;
	if (op <= SG_OP_ACCEPT4)
		return SG_KIND_ACCEPT;
	return op == SG_OP_CONNECT ? SG_KIND_CONNECT : SG_KIND_READINESS;
}

/* Every class logged by default except eof (it costs a store per send). */
#define SG_CLASS_DEFAULT_EVENTS \
	(((1u << SG_CLASS_COUNT) - 1) & ~(1u << SG_CLASS_EOF))
#define SG_CLASS_ALL_EVENTS ((1u << SG_CLASS_COUNT) - 1)

const char *sg_class_name(int cls);
const char *sg_action_name(int action);
const char *sg_deadline_name(int deadline);

/* Looks a name up among the first n bytes of s; -1 when unknown. */
int sg_class_from_name(const char *s, size_t n);
int sg_action_from_name(const char *s, size_t n);

/*
 * Maps an errno met by operation `op` (enum sg_op) on a socket to its class,
 * or SG_CLASS_NONE when sockguard does not classify it.  EAGAIN is
 * classified by the caller (it is a timeout only when a deadline fired).
 */
int sg_classify_errno(int err, int op);

/* "ECONNRESET" for ECONNRESET; NULL for an errno the table does not name. */
const char *sg_errno_name(int err);
int sg_errno_from_name(const char *s, size_t n);

/* Syslog severity (RFC 5424 numbers) used for a class. */
int sg_class_severity(int cls);

#endif
