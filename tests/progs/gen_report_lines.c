/*
 * gen_report_lines N [SEED]: writes N syslog lines for the `sockguard
 * report` benchmark, mixing every header format the report reads (rsyslog
 * traditional and RFC 3339 files, <PRI> datagrams, RFC 5424, journalctl
 * short-iso and short-precise) with other programs' lines, suppressed and
 * summary lines and a few malformed ones, over 20 hosts, 30 programs and
 * tens of thousands of peers (more than the report keeps), spread over two
 * days.  Deterministic for a given seed, so runs compare.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long state;

/* xorshift64*: fast and reproducible; quality hardly matters here. */
static unsigned rnd(unsigned n)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (unsigned)((state * 2685821657736338717ull) >> 33) % n;
}

static const char *const classes[] = {
	"reset", "refused", "timeout", "unreachable", "pipe", "aborted",
};
static const char *const errnos[] = {
	"ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "EPIPE",
	"ECONNABORTED",
};
static const char *const ops[] = {
	"recv", "connect", "connect", "connect", "send", "accept",
};

/*
 * The header in one of six formats, t seconds after the start of the span.
 * The span ends a day before now, so year-less timestamps land in the
 * same year as the ISO ones.
 */
static void header(char *buf, size_t len, time_t start, unsigned t,
		   const char *host, unsigned pid)
{
	time_t when = start + t;
	struct tm tm;
	char bsd[32], iso[32];

	gmtime_r(&when, &tm);
	strftime(bsd, sizeof(bsd), "%b %e %H:%M:%S", &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	switch (rnd(6)) {
	case 0: snprintf(buf, len, "%s %s sockguard[%u]: ", bsd, host, pid); break;
	case 1: snprintf(buf, len, "<28>%s sockguard[%u]: ", bsd, pid); break;
	case 2: snprintf(buf, len, "<28>1 %s.%06uZ %s sockguard %u - - ", iso,
			 rnd(1000000), host, pid); break;
	case 3: snprintf(buf, len, "%s+0000 %s sockguard[%u]: ", iso, host, pid); break;
	case 4: snprintf(buf, len, "%s.%06u %s sockguard[%u]: ", bsd, rnd(1000000),
			 host, pid); break;
	default: snprintf(buf, len, "%s.%06u+00:00 %s sockguard[%u]: ", iso,
			  rnd(1000000), host, pid);
	}
}

static void body(char *buf, size_t len, unsigned prog)
{
	unsigned c = rnd(100) < 60 ? 0 : rnd(6), r = rnd(100);
	unsigned peer = rnd(100) < 90 ? rnd(200) : rnd(60000);

	if (r < 3)
		snprintf(buf, len, "class=suppressed count=%u of=%s peer=10.%u.%u.%u:443 "
			 "prog=prog%u", 1 + rnd(50), classes[c], peer >> 16, peer >> 8 & 255,
			 peer & 255, prog);
	else if (r < 4)
		snprintf(buf, len, "class=summary prog=prog%u pid=%u reset=%u refused=%u "
			 "returned=%u retried=%u", prog, 1000 + prog, rnd(50), rnd(9),
			 rnd(50), rnd(9));
	else
		snprintf(buf, len, "class=%s op=%s errno=%s action=returned prog=prog%u "
			 "fd=%u proto=tcp local=10.0.0.1:80 peer=10.%u.%u.%u:%u state=CLOSE "
			 "rtt_us=%u retrans=0", classes[c], ops[c], errnos[c], prog,
			 3 + rnd(100), peer >> 16, peer >> 8 & 255, peer & 255,
			 1024 + rnd(60000), rnd(5000));
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	char hdr[256], msg[512], host[32];

	time_t start = (time(NULL) / 86400 - 3) * 86400;

	state = argc > 2 ? strtoull(argv[2], NULL, 10) | 1 : 88172645463325252ull;
	for (unsigned long i = 0; i < n; i++) {
		unsigned t = (unsigned)(i * 2 * 86400 / n), prog = rnd(30);
		snprintf(host, sizeof(host), "host%02u", rnd(20));
		if (rnd(100) < 10) {
			/* Another program's line: same header, another tag. */
			header(hdr, sizeof(hdr), start, t, host, rnd(90000));
			memcpy(strstr(hdr, "sockguard"), "cron-runs", 9);
			printf("%s(root) CMD (run-parts /etc/cron.hourly)\n",
			       hdr);
			continue;
		}
		header(hdr, sizeof(hdr), start, t, host, 1000 + prog);
		body(msg, sizeof(msg), prog);
		if (rnd(10000) == 0)
			memcpy(msg, "class=bogus", 11);
		printf("%s%s\n", hdr, msg);
	}
	return 0;
}
