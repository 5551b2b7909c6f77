/*
 * The interposition core's binding: what the library exports and
 * links, calls before the constructor, allocators that interpose malloc
 * (dlsym may allocate), and mode=off being inert.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

static struct fx_result res;

/* Runs a shell command line; its stdout in res.out. */
static int sh(const char *cmd, char *const env[])
{
	char *const argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	cr_assert_eq(fx_run(argv, env, 20000, &res), 0, "%s did not finish", cmd);
	return fx_exit_code(&res);
}

Test(binding, exports_only_the_interposed_symbols)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s | awk '{print $3}'",
		 fx_shim_path());
	cr_assert_eq(sh(cmd, NULL), 0);
	/* Every exported name is an interposed libc function or the counters. */
	static const char *const allowed =
		" __poll_chk __ppoll_chk __read_chk __recv_chk __recvfrom_chk "
		"__sysv_signal accept accept4 bsd_signal clone close close_range "
		"closefrom connect dup dup2 dup3 epoll_create epoll_create1 "
		"epoll_ctl epoll_pwait epoll_wait fclose fcntl fcntl64 fdopen "
		"getsockopt ioctl listen poll ppoll prctl prlimit prlimit64 pselect "
		"read readv recv recvfrom recvmmsg recvmsg select send sendfile "
		"sendfile64 sendmmsg sendmsg sendto setrlimit setrlimit64 setsockopt "
		"sigaction siginterrupt signal sigset socket socketpair "
		"sockguard_counters sockguard_live syscall sysv_signal vfork write "
		"writev ";
	char *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(res.out, "\n", &save); tok;
	     tok = strtok_r(NULL, "\n", &save), n++) {
		char key[96];
		snprintf(key, sizeof(key), " %s ", tok);
		cr_expect(strstr(allowed, key) != NULL, "unexpected export %s", tok);
	}
	cr_assert_gt(n, 50, "too few exports: %d", n);
}

Test(binding, links_libc_only)
{
	char cmd[1024];
	if (getenv("SG_SANITIZE"))
		cr_skip_test("the sanitizer build links the UBSan runtime on purpose");
	snprintf(cmd, sizeof(cmd), "ldd %s", fx_shim_path());
	cr_assert_eq(sh(cmd, NULL), 0);
	char *save = NULL;
	for (char *line = strtok_r(res.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cr_expect(strstr(line, "libc.so") || strstr(line, "linux-vdso") ||
			  strstr(line, "ld-linux") || strstr(line, "libdl.so") ||
			  strstr(line, "libasan") || strstr(line, "libubsan"),
			  "unexpected dependency: %s", line);
	}
}

Test(binding, calls_before_any_constructor_work)
{
	char prog[512];
	char *const argv[] = { (char *)fx_prog_path("bind_preinit", prog, sizeof(prog)),
			       NULL };
	char *const env[] = { (char *)fx_preload_env(), NULL };
	cr_assert_eq(fx_run(argv, env, 10000, &res), 0);
	cr_assert_eq(fx_exit_code(&res), 0, "%s%s", res.out, res.err);
	cr_assert(strstr(res.out, "preinit: ok"), "%s", res.out);
}

/* A python3 TCP echo over loopback, with the given LD_PRELOAD. */
static void echo_with_preload(const char *preload)
{
	char env0[2100];
	snprintf(env0, sizeof(env0), "LD_PRELOAD=%s", preload);
	char *const env[] = { env0, "SOCKGUARD_OPTIONS=log=off", NULL };
	const char *py =
		"python3 -c 'import socket,threading\n"
		"s=socket.socket(); s.bind((\"127.0.0.1\",0)); s.listen()\n"
		"def srv():\n"
		"  c,_=s.accept(); c.sendall(c.recv(100)); c.close()\n"
		"threading.Thread(target=srv).start()\n"
		"k=socket.create_connection(s.getsockname()); k.sendall(b\"hello\")\n"
		"print(k.recv(100).decode())'";
	cr_assert_eq(sh(py, env), 0, "%s", res.err);
	cr_assert_str_eq(res.out, "hello\n");
}

static const char *find_lib(const char *name)
{
	static char path[512];
	const char *dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
			       "/usr/lib", NULL };
	for (int i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, R_OK) == 0)
			return path;
	}
	return NULL;
}

static void allocator_test(const char *lib, int shim_first)
{
	const char *alloc = find_lib(lib);
	if (!alloc)
		cr_skip_test("needs %s (Debian libjemalloc2 / libtcmalloc-minimal4)", lib);
	char preload[2048];
	snprintf(preload, sizeof(preload), "%s:%s", shim_first ? fx_shim_path() : alloc,
		 shim_first ? alloc : fx_shim_path());
	echo_with_preload(preload);
}

Test(binding, jemalloc_preloaded_before_the_shim)
{
	allocator_test("libjemalloc.so.2", 0);
}

Test(binding, jemalloc_preloaded_after_the_shim)
{
	allocator_test("libjemalloc.so.2", 1);
}

Test(binding, tcmalloc_preloaded_before_the_shim)
{
	allocator_test("libtcmalloc_minimal.so.4", 0);
}

/* mode=off: a write to a reset connection kills by SIGPIPE, as without the shim. */
Test(binding, mode_off_is_inert)
{
	const char *py =
		"python3 -c 'import socket,signal,struct,time\n"
		"signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
		"s=socket.socket(); s.bind((\"127.0.0.1\",0)); s.listen()\n"
		"k=socket.create_connection(s.getsockname()); c,_=s.accept()\n"
		"c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(\"ii\",1,0)); c.close()\n"
		"time.sleep(0.1)\n"
		"for i in range(3):\n"
		"  try: k.send(b\"x\")\n"
		"  except OSError as e: print(e.errno)\n"
		"print(\"alive\")'";
	char env0[1024];
	snprintf(env0, sizeof(env0), "%s", fx_preload_env());
	char *const off[] = { env0, "SOCKGUARD_OPTIONS=mode=off", NULL };
	char *const on[] = { env0, "SOCKGUARD_OPTIONS=log=off", NULL };
	cr_expect_eq(sh(py, off), 128 + 13, "mode=off: %s", res.out);
	cr_expect_eq(sh(py, on), 0, "harden: %s %s", res.out, res.err);
	cr_expect(strstr(res.out, "alive"), "%s", res.out);
}
