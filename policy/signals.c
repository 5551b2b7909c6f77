/*
 * Signal names for eintr_pass: the classic names of signal(7), the
 * real-time signals relative to SIGRTMIN and SIGRTMAX (whose numbers the
 * C library decides: glibc keeps 32 and 33 for itself, musl 32 to 34), and
 * plain numbers.
 */
#include <signal.h>
#include <string.h>

#include "policy_int.h"

/* A name is kept in 8 bytes, zero-padded, so it can be compared as a word. */
struct signal_name {
	char name[8];
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

/*
 * Where each name of signal_table falls by its first two letters, its last
 * and its length (collision-free for these names; a name added that falls
 * on a taken place breaks the build, -Woverride-init): eintr_pass lists
 * several signals, and a policy is read by every process at start-up.
 * A place holds the name's index in signal_table plus one (0: none).
 */
#define SIGNAL_HASH(a, b, z, n) ((11 * (a) + 9 * (b) + 6 * (z) + 8 * (n)) & 63)
#define SIGNAL_AT(a, b, z, n, i) [SIGNAL_HASH(a, b, z, n)] = (i) + 1

static const uint8_t signal_by_hash[64] = {
	SIGNAL_AT('H', 'U', 'P', 3, 0),	/* HUP */
	SIGNAL_AT('I', 'N', 'T', 3, 1),	/* INT */
	SIGNAL_AT('Q', 'U', 'T', 4, 2),	/* QUIT */
	SIGNAL_AT('I', 'L', 'L', 3, 3),	/* ILL */
	SIGNAL_AT('T', 'R', 'P', 4, 4),	/* TRAP */
	SIGNAL_AT('A', 'B', 'T', 4, 5),	/* ABRT */
	SIGNAL_AT('B', 'U', 'S', 3, 6),	/* BUS */
	SIGNAL_AT('F', 'P', 'E', 3, 7),	/* FPE */
	SIGNAL_AT('K', 'I', 'L', 4, 8),	/* KILL */
	SIGNAL_AT('U', 'S', '1', 4, 9),	/* USR1 */
	SIGNAL_AT('S', 'E', 'V', 4, 10),	/* SEGV */
	SIGNAL_AT('U', 'S', '2', 4, 11),	/* USR2 */
	SIGNAL_AT('P', 'I', 'E', 4, 12),	/* PIPE */
	SIGNAL_AT('A', 'L', 'M', 4, 13),	/* ALRM */
	SIGNAL_AT('T', 'E', 'M', 4, 14),	/* TERM */
	SIGNAL_AT('S', 'T', 'T', 6, 15),	/* STKFLT */
	SIGNAL_AT('C', 'H', 'D', 4, 16),	/* CHLD */
	SIGNAL_AT('C', 'O', 'T', 4, 17),	/* CONT */
	SIGNAL_AT('S', 'T', 'P', 4, 18),	/* STOP */
	SIGNAL_AT('T', 'S', 'P', 4, 19),	/* TSTP */
	SIGNAL_AT('T', 'T', 'N', 4, 20),	/* TTIN */
	SIGNAL_AT('T', 'T', 'U', 4, 21),	/* TTOU */
	SIGNAL_AT('U', 'R', 'G', 3, 22),	/* URG */
	SIGNAL_AT('X', 'C', 'U', 4, 23),	/* XCPU */
	SIGNAL_AT('X', 'F', 'Z', 4, 24),	/* XFSZ */
	SIGNAL_AT('V', 'T', 'M', 6, 25),	/* VTALRM */
	SIGNAL_AT('P', 'R', 'F', 4, 26),	/* PROF */
	SIGNAL_AT('W', 'I', 'H', 5, 27),	/* WINCH */
	SIGNAL_AT('I', 'O', 'O', 2, 28),	/* IO */
	SIGNAL_AT('P', 'W', 'R', 3, 29),	/* PWR */
	SIGNAL_AT('S', 'Y', 'S', 3, 30),	/* SYS */
};

/* The signal named by s (n bytes, upper or lower case), or -1. */
static int named(const char *s, size_t n)
{
	if (n < 2 || n > 6)
		return -1;
	int i = signal_by_hash[SIGNAL_HASH(upper((unsigned char)s[0]),
					   upper((unsigned char)s[1]),
					   upper((unsigned char)s[n - 1]), n)] - 1;
	return i >= 0 && same_nocase(s, n, signal_table[i].name) ?
	       signal_table[i].num : -1;
}

/* The bytes of w that are lower-case letters, as their 0x20 bits. */
static inline uint64_t lower_bits(uint64_t w)
{
	uint64_t t = w & 0x7f7f7f7f7f7f7f7full;
	uint64_t lower = (t + 0x1f1f1f1f1f1f1f1full) &
			 ~(t + 0x0505050505050505ull) & ~w & 0x8080808080808080ull;
	return lower >> 2;
}

/*
 * Gathers the name at v[*i], its bytes up to the first one below '0' (at
 * most 8), into a word, first byte lowest, and moves *i past it; returns
 * its length.  Eight bytes are judged at once where the text has them.
 */
static inline size_t gather_name(const char *v, size_t n, size_t *i,
				 uint64_t *w)
{
	size_t len = 0;

	*w = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n - *i >= 8) {
		uint64_t x, t, below;

		__builtin_memcpy(&x, v + *i, 8);
		t = x & 0x7f7f7f7f7f7f7f7full;
		below = ~((t + 0x5050505050505050ull) | x) & 0x8080808080808080ull;
		len = below ? (size_t)__builtin_ctzll(below) >> 3 : 8;
		*w = len == 8 ? x : x & ((1ull << (8 * len)) - 1);
		*i += len;
		return len;
	}
#endif
	for (; *i < n && (unsigned char)v[*i] >= '0' && len < 8; (*i)++, len++)
		*w |= (uint64_t)(unsigned char)v[*i] << (8 * len);
	return len;
}

/*
 * A list as eintr_pass usually has it, names of signal_table in either
 * case with blanks around them ("HUP,INT,TERM"), read in one pass: 0 with
 * the set, or -1 for anything else (a number, a SIG prefix, a real-time
 * signal, an empty item, an unknown name), which the caller then reads
 * item by item.  Each name is gathered into a word and compared, in upper
 * case, with signal_table's.  Every byte below '0' ends a name: the comma,
 * the blanks, and bytes that no name holds.
 */
int sg_signal_set_quick(const char *v, size_t n, uint64_t *set)
{
	uint64_t bits = 0, name, w;
	size_t i = 0, len;

	for (;;) {
		while (i < n && sg_is_blank(v[i]))
			i++;
		len = gather_name(v, n, &i, &w);
		while (i < n && sg_is_blank(v[i]))
			i++;
		if (len < 2 || len > 6 || (i < n && v[i] != ','))
			return -1;
		w ^= lower_bits(w);
		int k = signal_by_hash[SIGNAL_HASH(w & 0xff, w >> 8 & 0xff,
						   w >> (8 * (len - 1)) & 0xff,
						   len)] - 1;
		if (k < 0)
			return -1;
		__builtin_memcpy(&name, signal_table[k].name, 8);
		if (name != w)
			return -1;
		bits |= SG_SIGBIT(signal_table[k].num);
		if (i++ >= n)
			break;
	}
	*set = bits;
	return 0;
}

int sg_signal_from_name(const char *s, size_t n)
{
	if (n > 3 && upper((unsigned char)s[0]) == 'S' &&
	    upper((unsigned char)s[1]) == 'I' && upper((unsigned char)s[2]) == 'G') {
		s += 3;
		n -= 3;
	}
	int num = small_number(s, n);
	if (num >= 0)
		return num >= 1 && num <= 64 ? num : -1;
	num = named(s, n);
	return num >= 0 ? num : realtime(s, n);
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
