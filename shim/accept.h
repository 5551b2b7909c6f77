/*
 * The accept reserve: a descriptor held so that a process out of
 * descriptors can shed a pending connection instead of spinning on EMFILE.
 */
#ifndef SG_ACCEPT_H
#define SG_ACCEPT_H

#include "decide.h"

#pragma GCC visibility push(hidden)

/* Takes the reserve if the policy sheds and none is held (listen, accept). */
void sg_accept_reserve_take(void);

/* The program closed or replaced the reserve's number: it is not ours now. */
void sg_accept_reserve_lost(int fd);

/*
 * Closes the reserve, accepts and closes one pending connection on c->fd,
 * logs event n (while the descriptor just freed is still free), and takes
 * the reserve again.  Returns 1 when a connection was shed.
 */
int sg_accept_shed(const struct sg_call *c, const struct sg_event_note *n);

#pragma GCC visibility pop

#endif
