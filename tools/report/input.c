/*
 * Reading log files for `sockguard report`: plain files, stdin ("-"), and
 * gzip'd files through a pipe from `gzip -dc` (fork and exec: the tool
 * links no compression library).  Lines are cut out of a large buffer with
 * memchr and handed over in place, so nothing is copied per line.  A line
 * longer than the buffer is cut there and counted, never a crash.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)

struct reader {
	struct sg_report *r;
	const char *name;
	uint64_t lineno;
	int skipping;		/* inside the tail of an over-long line */
};

/* An over-long line: its start is parsed, and it never counts as an event. */
static void feed_long(struct reader *rd, const char *p, size_t n)
{
	struct sg_report_event ev;
	struct sg_report *r = rd->r;

	rd->lineno++;
	sg_report_bump(&r->counts.lines, 1);
	sg_report_bump(&r->counts.long_lines, 1);
	if (sg_report_parse_line(p, n, &ev) == SG_REPORT_SKIP) {
		sg_report_bump(&r->counts.skipped, 1);
		return;
	}
	sg_report_bump(&r->counts.malformed, 1);
	if (r->quoted < r->max_quoted && r->diag) {
		r->quoted++;
		fprintf(r->diag, "sockguard report: %s:%llu: malformed line "
			"(longer than %d bytes)\n", rd->name,
			(unsigned long long)rd->lineno, READ_BUF);
	}
}

/* Feeds every complete line in buf; returns the bytes consumed. */
static size_t feed_lines(struct reader *rd, const char *buf, size_t have)
{
	const char *p = buf, *end = buf + have, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (rd->skipping)
			rd->skipping = 0;
		else
			sg_report_feed_line(rd->r, p, (size_t)(nl - p), rd->name,
					    ++rd->lineno);
		p = nl + 1;
	}
	return (size_t)(p - buf);
}

/*
 * Reads until the first line is complete (or the buffer is full, or the
 * input ends), so that its format can be told; returns the bytes read, or
 * -1 on a read error.
 */
static ssize_t read_head(int fd, char *buf)
{
	size_t have = 0;

	while (have < READ_BUF && !memchr(buf, '\n', have)) {
		ssize_t got = read(fd, buf + have, READ_BUF - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		have += (size_t)got;
	}
	return (ssize_t)have;
}

/*
 * Reads to end of file, feeding each line; returns 0, or -1 on a read
 * error.  `journalctl -o export` output, binary fields and all, goes to
 * its own reader; every other format is told apart line by line.
 */
static int read_all(struct reader *rd, int fd, char *buf)
{
	ssize_t head = read_head(fd, buf);
	size_t have = head > 0 ? (size_t)head : 0;

	if (head < 0)
		return -1;
	if (sg_report_is_export(buf, have))
		return sg_report_read_export(rd->r, fd, rd->name, buf, have, READ_BUF);
	for (;;) {
		size_t used = feed_lines(rd, buf, have);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (have == READ_BUF) {
			if (!rd->skipping)
				feed_long(rd, buf, have);
			rd->skipping = 1;
			have = 0;
		}
		ssize_t got = read(fd, buf + have, READ_BUF - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		have += (size_t)got;
	}
	if (have > 0 && !rd->skipping)
		sg_report_feed_line(rd->r, buf, have, rd->name, ++rd->lineno);
	return 0;
}

int sg_report_feed_fd(struct sg_report *r, int fd, const char *name)
{
	struct reader rd = { .r = r, .name = name };
	char *buf = malloc(READ_BUF);
	int rc;

	if (!buf) {
		fprintf(stderr, "sockguard report: %s: out of memory\n", name);
		return -1;
	}
	rc = read_all(&rd, fd, buf);
	if (rc < 0)
		fprintf(stderr, "sockguard report: %s: %s\n", name, strerror(errno));
	free(buf);
	return rc;
}

/* `gzip -dc -- path` on a pipe; returns the read end and the child's pid. */
static int open_gunzip(const char *path, pid_t *pid)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	*pid = fork();
	if (*pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (*pid == 0) {
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(127);
		execlp("gzip", "gzip", "-dc", "--", path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	return pfd[0];
}

/* gzip's exit status; 0 when it exited 0, else -1 with a message. */
static int wait_gzip(pid_t pid, const char *path)
{
	int status = 0;
	pid_t got;

	while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (got < 0) {
		fprintf(stderr, "sockguard report: %s: cannot wait for gzip -dc: %s\n",
			path, strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* gzip has said why on stderr already; 127 means no gzip at all. */
	fprintf(stderr, "sockguard report: %s: gzip -dc failed%s\n", path,
		WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
		" (is gzip installed?)" : "");
	return -1;
}

/*
 * A caller may have left SIGCHLD ignored, a disposition that survives
 * exec: the kernel then reaps gzip by itself and waitpid(2) fails with
 * ECHILD (wait(2), NOTES).  The default is taken back while gzip runs and
 * the caller's disposition restored after.
 */
static int feed_gzip(struct sg_report *r, const char *path)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	pid_t pid;
	int rc = -1;

	sigemptyset(&dfl.sa_mask);
	int restore = sigaction(SIGCHLD, &dfl, &old) == 0;
	int fd = open_gunzip(path, &pid);
	if (fd < 0) {
		fprintf(stderr, "sockguard report: %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = sg_report_feed_fd(r, fd, path);
	close(fd);
	if (wait_gzip(pid, path) < 0)
		rc = -1;
out:
	if (restore)
		sigaction(SIGCHLD, &old, NULL);
	return rc;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int sg_report_feed_path(struct sg_report *r, const char *path)
{
	int fd, rc;

	if (strcmp(path, "-") == 0)
		rc = sg_report_feed_fd(r, STDIN_FILENO, "<stdin>");
	else if (has_suffix(path, ".gz"))
		rc = feed_gzip(r, path);
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "sockguard report: %s: %s\n", path, strerror(errno));
		rc = -1;
	} else {
		rc = sg_report_feed_fd(r, fd, path);
		close(fd);
	}
	if (rc < 0)
		r->io_errors++;
	return rc;
}
