/*
 * The fleet path: two rsyslogd instances on loopback, each with its
 * own host name and socket.  The "edge" one receives the datagrams of
 * preloaded programs and forwards them over TCP (omfwd) to the "central" one
 * (imtcp), which also has programs of its own and writes one file.
 * `sockguard report --json` on that file must show both hosts with the
 * faults each produced.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

static char dir[256];
static pid_t rsyslogs[2];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* Starts rsyslogd with the config text; returns its pid. */
static pid_t start_rsyslogd(const char *name, const char *conf)
{
	char cpath[512], pidfile[512];
	snprintf(cpath, sizeof(cpath), "%s/%s.conf", dir, name);
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", dir, name);
	write_file(cpath, conf);
	char *const argv[] = { "rsyslogd", "-n", "-f", cpath, "-i", pidfile, NULL };
	char logpath[512];
	snprintf(logpath, sizeof(logpath), "%s/%s.out", dir, name);
	return fx_spawn(argv, NULL, logpath);
}

static void stop_all(void)
{
	for (int i = 0; i < 2; i++) {
		if (rsyslogs[i] > 0)
			fx_stop(rsyslogs[i]);
	}
	if (dir[0])
		fx_rmtree(dir);
}

static void start_fleet(int port)
{
	char conf[4096];
	snprintf(conf, sizeof(conf),
		 "global(localHostname=\"central\" workDirectory=\"%s\")\n"
		 "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
		 "input(type=\"imuxsock\" Socket=\"%s/central.sock\")\n"
		 "module(load=\"imtcp\")\n"
		 "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\")\n"
		 "*.* action(type=\"omfile\" file=\"%s/fleet.log\" "
		 "template=\"RSYSLOG_TraditionalFileFormat\")\n",
		 dir, dir, port, dir);
	rsyslogs[0] = start_rsyslogd("central", conf);
	cr_assert_gt(rsyslogs[0], 0);
	cr_assert_eq(fx_wait_port(port, 10000), 0, "central rsyslogd did not listen");
	snprintf(conf, sizeof(conf),
		 "global(localHostname=\"edge\" workDirectory=\"%s\")\n"
		 "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
		 "input(type=\"imuxsock\" Socket=\"%s/edge.sock\")\n"
		 "*.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\" "
		 "protocol=\"tcp\" template=\"RSYSLOG_ForwardFormat\")\n",
		 dir, dir, port);
	rsyslogs[1] = start_rsyslogd("edge", conf);
	cr_assert_gt(rsyslogs[1], 0);
	char sock[512];
	snprintf(sock, sizeof(sock), "%s/edge.sock", dir);
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(50000);
	cr_assert_eq(access(sock, F_OK), 0, "edge rsyslogd made no socket");
}

/* Runs a python3 snippet under the shim, logging to host's rsyslogd. */
static void fault_on(const char *host, const char *code)
{
	char opts[600];
	snprintf(opts, sizeof(opts), "SOCKGUARD_OPTIONS=log=unix:%s/%s.sock", dir, host);
	char *const env[] = { (char *)fx_preload_env(), opts, NULL };
	char *const argv[] = { "python3", "-c", (char *)code, NULL };
	static struct fx_result res;
	cr_assert_eq(fx_run(argv, env, 20000, &res), 0);
	cr_assert_eq(fx_exit_code(&res), 0, "%s", res.err);
}

static const char refused[] =
	"import socket\n"
	"s=socket.socket(); s.bind(('127.0.0.1',0)); p=s.getsockname()[1]; s.close()\n"
	"for i in range(3):\n"
	"  try: socket.create_connection(('127.0.0.1',p))\n"
	"  except ConnectionRefusedError: pass\n";

static const char resets[] =
	"import socket,struct,time\n"
	"s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
	"for i in range(2):\n"
	"  k=socket.create_connection(s.getsockname()); c,_=s.accept()\n"
	"  c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii',1,0)); c.close()\n"
	"  time.sleep(0.05)\n"
	"  try: k.recv(10)\n"
	"  except ConnectionResetError: pass\n";

/* How many event lines reached the central file. */
static int central_lines(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "grep -c 'class=' %s/fleet.log 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	int n = 0;
	if (p && fscanf(p, "%d", &n) != 1)
		n = 0;
	if (p)
		pclose(p);
	return n;
}

Test(fleet, report_shows_both_hosts_with_their_faults, .fini = stop_all,
     .timeout = 60)
{
	FX_REQUIRE_PROGRAM("rsyslogd");
	FX_REQUIRE_PROGRAM("python3");
	cr_assert_eq(fx_tempdir(dir, sizeof(dir)), 0);
	int port = fx_closed_port();
	start_fleet(port);
	fault_on("edge", refused);
	fault_on("central", resets);
	/* 3 refused + summary from the edge, 2 resets + summary centrally. */
	for (int i = 0; i < 200 && central_lines() < 7; i++)
		usleep(50000);
	cr_assert_geq(central_lines(), 7, "lines at the central host: %d", central_lines());

	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s/sockguard report --json %s/fleet.log | python3 -c '"
		 "import json,sys; d=json.load(sys.stdin)\n"
		 "h={i[\"name\"]: i[\"classes\"] for i in d[\"hosts\"][\"items\"]}\n"
		 "print(h[\"edge\"][\"refused\"], h[\"edge\"][\"reset\"], "
		 "h[\"central\"][\"reset\"], h[\"central\"][\"refused\"])'",
		 fx_build_dir(), dir);
	char *const argv[] = { "/bin/sh", "-c", cmd, NULL };
	static struct fx_result res;
	cr_assert_eq(fx_run(argv, NULL, 20000, &res), 0);
	cr_assert_eq(fx_exit_code(&res), 0, "%s %s", res.out, res.err);
	cr_assert_str_eq(res.out, "3 0 2 0\n", "per-host counts: %s", res.out);
}
