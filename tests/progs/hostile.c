/*
 * Unusual but correct programs: each scenario does something a real program
 * does (vfork and reset its signals, execl from a signal handler on an
 * alternate stack, connect to a full AF_UNIX backlog, run out of
 * descriptors with nothing pending, install a seccomp filter, keep stderr
 * on a file it may no longer grow, ...) and prints what it observed.
 * tests/integration/test_hostile.c runs each one with and without the shim
 * and compares.
 *
 *     hostile SCENARIO [ARG]...
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static volatile sig_atomic_t handled;
static int g_argc;
static char **g_argv;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

/* A connect to a port nothing listens on: a refused connection, one event. */
static void refused_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int l = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(sin);

	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(l, (struct sockaddr *)&sin, &len);
	close(l);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	connect(s, (struct sockaddr *)&sin, sizeof(sin));
	close(s);
}

/* The vfork child resets a signal and execs: the parent's handler stays. */
static int vfork_sigaction(void)
{
	install(SIGUSR1, on_signal);
	install(SIGTERM, on_signal);
	pid_t pid = vfork();
	if (pid == 0) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	raise(SIGUSR1);
	raise(SIGTERM);
	printf("handled %d\n", (int)handled);
	return 0;
}

/* Runs a vfork child that closes every descriptor from 3 up, then exits. */
static void vfork_close_all(int use_close_range)
{
	pid_t pid = vfork();
	if (pid == 0) {
		if (use_close_range)
			close_range(3, ~0U, 0);
		else
			closefrom(3);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/*
 * Refused connects (logged) and vfork children that close everything, as
 * CPython's subprocess does (close_range) or closefrom(3).
 */
static int vfork_closing(int use_close_range)
{
	int before = -1;

	for (int i = 0; i < 50; i++) {
		refused_connect();
		vfork_close_all(use_close_range);
		if (i == 0)
			before = count_fds();
	}
	printf("descriptors grew by %d\n", count_fds() - before);
	return 0;
}

static int vfork_closefrom(void)
{
	return vfork_closing(0);
}

static int vfork_close_range(void)
{
	return vfork_closing(1);
}

/*
 * An event loop's optimistic read on a socket it watches with epoll, after
 * a vfork child closed its descriptors: EAGAIN at once, as before.
 */
static int vfork_watched(void)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = sv[0] };
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
	vfork_close_all(1);
	char c;
	long t0 = now_ms();
	ssize_t r = read(sv[0], &c, 1);
	int err = errno;
	printf("read %zd %s %s\n", r, r < 0 ? strerror(err) : "",
	       now_ms() - t0 < 1000 ? "at once" : "late");
	return 0;
}

static void on_segv(int sig)
{
	(void)sig;
	execl("/bin/true", "true", (char *)NULL);
	_exit(99);
}

/* execl from a SIGSEGV handler running on a SIGSTKSZ alternate stack. */
static int execl_altstack(void)
{
	static char stack[16384] __attribute__((aligned(16)));
	stack_t ss = { .ss_sp = stack, .ss_size = 8192 };
	struct sigaction sa;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	fflush(stdout);
	raise(SIGSEGV);
	return 98;
}

/* A thread on a 24 KiB stack execs a program that does not exist. */
static void *small_thread(void *arg)
{
	volatile char guard[64];

	memset((char *)guard, 0x5a, sizeof(guard));
	int r = execl("/nonexistent/program", "x", "y", (char *)NULL);
	*(int *)arg = r < 0 ? errno : 0;
	for (size_t i = 0; i < sizeof(guard); i++) {
		if (guard[i] != 0x5a)
			*(int *)arg = -1;
	}
	return NULL;
}

static int execl_small_stack(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int err = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 24 * 1024);
	if (pthread_create(&t, &attr, small_thread, &err) != 0) {
		printf("pthread_create failed\n");
		return 1;
	}
	pthread_join(t, NULL);
	printf("execl: %s\n", err > 0 ? strerror(err) : "?");
	return 0;
}

#define X10 "x", "x", "x", "x", "x", "x", "x", "x", "x", "x"
#define X100 X10, X10, X10, X10, X10, X10, X10, X10, X10, X10
#define X1000 X100, X100, X100, X100, X100, X100, X100, X100, X100, X100

/* execl with 5,002 arguments: no limit libc does not have. */
static int execl_many(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "echo $#", "sh",
		      X1000, X1000, X1000, X1000, X1000, (char *)NULL);
		printf("execl: %s\n", strerror(errno));
		_exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* A listening socket of the family on loopback, and its address. */
static int listen_loopback(int family, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	int l = socket(family, SOCK_STREAM, 0);

	memset(ss, 0, sizeof(*ss));
	if (family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path),
			 "/tmp/sg-hostile-%d.sock", (int)getpid());
		unlink(sun->sun_path);
		*len = sizeof(*sun);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
	}
	bind(l, (struct sockaddr *)ss, *len);
	listen(l, 0);
	getsockname(l, (struct sockaddr *)ss, len);
	return l;
}

/* Accepts the first connection at accept_ms, then echoes one byte of the next. */
static pid_t late_acceptor(int l, int accept_ms)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	usleep(accept_ms * 1000);
	int a = accept(l, NULL, NULL);
	struct pollfd p = { l, POLLIN, 0 };
	if (poll(&p, 1, 4000) == 1) {
		int b = accept(l, NULL, NULL);
		char c;
		if (read(b, &c, 1) == 1 && write(b, "!", 1) != 1)
			_exit(1);
	}
	(void)a;
	_exit(0);
}

/*
 * A blocking connect to a full backlog, interrupted by SIGCHLD (handler
 * without SA_RESTART) at 0.2 s.  The server accepts the connection that
 * filled it at accept_ms: an AF_UNIX connect can then be made again; a TCP
 * one, whose SYN the full queue dropped, is taken by the SYN retransmitted
 * after a second.  Whatever connect reports must be true.
 */
static int connect_interrupted(int family, int accept_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int l = listen_loopback(family, &ss, &len);
	int first = socket(family, SOCK_STREAM, 0);

	connect(first, (struct sockaddr *)&ss, len);	/* fills the backlog */
	install(SIGCHLD, on_signal);
	fflush(stdout);
	if (fork() == 0) {	/* interrupts at 0.2 s */
		usleep(200000);
		_exit(0);
	}
	pid_t acceptor = late_acceptor(l, accept_ms);
	int s = socket(family, SOCK_STREAM, 0);
	int r = connect(s, (struct sockaddr *)&ss, len);
	int err = errno;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (r == 0) {
		int gp = getpeername(s, (struct sockaddr *)&peer, &plen);
		char c = '?';
		int w = (int)write(s, "?", 1);
		int rd = w == 1 ? (int)read(s, &c, 1) : -1;
		printf("connected: getpeername %d write %d read %d %c\n", gp, w,
		       rd, c);
	} else {
		printf("connect: %s\n", strerror(err));
		kill(acceptor, SIGKILL);	/* no connection is coming */
	}
	close(s);
	if (family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

static int unix_connect(void)
{
	return connect_interrupted(AF_UNIX, 1000);
}

static int tcp_connect(void)
{
	return connect_interrupted(AF_INET, 500);
}

/*
 * UDP connect(2) sets the default peer and never blocks: it succeeds at
 * once, getpeername then names the peer and a datagram goes there and
 * back; a connect to the unspecified family (0) dissolves the association
 * again (ENOTCONN).
 */
static int udp_connect(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in peer;
	socklen_t len = sizeof(sin), plen = sizeof(peer);
	struct sockaddr none = { .sa_family = 0 };	/* unspecified family */
	int srv = socket(AF_INET, SOCK_DGRAM, 0);
	char c = 0;

	bind(srv, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(srv, (struct sockaddr *)&sin, &len);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int r = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	int gp = getpeername(s, (struct sockaddr *)&peer, &plen);
	int same = gp == 0 && peer.sin_port == sin.sin_port;
	ssize_t w = send(s, "?", 1, 0);
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	if (recvfrom(srv, &c, 1, 0, (struct sockaddr *)&from, &flen) == 1)
		sendto(srv, "!", 1, 0, (struct sockaddr *)&from, flen);
	ssize_t got = recv(s, &c, 1, 0);
	printf("connect %d getpeername %d %s send %zd recv %zd %c\n", r, gp,
	       same ? "the server" : "elsewhere", w, got, c);
	r = connect(s, &none, sizeof(none));
	plen = sizeof(peer);
	gp = getpeername(s, (struct sockaddr *)&peer, &plen);
	printf("unspecified family: connect %d getpeername %s\n", r,
	       gp == 0 ? "0" : strerror(errno));
	/* A port nothing listens on: the ICMP error comes with a later call. */
	close(srv);
	r = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	w = send(s, "?", 1, 0);
	usleep(100000);
	got = recv(s, &c, 1, MSG_DONTWAIT);
	printf("closed port: connect %d send %zd recv %zd %s\n", r, w, got,
	       got < 0 ? strerror(errno) : "");
	return 0;
}

/*
 * Signal-driven I/O (fcntl(2): F_SETOWN, F_SETSIG, O_ASYNC; or ioctl(2)
 * FIONBIO and FIOASYNC) in a program that never polls: the signal says
 * data came, the program reads until EAGAIN and expects that EAGAIN at
 * once, to go back to waiting for the next signal.
 */
static volatile sig_atomic_t io_signals;

static void on_io(int sig)
{
	(void)sig;
	io_signals++;
}

static void tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sin, &len);
	*b = socket(AF_INET, SOCK_STREAM, 0);
	connect(*b, (struct sockaddr *)&sin, sizeof(sin));
	*a = accept(l, NULL, NULL);
	close(l);
}

static int signal_driven(int use_ioctl)
{
	int a, b, on = 1, got = 0;
	char buf[64];

	tcp_pair(&a, &b);
	install_flags(use_ioctl ? SIGIO : SIGURG, on_io, SA_RESTART);
	fcntl(a, F_SETOWN, getpid());
	if (use_ioctl) {
		ioctl(a, FIONBIO, &on);
		ioctl(a, FIOASYNC, &on);
	} else {
		fcntl(a, F_SETSIG, SIGURG);
		fcntl(a, F_SETFL, fcntl(a, F_GETFL) | O_NONBLOCK | O_ASYNC);
	}
	if (write(b, "data", 4) != 4)
		return 1;
	for (int i = 0; i < 200 && !io_signals; i++)
		usleep(10000);
	ssize_t n;
	long t0 = now_ms();
	while ((n = recv(a, buf, sizeof(buf), 0)) > 0)
		got += (int)n;
	int err = errno;
	printf("signal %s, read %d, then %s %s\n",
	       io_signals ? "came" : "missing", got, strerror(err),
	       now_ms() - t0 < 1000 ? "at once" : "late");
	return 0;
}

static int async_fcntl(void)
{
	return signal_driven(0);
}

static int async_ioctl(void)
{
	return signal_driven(1);
}

/* The one socket the process has: the shim's log socket, when it has one. */
static int lone_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1;

	while (d && (e = readdir(d)) != NULL) {
		char link[300], target[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', strncmp(target, "socket:", 7) == 0))
			found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * A dup2 onto the shim's log socket that fails (EBADF: the old descriptor
 * is not open) closes nothing, so the shim's socket is still its own: 50
 * logged events, each followed by such a dup2, and the descriptor count
 * stays flat.
 */
static int dup2_failing_onto_log(void)
{
	int before = -1, found = 0, ebadf = 0;

	for (int i = 0; i < 50; i++) {
		refused_connect();
		int fd = lone_socket();
		if (fd >= 0) {
			found++;
			ebadf += dup2(12345678, fd) < 0 && errno == EBADF;
		}
		if (i == 0)
			before = count_fds();
	}
	printf("descriptors grew by %d\n", count_fds() - before);
	fprintf(stderr, "the log socket found %d times, dup2 onto it failed "
		"with EBADF %d times\n", found, ebadf);
	return 0;
}

/*
 * A set-user-ID root wrapper (sudo-, su-style): becomes root entirely and
 * runs a plain program, which is then not in secure execution.
 *
 *     hostile setuid-exec PROGRAM [ARG]...
 */
static int setuid_exec(void)
{
	if (g_argc < 3)
		return 2;
	printf("wrapper: secure=%lu\n", getauxval(AT_SECURE));
	fflush(stdout);
	if (setresuid(0, 0, 0) != 0) {
		printf("setresuid: %s\n", strerror(errno));
		return 1;
	}
	execv(g_argv[2], g_argv + 2);
	printf("execv: %s\n", strerror(errno));
	return 127;
}

static int print_env(void)
{
	const char *opts = getenv("SOCKGUARD_OPTIONS");
	const char *conf = getenv("SOCKGUARD_CONFIG");

	printf("uid=%d euid=%d secure=%lu\n", (int)getuid(), (int)geteuid(),
	       getauxval(AT_SECURE));
	printf("SOCKGUARD_OPTIONS=%s\n", opts ? opts : "(unset)");
	printf("SOCKGUARD_CONFIG=%s\n", conf ? conf : "(unset)");
	return 0;
}

/*
 * At the descriptor limit with a blocking listener and no client: accept
 * says EMFILE.  A thread frees a descriptor at 0.5 s, a client connects at
 * 1 s; the program, a plain accept loop that sleeps 1.5 s after an error,
 * must serve it.
 */
static int spare_fd = -1;

static void *free_one(void *arg)
{
	(void)arg;
	usleep(500000);
	close(spare_fd);
	return NULL;
}

static pid_t late_client(const struct sockaddr_in *sin)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		usleep(1000000);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		char buf[16] = "";
		connect(s, (const struct sockaddr *)sin, sizeof(*sin));
		ssize_t n = read(s, buf, sizeof(buf) - 1);
		printf("client read %zd %s\n", n, n > 0 ? buf : "");
		_exit(0);
	}
	return pid;
}

static int emfile_nothing_pending(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 8);
	getsockname(l, (struct sockaddr *)&sin, &len);
	pid_t client = late_client(&sin);
	pthread_t t;
	pthread_create(&t, NULL, free_one, NULL);
	usleep(50000);
	struct rlimit rl = { 64, 64 };
	setrlimit(RLIMIT_NOFILE, &rl);
	int fd, served = 0;
	while ((fd = dup(0)) >= 0)
		spare_fd = fd;
	for (int i = 0; i < 3 && !served; i++) {
		int a = accept(l, NULL, NULL);
		if (a < 0) {
			usleep(1500000);
			continue;
		}
		served = write(a, "hello", 5) == 5;
		close(a);
	}
	pthread_join(t, NULL);
	waitpid(client, NULL, 0);
	printf("%s\n", served ? "served" : "not served");
	return 0;
}

/*
 * accept(2) into a one-byte address buffer that ends a mapping (the page
 * after it is not mapped): the kernel writes the byte it has room for and
 * reports the address's full length; nothing may read past the byte.
 */
static int accept_tiny_buffer(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (map == MAP_FAILED || munmap(map + page, (size_t)page) != 0)
		return 1;
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 8);
	getsockname(l, (struct sockaddr *)&sin, &len);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return 1;
	struct sockaddr *tiny = (struct sockaddr *)(map + page - 1);
	socklen_t room = 1;
	int a = accept(l, tiny, &room);
	printf("accept %s, length %u\n", a >= 0 ? "ok" : strerror(errno),
	       (unsigned)room);
	return 0;
}

/*
 * A sandbox like OpenSSH's: a seccomp filter that denies fstat and kills
 * on fcntl, installed before the first poll of an inherited socket.
 */
static int seccomp_poll(void)
{
	int sv[2];
	if (syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fstat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	if (write(sv[1], "x", 1) != 1)
		return 3;
	fflush(stdout);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 2;
	struct pollfd p = { sv[0], POLLIN, 0 };
	int n = poll(&p, 1, 1000);
	char c = 0;
	ssize_t r = read(sv[0], &c, 1);
	printf("poll %d read %zd\n", n, r);
	return 0;
}

static struct sock_fprog allow_all(void)
{
	static struct sock_filter f[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	return (struct sock_fprog){ 1, f };
}

/*
 * stderr on a file the process may no longer grow, as in OpenSSH's
 * sandboxed child (RLIMIT_FSIZE 0, then a seccomp filter): a write past the
 * limit raises SIGXFSZ, which kills.  Then a child of the same program
 * starts with a policy problem to report, the process meets a refused
 * connection and installs a filter: with log=stderr each is a line the shim
 * would write.
 */
static int stderr_file_size_limit(void)
{
	char path[] = "/tmp/hostile-stderr-XXXXXX";
	int fd = mkstemp(path), status = -1;
	struct rlimit rl;

	if (fd < 0 || unlink(path) != 0 || dup2(fd, 2) != 2 ||
	    getrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 1;
	close(fd);
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("SOCKGUARD_OPTIONS", "no_such_key=1", 1);
		execl("/proc/self/exe", "hostile", "exit-0", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("child status %d\n", status);
	refused_connect();
	struct sock_fprog prog = allow_all();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 2;
	printf("alive after a refused connect and a seccomp filter\n");
	return 0;
}

static int exit_0(void)
{
	return 0;
}

struct scenario {
	const char *name;
	int (*run)(void);
};

static const struct scenario scenarios[] = {
	{ "vfork-sigaction", vfork_sigaction },
	{ "vfork-closefrom", vfork_closefrom },
	{ "vfork-close-range", vfork_close_range },
	{ "vfork-watched", vfork_watched },
	{ "execl-altstack", execl_altstack },
	{ "execl-small-stack", execl_small_stack },
	{ "execl-many", execl_many },
	{ "unix-connect", unix_connect },
	{ "tcp-connect", tcp_connect },
	{ "udp-connect", udp_connect },
	{ "async-fcntl", async_fcntl },
	{ "async-ioctl", async_ioctl },
	{ "dup2-failing-onto-log", dup2_failing_onto_log },
	{ "setuid-exec", setuid_exec },
	{ "print-env", print_env },
	{ "emfile-nothing-pending", emfile_nothing_pending },
	{ "accept-tiny-buffer", accept_tiny_buffer },
	{ "seccomp-poll", seccomp_poll },
	{ "stderr-file-size-limit", stderr_file_size_limit },
	{ "exit-0", exit_0 },
};

int main(int argc, char **argv)
{
	g_argc = argc;
	g_argv = argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[1], scenarios[i].name) == 0)
			return scenarios[i].run();
	}
	fprintf(stderr, "usage: hostile SCENARIO\n");
	return 2;
}
