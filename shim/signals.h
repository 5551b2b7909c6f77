/*
 * What the rest of the shim needs to know about signals: the trampolines
 * that tell an EINTR the program must see from one it must not (the count
 * is sg_thread.pass_seq, state.h), and how SIGPIPE is held.
 */
#ifndef SG_SIGNALS_H
#define SG_SIGNALS_H

#include "shim.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

/* Holds SIGPIPE and wraps the handlers installed before the constructor ran. */
void sg_signals_init(void);

/*
 * The settings in force changed: wraps the handlers of signals newly in
 * eintr_pass, gives the program's own back for those no longer in it (or
 * all of them when the shim stops hardening), and holds SIGPIPE as the
 * mode now says.  may_syscall 0: only what needs no system call.
 */
void sg_signals_follow(int may_syscall);

/*
 * Whether the shim keeps SIGPIPE from killing the program (an EPIPE it
 * meets is then logged as action=sigpipe_suppressed).
 */
int sg_sigpipe_held(void);

/* fclose/close of a descriptor that may carry a socket stream (fdopen). */
void sg_signals_stream_closed(int fd);

#pragma GCC visibility pop

#endif
