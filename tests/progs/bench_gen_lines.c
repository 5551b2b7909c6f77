/*
 * bench_gen_lines: input for the `sockguard report` benchmark of
 * `make bench` (issue 9), used when the report tool's own generator is not
 * there.
 *
 *   bench_gen_lines N [SEED]
 *
 * Writes N syslog lines to stdout in the traditional file form of RFC 3164
 * ("Mmm dd hh:mm:ss HOST TAG[PID]: MESSAGE", as rsyslog writes them), about
 * 95% of them sockguard events of every class in the field order of SPEC.md
 * section 4, from 8 hosts, 6 programs and 64 peers, with the time rising by
 * about a second every thousand lines; the other 5% are lines of other
 * programs, which the report must skip.  Deterministic for a given SEED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)(rng_state >> 33) % n;
}

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char *const progs[] = {
	"nginx", "redis-server", "curl", "python3", "postgres", "legacyd"
};

/* One event: class, op, errno, action (NULL fields are left out). */
struct kind {
	const char *cls, *op, *err, *action;
	int tcp_info;
};

static const struct kind kinds[] = {
	{ "reset", "recv", "ECONNRESET", "returned", 1 },
	{ "reset", "read", "ECONNRESET", "returned", 1 },
	{ "refused", "connect", "ECONNREFUSED", "returned", 0 },
	{ "timeout", "connect", "ETIMEDOUT", "timed_out", 0 },
	{ "timeout", "recv", "EAGAIN", "returned", 1 },
	{ "unreachable", "connect", "EHOSTUNREACH", "returned", 0 },
	{ "pipe", "send", "EPIPE", "sigpipe_suppressed", 1 },
	{ "pipe", "write", "EPIPE", "sigpipe_suppressed", 1 },
	{ "aborted", "accept", "ECONNABORTED", "retried", 0 },
	{ "eof", "recv", NULL, "returned", 1 },
	{ "fd_exhausted", "accept", "EMFILE", "shed", 0 },
};

static void event(const struct kind *k, unsigned host, unsigned peer)
{
	const char *prog = progs[host % 6 == peer % 6 ? 0 : rnd(6)];

	printf("sockguard[%u]: class=%s op=%s", 1000 + host * 37 + rnd(5),
	       k->cls, k->op);
	if (k->err)
		printf(" errno=%s", k->err);
	printf(" action=%s", k->action);
	if (!strcmp(k->action, "retried"))
		printf(" tries=%u", 1 + rnd(3));
	printf(" prog=%s fd=%u proto=tcp local=10.1.0.%u:%u peer=10.2.%u.%u:%u",
	       prog, 3 + rnd(200), 1 + host, k->op[0] == 'a' ? 80 : 40000 + rnd(20000),
	       peer / 16, 1 + peer % 16, k->op[0] == 'a' ? 30000 + rnd(30000) : 443);
	if (k->tcp_info)
		printf(" state=CLOSE rtt_us=%u retrans=%u", 50 + rnd(5000), rnd(4));
	putchar('\n');
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	long t = 86400L * 28 * 10;	/* the first of November */

	if (n <= 0) {
		fprintf(stderr, "usage: bench_gen_lines N [SEED]\n");
		return 2;
	}
	if (argc > 2)
		rng_state ^= strtoull(argv[2], NULL, 10);
	for (long i = 0; i < n; i++) {
		unsigned host = rnd(8), r = rnd(100);
		long day = t / 86400, s = t % 86400;

		if (i % 1000 == 999)
			t++;
		printf("%s %2ld %02ld:%02ld:%02ld web%u ", months[day / 28 % 12],
		       1 + day % 28, s / 3600, s / 60 % 60, s % 60, host);
		if (r < 5)
			printf("systemd[1]: Started session %u of user app.\n", rnd(9999));
		else if (r < 7)
			printf("sockguard[%u]: class=suppressed prog=nginx count=%u of=reset peer=10.2.0.%u:443\n",
			       1000 + host, 1 + rnd(500), 1 + rnd(16));
		else
			event(&kinds[rnd(sizeof(kinds) / sizeof(kinds[0]))], host, rnd(64));
	}
	return ferror(stdout) ? 1 : 0;
}
