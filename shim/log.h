/*
 * The writer's inside, shared by event.c (which builds lines), log.c (which
 * owns the destinations) and journal.c (the journal's entries).  The rest
 * of the shim uses event.h.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stddef.h>
#include <sys/uio.h>

#include "../policy/policy.h"

/*
 * The longest line, header included: RFC 3164 section 4.1 allows 1024 bytes.
 * Fields that do not fit are left out whole (see fmt.h).
 */
#define SG_LOG_LINE_MAX 1024
/*
 * Room kept for the header (RFC 5424's, with its host name, is the longest)
 * and the trailing " dropped=N".
 */
#define SG_LOG_BODY_MAX (SG_LOG_LINE_MAX - 224)

/* Flags for sg_log_line(). */
#define SG_LINE_DROPPED		1	/* append dropped=N if lines were dropped */
#define SG_LINE_NO_KEEP_FD	2	/* open no long-lived socket for this line */

/*
 * Sends one line (body: "class=... ...", without header) of class cls to the
 * destination the socket settings s name, with the header that destination
 * takes.  Never blocks; a line that cannot be delivered is counted in
 * lines_dropped and reported later.  errno is preserved.
 */
void sg_log_line(const struct sg_sock_settings *s, int cls, const char *body,
		 size_t len, int flags);

/* One line on its way to a destination: the body, then the tail. */
struct sg_log_msg {
	int cls;		/* enum sg_class, SG_CLASS_NONE for a problem */
	int severity;		/* RFC 5424 section 6.2.1 */
	int flags;		/* SG_LINE_* */
	const char *body;
	size_t len;
	const char *tail;	/* " dropped=N" or empty */
	size_t tail_len;
};

/*
 * One datagram to the unix socket path ("@name": abstract).  Returns 0 or
 * -errno; never blocks.
 */
int sg_log_send(const char *path, struct iovec *iov, int iovcnt, int flags);

/* The line as one native journal entry (journal.c); 0 or -errno. */
int sg_journal_send(const struct sg_log_msg *m);

/* The syslog facility number lines carry. */
int sg_log_facility(void);

/* Wall-clock seconds when the process started (or forked). */
long long sg_log_started(void);

/* event.c's part of sg_log_init() and sg_log_after_fork(). */
void sg_event_init(void);
void sg_event_after_fork(void);

/* Milliseconds of CLOCK_MONOTONIC, for the rate limit. */
unsigned long long sg_log_now_ms(void);

#endif
