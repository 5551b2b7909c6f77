/*
 * Building the log line (tools/sockguard.8, "LOG LINE") from what a wrapper reports:
 * the program, protocol, addresses and TCP_INFO are looked up here, on the
 * error path only.  Then the line goes through log_events and the rate limit
 * to the writer (log.c).
 *
 * Async-signal-safe like the writer: the lookups are raw system calls
 * (getsockopt, getsockname and getpeername through the libc names would be
 * the shim's own wrappers), and the line is formatted on the stack.
 */
#include "event.h"
#include "../policy/rawsys.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "counters.h"
#include "fdtable.h"
#include "../policy/fmt.h"
#include "live.h"
#include "log.h"
#include "ratelimit.h"
#include "shim.h"
#include "sockopts.h"
#include "state.h"

/* What the socket is, for the proto field and TCP_INFO. */
struct sock_info {
	const char *proto;	/* NULL: not a socket, or a kind not named */
	int tcp;
};

static int summary_done;
/* Events counted when the last summary was written. */
static uint64_t summary_events;

void sg_event_after_fork(void)
{
	__atomic_store_n(&summary_done, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&summary_events, 0, __ATOMIC_RELAXED);
	sg_event_init();
}

static int sock_opt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (sg_sys5(SYS_getsockopt, fd, level, name, &v, &len) < 0)
		return -1;
	return v;
}

static struct sock_info sock_info_of(int fd)
{
	struct sock_info si = { NULL, 0 };
	int domain = sock_opt_int(fd, SOL_SOCKET, SO_DOMAIN);
	int type = sock_opt_int(fd, SOL_SOCKET, SO_TYPE);
	int proto = sock_opt_int(fd, SOL_SOCKET, SO_PROTOCOL);

	if (domain == AF_UNIX) {
		si.proto = "unix";
	} else if (domain == AF_INET || domain == AF_INET6) {
		if (type == SOCK_STREAM && proto == IPPROTO_TCP)
			si.proto = "tcp", si.tcp = 1;
		else if (type == SOCK_DGRAM && proto == IPPROTO_UDP)
			si.proto = "udp";
		else if (type == SOCK_RAW)
			si.proto = "raw";
	}
	return si;
}

/*
 * The peer to report: the one the wrapper passed (connect's address: a
 * failed connect has no peer for getpeername to find), else the socket's own
 * (getpeername), else the one the core remembered from connect/sendto/accept.
 * Returns its length, 0 when none is known.
 */
static socklen_t event_peer(const struct sg_event *ev,
			    struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	if (ev->peer && ev->peerlen > 0) {
		len = ev->peerlen < sizeof(*ss) ? ev->peerlen : sizeof(*ss);
		memcpy(ss, ev->peer, len);
		return len;
	}
	if (ev->fd < 0)
		return 0;
	if (sg_sys3(SYS_getpeername, ev->fd, ss, &len) == 0)
		return len;
	return sg_fd_recall_peer(ev->fd, ss);
}

static void field_str(struct sg_fmt *f, const char *key, const char *v)
{
	size_t mark = sg_fmt_mark(f);

	sg_fmt_str(f, key);
	sg_fmt_escaped(f, v, strlen(v), SG_ESC_FIELD);
	sg_fmt_commit(f, mark);
}

static void field_u64(struct sg_fmt *f, const char *key, uint64_t v)
{
	size_t mark = sg_fmt_mark(f);

	sg_fmt_str(f, key);
	sg_fmt_u64(f, v);
	sg_fmt_commit(f, mark);
}

static void field_prog(struct sg_fmt *f)
{
	size_t mark = sg_fmt_mark(f);

	sg_fmt_str(f, " prog=");
	sg_fmt_escaped(f, sg_prog_name, strnlen(sg_prog_name,
						sizeof(sg_prog_name)),
		       SG_ESC_FIELD);
	sg_fmt_commit(f, mark);
}

static void field_addr(struct sg_fmt *f, const char *key,
		       const struct sockaddr *sa, socklen_t len, int with_port)
{
	size_t mark = sg_fmt_mark(f);

	sg_fmt_str(f, key);
	if (sg_fmt_sockaddr(f, sa, len, with_port) < 0)
		f->len = mark;	/* nothing to show: no field */
	sg_fmt_commit(f, mark);
}

static void field_errno(struct sg_fmt *f, int err)
{
	const char *name = sg_errno_name(err);

	if (err == 0)
		return;
	if (name)
		field_str(f, " errno=", name);
	else
		field_u64(f, " errno=", (uint64_t)err);
}

/* An IPv4/IPv6 address that is all zeros with port 0: an unbound socket. */
static int is_unbound(const struct sockaddr_storage *ss)
{
	static const unsigned char zero[16];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		return s->sin_port == 0 && s->sin_addr.s_addr == 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		return s->sin6_port == 0 &&
		       memcmp(&s->sin6_addr, zero, sizeof(zero)) == 0;
	}
	return 0;
}

static SG_COLD void field_local(struct sg_fmt *f, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (sg_sys3(SYS_getsockname, fd, &ss, &len) < 0 || is_unbound(&ss))
		return;
	field_addr(f, " local=", (const struct sockaddr *)&ss, len, 1);
}

/* The kernel's TCP states (include/net/tcp_states.h), as the log line names them. */
static const char *tcp_state_name(unsigned st)
{
	static const char *const names[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING",
	};
	return st < sizeof(names) / sizeof(names[0]) ? names[st] : NULL;
}

static SG_COLD void fields_tcp_info(struct sg_fmt *f, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	const char *state;

	memset(&ti, 0, sizeof(ti));
	if (sg_sys5(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_total_retrans) +
		  sizeof(ti.tcpi_total_retrans))
		return;
	state = tcp_state_name(ti.tcpi_state);
	if (state)
		field_str(f, " state=", state);
	field_u64(f, " rtt_us=", ti.tcpi_rtt);
	field_u64(f, " retrans=", ti.tcpi_total_retrans);
}

/* The part of the line that describes the socket: fd proto local peer TCP_INFO. */
static void fields_socket(struct sg_fmt *f, int fd,
			  const struct sockaddr_storage *peer, socklen_t plen)
{
	struct sock_info si = { NULL, 0 };

	if (fd >= 0) {
		field_u64(f, " fd=", (uint64_t)fd);
		si = sock_info_of(fd);
	}
	if (si.proto) {
		field_str(f, " proto=", si.proto);
		field_local(f, fd);
	}
	if (plen)
		field_addr(f, " peer=", (const struct sockaddr *)peer, plen, 1);
	if (si.tcp)
		fields_tcp_info(f, fd);
}

static __attribute__((noinline)) size_t format_event(const struct sg_event *ev,
			   const struct sockaddr_storage *peer, socklen_t plen,
			   char *buf, size_t cap)
{
	struct sg_fmt f;
	const char *deadline = sg_deadline_name(ev->deadline);

	sg_fmt_init(&f, buf, cap);
	field_str(&f, "class=", sg_class_name(ev->cls));
	if (sg_op_name(ev->op))
		field_str(&f, " op=", sg_op_name(ev->op));
	field_errno(&f, ev->err);
	if (sg_action_name(ev->action))
		field_str(&f, " action=", sg_action_name(ev->action));
	if (ev->action == SG_ACTION_RETRIED)
		field_u64(&f, " tries=", ev->tries);
	if (ev->cls == SG_CLASS_TIMEOUT && deadline)
		field_str(&f, " deadline=", deadline);
	field_prog(&f);
	fields_socket(&f, ev->fd, peer, plen);
	return f.len;
}

/* The limits of the rate limit, from the settings in force. */
static struct sg_rl_limits limits(void)
{
	struct sg_rl_limits lim = {
		sg_cfg.log_burst, sg_cfg.log_max,
		(uint64_t)sg_cfg.log_interval_s * 1000,
	};

	return lim;
}

/*
 * class=suppressed count=N of=CLASS [peer=HOST] prog=NAME, to the
 * destination s (NULL: that of the peer, or the process's).
 */
static __attribute__((noinline)) void
write_suppressed(uint64_t count, int cls, const struct sockaddr_storage *peer,
		 socklen_t plen, const struct sg_sock_settings *s, int flags)
{
	char buf[SG_LOG_BODY_MAX];
	struct sg_fmt f;

	sg_fmt_init(&f, buf, sizeof(buf));
	sg_fmt_str(&f, "class=suppressed");
	field_u64(&f, " count=", count);
	field_str(&f, " of=", sg_class_name(cls));
	if (plen)
		field_addr(&f, " peer=", (const struct sockaddr *)peer, plen, 0);
	field_prog(&f);
	sg_log_line(s, SG_CLASS_SUPPRESSED, buf, f.len,
		    SG_LINE_DROPPED | flags);
}

/* One class=suppressed line per class for the counts over the ceiling. */
static void write_over(const struct sg_rl_over *over, int flags)
{
	if (!over->any)
		return;
	for (int c = 0; c < SG_CLASS_COUNT && c < SG_RL_CLASSES; c++) {
		if (over->count[c])
			write_suppressed(over->count[c], c, NULL, 0,
					 &sg_cfg.sock, flags);
	}
}

/*
 * A key's held count, as one class=suppressed line when the process-wide
 * ceiling allows one more line, else added to the ceiling's own counts.
 */
static void write_held(const struct sg_rl_held *h,
		       const struct sg_sock_settings *s, int flags)
{
	struct sg_sock_settings tmp;
	struct sg_rl_limits lim = limits();
	struct sg_rl_over over;
	int allow = sg_rl_spend(h->cls, h->count, sg_log_now_ms(), &lim, &over);

	write_over(&over, flags);
	if (!allow)
		return;
	if (!s)
		s = sg_sock_settings_for((const struct sockaddr *)&h->peer,
					 h->peerlen, &tmp);
	write_suppressed(h->count, h->cls, &h->peer, h->peerlen, s, flags);
}

/*
 * Applies the rate limit to a line about to be written, first writing the
 * suppressed counts it hands back (the process-wide ones of the window
 * that ended, an evicted key's, and this key's previous window's).
 * Returns whether the line may be written.
 */
static int rate_allows(const struct sg_sock_settings *s, int cls,
		       const struct sockaddr_storage *peer, socklen_t plen,
		       int flags)
{
	struct sg_rl_verdict v;
	struct sg_rl_limits lim = limits();

	sg_rl_check(cls, (const struct sockaddr *)peer, plen, sg_log_now_ms(),
		    &lim, &v);
	write_over(&v.over, flags);
	if (v.evicted.count)
		write_held(&v.evicted, NULL, flags);
	if (v.flushed) {
		v.evicted.count = v.flushed;
		v.evicted.cls = cls;
		v.evicted.peerlen = sg_rl_host_of((const struct sockaddr *)peer,
						  plen, &v.evicted.peer);
		write_held(&v.evicted, s, flags);
	}
	if (!v.allow)
		sg_count(&sockguard_counters.lines_suppressed, 1);
	return v.allow;
}

static void count_event(const struct sg_event *ev)
{
	sg_count(&sockguard_counters.events[ev->cls], 1);
	if (ev->action >= 0 && ev->action < SG_ACTION_COUNT)
		sg_count(&sockguard_counters.by_action[ev->cls][ev->action], 1);
}

static int line_flags(const struct sg_event *ev)
{
	return ev->flags & SG_EVENT_NO_KEEP_FD ? SG_LINE_NO_KEEP_FD : 0;
}

/* The line of an event whose peer and settings are known. */
static __attribute__((noinline)) void
write_event(const struct sg_event *ev, const struct sg_sock_settings *s,
	    const struct sockaddr_storage *peer, socklen_t plen)
{
	char buf[SG_LOG_BODY_MAX];

	sg_log_line(s, ev->cls, buf,
		    format_event(ev, peer, plen, buf, sizeof(buf)),
		    SG_LINE_DROPPED | line_flags(ev));
}

static void maybe_summary(int flags);

void sg_event_emit(const struct sg_event *ev)
{
	int saved = errno;
	struct sockaddr_storage peer;
	struct sg_sock_settings tmp;
	const struct sg_sock_settings *s;
	socklen_t plen;

	sg_live_check();
	if (ev->cls < 0 || ev->cls >= SG_CLASS_COUNT || !sg_acting())
		return;
	count_event(ev);
	/* Counted, but no lookup, no line: a seccomp filter or a vfork child. */
	if (!sg_own_syscalls_allowed())
		goto out;
	plen = event_peer(ev, &peer);
	s = sg_sock_settings_for((const struct sockaddr *)&peer, plen, &tmp);
	if (s->log_kind != SG_LOG_OFF && (s->log_events & (1u << ev->cls)) &&
	    rate_allows(s, ev->cls, &peer, plen, line_flags(ev)))
		write_event(ev, s, &peer, plen);
	maybe_summary(line_flags(ev));
out:
	errno = saved;
}

/* " NAME=N", for the summary's totals. */
static void field_named(struct sg_fmt *f, const char *name, uint64_t n)
{
	size_t mark = sg_fmt_mark(f);

	sg_fmt_char(f, ' ');
	sg_fmt_str(f, name);
	sg_fmt_char(f, '=');
	sg_fmt_u64(f, n);
	sg_fmt_commit(f, mark);
}

/* CLASS=N for each class met, then ACTION=N for each action taken. */
static __attribute__((noinline)) void fields_totals(struct sg_fmt *f,
							uint64_t *total)
{
	const struct sg_counters *c = &sockguard_counters;
	uint64_t by_action[SG_ACTION_COUNT] = { 0 };

	*total = 0;
	for (int cls = 0; cls < SG_CLASS_SUPPRESSED; cls++) {
		uint64_t n = __atomic_load_n(&c->events[cls], __ATOMIC_RELAXED);

		for (int a = 0; a < SG_ACTION_COUNT; a++)
			by_action[a] += __atomic_load_n(&c->by_action[cls][a],
							__ATOMIC_RELAXED);
		if (!n)
			continue;
		*total += n;
		field_named(f, sg_class_name(cls), n);
	}
	for (int a = 0; a < SG_ACTION_COUNT; a++) {
		if (by_action[a])
			field_named(f, sg_action_name(a), by_action[a]);
	}
}

/* CLOCK_MONOTONIC ms from which the next periodic summary is due. */
static uint64_t summary_due_ms;

static uint64_t events_total(void)
{
	uint64_t total = 0;

	for (int cls = 0; cls < SG_CLASS_SUPPRESSED; cls++)
		total += __atomic_load_n(&sockguard_counters.events[cls],
					 __ATOMIC_RELAXED);
	return total;
}

/*
 * class=summary prog=NAME pid=N started=EPOCH CLASS=N... ACTION=N...
 * [dropped=N] [suppressed=N]: the totals so far.  `sockguard report` counts
 * a process once, by its latest summary (host, pid and started).
 */
static __attribute__((noinline)) void write_summary(int flags)
{
	const struct sg_counters *c = &sockguard_counters;
	char buf[SG_LOG_BODY_MAX];
	struct sg_fmt f;
	uint64_t total, dropped, suppressed;

	sg_fmt_init(&f, buf, sizeof(buf));
	sg_fmt_str(&f, "class=summary");
	field_prog(&f);
	field_u64(&f, " pid=", (uint64_t)sg_sys0(SYS_getpid));
	field_u64(&f, " started=", (uint64_t)sg_log_started());
	fields_totals(&f, &total);
	if (!total)
		return;
	__atomic_store_n(&summary_events, total, __ATOMIC_RELAXED);
	dropped = __atomic_load_n(&c->lines_dropped, __ATOMIC_RELAXED);
	suppressed = __atomic_load_n(&c->lines_suppressed, __ATOMIC_RELAXED);
	if (dropped)
		field_u64(&f, " dropped=", dropped);
	if (suppressed)
		field_u64(&f, " suppressed=", suppressed);
	sg_log_line(&sg_cfg.sock, SG_CLASS_SUMMARY, buf, f.len, flags);
}

static int summary_wanted(void)
{
	return sg_cfg.sock.log_kind != SG_LOG_OFF &&
	       (sg_cfg.sock.log_events & (1u << SG_CLASS_SUMMARY));
}

/*
 * The periodic summary (log_summary_interval): checked when an event
 * happens, so there is no timer, thread or signal of the shim's own; an
 * event is a change of the counters, so a due summary is always news.
 */
static void maybe_summary(int flags)
{
	uint64_t every = (uint64_t)sg_cfg.log_summary_interval_s * 1000;
	uint64_t due = __atomic_load_n(&summary_due_ms, __ATOMIC_RELAXED);
	uint64_t now;

	if (!every || !summary_wanted())
		return;
	now = sg_log_now_ms();
	if (now < due || !__atomic_compare_exchange_n(&summary_due_ms, &due,
						      now + every, 0,
						      __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED))
		return;
	write_summary(flags);
}

void sg_event_init(void)
{
	__atomic_store_n(&summary_due_ms,
			 sg_log_now_ms() +
				 (uint64_t)sg_cfg.log_summary_interval_s * 1000,
			 __ATOMIC_RELAXED);
}

void sg_log_summary(void)
{
	int saved = errno;
	unsigned cursor = 0;
	struct sg_rl_held h;
	struct sg_rl_over over;

	if (__atomic_exchange_n(&summary_done, 1, __ATOMIC_ACQ_REL) ||
	    !sg_own_syscalls_allowed())
		goto out;
	/* A process that met nothing has nothing held and nothing to sum up. */
	if (events_total() == 0)
		goto out;
	/* Counts still held by the rate limit are written before the totals. */
	while (sg_rl_take_held(&cursor, &h))
		write_held(&h, NULL, 0);
	sg_rl_take_over(&over);
	write_over(&over, 0);
	/* Nothing new since the last periodic summary: it stands as the last. */
	if (summary_wanted() &&
	    __atomic_load_n(&summary_events, __ATOMIC_RELAXED) != events_total())
		write_summary(0);
out:
	errno = saved;
}
