/*
 * The retry decision on its own, as a table: every EINTR, EAGAIN, short
 * write, accept and connect rule of the man page, each case one call's
 * facts and the verdict it must get.  No kernel, no root: milliseconds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include "../../shim/decide.c"

/* Each case names only what differs from the defaults given first. */
#pragma GCC diagnostic ignored "-Woverride-init"

/* What a case sets; everything else is the plain default below. */
struct facts {
	int op;
	uint32_t fd;		/* fdtable bits */
	int nonblock;		/* 0, 1, SG_UNKNOWN */
	int dontwait;
	int watched;
	int signalled;
	int harden;
	int quiet;
	int eagain;		/* enum sg_eagain */
	int eintr;		/* enum sg_eintr */
	int accept_mode;	/* enum sg_accept */
	int emfile;		/* enum sg_emfile */
	unsigned tries;
	size_t want, done;
	int64_t timeo_ns;	/* SG_UNKNOWN or a span */
	int pending, shed, mask_opens, last_was_send, sigpipe_held, async;
	int64_t bound_ns;
	int bound_is_own;
};

/* What the verdict must say; -1 (or SG_CLASS_NONE) where it does not matter. */
struct expect {
	int kind;
	long result;		/* RETURN: the result; WAIT: on_timeout */
	int cls;		/* event (RETURN/RETRY/SHED) or timeout_event (WAIT) */
	int action;
	int deadline;
	int fact;		/* ASK */
	int dir;		/* WAIT */
	int64_t until;		/* WAIT, -1 any */
	int counter;
	int hold;
};

struct row {
	const char *name;
	struct facts f;
	long r;
	struct expect e;
};

#define TCP (SG_FD_KNOWN | SG_FD_SOCKET | SG_FD_TCP)
#define UNIX (SG_FD_KNOWN | SG_FD_SOCKET | SG_FD_UNIX)
#define UDP (SG_FD_KNOWN | SG_FD_SOCKET | SG_FD_UDP)
#define NOW 1000000000LL
#define WAIT5S (NOW + 5000LL * 1000000)
#define ANY -1
#define NONE SG_CLASS_NONE

/* The common case: harden, default settings, a recv on a TCP socket. */
#define F(...) { .harden = 1, .eagain = SG_EAGAIN_AUTO, \
	.nonblock = SG_UNKNOWN, .timeo_ns = SG_UNKNOWN, .pending = SG_UNKNOWN, \
	.async = SG_UNKNOWN, .fd = TCP, __VA_ARGS__ }
#define RET(v) { .kind = SG_V_RETURN, .result = (v), .cls = NONE, .counter = -1 }
#define RET_EV(v, c, a, d) { .kind = SG_V_RETURN, .result = (v), .cls = (c), \
	.action = (a), .deadline = (d), .counter = -1 }
#define ASKS(x) { .kind = SG_V_ASK, .fact = (x), .cls = NONE, .counter = -1 }
#define WAITS(d, u, t, c, cnt) { .kind = SG_V_WAIT, .dir = (d), .until = (u), \
	.result = (t), .cls = (c), .deadline = ANY, .action = ANY, .counter = (cnt) }
#define RETRIES(cnt) { .kind = SG_V_RETRY, .cls = NONE, .counter = (cnt) }

static const struct row rows[] = {
	/* EAGAIN on a blocking socket: waited out in every mode but off. */
	{ "eagain blocking auto", F(.nonblock = 0), -EAGAIN,
	  WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain blocking mode blocking", F(.nonblock = 0, .eagain = SG_EAGAIN_BLOCKING),
	  -EAGAIN, WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain blocking off", F(.nonblock = 0, .eagain = SG_EAGAIN_OFF), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain blocking observe", F(.nonblock = 0, .harden = 0), -EAGAIN,
	  RET(-EAGAIN) },
	/* The program's own SO_RCVTIMEO expired: returned and logged. */
	{ "eagain own rcvtimeo", F(.nonblock = 0, .fd = TCP | SG_FD_RCVTIMEO),
	  -EAGAIN, RET_EV(-EAGAIN, SG_CLASS_TIMEOUT, SG_ACTION_RETURNED,
			  SG_DEADLINE_SO_RCVTIMEO) },
	{ "eagain own rcvtimeo observe", F(.nonblock = 0, .harden = 0,
	  .fd = TCP | SG_FD_RCVTIMEO), -EAGAIN,
	  RET_EV(-EAGAIN, SG_CLASS_TIMEOUT, SG_ACTION_RETURNED, SG_DEADLINE_SO_RCVTIMEO) },
	{ "eagain own sndtimeo", F(.op = SG_OP_SEND, .nonblock = 0,
	  .fd = TCP | SG_FD_SNDTIMEO), -EAGAIN,
	  RET_EV(-EAGAIN, SG_CLASS_TIMEOUT, SG_ACTION_RETURNED, SG_DEADLINE_SO_SNDTIMEO) },
	{ "eagain rcvtimeo flags unknown", F(.fd = TCP | SG_FD_RCVTIMEO), -EAGAIN,
	  ASKS(SG_FACT_FLAGS) },
	/* Non-blocking sockets: by mode and by what the process watches. */
	{ "eagain nonblock auto unwatched process", F(.nonblock = 1), -EAGAIN,
	  WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain nonblock auto watched process", F(.nonblock = 1, .watched = 1),
	  -EAGAIN, RET(-EAGAIN) },
	{ "eagain auto watched answered without flags",
	  F(.watched = 1, .fd = TCP | SG_FD_NONBLOCK), -EAGAIN, RET(-EAGAIN) },
	{ "eagain auto watched, socket from elsewhere",
	  F(.watched = 1, .fd = SG_FD_SOCKET | SG_FD_TCP), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain auto watched, known blocking asks", F(.watched = 1), -EAGAIN,
	  ASKS(SG_FACT_FLAGS) },
	{ "eagain auto watched, blocking socket waits", F(.watched = 1, .nonblock = 0),
	  -EAGAIN, WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain auto watched, made non-blocking behind the table",
	  F(.watched = 1, .nonblock = 1), -EAGAIN, RET(-EAGAIN) },
	{ "eagain nonblock blocking mode", F(.nonblock = 1, .eagain = SG_EAGAIN_BLOCKING),
	  -EAGAIN, RET(-EAGAIN) },
	{ "eagain nonblock off", F(.nonblock = 1, .eagain = SG_EAGAIN_OFF), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain unwatched fd in watched process", F(.nonblock = 1, .watched = 1,
	  .eagain = SG_EAGAIN_UNWATCHED), -EAGAIN,
	  WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain watched fd unwatched mode", F(.nonblock = 1, .watched = 1,
	  .eagain = SG_EAGAIN_UNWATCHED, .fd = TCP | SG_FD_WATCHED), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain always watched fd", F(.nonblock = 1, .watched = 1,
	  .eagain = SG_EAGAIN_ALWAYS, .fd = TCP | SG_FD_WATCHED), -EAGAIN,
	  WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain dontwait always", F(.dontwait = 1, .nonblock = 1,
	  .eagain = SG_EAGAIN_ALWAYS), -EAGAIN, RET(-EAGAIN) },
	{ "eagain dontwait blocking socket", F(.dontwait = 1, .nonblock = 1), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain signal-driven socket", F(.nonblock = 1, .fd = TCP | SG_FD_ASYNC),
	  -EAGAIN, RET(-EAGAIN) },
	{ "eagain O_ASYNC learnt", F(.nonblock = 1, .async = 1), -EAGAIN, RET(-EAGAIN) },
	{ "eagain nonblock observe", F(.nonblock = 1, .harden = 0), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain flags unknown", F(), -EAGAIN, ASKS(SG_FACT_FLAGS) },
	{ "eagain quiet flags unknown", F(.quiet = 1), -EAGAIN, RET(-EAGAIN) },
	{ "eagain retry_max reached", F(.nonblock = 1, .tries = 100), -EAGAIN,
	  RET(-EAGAIN) },
	{ "eagain on send waits for POLLOUT", F(.op = SG_OP_SEND, .nonblock = 1),
	  -EAGAIN, WAITS(SG_DIR_OUT, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },
	{ "eagain accept waits", F(.op = SG_OP_ACCEPT, .nonblock = 1), -EAGAIN,
	  WAITS(SG_DIR_IN, WAIT5S, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EAGAIN) },

	/* EINTR: retried unless a signal in eintr_pass interrupted it. */
	{ "eintr retried", F(), -EINTR, RETRIES(SG_RETRY_EINTR) },
	{ "eintr pass signal", F(.signalled = 1), -EINTR, RET(-EINTR) },
	{ "eintr eintr=pass", F(.eintr = SG_EINTR_PASS), -EINTR, RET(-EINTR) },
	{ "eintr observe", F(.harden = 0), -EINTR, RET(-EINTR) },
	{ "eintr poll retried", F(.op = SG_OP_POLL, .fd = 0), -EINTR,
	  RETRIES(SG_RETRY_EINTR) },
	{ "eintr ppoll mask opened", F(.op = SG_OP_PPOLL, .fd = 0, .mask_opens = 1),
	  -EINTR, RET(-EINTR) },
	{ "eintr with rcvtimeo asks it", F(.fd = TCP | SG_FD_RCVTIMEO), -EINTR,
	  ASKS(SG_FACT_TIMEOUT) },
	{ "eintr with rcvtimeo waits the rest", F(.fd = TCP | SG_FD_RCVTIMEO,
	  .timeo_ns = 2000000000LL), -EINTR,
	  WAITS(SG_DIR_IN, NOW + 2000000000LL, -EAGAIN, SG_CLASS_TIMEOUT, SG_RETRY_EINTR) },
	{ "eintr after partial send, pass signal", F(.op = SG_OP_SEND, .want = 10,
	  .done = 4, .signalled = 1), -EINTR, RET(4) },
	/* connect(2) after EINTR: TCP awaited, AF_UNIX made again. */
	{ "eintr connect tcp waits", F(.op = SG_OP_CONNECT), -EINTR,
	  WAITS(SG_DIR_OUT, 0, -EINPROGRESS, NONE, SG_RETRY_EINTR) },
	{ "eintr connect tcp with sndtimeo asks", F(.op = SG_OP_CONNECT,
	  .fd = TCP | SG_FD_SNDTIMEO), -EINTR, ASKS(SG_FACT_TIMEOUT) },
	{ "eintr connect unix made again", F(.op = SG_OP_CONNECT, .fd = UNIX), -EINTR,
	  RETRIES(SG_RETRY_EINTR) },
	{ "eintr connect udp returned", F(.op = SG_OP_CONNECT, .fd = UDP), -EINTR,
	  RET(-EINTR) },
	{ "eintr connect bounded", F(.op = SG_OP_CONNECT, .bound_ns = NOW + 100),
	  -EINTR, WAITS(SG_DIR_OUT, NOW + 100, -ETIMEDOUT, SG_CLASS_TIMEOUT,
			SG_RETRY_EINTR) },

	/* accept(2) "Error handling". */
	{ "accept aborted retried", F(.op = SG_OP_ACCEPT), -ECONNABORTED,
	  { .kind = SG_V_RETRY, .cls = SG_CLASS_ABORTED, .action = SG_ACTION_RETRIED,
	    .deadline = SG_DEADLINE_NONE, .counter = SG_RETRY_ACCEPT } },
	{ "accept eproto retried", F(.op = SG_OP_ACCEPT4), -EPROTO,
	  { .kind = SG_V_RETRY, .cls = SG_CLASS_ABORTED, .action = SG_ACTION_RETRIED,
	    .deadline = SG_DEADLINE_NONE, .counter = SG_RETRY_ACCEPT } },
	{ "accept enetunreach retried", F(.op = SG_OP_ACCEPT), -ENETUNREACH,
	  { .kind = SG_V_RETRY, .cls = SG_CLASS_UNREACHABLE, .action = SG_ACTION_RETRIED,
	    .deadline = SG_DEADLINE_NONE, .counter = SG_RETRY_ACCEPT } },
	{ "accept retry_max", F(.op = SG_OP_ACCEPT, .tries = 100), -ECONNABORTED,
	  RET_EV(-ECONNABORTED, SG_CLASS_ABORTED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "accept=pass", F(.op = SG_OP_ACCEPT, .accept_mode = SG_ACCEPT_PASS),
	  -ECONNABORTED, RET_EV(-ECONNABORTED, SG_CLASS_ABORTED, SG_ACTION_RETURNED,
				SG_DEADLINE_NONE) },
	{ "accept observe", F(.op = SG_OP_ACCEPT, .harden = 0), -ECONNABORTED,
	  RET_EV(-ECONNABORTED, SG_CLASS_ABORTED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "eproto on recv is not classified", F(), -EPROTO, RET(-EPROTO) },
	/* EMFILE: shed only what is pending. */
	{ "emfile asks pending", F(.op = SG_OP_ACCEPT), -EMFILE, ASKS(SG_FACT_PENDING) },
	{ "emfile pending sheds", F(.op = SG_OP_ACCEPT, .pending = 1), -EMFILE,
	  { .kind = SG_V_SHED, .cls = SG_CLASS_FD_EXHAUSTED, .action = SG_ACTION_SHED,
	    .deadline = SG_DEADLINE_NONE, .counter = -1 } },
	{ "emfile shed, event loop gets EAGAIN", F(.op = SG_OP_ACCEPT, .shed = 1,
	  .nonblock = 1), -EMFILE, RET(-EAGAIN) },
	{ "emfile shed, blocking accepts again", F(.op = SG_OP_ACCEPT, .shed = 1,
	  .nonblock = 0), -EMFILE, RETRIES(-1) },
	{ "emfile shed, blocking at retry_max", F(.op = SG_OP_ACCEPT, .shed = 1,
	  .nonblock = 0, .tries = 100), -EMFILE, RET(-EMFILE) },
	{ "emfile nothing pending, event loop", F(.op = SG_OP_ACCEPT, .pending = 0,
	  .nonblock = 1), -EMFILE,
	  RET_EV(-EMFILE, SG_CLASS_FD_EXHAUSTED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "emfile nothing pending, blocking waits", F(.op = SG_OP_ACCEPT, .pending = 0,
	  .nonblock = 0), -EMFILE, WAITS(SG_DIR_IN, 0, -EAGAIN, NONE, -1) },
	{ "emfile shed failed", F(.op = SG_OP_ACCEPT, .shed = -1), -EMFILE,
	  RET_EV(-EMFILE, SG_CLASS_FD_EXHAUSTED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "emfile accept_emfile=pass", F(.op = SG_OP_ACCEPT, .emfile = SG_EMFILE_PASS),
	  -EMFILE, RET_EV(-EMFILE, SG_CLASS_FD_EXHAUSTED, SG_ACTION_RETURNED,
			  SG_DEADLINE_NONE) },
	{ "enfile too", F(.op = SG_OP_ACCEPT, .pending = 1), -ENFILE,
	  { .kind = SG_V_SHED, .cls = SG_CLASS_FD_EXHAUSTED, .action = SG_ACTION_SHED,
	    .deadline = SG_DEADLINE_NONE, .counter = -1 } },
	{ "emfile quiet", F(.op = SG_OP_ACCEPT, .quiet = 1), -EMFILE,
	  RET_EV(-EMFILE, SG_CLASS_FD_EXHAUSTED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },

	/* Short writes. */
	{ "partial nonblocking completed", F(.op = SG_OP_SEND, .want = 10, .done = 4,
	  .nonblock = 1), 4, RETRIES(SG_RETRY_PARTIAL) },
	{ "partial event loop returned", F(.op = SG_OP_SEND, .want = 10, .done = 4,
	  .nonblock = 1, .watched = 1), 4, RET(4) },
	{ "partial blocking completed", F(.op = SG_OP_WRITE, .want = 10, .done = 4,
	  .nonblock = 0), 4, RETRIES(SG_RETRY_PARTIAL) },
	{ "partial blocking with sndtimeo", F(.op = SG_OP_SEND, .want = 10, .done = 4,
	  .nonblock = 0, .fd = TCP | SG_FD_SNDTIMEO), 4, RET(4) },
	{ "partial udp", F(.op = SG_OP_SENDTO, .want = 10, .done = 4, .nonblock = 0,
	  .fd = UDP), 4, RET(4) },
	{ "partial observe", F(.op = SG_OP_SEND, .want = 10, .done = 4, .nonblock = 0,
	  .harden = 0), 4, RET(4) },
	{ "partial dontwait", F(.op = SG_OP_SEND, .want = 10, .done = 4, .dontwait = 1,
	  .nonblock = 1), 4, RET(4) },
	{ "partial flags unknown", F(.op = SG_OP_SEND, .want = 10, .done = 4), 4,
	  ASKS(SG_FACT_FLAGS) },
	{ "complete", F(.op = SG_OP_SEND, .want = 10, .done = 10), 6, RET(10) },
	{ "error after part: count now, error held",
	  F(.op = SG_OP_SEND, .want = 10, .done = 4), -ECONNRESET,
	  { .kind = SG_V_RETURN, .result = 4, .cls = SG_CLASS_RESET,
	    .action = SG_ACTION_RETURNED, .deadline = SG_DEADLINE_NONE, .counter = -1,
	    .hold = ECONNRESET } },
	{ "eagain after part waits, count if it expires",
	  F(.op = SG_OP_SEND, .want = 10, .done = 4, .nonblock = 1), -EAGAIN,
	  WAITS(SG_DIR_OUT, WAIT5S, 4, SG_CLASS_TIMEOUT, SG_RETRY_PARTIAL) },

	/* connect. */
	{ "connect in progress", F(.op = SG_OP_CONNECT), -EINPROGRESS,
	  RET(-EINPROGRESS) },
	{ "connect_timeout waits", F(.op = SG_OP_CONNECT, .bound_ns = NOW + 7),
	  -EINPROGRESS, WAITS(SG_DIR_OUT, NOW + 7, -ETIMEDOUT, SG_CLASS_TIMEOUT, -1) },
	{ "shorter own sndtimeo", F(.op = SG_OP_CONNECT, .bound_ns = NOW + 7,
	  .bound_is_own = 1), -EINPROGRESS, WAITS(SG_DIR_OUT, NOW + 7, -EINPROGRESS,
						  NONE, -1) },
	{ "connect refused", F(.op = SG_OP_CONNECT), -ECONNREFUSED,
	  RET_EV(-ECONNREFUSED, SG_CLASS_REFUSED, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "connect eagain (unix backlog) returned", F(.op = SG_OP_CONNECT, .fd = UNIX),
	  -EAGAIN, RET(-EAGAIN) },

	/* Other errors and the end of a stream. */
	{ "reset", F(), -ECONNRESET,
	  RET_EV(-ECONNRESET, SG_CLASS_RESET, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "timed out by retransmissions", F(), -ETIMEDOUT,
	  RET_EV(-ETIMEDOUT, SG_CLASS_TIMEOUT, SG_ACTION_RETURNED, SG_DEADLINE_RETRANS) },
	{ "unreachable", F(.op = SG_OP_SEND), -EHOSTUNREACH,
	  RET_EV(-EHOSTUNREACH, SG_CLASS_UNREACHABLE, SG_ACTION_RETURNED,
		 SG_DEADLINE_NONE) },
	{ "epipe, sigpipe held", F(.op = SG_OP_WRITE, .sigpipe_held = 1), -EPIPE,
	  RET_EV(-EPIPE, SG_CLASS_PIPE, SG_ACTION_SIGPIPE_SUPPRESSED, SG_DEADLINE_NONE) },
	{ "epipe, not held", F(.op = SG_OP_WRITE), -EPIPE,
	  RET_EV(-EPIPE, SG_CLASS_PIPE, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "eof after a send", F(.last_was_send = 1), 0,
	  RET_EV(0, SG_CLASS_EOF, SG_ACTION_RETURNED, SG_DEADLINE_NONE) },
	{ "eof after a receive", F(), 0, RET(0) },
	{ "eof on unix is no event", F(.fd = UNIX, .last_was_send = 1), 0, RET(0) },
	{ "ebadf untouched", F(), -EBADF, RET(-EBADF) },
	{ "poll error untouched", F(.op = SG_OP_EPOLL_WAIT, .fd = 0), -EBADF,
	  RET(-EBADF) },
};

static void decide_row(const struct row *row, struct sg_verdict *v)
{
	const struct facts *f = &row->f;
	struct sg_settings cfg;
	struct sg_call c;

	sg_settings_default(&cfg);
	cfg.eagain = (uint8_t)f->eagain;
	cfg.eintr = (uint8_t)f->eintr;
	cfg.accept = (uint8_t)f->accept_mode;
	cfg.accept_emfile = (uint8_t)f->emfile;
	memset(&c, 0, sizeof(c));
	c.op = f->op;
	c.fdstate = f->fd;
	c.nonblock = f->nonblock;
	c.async = f->async;
	c.dontwait = f->dontwait;
	c.watched = f->watched;
	c.signalled = f->signalled;
	c.harden = f->harden;
	c.quiet = f->quiet;
	c.tries = f->tries;
	c.want = f->want;
	c.done = f->done;
	c.timeo_ns = f->timeo_ns;
	c.pending = f->pending;
	c.shed = f->shed;
	c.mask_opens = f->mask_opens;
	c.last_was_send = f->last_was_send;
	c.sigpipe_held = f->sigpipe_held;
	c.bound_ns = f->bound_ns;
	c.bound_is_own = f->bound_is_own;
	c.start_ns = NOW;
	c.now_ns = NOW;
	sg_decide(&c, &cfg, row->r, v);
}

static const struct sg_event_note *note_of(const struct sg_verdict *v)
{
	return v->kind == SG_V_WAIT ? &v->timeout_event : &v->event;
}

static void check_row(const struct row *row)
{
	const struct expect *e = &row->e;
	struct sg_verdict v;

	decide_row(row, &v);
	cr_expect_eq(v.kind, e->kind, "%s: kind %d, want %d", row->name, v.kind,
		     e->kind);
	if (v.kind != e->kind)
		return;
	if (e->kind == SG_V_RETURN)
		cr_expect_eq(v.result, e->result, "%s: result %ld, want %ld",
			     row->name, v.result, e->result);
	if (e->kind == SG_V_WAIT) {
		cr_expect_eq(v.on_timeout, e->result, "%s: on timeout %ld, want %ld",
			     row->name, v.on_timeout, e->result);
		cr_expect_eq(v.dir, e->dir, "%s: direction", row->name);
		if (e->until != ANY)
			cr_expect_eq(v.until_ns, e->until, "%s: until %lld, want %lld",
				     row->name, (long long)v.until_ns,
				     (long long)e->until);
	}
	if (e->kind == SG_V_ASK)
		cr_expect_eq(v.fact, e->fact, "%s: asks %d, want %d", row->name,
			     v.fact, e->fact);
	const struct sg_event_note *n = note_of(&v);
	cr_expect_eq(n->cls, e->cls, "%s: event class %d, want %d", row->name,
		     n->cls, e->cls);
	if (e->cls != NONE && e->action != ANY)
		cr_expect_eq(n->action, e->action, "%s: action %d, want %d",
			     row->name, n->action, e->action);
	if (e->cls != NONE && e->deadline != ANY)
		cr_expect_eq(n->deadline, e->deadline, "%s: deadline %d, want %d",
			     row->name, n->deadline, e->deadline);
	if (e->kind == SG_V_RETRY || e->kind == SG_V_WAIT)
		cr_expect_eq(v.counter, e->counter, "%s: counter %d, want %d",
			     row->name, v.counter, e->counter);
	cr_expect_eq(v.hold, e->hold, "%s: hold %d, want %d", row->name, v.hold,
		     e->hold);
}

Test(decide, every_documented_rule_gets_its_verdict)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/*
 * Every fact a decision asks for, once given, leads somewhere else: the
 * driver can never loop on asking.
 */
Test(decide, every_question_is_asked_once)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct row row = rows[i];
		struct sg_verdict v;

		for (int round = 0; round < 4; round++) {
			decide_row(&row, &v);
			if (v.kind != SG_V_ASK)
				break;
			cr_assert_lt(round, 3, "%s: asks forever", row.name);
			if (v.fact == SG_FACT_FLAGS) {
				cr_assert_eq(row.f.nonblock, SG_UNKNOWN, "%s", row.name);
				row.f.nonblock = 1;
				row.f.async = 0;
			} else if (v.fact == SG_FACT_TIMEOUT) {
				cr_assert_eq(row.f.timeo_ns, SG_UNKNOWN, "%s", row.name);
				row.f.timeo_ns = 0;
			} else {
				cr_assert_eq(row.f.pending, SG_UNKNOWN, "%s", row.name);
				row.f.pending = 0;
			}
		}
	}
}
