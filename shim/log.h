/*
 * The writer's inside, shared by event.c (which builds lines) and log.c
 * (which owns the destinations).  The rest of the shim uses event.h.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stddef.h>

#include "../policy/policy.h"

/*
 * The longest line, header included: RFC 3164 section 4.1 allows 1024 bytes.
 * Fields that do not fit are left out whole (see fmt.h).
 */
#define SG_LOG_LINE_MAX 1024
/* Room kept for the header and the trailing " dropped=N". */
#define SG_LOG_BODY_MAX (SG_LOG_LINE_MAX - 96)

/* Flags for sg_log_line(). */
#define SG_LINE_DROPPED	1	/* append dropped=N if lines were dropped */

/*
 * Sends one line (body: "class=... ...", without header) of class cls to the
 * destination the socket settings s name, with the header that destination
 * takes.  Never blocks; a line that cannot be delivered is counted in
 * lines_dropped and reported later.  errno is preserved.
 */
void sg_log_line(const struct sg_sock_settings *s, int cls, const char *body,
		 size_t len, int flags);

/* event.c's part of sg_log_after_fork(): the summary is the child's own. */
void sg_event_after_fork(void);

/* Milliseconds of CLOCK_MONOTONIC, for the rate limit. */
unsigned long long sg_log_now_ms(void);

#endif
