/*
 * Paths, the network namespace and the iptables faults.  The namespace is
 * entered by the test process itself, so every command a test runs after
 * that (iptables, sysctl, the programs under test) sees the same private
 * loopback and cannot disturb the host or another test.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_int.h"

static char fx_reason[512];

int fx__fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fx_reason, sizeof fx_reason, fmt, ap);
	va_end(ap);
	return -1;
}

const char *fx_skip_reason(void)
{
	return fx_reason[0] ? fx_reason : "unknown reason";
}

long fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

char *fx_num(long n)
{
	static char buf[4][24];
	static unsigned next;
	char *b = buf[next++ % 4];

	snprintf(b, sizeof buf[0], "%ld", n);
	return b;
}

int fx_line_count(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/*
 * Every test binary and test program lives in $BUILD/tests/<kind>/, so the
 * build directory is three levels above /proc/self/exe.  That holds however
 * the binary was started (make, run-tests.sh, by hand from another cwd);
 * $BUILD is only a fallback.
 */
const char *fx_build_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n > 0) {
		dir[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(dir, '/');
			if (slash && slash != dir)
				*slash = '\0';
		}
		if (strstr(dir, "/") && access(dir, F_OK) == 0)
			return dir;
	}
	if (!realpath(getenv("BUILD") ? getenv("BUILD") : "build", dir))
		snprintf(dir, sizeof dir, "build");
	return dir;
}

int fx_musl(void)
{
	const char *libc = getenv("SG_TEST_LIBC");

	return libc && strcmp(libc, "musl") == 0;
}

/* Where the builds for the libc under test live: $BUILD or $BUILD/musl. */
static const char *fx_libc_dir(void)
{
	static char dir[PATH_MAX + 8];

	if (!dir[0])
		snprintf(dir, sizeof dir, "%s%s", fx_build_dir(), fx_musl() ? "/musl" : "");
	return dir;
}

const char *fx_shim_path(void)
{
	static char path[PATH_MAX + 32];

	if (!path[0])
		snprintf(path, sizeof path, "%s/libsockguard.so", fx_libc_dir());
	return path;
}

const char *fx_tool_path(void)
{
	static char path[PATH_MAX + 16];

	if (!path[0])
		snprintf(path, sizeof path, "%s/sockguard", fx_build_dir());
	return path;
}

const char *fx_prog_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tests/progs/%s", fx_libc_dir(), name);
	return buf;
}

const char *fx_prog(const char *name)
{
	static char buf[4][PATH_MAX + 64];
	static unsigned next;

	return fx_prog_path(name, buf[next++ % 4], sizeof buf[0]);
}

/*
 * The sanitizer runtime a shim built with -fsanitize links against, or ""
 * for a plain shim: `ldd` names it.  A program that is not itself built
 * with ASan can only load such a shim when the runtime is preloaded first.
 */
static void fx_sanitizer_runtime(char *buf, size_t len)
{
	char cmd[PATH_MAX + 64], line[PATH_MAX + 64];
	FILE *p;

	buf[0] = '\0';
	snprintf(cmd, sizeof cmd, "ldd '%s' 2>/dev/null", fx_shim_path());
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof line, p)) {
		char *path = strstr(line, "=> /");
		if (strstr(line, "libasan.so") && path) {
			path[3 + strcspn(path + 3, " \n")] = '\0';
			snprintf(buf, len, "%s ", path + 3);
		}
	}
	if (p)
		pclose(p);
}

const char *fx_preload_env(void)
{
	static char env[2 * PATH_MAX + 64];
	char runtime[PATH_MAX + 2] = "";

	if (env[0])
		return env;
	if (getenv("SG_SANITIZE"))
		fx_sanitizer_runtime(runtime, sizeof runtime);
	snprintf(env, sizeof env, "LD_PRELOAD=%s%s", runtime, fx_shim_path());
	return env;
}

const char *fx_preload_env_with_copy(const char *dir, int copy_first, char *buf,
				     size_t len)
{
	char copy[PATH_MAX];
	const char *pre = fx_preload_env();	/* "LD_PRELOAD=[runtime:]SHIM" */
	const char *shim_at = strstr(pre, fx_shim_path());

	snprintf(copy, sizeof copy, "%s/copy/libsockguard.so", dir);
	if (!shim_at || (access(copy, R_OK) != 0 &&
			 fx_sh("mkdir -p '%s/copy' && cp '%s' '%s'", dir,
			       fx_shim_path(), copy) != 0))
		return NULL;
	if (copy_first)
		snprintf(buf, len, "%.*s%s:%s", (int)(shim_at - pre), pre, copy,
			 shim_at);
	else
		snprintf(buf, len, "%s:%s", pre, copy);
	return buf;
}

int fx_private_overlay(const char *target, const char *dir, const char *name)
{
	char up[PATH_MAX], work[PATH_MAX], opts[3 * PATH_MAX];

	if (unshare(CLONE_NEWNS) != 0)
		return fx__fail("unshare(CLONE_NEWNS): %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return fx__fail("mount --make-rprivate /: %s", strerror(errno));
	snprintf(up, sizeof up, "%s/%s-upper", dir, name);
	snprintf(work, sizeof work, "%s/%s-work", dir, name);
	if (mkdir(up, 0755) != 0 || mkdir(work, 0755) != 0)
		return fx__fail("mkdir %s: %s", up, strerror(errno));
	snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", target,
		 up, work);
	if (mount("overlay", target, "overlay", 0, opts) != 0) {
		fx__fail("no overlay file system for a private %s: %s", target,
			 strerror(errno));
		return -2;
	}
	return 0;
}

int fx_need_root(void)
{
	return geteuid() == 0 ? 0 : fx__fail("euid is %d, not 0", geteuid());
}

/* Loopback comes up by ioctl: no dependency on ip(8), no fork. */
static int fx_loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return fx__fail("socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		goto fail;
	close(s);
	return 0;
fail:
	fx__fail("bringing lo up: %s", strerror(errno));
	close(s);
	return -1;
}

/*
 * A user namespace would let a non-root user own the network namespace,
 * but unshare(CLONE_NEWUSER) needs a single-threaded caller and a
 * Criterion test runs beside a thread of Criterion's: root it is.
 */
int fx_enter_netns(void)
{
	if (unshare(CLONE_NEWNET) != 0)
		return fx__fail("unshare(CLONE_NEWNET): %s%s", strerror(errno),
				errno == EPERM ? " (run as root)" : "");
	return fx_loopback_up();
}

int fx_have_program(const char *name)
{
	char path[PATH_MAX];
	const char *p = getenv("PATH");

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	for (p = p ? p : "/usr/bin:/bin"; *p; p += *p == ':') {
		size_t n = strcspn(p, ":");
		snprintf(path, sizeof path, "%.*s/%s", (int)n, p, name);
		if (access(path, X_OK) == 0)
			return 1;
		p += n;
	}
	return 0;
}

const char *fx_cgroup2_mount(void)
{
	static char mnt[PATH_MAX];
	char line[PATH_MAX + 512];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	mnt[0] = '\0';
	while (f && !mnt[0] && fgets(line, sizeof line, f))
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			mnt[0] = '\0';
	if (f)
		fclose(f);
	return mnt[0] ? mnt : NULL;
}

int fx_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return fx__fail("`%s` did not run to completion", cmd);
	if (WEXITSTATUS(st) != 0)
		fx__fail("`%s` exited %d", cmd, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

/*
 * The rule for each fault.  The SYN is matched on INPUT, where it arrives
 * over loopback: a REJECT there answers while the connecting socket sleeps
 * in connect(), so the answer is a hard error at once.
 */
static void fx_rule(enum fx_fault fault, int port, char *buf, size_t len)
{
	static const char *const target[] = {
		[FX_DROP] = "DROP",
		[FX_RST] = "REJECT --reject-with tcp-reset",
		[FX_HOST_UNREACH] = "REJECT --reject-with icmp-host-unreachable",
		[FX_NET_UNREACH] = "REJECT --reject-with icmp-net-unreachable",
	};

	snprintf(buf, len, "INPUT -p tcp --dport %d -j %s", port, target[fault]);
}

static int fx_iptables(char op, enum fx_fault fault, int port)
{
	char rule[256];

	fx_rule(fault, port, rule, sizeof rule);
	if (fx_sh("iptables -w -%c %s >/dev/null 2>&1", op, rule) != 0)
		return fx__fail("iptables -%c %s failed", op, rule);
	return 0;
}

int fx_fault_add(enum fx_fault fault, int port)
{
	return fx_iptables('A', fault, port);
}

int fx_fault_del(enum fx_fault fault, int port)
{
	return fx_iptables('D', fault, port);
}

pid_t fx_fault_del_after(enum fx_fault fault, int port, int ms)
{
	pid_t pid = fork();

	if (pid < 0)
		return fx__fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		nanosleep(&ts, NULL);
		_exit(fx_fault_del(fault, port) == 0 ? 0 : 1);
	}
	return pid;
}

/* /proc/sys/net is resolved in the namespace of the process opening it. */
int fx_set_syn_retries(int n)
{
	char val[16];
	int fd = open("/proc/sys/net/ipv4/tcp_syn_retries", O_WRONLY | O_CLOEXEC);
	int len = snprintf(val, sizeof val, "%d\n", n);

	if (fd < 0)
		return fx__fail("tcp_syn_retries: %s", strerror(errno));
	if (write(fd, val, len) != len) {
		close(fd);
		return fx__fail("writing tcp_syn_retries: %s", strerror(errno));
	}
	close(fd);
	return 0;
}

/* World-readable, so that servers dropping privileges (nginx) can serve from it. */
int fx_tempdir(char *buf, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, len, "%s/sgtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(buf))
		return fx__fail("mkdtemp %s: %s", buf, strerror(errno));
	chmod(buf, 0755);
	return 0;
}

void fx_rmtree(const char *path)
{
	if (path && strstr(path, "/sgtest."))
		fx_sh("rm -rf '%s'", path);
}
