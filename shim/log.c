/*
 * The log writer's destinations: the journal, syslog (/dev/log), unix:PATH
 * (or unix:@NAME) and stderr.
 *
 * Everything here may run inside a signal handler, so it follows
 * signal-safety(7): no stdio, no syslog(3), no malloc, no lock that a
 * handler could find held.  System calls are made raw (sg_sys*,
 * policy/rawsys.h), because the libc functions (sendmsg, close, fcntl, ...)
 * are the shim's own wrappers and would come back into it, and because
 * libc's syscall(2) would have to be bound on first use (dlsym is not
 * async-signal-safe) and sets errno.  Before any of them the writer asks
 * sg_own_syscalls_allowed(): after the program installed a seccomp filter,
 * and in a vfork child, events are counted but nothing is opened or sent.
 *
 * Nothing is opened before the first line to write: a process that meets no
 * fault never has a descriptor of the shim's for logging, and start-up reads
 * nothing (not even the time zone: every time stamp is UTC).
 *
 * One unconnected datagram socket serves every destination: each line is a
 * sendmsg(2) with the destination's address, so several `log` settings can be
 * in use at once, and a daemon that restarts (a new socket at the same path)
 * is found again without reconnecting.  The socket is the shim's, not the
 * program's: it is close-on-exec, kept at a high number, marked SG_FD_SHIM,
 * and checked with fstat(2) before every line against the device and inode
 * it had when it was opened.  A program that closed the number (even through
 * a path the shim cannot see, such as glibc's internal close in fclose(3))
 * and reused it therefore never receives a byte of a log line; the shim
 * opens a new socket instead.
 */
#include "log.h"
#include "../policy/rawsys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "../policy/fmt.h"
#include "ratelimit.h"
#include "shim.h"
#include "state.h"

#define SYSLOG_PATH "/dev/log"
#define FACILITY_DAEMON 3
#define SEVERITY_ERR 3

/*
 * The log socket.  seq is a sequence lock: odd while a context (re)opens the
 * socket, so that a reader never uses a half-written fd/dev/ino triple.  A
 * context that finds it odd does not wait (it may have interrupted the
 * writer): it sends through a socket of its own, closed right after.
 */
static struct {
	uint32_t seq;
	int fd;			/* -1: not open */
	int lost_fd;		/* a number the program closed (sg_log_fd_lost) */
	uint64_t dev, ino;
} logsock = { 0, -1, -1, 0, 0 };

/* Lines dropped since the last line that got through. */
static uint64_t pending_drops;

/*
 * log=auto's choice, made at the first line: the journal when journald's
 * socket took it, syslog when that socket is missing or refused; undecided
 * while neither happened (a journal that was only full decides nothing).
 */
enum { AUTO_UNDECIDED, AUTO_JOURNAL, AUTO_SYSLOG };
static int auto_kind;

/* Wall-clock seconds at start-up (or fork), for the summary's started=. */
static int64_t started_s;

unsigned long long sg_log_now_ms(void)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long sg_log_started(void)
{
	return __atomic_load_n(&started_s, __ATOMIC_RELAXED);
}

static int fd_is_ours(int fd, uint64_t dev, uint64_t ino)
{
	struct stat st;

	return sg_sys2(SYS_fstat, fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_dev == dev && st.st_ino == ino;
}

/*
 * A new close-on-exec, non-blocking datagram socket, moved high if it can
 * be; -errno if none.
 */
static int open_log_socket(uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	int fd = (int)sg_sys3(SYS_socket, AF_UNIX,
			      SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int floor = sg_fd_high_floor();
	long rc;

	if (fd < 0)
		return fd;
	if (fd < floor) {
		int high = (int)sg_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor);

		if (high >= 0) {
			sg_sys1(SYS_close, fd);
			fd = high;
		}
	}
	rc = sg_sys2(SYS_fstat, fd, &st);
	if (rc < 0) {
		sg_sys1(SYS_close, fd);
		return (int)rc;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	/* Only the SHIM bit: the core learns the rest if it ever needs to. */
	sg_fd_store(fd, SG_FD_SHIM);
	return fd;
}

/* Called with seq held odd: replaces a socket that is no longer ours. */
static int reopen(int old)
{
	uint64_t dev = 0, ino = 0;
	int fd;

	/* A number the shim did not see closed now belongs to the program. */
	if (old >= 0 && __atomic_load_n(&logsock.lost_fd, __ATOMIC_RELAXED) != old)
		sg_fd_clear_bits(old, SG_FD_SHIM);
	fd = open_log_socket(&dev, &ino);
	__atomic_store_n(&logsock.dev, dev, __ATOMIC_RELAXED);
	__atomic_store_n(&logsock.ino, ino, __ATOMIC_RELAXED);
	__atomic_store_n(&logsock.lost_fd, -1, __ATOMIC_RELAXED);
	__atomic_store_n(&logsock.fd, fd < 0 ? -1 : fd, __ATOMIC_RELAXED);
	return fd;
}

/* A private socket for one line, closed right after it. */
static int temp_fd(int *temp)
{
	*temp = 1;
	return (int)sg_sys3(SYS_socket, AF_UNIX,
			    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

/*
 * The log socket, checked to be still ours, or -errno.  *temp is set when the
 * socket returned is a private one the caller must close (another context
 * was reopening the shared one, or keep is 0 and the shared one is not
 * open: then none is opened to be kept).
 */
static int log_fd(int *temp, int keep)
{
	uint32_t s = __atomic_load_n(&logsock.seq, __ATOMIC_ACQUIRE);
	uint64_t dev, ino;
	int fd;

	*temp = 0;
	if (!(s & 1)) {
		fd = __atomic_load_n(&logsock.fd, __ATOMIC_RELAXED);
		dev = __atomic_load_n(&logsock.dev, __ATOMIC_RELAXED);
		ino = __atomic_load_n(&logsock.ino, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&logsock.seq, __ATOMIC_RELAXED) == s) {
			if (fd >= 0 && fd_is_ours(fd, dev, ino) &&
			    __atomic_load_n(&logsock.lost_fd, __ATOMIC_RELAXED) != fd)
				return fd;
			if (keep &&
			    __atomic_compare_exchange_n(&logsock.seq, &s, s + 1, 0,
							__ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED)) {
				fd = reopen(fd);
				__atomic_store_n(&logsock.seq, s + 2, __ATOMIC_RELEASE);
				return fd;
			}
		}
	}
	return temp_fd(temp);
}

void sg_log_fd_lost(int fd)
{
	if (fd >= 0 && __atomic_load_n(&logsock.fd, __ATOMIC_RELAXED) == fd)
		__atomic_store_n(&logsock.lost_fd, fd, __ATOMIC_RELAXED);
}

/* The address of a destination path; "@name" names an abstract socket. */
static socklen_t dest_addr(const char *path, struct sockaddr_un *sun)
{
	size_t n = strnlen(path, sizeof(sun->sun_path) - 1);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

/*
 * SG_LINE_NO_KEEP_FD: no long-lived socket is opened for the line (a
 * process out of descriptors, sending through the one it just freed, which
 * the core takes back right after); the shared one is used if it is open.
 */
int sg_log_send(const char *path, struct iovec *iov, int iovcnt, int flags)
{
	struct sockaddr_un sun;
	struct msghdr msg = { 0 };
	int temp, fd = log_fd(&temp, !(flags & SG_LINE_NO_KEEP_FD));
	long rc;

	if (fd < 0)
		return fd;
	msg.msg_name = &sun;
	msg.msg_namelen = dest_addr(path, &sun);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)iovcnt;
	rc = sg_sys3(SYS_sendmsg, fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (temp)
		sg_sys1(SYS_close, fd);
	return rc < 0 ? (int)rc : 0;
}

/*
 * Whether len more bytes can go to stderr without raising SIGXFSZ: a write
 * that would take a regular file past RLIMIT_FSIZE raises it, and its
 * default action kills the process (setrlimit(2)).  OpenSSH's sandboxed
 * child lowers the limit to 0 with stderr still on sshd's log file, and a
 * batch job may run under `ulimit -f`.  Only a process with a finite limit
 * pays more than the one prlimit(2).
 */
static int stderr_has_room(size_t len)
{
	struct { uint64_t cur, max; } lim;
	struct stat st;
	long pos;

	if (sg_sys4(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &lim) != 0)
		return 0;
	if (lim.cur == ~(uint64_t)0)
		return 1;
	if (sg_sys2(SYS_fstat, 2, &st) != 0)
		return 0;
	if (!S_ISREG(st.st_mode))
		return 1;
	pos = sg_sys3(SYS_lseek, 2, 0L, SEEK_CUR);
	if (pos < (long)st.st_size)
		pos = (long)st.st_size;
	return (uint64_t)pos + len <= lim.cur;
}

/*
 * A line to stderr with one writev(2).  stderr is the program's and may be a
 * full pipe; it cannot be made non-blocking without changing it for the
 * program too, so the line is written only if poll(2) says it would not
 * block now, and dropped otherwise; likewise when the file it is on may not
 * grow by the line.
 */
static int write_stderr(struct iovec *iov, int iovcnt)
{
	struct pollfd pfd = { 2, POLLOUT, 0 };
	struct timespec zero = { 0, 0 };
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (sg_sys5(SYS_ppoll, &pfd, 1, &zero, NULL, 0) != 1 ||
	    !(pfd.revents & POLLOUT) || !stderr_has_room(len))
		return -1;
	return sg_sys3(SYS_writev, 2, iov, iovcnt) < 0 ? -1 : 0;
}

/* syslog(3) treats facility 0 (kern) as "the default": so does the shim. */
int sg_log_facility(void)
{
	return sg_cfg.log_facility ? sg_cfg.log_facility : FACILITY_DAEMON;
}

static void header_pri(struct sg_fmt *f, int severity)
{
	sg_fmt_char(f, '<');
	sg_fmt_u64(f, (uint64_t)(sg_log_facility() * 8 + severity));
	sg_fmt_char(f, '>');
}

/* "<PRI>Mmm dd hh:mm:ss sockguard[PID]: " (RFC 3164 section 4.1), in UTC. */
static void rfc3164_header(struct sg_fmt *f, int severity)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_REALTIME, &ts);
	header_pri(f, severity);
	sg_fmt_rfc3164_time(f, (int64_t)ts.tv_sec);
	sg_fmt_str(f, " sockguard[");
	sg_fmt_u64(f, (uint64_t)sg_sys0(SYS_getpid));
	sg_fmt_str(f, "]: ");
}

/* RFC 5424 HOSTNAME: the node name, "-" (NILVALUE) when it is unknown. */
static __attribute__((noinline)) void field_hostname(struct sg_fmt *f)
{
	struct utsname u;
	size_t n, mark;

	if (sg_sys1(SYS_uname, &u) < 0 || u.nodename[0] == '\0') {
		sg_fmt_char(f, '-');
		return;
	}
	n = strnlen(u.nodename, sizeof(u.nodename));
	mark = sg_fmt_mark(f);
	/* PRINTUSASCII only (RFC 5424 section 6): anything else escaped. */
	sg_fmt_escaped(f, u.nodename, n, SG_ESC_FIELD);
	/* A name that would leave no room for the rest of the header (APP-NAME,
	 * PROCID, MSGID: at most 40 bytes) is replaced by NILVALUE. */
	if (f->full || f->cap - f->len < 40) {
		f->full = 1;
		sg_fmt_commit(f, mark);
		sg_fmt_char(f, '-');
	}
}

/*
 * "<PRI>1 TIMESTAMP HOST sockguard PID CLASS - " (RFC 5424 section 6), the
 * time stamp in UTC with microseconds, MSGID the class.
 */
static void rfc5424_header(struct sg_fmt *f, int severity, int cls)
{
	struct timespec ts = { 0, 0 };
	const char *msgid = sg_class_name(cls);

	clock_gettime(CLOCK_REALTIME, &ts);
	header_pri(f, severity);
	sg_fmt_str(f, "1 ");
	sg_fmt_rfc5424_time(f, (int64_t)ts.tv_sec,
			    (unsigned)(ts.tv_nsec / 1000));
	sg_fmt_char(f, ' ');
	field_hostname(f);
	sg_fmt_str(f, " sockguard ");
	sg_fmt_u64(f, (uint64_t)sg_sys0(SYS_getpid));
	sg_fmt_char(f, ' ');
	sg_fmt_str(f, msgid ? msgid : "-");
	sg_fmt_str(f, " - ");
}

static void stderr_header(struct sg_fmt *f)
{
	sg_fmt_str(f, "sockguard[");
	sg_fmt_u64(f, (uint64_t)sg_sys0(SYS_getpid));
	sg_fmt_str(f, "]: ");
}

/* A line with a syslog header to path (/dev/log or unix:PATH). */
static __attribute__((noinline)) int
send_syslog(const char *path, const struct sg_log_msg *m)
{
	char head[192];
	struct sg_fmt h;
	struct iovec iov[3];

	sg_fmt_init(&h, head, sizeof(head));
	if (sg_cfg.log_format == SG_LOG_RFC5424)
		rfc5424_header(&h, m->severity, m->cls);
	else
		rfc3164_header(&h, m->severity);
	iov[0] = (struct iovec){ head, h.len };
	iov[1] = (struct iovec){ (void *)m->body, m->len };
	iov[2] = (struct iovec){ (void *)m->tail, m->tail_len };
	return sg_log_send(path, iov, 3, m->flags);
}

static int send_stderr(const struct sg_log_msg *m)
{
	char head[40];
	struct sg_fmt h;
	struct iovec iov[4];

	sg_fmt_init(&h, head, sizeof(head));
	stderr_header(&h);
	iov[0] = (struct iovec){ head, h.len };
	iov[1] = (struct iovec){ (void *)m->body, m->len };
	iov[2] = (struct iovec){ (void *)m->tail, m->tail_len };
	iov[3] = (struct iovec){ "\n", 1 };
	return write_stderr(iov, 4);
}

/* Whether a journal send failure means there is no journald to take lines. */
static int journal_absent(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -ENOTDIR ||
	       err == -EACCES || err == -EPERM;
}

/*
 * log=auto: the journal when its socket takes the line, else /dev/log.  The
 * first line decides for the process; once the journal was chosen, a line
 * it refuses still goes to /dev/log.
 */
static int send_auto(const struct sg_log_msg *m)
{
	int kind = __atomic_load_n(&auto_kind, __ATOMIC_RELAXED);
	int rc;

	if (kind == AUTO_SYSLOG)
		return send_syslog(SYSLOG_PATH, m);
	rc = sg_journal_send(m);
	if (kind == AUTO_UNDECIDED && (rc == 0 || journal_absent(rc)))
		__atomic_store_n(&auto_kind, rc == 0 ? AUTO_JOURNAL : AUTO_SYSLOG,
				 __ATOMIC_RELAXED);
	return rc == 0 ? 0 : send_syslog(SYSLOG_PATH, m);
}

/* Sends the line to the destination s names; 0, or <0 if dropped. */
static int deliver(const struct sg_sock_settings *s, const struct sg_log_msg *m)
{
	switch (s->log_kind) {
	case SG_LOG_STDERR:
		return send_stderr(m);
	case SG_LOG_UNIX:
		return send_syslog(s->log_path, m);
	case SG_LOG_JOURNAL:
		return sg_journal_send(m);
	case SG_LOG_AUTO:
		return send_auto(m);
	default:
		return send_syslog(SYSLOG_PATH, m);
	}
}

void sg_log_line(const struct sg_sock_settings *s, int cls, const char *body,
		 size_t len, int flags)
{
	int saved = errno;
	char tailbuf[40];
	struct sg_fmt tail;
	uint64_t dropped = 0;
	struct sg_log_msg m = { cls, sg_class_severity(cls), flags, body, len,
				tailbuf, 0 };

	if (s->log_kind == SG_LOG_OFF)
		goto out;
	if (!sg_own_syscalls_allowed()) {
		sg_count(&sockguard_counters.lines_dropped, 1);
		goto out;
	}
	sg_fmt_init(&tail, tailbuf, sizeof(tailbuf));
	if (flags & SG_LINE_DROPPED)
		dropped = __atomic_exchange_n(&pending_drops, 0, __ATOMIC_ACQ_REL);
	if (dropped) {
		sg_fmt_str(&tail, " dropped=");
		sg_fmt_u64(&tail, dropped);
	}
	m.tail_len = tail.len;
	if (deliver(s, &m) == 0) {
		sg_count(&sockguard_counters.lines_written, 1);
	} else {
		sg_count(&sockguard_counters.lines_dropped, 1);
		sg_count(&pending_drops, dropped + 1);
	}
out:
	errno = saved;
}

void sg_log_problem(const char *text)
{
	int saved = errno;
	char msg[512];
	struct sg_fmt t;
	struct sg_log_msg m = { SG_CLASS_NONE, SEVERITY_ERR, 0, msg, 0, "", 0 };
	struct iovec iov[3];

	if (!sg_own_syscalls_allowed())
		goto out;
	sg_fmt_init(&t, msg, sizeof(msg));
	sg_fmt_escaped(&t, text, strlen(text), SG_ESC_TEXT);
	m.len = t.len;
	/* Problems come once, mostly from the constructor, and may come from a
	 * process where the shim then stays inert (mode=off): a private socket
	 * leaves nothing of the shim's open behind. */
	m.flags = SG_LINE_NO_KEEP_FD;
	send_syslog(SYSLOG_PATH, &m);
	iov[0] = (struct iovec){ "sockguard: ", 11 };
	iov[1] = (struct iovec){ msg, t.len };
	iov[2] = (struct iovec){ "\n", 1 };
	write_stderr(iov, 3);
out:
	errno = saved;
}

static void note_start(void)
{
	struct timespec ts = { 0, 0 };

	clock_gettime(CLOCK_REALTIME, &ts);
	__atomic_store_n(&started_s, (int64_t)ts.tv_sec, __ATOMIC_RELAXED);
}

void sg_log_init(void)
{
	note_start();
	sg_event_init();
}

void sg_log_after_fork(void)
{
	uint32_t s = __atomic_load_n(&logsock.seq, __ATOMIC_RELAXED);

	/* The child has one thread: a reopen another thread of the parent had
	 * under way will never finish here, so it is abandoned (that socket,
	 * if it exists, is leaked) and the next line opens a new one. */
	if (s & 1) {
		__atomic_store_n(&logsock.fd, -1, __ATOMIC_RELAXED);
		__atomic_store_n(&logsock.seq, s + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&pending_drops, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&auto_kind, AUTO_UNDECIDED, __ATOMIC_RELAXED);
	note_start();
	sg_rl_reset();
	sg_counters_reset((uint64_t)sg_sys0(SYS_getpid));
	sg_event_after_fork();
}
