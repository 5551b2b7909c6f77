/*
 * The policy keys (tools/sockguard.8, POLICY): their names, the values each
 * accepts, the built-in defaults, and how a value is shown by `sockguard
 * check`.  Every value is consumed completely and range-checked; the ranges
 * are listed in key_table below and in the man page.
 */
#include "policy_int.h"
#include "classify.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

/*
 * A name and its length, so that a value is compared with the names of
 * its length only, a word at a time (a policy is read by every process at
 * start-up).  Names are kept in the tables rather than pointed to, as are
 * the keys' names and units below: each pointer in a table is one more
 * relocation for the dynamic loader to apply in every process.
 */
struct word {
	char s[12];
	uint8_t n;
};
#define WORD(text) { text, sizeof(text) - 1 }

enum value_type {
	V_ENUM, V_NUM, V_BUF, V_SIGNALS, V_KEEPALIVE, V_LOG, V_FACILITY,
	V_EVENTS
};

/* The enumerations (a row of names each, ended by an empty one) and units. */
enum { E_NONE, E_MODE, E_SIGPIPE, E_RETRY_PASS, E_EAGAIN, E_EMFILE,
       E_FORMAT, E_COUNT };
enum { U_NONE, U_MS, U_RETRIES, U_BYTES, U_LINES, U_SECONDS };

struct key_def {
	char name[24];		/* the longest, log_summary_interval, has 20 */
	uint8_t type;		/* enum value_type */
	uint8_t socket;		/* may be set in [peer] */
	uint16_t off;		/* first field in struct sg_settings */
	uint16_t size;		/* bytes of fields that hold the value */
	uint32_t min, max;	/* V_NUM and V_BUF */
	uint8_t names;		/* V_ENUM: value i is enum_names[names][i] */
	uint8_t unit;		/* V_NUM and V_BUF: unit_names[unit] */
};

static const struct word enum_names[E_COUNT][6] = {
	[E_MODE] = { WORD("harden"), WORD("observe"), WORD("off") },
	[E_SIGPIPE] = { WORD("ignore"), WORD("socket"), WORD("off") },
	[E_RETRY_PASS] = { WORD("retry"), WORD("pass") },
	[E_EAGAIN] = { WORD("off"), WORD("blocking"), WORD("auto"),
		       WORD("unwatched"), WORD("always") },
	[E_EMFILE] = { WORD("shed"), WORD("pass") },
	[E_FORMAT] = { WORD("rfc3164"), WORD("rfc5424") },
};

static const char unit_names[][13] = {
	[U_MS] = "milliseconds", [U_RETRIES] = "retries", [U_BYTES] = "bytes",
	[U_LINES] = "lines", [U_SECONDS] = "seconds",
};

static const char *unit_of(const struct key_def *d)
{
	return d->unit ? unit_names[d->unit] : NULL;
}

/* Whether the n bytes at v are the word w. */
static inline int is_word(const char *v, size_t n, const struct word *w)
{
	return w->n == n && sg_same_bytes(v, w->s, n);
}

#define AT(f) offsetof(struct sg_settings, f)
#define FIELD(f) AT(f), sizeof(((struct sg_settings *)0)->f)
/* Keys made of several adjacent fields are copied as one byte range. */
#define SPAN(first, next) AT(first), AT(next) - AT(first)

#define MS_DAY 86400000u

/* Indexed by enum sg_key; the order is the order `check` prints. */
static const struct key_def key_table[SG_KEY_COUNT] = {
	[SG_KEY_MODE] = { "mode", V_ENUM, 0, FIELD(mode), 0, 0, E_MODE, U_NONE },
	[SG_KEY_SIGPIPE] = { "sigpipe", V_ENUM, 0, FIELD(sigpipe), 0, 0,
			     E_SIGPIPE, U_NONE },
	[SG_KEY_EINTR] = { "eintr", V_ENUM, 0, FIELD(eintr), 0, 0,
			   E_RETRY_PASS, U_NONE },
	[SG_KEY_EINTR_PASS] = { "eintr_pass", V_SIGNALS, 0, FIELD(eintr_pass),
				0, 0, 0, U_NONE },
	[SG_KEY_EAGAIN] = { "eagain", V_ENUM, 0, FIELD(eagain), 0, 0,
			    E_EAGAIN, U_NONE },
	[SG_KEY_EAGAIN_WAIT] = { "eagain_wait", V_NUM, 0, FIELD(eagain_wait_ms),
				 1, 3600000, 0, U_MS },
	[SG_KEY_ACCEPT] = { "accept", V_ENUM, 0, FIELD(accept), 0, 0,
			    E_RETRY_PASS, U_NONE },
	[SG_KEY_ACCEPT_EMFILE] = { "accept_emfile", V_ENUM, 0,
				   FIELD(accept_emfile), 0, 0, E_EMFILE,
				   U_NONE },
	[SG_KEY_RETRY_MAX] = { "retry_max", V_NUM, 0, FIELD(retry_max), 0,
			       1000000, 0, U_RETRIES },
	[SG_KEY_KEEPALIVE] = { "keepalive", V_KEEPALIVE, 1,
			       SPAN(sock.keepalive, sock.user_timeout_ms), 0, 0,
			       0, U_NONE },
	[SG_KEY_USER_TIMEOUT] = { "user_timeout", V_NUM, 1,
				  FIELD(sock.user_timeout_ms), 0, MS_DAY, 0,
				  U_MS },
	[SG_KEY_CONNECT_TIMEOUT] = { "connect_timeout", V_NUM, 1,
				     FIELD(sock.connect_timeout_ms), 0, MS_DAY,
				     0, U_MS },
	[SG_KEY_SNDBUF] = { "sndbuf", V_BUF, 1, FIELD(sock.sndbuf), 1024,
			    1u << 30, 0, U_BYTES },
	[SG_KEY_RCVBUF] = { "rcvbuf", V_BUF, 1, FIELD(sock.rcvbuf), 1024,
			    1u << 30, 0, U_BYTES },
	[SG_KEY_LOG] = { "log", V_LOG, 1, SPAN(sock.log_kind, sock.log_events),
			 0, 0, 0, U_NONE },
	[SG_KEY_LOG_FACILITY] = { "log_facility", V_FACILITY, 0,
				  FIELD(log_facility), 0, 0, 0, U_NONE },
	[SG_KEY_LOG_EVENTS] = { "log_events", V_EVENTS, 1,
				FIELD(sock.log_events), 0, 0, 0, U_NONE },
	[SG_KEY_LOG_BURST] = { "log_burst", V_NUM, 0, FIELD(log_burst), 1,
			       1000000, 0, U_LINES },
	[SG_KEY_LOG_INTERVAL] = { "log_interval", V_NUM, 0,
				  FIELD(log_interval_s), 1, 86400, 0,
				  U_SECONDS },
	[SG_KEY_LOG_MAX] = { "log_max", V_NUM, 0, FIELD(log_max), 1, 1000000,
			     0, U_LINES },
	[SG_KEY_LOG_FORMAT] = { "log_format", V_ENUM, 0, FIELD(log_format), 0,
				0, E_FORMAT, U_NONE },
	[SG_KEY_LOG_SUMMARY_INTERVAL] = { "log_summary_interval", V_NUM, 0,
					  FIELD(log_summary_interval_s), 0,
					  86400, 0, U_SECONDS },
};

/* Kernel limits of TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (tcp(7)). */
#define KEEPIDLE_MAX 32767u
#define KEEPINTVL_MAX 32767u
#define KEEPCNT_MAX 127u

struct name_num {
	struct word name;
	int num;
};
#define NAME_NUM(text, num) { WORD(text), num }

/* syslog(3) facility names and their numbers (RFC 5424 section 6.2.1). */
static const struct name_num facility_table[] = {
	NAME_NUM("kern", 0), NAME_NUM("user", 1), NAME_NUM("mail", 2),
	NAME_NUM("daemon", 3), NAME_NUM("auth", 4), NAME_NUM("syslog", 5),
	NAME_NUM("lpr", 6), NAME_NUM("news", 7), NAME_NUM("uucp", 8),
	NAME_NUM("cron", 9), NAME_NUM("authpriv", 10), NAME_NUM("ftp", 11),
	NAME_NUM("local0", 16), NAME_NUM("local1", 17), NAME_NUM("local2", 18),
	NAME_NUM("local3", 19), NAME_NUM("local4", 20), NAME_NUM("local5", 21),
	NAME_NUM("local6", 22), NAME_NUM("local7", 23),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define span_is sg_span_is

void sg_settings_default(struct sg_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = SG_MODE_HARDEN;
	s->sigpipe = SG_SIGPIPE_IGNORE;
	s->eintr = SG_EINTR_RETRY;
	s->eintr_pass = SG_SIGBIT(SIGHUP) | SG_SIGBIT(SIGINT) |
			SG_SIGBIT(SIGQUIT) | SG_SIGBIT(SIGTERM) |
			SG_SIGBIT(SIGALRM) | SG_SIGBIT(SIGUSR1) |
			SG_SIGBIT(SIGUSR2);
	s->eagain = SG_EAGAIN_AUTO;
	s->eagain_wait_ms = 5000;
	s->accept = SG_ACCEPT_RETRY;
	s->accept_emfile = SG_EMFILE_SHED;
	s->retry_max = 100;
	s->log_facility = 3;	/* daemon */
	s->log_burst = 20;
	s->log_interval_s = 10;
	s->log_max = 200;
	s->log_format = SG_LOG_RFC3164;
	s->log_summary_interval_s = 300;
	s->sock.keepalive = SG_KEEPALIVE_OFF;
	s->sock.log_kind = SG_LOG_AUTO;
	s->sock.log_events = SG_CLASS_DEFAULT_EVENTS;
}

const char *sg_key_name(int key)
{
	return key >= 0 && key < SG_KEY_COUNT ? key_table[key].name : NULL;
}

int sg_key_is_socket(int key)
{
	return key >= 0 && key < SG_KEY_COUNT && key_table[key].socket;
}

/*
 * Where each key's name falls by its first and last letters and its length
 * (collision-free for these names): one look and a comparison of a few
 * words per line of a policy, which every process reads at start-up.  A
 * key added that falls on a taken place breaks the build (-Woverride-init,
 * in -Wextra); then change the 15.  The unit tests look every key up by
 * its name.
 */
#define KEY_HASH(first, last, len) (((first) + (last) + 15 * (len)) & 63)

/* A place holds its key plus one (0: none) and the length of its name. */
struct key_place {
	uint8_t key;
	uint8_t len;
};
#define KEY_AT(first, last, len, key) \
	[KEY_HASH(first, last, len)] = { (key) + 1, (len) }

static const struct key_place key_by_hash[64] = {
	KEY_AT('m', 'e', 4, SG_KEY_MODE),
	KEY_AT('s', 'e', 7, SG_KEY_SIGPIPE),
	KEY_AT('e', 'r', 5, SG_KEY_EINTR),
	KEY_AT('e', 's', 10, SG_KEY_EINTR_PASS),
	KEY_AT('e', 'n', 6, SG_KEY_EAGAIN),
	KEY_AT('e', 't', 11, SG_KEY_EAGAIN_WAIT),
	KEY_AT('a', 't', 6, SG_KEY_ACCEPT),
	KEY_AT('a', 'e', 13, SG_KEY_ACCEPT_EMFILE),
	KEY_AT('r', 'x', 9, SG_KEY_RETRY_MAX),
	KEY_AT('k', 'e', 9, SG_KEY_KEEPALIVE),
	KEY_AT('u', 't', 12, SG_KEY_USER_TIMEOUT),
	KEY_AT('c', 't', 15, SG_KEY_CONNECT_TIMEOUT),
	KEY_AT('s', 'f', 6, SG_KEY_SNDBUF),
	KEY_AT('r', 'f', 6, SG_KEY_RCVBUF),
	KEY_AT('l', 'g', 3, SG_KEY_LOG),
	KEY_AT('l', 'y', 12, SG_KEY_LOG_FACILITY),
	KEY_AT('l', 's', 10, SG_KEY_LOG_EVENTS),
	KEY_AT('l', 't', 9, SG_KEY_LOG_BURST),
	KEY_AT('l', 'l', 12, SG_KEY_LOG_INTERVAL),
	KEY_AT('l', 'x', 7, SG_KEY_LOG_MAX),
	KEY_AT('l', 't', 10, SG_KEY_LOG_FORMAT),
	KEY_AT('l', 'l', 20, SG_KEY_LOG_SUMMARY_INTERVAL),
};

int sg_key_from_name(const char *s, size_t n)
{
	if (n == 0)
		return -1;
	const struct key_place *e = &key_by_hash[KEY_HASH((unsigned char)s[0],
							  (unsigned char)s[n - 1], n)];
	if (e->len != n || !sg_same_bytes(s, key_table[e->key - 1].name, n))
		return -1;
	return e->key - 1;
}

int sg_facility_from_name(const char *s, size_t n)
{
	for (size_t i = 0; i < COUNT(facility_table); i++) {
		if (is_word(s, n, &facility_table[i].name))
			return facility_table[i].num;
	}
	return -1;
}

static const char *facility_name(int num)
{
	for (size_t i = 0; i < COUNT(facility_table); i++) {
		if (facility_table[i].num == num)
			return facility_table[i].name.s;
	}
	return "?";
}

/* Copies size bytes; most keys are one field of 1, 4 or 8 bytes. */
static void copy_field(void *dst, const void *src, size_t size)
{
	switch (size) {
	case 1: __builtin_memcpy(dst, src, 1); break;
	case 4: __builtin_memcpy(dst, src, 4); break;
	case 8: __builtin_memcpy(dst, src, 8); break;
	default: memcpy(dst, src, size);
	}
}

void sg_key_copy(int key, struct sg_settings *dst, const struct sg_settings *src)
{
	const struct key_def *d = &key_table[key];

	copy_field((char *)dst + d->off, (const char *)src + d->off, d->size);
}

void sg_keys_copy(uint32_t set, struct sg_settings *dst,
		  const struct sg_settings *src)
{
	for (; set; set &= set - 1) {
		const struct key_def *d = &key_table[__builtin_ctz(set)];
		copy_field((char *)dst + d->off, (const char *)src + d->off,
			   d->size);
	}
}

void sg_key_copy_sock(int key, struct sg_sock_settings *dst,
		      const struct sg_settings *src)
{
	const struct key_def *d = &key_table[key];
	size_t off = d->off - offsetof(struct sg_settings, sock);

	copy_field((char *)dst + off, (const char *)src + d->off, d->size);
}

/* Whether key's value in s is one its parser could have produced. */
int sg_key_value_valid(int key, const struct sg_settings *s)
{
	const struct key_def *d = &key_table[key];
	const char *field = (const char *)s + d->off;
	uint32_t num;

	switch (d->type) {
	case V_ENUM: {
		int n = 0;
		while (enum_names[d->names][n].n)
			n++;
		return *(const uint8_t *)field < n;
	}
	case V_NUM: case V_BUF:
		memcpy(&num, field, sizeof(num));
		return (num >= d->min && num <= d->max) ||
		       (d->type == V_BUF && num == 0);
	case V_SIGNALS:
		return 1;
	case V_KEEPALIVE:
		return s->sock.keepalive < SG_KEEPALIVE_CUSTOM ||
		       (s->sock.keepalive == SG_KEEPALIVE_CUSTOM &&
			s->sock.keepalive_idle >= 1 &&
			s->sock.keepalive_idle <= KEEPIDLE_MAX &&
			s->sock.keepalive_intvl >= 1 &&
			s->sock.keepalive_intvl <= KEEPINTVL_MAX &&
			s->sock.keepalive_cnt >= 1 &&
			s->sock.keepalive_cnt <= KEEPCNT_MAX);
	case V_LOG:
		return s->sock.log_kind <= SG_LOG_AUTO &&
		       memchr(s->sock.log_path, '\0', SG_LOG_PATH_MAX) != NULL;
	case V_FACILITY:
		return facility_name(s->log_facility)[0] != '?';
	default:
		return (s->sock.log_events & ~SG_CLASS_ALL_EVENTS) == 0;
	}
}

/* Whether key has the same value in a and b (fields, not padding). */
int sg_key_value_equal(int key, const struct sg_settings *a,
		       const struct sg_settings *b)
{
	const struct key_def *d = &key_table[key];

	if (d->type == V_KEEPALIVE)
		return a->sock.keepalive == b->sock.keepalive &&
		       a->sock.keepalive_idle == b->sock.keepalive_idle &&
		       a->sock.keepalive_intvl == b->sock.keepalive_intvl &&
		       a->sock.keepalive_cnt == b->sock.keepalive_cnt;
	if (d->type == V_LOG)
		return a->sock.log_kind == b->sock.log_kind &&
		       strncmp(a->sock.log_path, b->sock.log_path,
			       SG_LOG_PATH_MAX) == 0;
	return memcmp((const char *)a + d->off, (const char *)b + d->off,
		      d->size) == 0;
}

/*
 * Values
 */


static void why_range(struct sg_fmt *why, const char *v, size_t n,
		      uint32_t min, uint32_t max, const char *unit)
{
	sg_fmt_quoted(why, v, n);
	sg_fmt_str(why, " is out of range ");
	sg_fmt_u64(why, min);
	sg_fmt_str(why, "..");
	sg_fmt_u64(why, max);
	if (unit) {
		sg_fmt_str(why, " ");
		sg_fmt_str(why, unit);
	}
}

/* A number in min..max; sets *out, or -1 with the reason in why. */
static int parse_range(const char *v, size_t n, uint32_t min, uint32_t max,
		       const char *unit, uint32_t *out, struct sg_fmt *why)
{
	uint64_t x;

	if (sg_parse_decimal(v, n, 0xffffffffu, &x) < 0) {
		sg_fmt_quoted(why, v, n);
		sg_fmt_str(why, " is not a whole number");
		if (unit) {
			sg_fmt_str(why, " of ");
			sg_fmt_str(why, unit);
		}
		return -1;
	}
	if (x < min || x > max) {
		why_range(why, v, n, min, max, unit);
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

static int parse_enum(const struct key_def *d, const char *v, size_t n,
		      uint8_t *out, struct sg_fmt *why)
{
	const struct word *names = enum_names[d->names];

	for (int i = 0; names[i].n; i++) {
		if (is_word(v, n, &names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	sg_fmt_quoted(why, v, n);
	sg_fmt_str(why, " is not one of ");
	for (int i = 0; names[i].n; i++) {
		sg_fmt_str(why, i ? ", " : "");
		sg_fmt_str(why, names[i].s);
	}
	return -1;
}

/*
 * Steps through a comma-separated list: sets the next item (blanks around it
 * trimmed) and returns 1, or returns 0 at the end.  *pos starts at 0.
 */
static inline __attribute__((always_inline)) int
next_item(const char *v, size_t n, size_t *pos, const char **item, size_t *len)
{
	size_t i = *pos, end;

	if (i > n)
		return 0;
	for (end = i; end < n && v[end] != ','; end++)
		;
	*pos = end + 1;
	while (i < end && sg_is_blank(v[i]))
		i++;
	while (end > i && sg_is_blank(v[end - 1]))
		end--;
	*item = v + i;
	*len = end - i;
	return 1;
}

static int empty_item(struct sg_fmt *why, const char *v, size_t n)
{
	sg_fmt_quoted(why, v, n);
	sg_fmt_str(why, " has an empty list item");
	return -1;
}

static int parse_signals(const char *v, size_t n, uint64_t *out,
			 struct sg_fmt *why)
{
	const char *item;
	size_t len, pos = 0;
	uint64_t set = 0;

	if (sg_signal_set_quick(v, n, out) == 0)
		return 0;
	if (span_is(v, n, "none")) {
		*out = 0;
		return 0;
	}
	while (next_item(v, n, &pos, &item, &len)) {
		if (len == 0)
			return empty_item(why, v, n);
		int signo = sg_signal_from_name(item, len);
		if (signo < 0) {
			sg_fmt_str(why, "unknown signal ");
			sg_fmt_quoted(why, item, len);
			sg_fmt_str(why, " (use names such as HUP, SIGTERM or "
				   "RTMIN+1, or numbers 1..64)");
			return -1;
		}
		set |= SG_SIGBIT(signo);
	}
	*out = set;
	return 0;
}

static int parse_events(const char *v, size_t n, uint32_t *out,
			struct sg_fmt *why)
{
	const char *item;
	size_t len, pos = 0;
	uint32_t set = 0;

	while (next_item(v, n, &pos, &item, &len)) {
		if (len == 0)
			return empty_item(why, v, n);
		int cls = sg_class_from_name(item, len);
		if (cls >= 0) {
			set |= 1u << cls;
		} else if (span_is(item, len, "all")) {
			set |= SG_CLASS_ALL_EVENTS;
		} else if (!span_is(item, len, "none")) {
			sg_fmt_str(why, "unknown event class ");
			sg_fmt_quoted(why, item, len);
			return -1;
		}
	}
	*out = set;
	return 0;
}

/* keepalive's numbers and what each one counts. */
static const uint32_t keepalive_max[3] = {
	KEEPIDLE_MAX, KEEPINTVL_MAX, KEEPCNT_MAX
};
static const char keepalive_part[3][16] = {
	"seconds (IDLE)", "seconds (INTVL)", "probes (CNT)"
};

/*
 * IDLE,INTVL,CNT as usually written, three numbers of at most five digits
 * in range and no blanks: 0 with the values, or -1 to read it item by item.
 */
static int keepalive_quick(const char *v, size_t n, uint32_t val[3])
{
	size_t i = 0;
	unsigned x;

	for (int k = 0; k < 3; k++) {
		if (sg_read_digits(v, n, &i, 5, &x) == 0 || x < 1 ||
		    x > keepalive_max[k] || (k < 2 && (i >= n || v[i++] != ',')))
			return -1;
		val[k] = x;
	}
	return i == n ? 0 : -1;
}

/* IDLE,INTVL,CNT item by item; -1 with the reason in why. */
static int keepalive_items(const char *v, size_t n, uint32_t val[3],
			   struct sg_fmt *why)
{
	const char *item;
	size_t len, pos = 0;
	int count = 0;

	while (count < 3 && next_item(v, n, &pos, &item, &len)) {
		if (parse_range(item, len, 1, keepalive_max[count],
				keepalive_part[count], &val[count], why) < 0)
			return -1;
		count++;
	}
	if (count != 3 || pos <= n) {
		sg_fmt_quoted(why, v, n);
		sg_fmt_str(why, " is not off, on or IDLE,INTVL,CNT");
		return -1;
	}
	return 0;
}

/* keepalive: off, on, or IDLE,INTVL,CNT within the kernel's limits. */
static int parse_keepalive(const char *v, size_t n, struct sg_sock_settings *s,
			   struct sg_fmt *why)
{
	uint32_t val[3];

	if (span_is(v, n, "off") || span_is(v, n, "on")) {
		s->keepalive = span_is(v, n, "on") ? SG_KEEPALIVE_ON :
						     SG_KEEPALIVE_OFF;
		s->keepalive_idle = s->keepalive_intvl = s->keepalive_cnt = 0;
		return 0;
	}
	if (keepalive_quick(v, n, val) < 0 &&
	    keepalive_items(v, n, val, why) < 0)
		return -1;
	s->keepalive = SG_KEEPALIVE_CUSTOM;
	s->keepalive_idle = val[0];
	s->keepalive_intvl = val[1];
	s->keepalive_cnt = val[2];
	return 0;
}

/* The names of enum sg_log_kind; unix: is followed by its path. */
static const struct word log_kinds[] = {
	WORD("syslog"), WORD("stderr"), WORD("unix:"), WORD("off"),
	WORD("journal"), WORD("auto")
};
#define LOG_KINDS COUNT(log_kinds)

/*
 * unix:PATH: an absolute path, or @NAME for an abstract socket (unix(7),
 * "Abstract sockets"); either must fit sun_path with a terminating NUL.
 */
static int parse_log_path(const char *v, size_t n, struct sg_sock_settings *s,
			  struct sg_fmt *why)
{
	if (n == 0 || (v[0] != '/' && v[0] != '@') || (v[0] == '@' && n == 1) ||
	    memchr(v, '\0', n)) {
		sg_fmt_str(why, "unix: needs an absolute path or @NAME, not ");
		sg_fmt_quoted(why, v, n);
		return -1;
	}
	if (n >= SG_LOG_PATH_MAX) {
		sg_fmt_str(why, "unix: path is longer than ");
		sg_fmt_u64(why, SG_LOG_PATH_MAX - 1);
		sg_fmt_str(why, " bytes");
		return -1;
	}
	memcpy(s->log_path, v, n);
	s->log_kind = SG_LOG_UNIX;
	return 0;
}

/* log: auto, journal, syslog, stderr, off, unix:PATH or unix:@NAME. */
static int parse_log(const char *v, size_t n, struct sg_sock_settings *s,
		     struct sg_fmt *why)
{
	memset(s->log_path, 0, sizeof(s->log_path));
	for (size_t k = 0; k < LOG_KINDS; k++) {
		if (k != SG_LOG_UNIX && is_word(v, n, &log_kinds[k])) {
			s->log_kind = (uint8_t)k;
			return 0;
		}
	}
	if (n < 5 || memcmp(v, "unix:", 5) != 0) {
		sg_fmt_quoted(why, v, n);
		sg_fmt_str(why, " is not one of auto, journal, syslog, stderr, "
				"off, unix:PATH, unix:@NAME");
		return -1;
	}
	return parse_log_path(v + 5, n - 5, s, why);
}

static int parse_facility(const char *v, size_t n, uint8_t *out,
			  struct sg_fmt *why)
{
	int f = sg_facility_from_name(v, n);

	if (f < 0) {
		sg_fmt_str(why, "unknown syslog facility ");
		sg_fmt_quoted(why, v, n);
		sg_fmt_str(why, " (kern, user, mail, daemon, auth, syslog, lpr, "
				"news, uucp, cron, authpriv, ftp, local0..local7)");
		return -1;
	}
	*out = (uint8_t)f;
	return 0;
}

/* Buffer sizes: 0 leaves the kernel default, otherwise min..max bytes. */
static int parse_bufsize(const struct key_def *d, const char *v, size_t n,
			 uint32_t *out, struct sg_fmt *why)
{
	uint64_t x;

	if (sg_parse_decimal(v, n, 0xffffffffu, &x) == 0 && x == 0) {
		*out = 0;
		return 0;
	}
	if (parse_range(v, n, d->min, d->max, unit_of(d), out, why) == 0)
		return 0;
	sg_fmt_str(why, " (or 0 for the kernel default)");
	return -1;
}

/*
 * Any value, refused ones included, with the reason in why (none when why
 * is NULL).  Kept out of line, so that the quick path before it needs no
 * frame.
 */
static __attribute__((noinline)) int
parse_value(const struct key_def *d, const char *v, size_t n,
	    struct sg_settings *s, struct sg_fmt *why)
{
	void *field = (char *)s + d->off;
	char none[1];
	struct sg_fmt quiet;

	if (!why) {
		sg_fmt_init_cstr(&quiet, none, sizeof(none));
		why = &quiet;
	}
	switch (d->type) {
	case V_ENUM:
		return parse_enum(d, v, n, field, why);
	case V_NUM:
		return parse_range(v, n, d->min, d->max, unit_of(d), field, why);
	case V_BUF:
		return parse_bufsize(d, v, n, field, why);
	case V_SIGNALS:
		return parse_signals(v, n, field, why);
	case V_KEEPALIVE:
		return parse_keepalive(v, n, &s->sock, why);
	case V_LOG:
		return parse_log(v, n, &s->sock, why);
	case V_FACILITY:
		return parse_facility(v, n, field, why);
	default:
		return parse_events(v, n, field, why);
	}
}

/*
 * The values of most lines, a number or buffer size in range or one of an
 * enumeration's names, stored at once without parse_value's switch: 0, or
 * -1 with nothing stored for any other value, which parse_value reads or
 * refuses.
 */
static inline int value_quick(int key, const char *v, size_t n,
			      struct sg_settings *s)
{
	const struct key_def *d = &key_table[key];
	char *field = (char *)s + d->off;
	uint64_t x;

	if ((d->type == V_NUM || d->type == V_BUF) &&
	    sg_parse_decimal(v, n, 0xffffffffu, &x) == 0 &&
	    ((x >= d->min && x <= d->max) || (x == 0 && d->type == V_BUF))) {
		uint32_t num = (uint32_t)x;
		__builtin_memcpy(field, &num, sizeof(num));
		return 0;
	}
	if (d->type == V_ENUM) {
		const struct word *names = enum_names[d->names];

		for (int i = 0; names[i].n; i++) {
			if (is_word(v, n, &names[i])) {
				*field = (char)i;
				return 0;
			}
		}
	}
	return -1;
}

int sg_key_parse_value(int key, const char *v, size_t n, struct sg_settings *s,
		       struct sg_fmt *why)
{
	if (value_quick(key, v, n, s) == 0)
		return 0;
	return parse_value(&key_table[key], v, n, s, why);
}

/*
 * Formatting, for `sockguard check` and the shim's summary
 */

static void format_enum(const struct key_def *d, uint8_t v, struct sg_fmt *b)
{
	const struct word *names = enum_names[d->names];

	for (int i = 0; names[i].n; i++) {
		if (i == v) {
			sg_fmt_str(b, names[i].s);
			return;
		}
	}
	sg_fmt_str(b, "?");
}

static void format_signals(uint64_t set, struct sg_fmt *b)
{
	int first = 1;

	for (int signo = 1; signo <= 64; signo++) {
		char buf[16];
		const char *name = sg_signal_name(signo, buf, sizeof(buf));
		if (!sg_signal_in(set, signo))
			continue;
		sg_fmt_str(b, first ? "" : ",");
		sg_fmt_str(b, name);
		first = 0;
	}
	if (first)
		sg_fmt_str(b, "none");
}

static void format_events(uint32_t set, struct sg_fmt *b)
{
	int first = 1;

	if (set == SG_CLASS_ALL_EVENTS) {
		sg_fmt_str(b, "all");
		return;
	}
	for (int cls = 0; cls < SG_CLASS_COUNT; cls++) {
		if (!(set & (1u << cls)))
			continue;
		sg_fmt_str(b, first ? "" : ",");
		sg_fmt_str(b, sg_class_name(cls));
		first = 0;
	}
	if (first)
		sg_fmt_str(b, "none");
}

static void format_keepalive(const struct sg_sock_settings *s, struct sg_fmt *b)
{
	if (s->keepalive != SG_KEEPALIVE_CUSTOM) {
		sg_fmt_str(b, s->keepalive == SG_KEEPALIVE_ON ? "on" : "off");
		return;
	}
	sg_fmt_u64(b, s->keepalive_idle);
	sg_fmt_str(b, ",");
	sg_fmt_u64(b, s->keepalive_intvl);
	sg_fmt_str(b, ",");
	sg_fmt_u64(b, s->keepalive_cnt);
}

static void format_log(const struct sg_sock_settings *s, struct sg_fmt *b)
{
	sg_fmt_str(b, s->log_kind < LOG_KINDS ? log_kinds[s->log_kind].s : "?");
	if (s->log_kind == SG_LOG_UNIX)
		sg_fmt_mem(b, s->log_path, strnlen(s->log_path, SG_LOG_PATH_MAX));
}

void sg_settings_format(const struct sg_settings *s, int key, char *buf,
			size_t len)
{
	struct sg_fmt b;

	sg_fmt_init_cstr(&b, buf, len);
	sg_settings_fmt(s, key, &b);
}

void sg_settings_fmt(const struct sg_settings *s, int key, struct sg_fmt *f)
{
	if (key < 0 || key >= SG_KEY_COUNT)
		return;
	const struct key_def *d = &key_table[key];
	const char *field = (const char *)s + d->off;
	uint32_t num;

	switch (d->type) {
	case V_ENUM:
		format_enum(d, *(const uint8_t *)field, f);
		break;
	case V_NUM: case V_BUF:
		memcpy(&num, field, sizeof(num));
		sg_fmt_u64(f, num);
		break;
	case V_SIGNALS:
		format_signals(s->eintr_pass, f);
		break;
	case V_KEEPALIVE:
		format_keepalive(&s->sock, f);
		break;
	case V_LOG:
		format_log(&s->sock, f);
		break;
	case V_FACILITY:
		sg_fmt_str(f, facility_name(s->log_facility));
		break;
	default:
		format_events(s->sock.log_events, f);
	}
}
