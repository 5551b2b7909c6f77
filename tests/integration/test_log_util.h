/*
 * What the log tests share: running a helper program under the shim with a
 * log receiver of the test's own, and reading the lines it sends field by
 * field.  Included by each tests/integration/test_log_*.c (static functions,
 * one copy per test binary).
 */
#ifndef TEST_LOG_UTIL_H
#define TEST_LOG_UTIL_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

/* Each test file uses some of these helpers, not all. */
#define LOGT_FN static __attribute__((unused))

/* One test's environment (its receiver at env.sock) and the lines it got. */
struct logrx {
	struct fx_env env;
	pthread_t reader;
	int stop;
	char lines[1 << 20];
};

LOGT_FN struct logrx *rx_open(void)
{
	struct logrx *rx = calloc(1, sizeof(*rx));

	cr_assert(rx);
	cr_assert_eq(fx_env_open(&rx->env, FX_ENV_LOG), 0, "%s",
		     fx_skip_reason());
	return rx;
}

LOGT_FN void rx_close(struct logrx *rx)
{
	fx_env_close(&rx->env);
	free(rx);
}

/* Collects what has arrived, waiting until nothing came for quiet_ms. */
LOGT_FN int rx_collect(struct logrx *rx, int quiet_ms)
{
	return fx_log_collect(rx->env.log_fd, rx->lines, sizeof(rx->lines),
			      quiet_ms);
}

/*
 * A thread that reads while the program runs, for tests that send more
 * lines than a unix datagram queue holds (net.unix.max_dgram_qlen).
 */
LOGT_FN void *rx_reader(void *arg)
{
	struct logrx *rx = arg;

	while (!__atomic_load_n(&rx->stop, __ATOMIC_ACQUIRE))
		fx_log_collect(rx->env.log_fd, rx->lines, sizeof(rx->lines),
			       50);
	fx_log_collect(rx->env.log_fd, rx->lines, sizeof(rx->lines), 300);
	return NULL;
}

LOGT_FN void rx_start(struct logrx *rx)
{
	cr_assert_eq(pthread_create(&rx->reader, NULL, rx_reader, rx), 0);
}

LOGT_FN void rx_stop(struct logrx *rx)
{
	__atomic_store_n(&rx->stop, 1, __ATOMIC_RELEASE);
	pthread_join(rx->reader, NULL);
}

/* A deeper datagram queue, in a private network namespace of the test's. */
LOGT_FN void deep_queues(void)
{
	FX_REQUIRE_NETNS();
	cr_assert_eq(fx_sh("echo 1024 > /proc/sys/net/unix/max_dgram_qlen"),
		     0);
}

/* Sum of count=N over the class=suppressed lines of=cls. */
LOGT_FN long suppressed_total(const char *lines, const char *cls)
{
	long total = 0;

	for (const char *p = lines; (p = strstr(p, "class=suppressed "));
	     p++) {
		char of[64], count[32];
		if (fx_log_field(p, "of", of, sizeof(of)) == 0 &&
		    strcmp(of, cls) == 0 &&
		    fx_log_field(p, "count", count, sizeof(count)) == 0)
			total += atol(count);
	}
	return total;
}

/*
 * Runs a helper program (argv[0] a name under build/tests/progs, or an
 * absolute path) with the shim, SOCKGUARD_OPTIONS=log=unix:<rx>:<extra>.
 */
LOGT_FN struct fx_result *run_logged(struct logrx *rx, const char *extra,
				    char **argv, int timeout_ms)
{
	struct fx_result *r = calloc(1, sizeof(*r));

	cr_assert(r);
	if (argv[0][0] != '/')
		argv[0] = (char *)fx_prog(argv[0]);
	cr_assert_eq(fx_run(argv, fx_env_shim(&rx->env, extra), timeout_ms, r),
		     0, "%s did not finish", argv[0]);
	return r;
}

/* The line's body: what follows "sockguard[PID]: ". */
LOGT_FN const char *body_of(const char *line)
{
	const char *p = strstr(line, "]: ");

	cr_assert(p, "not a sockguard line: %s", line);
	return p + 3;
}

/* The value of key in line, which must be present. */
LOGT_FN const char *field(const char *line, const char *key)
{
	static char val[8][512];
	static int next;
	char *v = val[next++ % 8];

	cr_assert_eq(fx_log_field(line, key, v, sizeof(val[0])), 0,
		     "no %s= in: %.*s", key, (int)strcspn(line, "\n"), line);
	return v;
}

LOGT_FN int has_field(const char *line, const char *key)
{
	char v[512];

	return fx_log_field(line, key, v, sizeof(v)) == 0;
}

/*
 * The event line's keys appear in the man page's order (LOG LINE), each at
 * most once, and nothing else appears.
 */
LOGT_FN void assert_spec_order(const char *line)
{
	static const char *const order[] = {
		"class", "op", "errno", "action", "tries", "deadline", "prog",
		"fd", "proto", "local", "peer", "state", "rtt_us", "retrans",
		"dropped",
	};
	const char *p = body_of(line), *end = p + strcspn(p, "\n");
	size_t at = 0, n = sizeof(order) / sizeof(order[0]);

	while (p < end) {
		size_t klen = strcspn(p, "= \n");
		while (at < n && (strlen(order[at]) != klen ||
				  strncmp(order[at], p, klen) != 0))
			at++;
		cr_assert_lt(at, n, "key out of order or unknown at: %.*s",
			     (int)(end - p), p);
		at++;
		p += strcspn(p, " \n");
		p += *p == ' ';
	}
}

/* The one line of class cls, checked for order; fails if there is none. */
LOGT_FN const char *line_of(struct logrx *rx, const char *cls)
{
	const char *line = fx_log_find_class(rx->lines, cls);

	cr_assert(line, "no class=%s line; got:\n%s", cls, rx->lines);
	if (strcmp(cls, "summary") != 0 && strcmp(cls, "suppressed") != 0)
		assert_spec_order(line);
	return line;
}

#define EXPECT_FIELD(line, key, want) \
	cr_expect_str_eq(field(line, key), want, "%s= in: %.*s", key, \
			 (int)strcspn(line, "\n"), line)

#endif
