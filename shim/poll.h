/*
 * What the readiness wrappers know that the EAGAIN rules need.
 */
#ifndef SG_POLL_H
#define SG_POLL_H

#pragma GCC visibility push(hidden)

/*
 * Whether the process has an epoll instance or handed a socket to poll,
 * ppoll, select or pselect.  Error paths only: it may classify polled
 * descriptors of unknown kind with system calls.
 */
int sg_poll_watched(void);

#pragma GCC visibility pop

#endif
