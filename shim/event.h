/*
 * Events: what the retry engine and the wrappers tell the log writer.  A
 * wrapper fills the few fields it knows; sg_event_emit() adds the program,
 * protocol, addresses and TCP_INFO, applies log_events and the rate limit,
 * counts it, and writes one line.  Async-signal-safe, allocation-free, and
 * errno is preserved.
 */
#ifndef SG_EVENT_H
#define SG_EVENT_H

#include <sys/socket.h>

#include "../policy/classify.h"

struct sg_event {
	int cls;		/* enum sg_class */
	int op;			/* enum sg_op (classify.h) */
	int err;		/* errno met, 0 for eof */
	int action;		/* enum sg_action */
	unsigned tries;		/* retries made, for action=retried */
	int deadline;		/* enum sg_deadline, for class=timeout */
	int fd;			/* -1 when none */
	/* Peer to report when the socket no longer has one (may be NULL). */
	const struct sockaddr *peer;
	socklen_t peerlen;
	int flags;		/* SG_EVENT_* */
};

/*
 * The process is out of descriptors (the shed path): if the shared log
 * socket is not open, the line goes through a private socket closed right
 * after it, so that no new descriptor is kept.
 */
#define SG_EVENT_NO_KEEP_FD	1

void sg_event_emit(const struct sg_event *ev);

/*
 * A problem with the policy or the shim itself ("file:line: message"):
 * written to stderr and to syslog, unconditionally and unrated.
 */
void sg_log_problem(const char *text);

/*
 * The exit summary line (class=summary), if any event happened since the
 * last summary, after the counts the rate limit still holds.
 */
void sg_log_summary(void);

/*
 * Called once by the constructor, after the settings are loaded.  It opens
 * and reads nothing: it notes the start time (clock_gettime(2) through the
 * vDSO) for the summaries.  The log socket is opened by the first line.
 */
void sg_log_init(void);

/* Called in the child after fork(): own pid, own rate-limit state. */
void sg_log_after_fork(void);

/* The program closed or replaced a descriptor the shim owned. */
void sg_log_fd_lost(int fd);

#endif
