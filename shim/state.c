/*
 * The state of the shim.  See state.h.
 */
#include "state.h"

#include "../policy/classify.h"
#include "sockopts.h"

struct sg_proc sg_proc;
SG_TLS struct sg_thread sg_thread = { .write_fd = -1 };

void sg_state_follow(const struct sg_settings *s)
{
	const struct sg_sock_settings *k = &s->sock;

	sg_fast_set(SG_FAST_EOF, (k->log_events & (1u << SG_CLASS_EOF)) ||
				 sg_pol_has_peers);
	sg_fast_set(SG_FAST_SOCKOPTS, sg_pol_has_peers || sg_sockopts_wanted(k));
	sg_fast_set(SG_FAST_CONNECT, sg_pol_has_peers || k->connect_timeout_ms ||
				     k->sndbuf || k->rcvbuf);
	sg_fast_set(SG_FAST_WATCH, s->eagain == SG_EAGAIN_UNWATCHED ||
				   !__atomic_load_n(&sg_proc.watched, __ATOMIC_RELAXED));
}
