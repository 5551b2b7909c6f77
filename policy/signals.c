/*
 * Signal names for eintr_pass: the classic names of signal(7), the
 * real-time signals relative to SIGRTMIN and SIGRTMAX (whose numbers the
 * C library decides: glibc keeps 32 and 33 for itself, musl 32 to 34), and
 * plain numbers.
 */
#include <signal.h>
#include <string.h>

#include "policy_int.h"

struct signal_name {
	const char *name;
	int num;
};

/* Signals whose delivery can interrupt a call (signal(7), Linux numbers). */
static const struct signal_name signal_table[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * SIGRTMIN and SIGRTMAX are calls into the C library (glibc keeps signals
 * 32 and 33 for itself, musl 32 to 34); their values are written here so
 * that the shim, which links this file, imports two symbols less (every
 * import is looked up in every process at start-up).  A unit test checks
 * them against the library's own answers.
 */
#ifdef __GLIBC__
#define SG_RTMIN 34
#else
#define SG_RTMIN 35
#endif
#define SG_RTMAX 64

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Whether s (n bytes) starts with word, ignoring case. */
static int starts_nocase(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	if (n < w)
		return 0;
	for (size_t i = 0; i < w; i++) {
		if (upper((unsigned char)s[i]) != word[i])
			return 0;
	}
	return 1;
}

/* Whether s (n bytes) is word, ignoring case. */
static int same_nocase(const char *s, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++) {
		if (word[i] == '\0' || upper((unsigned char)s[i]) != word[i])
			return 0;
	}
	return word[n] == '\0';
}

/* A decimal number of 1 to 2 digits; -1 if s is not one. */
static int small_number(const char *s, size_t n)
{
	uint64_t v;

	if (n > 2 || sg_parse_decimal(s, n, 99, &v) < 0)
		return -1;
	return (int)v;
}

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n"; -1 when it is none of them. */
static int realtime(const char *s, size_t n)
{
	int base, sign;

	if (starts_nocase(s, n, "RTMIN")) {
		base = SG_RTMIN;
		sign = 1;
	} else if (starts_nocase(s, n, "RTMAX")) {
		base = SG_RTMAX;
		sign = -1;
	} else {
		return -1;
	}
	s += 5;
	n -= 5;
	if (n == 0)
		return base;
	if (s[0] != (sign > 0 ? '+' : '-'))
		return -1;
	int off = small_number(s + 1, n - 1);
	int sig = off < 0 ? -1 : base + sign * off;
	return sig >= SG_RTMIN && sig <= SG_RTMAX ? sig : -1;
}

int sg_signal_from_name(const char *s, size_t n)
{
	if (n > 3 && starts_nocase(s, n, "SIG")) {
		s += 3;
		n -= 3;
	}
	int num = small_number(s, n);
	if (num >= 0)
		return num >= 1 && num <= 64 ? num : -1;
	int first = n ? upper((unsigned char)s[0]) : 0;
	for (size_t i = 0; i < COUNT(signal_table); i++) {
		if (signal_table[i].name[0] == first &&
		    same_nocase(s, n, signal_table[i].name))
			return signal_table[i].num;
	}
	return realtime(s, n);
}

const char *sg_signal_name(int signo, char *buf, size_t len)
{
	struct sg_fmt b;

	for (size_t i = 0; i < COUNT(signal_table); i++) {
		if (signal_table[i].num == signo)
			return signal_table[i].name;
	}
	sg_fmt_init_cstr(&b, buf, len);
	if (signo == SG_RTMAX) {
		sg_fmt_str(&b, "RTMAX");
	} else if (signo >= SG_RTMIN && signo < SG_RTMAX) {
		sg_fmt_str(&b, "RTMIN");
		if (signo > SG_RTMIN) {
			sg_fmt_str(&b, "+");
			sg_fmt_u64(&b, (unsigned)(signo - SG_RTMIN));
		}
	} else {
		sg_fmt_u64(&b, (unsigned)(signo < 0 ? 0 : signo));
	}
	return buf;
}
