/*
 * The per-socket policy keys applied to the program's sockets: keepalive,
 * user_timeout, sndbuf, rcvbuf (the man page, POLICY).  A value the program set
 * itself (remembered in the fd table) always wins.
 */
#ifndef SG_SOCKOPTS_H
#define SG_SOCKOPTS_H


#include <sys/socket.h>

#include "../policy/policy.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

enum sg_opt_phase {
	SG_OPT_BEFORE_CONNECT,	/* buffer sizes, before the handshake */
	SG_OPT_ESTABLISHED,	/* after connect succeeded, or accept */
	SG_OPT_LISTEN,		/* on the listening socket */
};

/*
 * The socket settings for a peer: the program's, or with [peer] sections
 * applied when the policy has any.  Returns a pointer to *buf or sg_cfg.sock.
 */
const struct sg_sock_settings *sg_sock_settings_for(const struct sockaddr *peer,
						    socklen_t len,
						    struct sg_sock_settings *buf);

/* Whether any of keepalive/user_timeout/sndbuf/rcvbuf asks for work. */
int sg_sockopts_wanted(const struct sg_sock_settings *s);

/* Applies what phase calls for on TCP socket fd (harden mode only). */
void sg_sockopts_apply(int fd, const struct sg_sock_settings *s, int phase);

#pragma GCC visibility pop

#endif
