/*
 * Applying keepalive, user_timeout, sndbuf and rcvbuf.  See sockopts.h.
 * These are system calls of the shim's own on a path without error: the
 * operator asked for them with the policy (docs/DESIGN.md lists them).
 */
#include "sockopts.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "fdtable.h"
#include "live.h"
#include "shim.h"
#include "state.h"
#include "../policy/rawsys.h"

const struct sg_sock_settings *sg_sock_settings_for(const struct sockaddr *peer,
						    socklen_t len,
						    struct sg_sock_settings *buf)
{
	if (!sg_pol_has_peers || !sg_pol || peer == NULL || len == 0)
		return &sg_cfg.sock;
	sg_policy_for_peer(sg_pol, sg_prog_name, sg_prog_path, peer, len, buf);
	/* Live settings (`sockguard set`) apply on top of [peer] sections. */
	sg_live_sock_overlay(buf);
	return buf;
}

int sg_sockopts_wanted(const struct sg_sock_settings *s)
{
	return s->keepalive != SG_KEEPALIVE_OFF || s->user_timeout_ms ||
	       s->sndbuf || s->rcvbuf;
}

static void set_int(int fd, int level, int name, int value)
{
	sg_sys5(SYS_setsockopt, fd, level, name, &value, sizeof(value));
}

static void apply_buffers(int fd, uint32_t st, const struct sg_sock_settings *s)
{
	if (s->sndbuf && !(st & SG_FD_USER_SNDBUF))
		set_int(fd, SOL_SOCKET, SO_SNDBUF, (int)s->sndbuf);
	if (s->rcvbuf && !(st & SG_FD_USER_RCVBUF))
		set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)s->rcvbuf);
}

static void apply_liveness(int fd, uint32_t st, const struct sg_sock_settings *s)
{
	if (s->keepalive != SG_KEEPALIVE_OFF && !(st & SG_FD_USER_KA)) {
		set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
		if (s->keepalive == SG_KEEPALIVE_CUSTOM) {
			set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)s->keepalive_idle);
			set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)s->keepalive_intvl);
			set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)s->keepalive_cnt);
		}
	}
	if (s->user_timeout_ms && !(st & SG_FD_USER_UTO))
		set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)s->user_timeout_ms);
}

void sg_sockopts_apply(int fd, const struct sg_sock_settings *s, int phase)
{
	if (!sg_hardening() || !sg_sockopts_wanted(s) || !sg_own_syscalls_allowed())
		return;
	int saved = errno;
	uint32_t st = sg_fd_classify(fd);
	if (st & SG_FD_TCP) {
		apply_buffers(fd, st, s);
		if (phase == SG_OPT_ESTABLISHED)
			apply_liveness(fd, st, s);
	}
	errno = saved;
}
