/*
 * The log writer's destinations: syslog (/dev/log), unix:PATH and stderr.
 *
 * Everything here may run inside a signal handler, so it follows
 * signal-safety(7): no stdio, no syslog(3), no malloc, no lock that a
 * handler could find held.  System calls are made with syscall(2), because
 * the libc functions (sendmsg, close, fcntl, ...) are the shim's own
 * wrappers and would come back into it.
 *
 * One unconnected datagram socket serves every destination: each line is a
 * sendmsg(2) with the destination's address, so several `log` settings can be
 * in use at once, and a syslog daemon that restarts (a new socket at the same
 * path) is found again without reconnecting.  The socket is the shim's, not
 * the program's: it is close-on-exec, kept at a high number, marked
 * SG_FD_SHIM, and checked with fstat(2) before every line against the device
 * and inode it had when it was opened.  A program that closed the number
 * (even through a path the shim cannot see, such as glibc's internal close in
 * fclose(3)) and reused it therefore never receives a byte of a log line; the
 * shim opens a new socket instead.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "event.h"
#include "fdtable.h"
#include "fmt.h"
#include "ratelimit.h"
#include "shim.h"

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
/* Seconds east of UTC, read once by sg_log_init(); 0 (UTC) before. */
static long utc_offset;

unsigned long long sg_log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fd_is_ours(int fd, uint64_t dev, uint64_t ino)
{
	struct stat st;

	return syscall(SYS_fstat, fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_dev == dev && st.st_ino == ino;
}

/* A new close-on-exec, non-blocking datagram socket, moved high if it can be. */
static int open_log_socket(uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	int fd = (int)syscall(SYS_socket, AF_UNIX,
			      SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int floor = sg_fd_high_floor();

	if (fd < 0)
		return -1;
	if (fd < floor) {
		int high = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor);

		if (high >= 0) {
			syscall(SYS_close, fd);
			fd = high;
		}
	}
	if (syscall(SYS_fstat, fd, &st) < 0) {
		syscall(SYS_close, fd);
		return -1;
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
	__atomic_store_n(&logsock.fd, fd, __ATOMIC_RELAXED);
	return fd;
}

/* A private socket for one line, closed right after it. */
static int temp_fd(int *temp)
{
	*temp = 1;
	return (int)syscall(SYS_socket, AF_UNIX,
			    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

/*
 * The log socket, checked to be still ours, or -1.  *temp is set when the
 * socket returned is a private one the caller must close (another context
 * was reopening the shared one).
 */
static int log_fd(int *temp)
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
			if (__atomic_compare_exchange_n(&logsock.seq, &s, s + 1, 0,
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
 * One datagram to path; 0, or -1 when it could not be sent now.  shared
 * selects the long-lived log socket; otherwise a private one is used.
 */
static int send_datagram(const char *path, struct iovec *iov, int iovcnt,
			 int shared)
{
	struct sockaddr_un sun;
	struct msghdr msg = { 0 };
	int temp, fd = shared ? log_fd(&temp) : temp_fd(&temp);
	long rc;

	if (fd < 0)
		return -1;
	msg.msg_name = &sun;
	msg.msg_namelen = dest_addr(path, &sun);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)iovcnt;
	rc = syscall(SYS_sendmsg, fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (temp)
		syscall(SYS_close, fd);
	return rc < 0 ? -1 : 0;
}

/*
 * A line to stderr with one writev(2).  stderr is the program's and may be a
 * full pipe; it cannot be made non-blocking without changing it for the
 * program too, so the line is written only if poll(2) says it would not
 * block now, and dropped otherwise.
 */
static int write_stderr(struct iovec *iov, int iovcnt)
{
	struct pollfd pfd = { 2, POLLOUT, 0 };
	struct timespec zero = { 0, 0 };

	if (syscall(SYS_ppoll, &pfd, 1, &zero, NULL, 0) != 1 ||
	    !(pfd.revents & POLLOUT))
		return -1;
	return syscall(SYS_writev, 2, iov, iovcnt) < 0 ? -1 : 0;
}

/* syslog(3) treats facility 0 (kern) as "the default": so does the shim. */
static int facility(void)
{
	return sg_cfg.log_facility ? sg_cfg.log_facility : FACILITY_DAEMON;
}

/* "<PRI>Mmm dd hh:mm:ss sockguard[PID]: " (RFC 3164 section 4.1). */
static void syslog_header(struct sg_fmt *f, int severity)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sg_fmt_char(f, '<');
	sg_fmt_u64(f, (uint64_t)(facility() * 8 + severity));
	sg_fmt_char(f, '>');
	sg_fmt_rfc3164_time(f, (int64_t)ts.tv_sec + utc_offset);
	sg_fmt_str(f, " sockguard[");
	sg_fmt_u64(f, (uint64_t)syscall(SYS_getpid));
	sg_fmt_str(f, "]: ");
}

static void stderr_header(struct sg_fmt *f)
{
	sg_fmt_str(f, "sockguard[");
	sg_fmt_u64(f, (uint64_t)syscall(SYS_getpid));
	sg_fmt_str(f, "]: ");
}

/* Sends header, body and tail to the destination; 0, or -1 if dropped. */
static int deliver(const struct sg_sock_settings *s, int severity,
		   const char *body, size_t len, struct sg_fmt *tail)
{
	char head[64];
	struct sg_fmt h;
	struct iovec iov[3];

	sg_fmt_init(&h, head, sizeof(head));
	if (s->log_kind == SG_LOG_STDERR) {
		stderr_header(&h);
		sg_fmt_char(tail, '\n');
	} else {
		syslog_header(&h, severity);
	}
	iov[0] = (struct iovec){ head, h.len };
	iov[1] = (struct iovec){ (void *)body, len };
	iov[2] = (struct iovec){ tail->p, tail->len };
	if (s->log_kind == SG_LOG_STDERR)
		return write_stderr(iov, 3);
	return send_datagram(s->log_kind == SG_LOG_UNIX ? s->log_path :
			     SYSLOG_PATH, iov, 3, 1);
}

void sg_log_line(const struct sg_sock_settings *s, int cls, const char *body,
		 size_t len, int flags)
{
	int saved = errno;
	char tailbuf[40];
	struct sg_fmt tail;
	uint64_t dropped = 0;

	if (s->log_kind == SG_LOG_OFF)
		goto out;
	sg_fmt_init(&tail, tailbuf, sizeof(tailbuf));
	if (flags & SG_LINE_DROPPED)
		dropped = __atomic_exchange_n(&pending_drops, 0, __ATOMIC_ACQ_REL);
	if (dropped) {
		sg_fmt_str(&tail, " dropped=");
		sg_fmt_u64(&tail, dropped);
	}
	if (deliver(s, sg_class_severity(cls), body, len, &tail) == 0) {
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
	char head[64];
	struct sg_fmt h;
	char msg[SG_LOG_LINE_MAX - 64];
	struct sg_fmt m;
	struct iovec iov[3];

	sg_fmt_init(&m, msg, sizeof(msg));
	sg_fmt_escaped(&m, text, strlen(text), SG_ESC_TEXT);
	sg_fmt_init(&h, head, sizeof(head));
	syslog_header(&h, SEVERITY_ERR);
	iov[0] = (struct iovec){ head, h.len };
	iov[1] = (struct iovec){ msg, m.len };
	/* Problems come once, mostly from the constructor, and may come from a
	 * process where the shim then stays inert (mode=off): a private socket
	 * leaves nothing of the shim's open behind. */
	send_datagram(SYSLOG_PATH, iov, 2, 0);
	iov[0] = (struct iovec){ "sockguard: ", 11 };
	iov[2] = (struct iovec){ "\n", 1 };
	write_stderr(iov, 3);
	errno = saved;
}

void sg_log_init(void)
{
	struct timespec ts;
	struct tm tm;
	time_t now;
	int temp;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec;
	if (localtime_r(&now, &tm))
		utc_offset = tm.tm_gmtoff;
	sockguard_counters.mode = sg_cfg.mode;
	__atomic_store_n(&sockguard_counters.pid, (uint64_t)syscall(SYS_getpid),
			 __ATOMIC_RELAXED);
	if (sg_cfg.sock.log_kind == SG_LOG_SYSLOG ||
	    sg_cfg.sock.log_kind == SG_LOG_UNIX)
		log_fd(&temp);
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
	sg_rl_reset();
	sg_counters_reset((uint64_t)syscall(SYS_getpid));
	sg_event_after_fork();
}
