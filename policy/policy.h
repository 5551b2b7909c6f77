/*
 * The policy: parsing, validation, matching and the effective settings
 * (tools/sockguard.8, POLICY).  Plain C with no knowledge of interposition,
 * shared by the shim and the `sockguard` tool.
 *
 * Nothing here allocates after sg_policy_parse() returns, and the lookups
 * (sg_policy_for_program, sg_policy_for_peer) touch only the parsed policy and
 * their output, so the shim may call them from any context except a signal
 * handler in the middle of a parse.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

enum sg_mode { SG_MODE_HARDEN, SG_MODE_OBSERVE, SG_MODE_OFF };
enum sg_sigpipe { SG_SIGPIPE_IGNORE, SG_SIGPIPE_SOCKET, SG_SIGPIPE_OFF };
enum sg_eintr { SG_EINTR_RETRY, SG_EINTR_PASS };
enum sg_eagain {
	SG_EAGAIN_OFF, SG_EAGAIN_BLOCKING, SG_EAGAIN_AUTO,
	SG_EAGAIN_UNWATCHED, SG_EAGAIN_ALWAYS
};
enum sg_accept { SG_ACCEPT_RETRY, SG_ACCEPT_PASS };
enum sg_emfile { SG_EMFILE_SHED, SG_EMFILE_PASS };
enum sg_keepalive { SG_KEEPALIVE_OFF, SG_KEEPALIVE_ON, SG_KEEPALIVE_CUSTOM };
/*
 * Where events go.  SG_LOG_AUTO is SG_LOG_JOURNAL when journald's socket
 * exists, else SG_LOG_SYSLOG; the writer decides at its first line.
 */
enum sg_log_kind {
	SG_LOG_SYSLOG, SG_LOG_STDERR, SG_LOG_UNIX, SG_LOG_OFF, SG_LOG_JOURNAL,
	SG_LOG_AUTO
};
enum sg_log_format { SG_LOG_RFC3164, SG_LOG_RFC5424 };

/* Every policy key, in the order `sockguard check` prints them. */
enum sg_key {
	SG_KEY_MODE, SG_KEY_SIGPIPE, SG_KEY_EINTR, SG_KEY_EINTR_PASS,
	SG_KEY_EAGAIN, SG_KEY_EAGAIN_WAIT, SG_KEY_ACCEPT, SG_KEY_ACCEPT_EMFILE,
	SG_KEY_RETRY_MAX, SG_KEY_KEEPALIVE, SG_KEY_USER_TIMEOUT,
	SG_KEY_CONNECT_TIMEOUT, SG_KEY_SNDBUF, SG_KEY_RCVBUF, SG_KEY_LOG,
	SG_KEY_LOG_FACILITY, SG_KEY_LOG_EVENTS, SG_KEY_LOG_BURST,
	SG_KEY_LOG_INTERVAL, SG_KEY_LOG_MAX, SG_KEY_LOG_FORMAT,
	SG_KEY_LOG_SUMMARY_INTERVAL,
	SG_KEY_COUNT
};

#define SG_LOG_PATH_MAX 108	/* sizeof(sun_path) */

/* The per-socket keys (marked * in the man page): allowed in [peer]. */
struct sg_sock_settings {
	uint8_t keepalive;		/* enum sg_keepalive */
	uint32_t keepalive_idle;	/* seconds, SG_KEEPALIVE_CUSTOM only */
	uint32_t keepalive_intvl;	/* seconds */
	uint32_t keepalive_cnt;
	uint32_t user_timeout_ms;	/* 0: off */
	uint32_t connect_timeout_ms;	/* 0: off */
	uint32_t sndbuf;		/* bytes, 0: kernel default */
	uint32_t rcvbuf;
	uint8_t log_kind;		/* enum sg_log_kind */
	/* SG_LOG_UNIX only, NUL-terminated; "@name": an abstract socket */
	char log_path[SG_LOG_PATH_MAX];
	uint32_t log_events;		/* bit (1u << enum sg_class) */
};

/* The effective settings of one process (and its default socket settings). */
struct sg_settings {
	uint8_t mode;			/* enum sg_mode */
	uint8_t sigpipe;		/* enum sg_sigpipe */
	uint8_t eintr;			/* enum sg_eintr */
	uint8_t eagain;			/* enum sg_eagain */
	uint8_t accept;			/* enum sg_accept */
	uint8_t accept_emfile;		/* enum sg_emfile */
	uint8_t log_facility;		/* syslog facility number, 0..23 */
	uint8_t log_format;		/* enum sg_log_format */
	uint64_t eintr_pass;		/* SG_SIGBIT(signo) for signals 1..64 */
	uint32_t eagain_wait_ms;
	uint32_t retry_max;
	uint32_t log_burst;
	uint32_t log_interval_s;
	uint32_t log_max;		/* event lines per log_interval, whole process */
	uint32_t log_summary_interval_s;	/* 0: a summary only at exit */
	struct sg_sock_settings sock;
};

/* A signal's bit in a signal mask such as eintr_pass (signals 1..64). */
#define SG_SIGBIT(sig) (1ull << ((sig) - 1))
static inline int sg_signal_in(uint64_t mask, int sig)
{
	return sig >= 1 && sig <= 64 && (mask & SG_SIGBIT(sig));
}

/* Where a key got its value: for `sockguard check`. */
struct sg_origin {
	const char *source;	/* file name or "SOCKGUARD_OPTIONS"; NULL: default */
	unsigned line;		/* 0 for SOCKGUARD_OPTIONS and defaults */
};

/* Problems found while parsing: each is "file:line: message". */
#define SG_PROBLEMS_MAX 32
#define SG_PROBLEM_LEN 256
struct sg_problems {
	unsigned count;		/* may exceed SG_PROBLEMS_MAX; the rest are not kept */
	char text[SG_PROBLEMS_MAX][SG_PROBLEM_LEN];
};

/* Limits of one parsed policy; larger ones are reported as problems. */
#define SG_POLICY_TEXT_MAX (256 * 1024)
#define SG_POLICY_MAX_SECTIONS 256
#define SG_POLICY_MAX_PEER_SECTIONS 64

struct sg_policy;	/* opaque; storage from sg_policy_storage_size() */

/* The built-in defaults (tools/sockguard.8, POLICY). */
void sg_settings_default(struct sg_settings *s);

/*
 * The policy object lives in caller-provided storage so that the shim can use
 * static memory.  sg_policy_init() makes it empty (every key at its default).
 */
size_t sg_policy_storage_size(void);
void sg_policy_init(struct sg_policy *p);

/*
 * Parses a policy file's text into p, after what p already holds.  `source`
 * names the file in problems.  Returns 0, or -1 after appending problems.
 * Parsed values are stored, never the text; it need not outlive the call.
 *
 * Any problem (in this call or an earlier one on p) leaves p as the empty
 * policy, for good: every lookup then answers the built-in defaults, and
 * later parses still report their own problems but add nothing.  So the
 * caller needs no rollback: a bad policy is never applied in part.
 */
int sg_policy_parse(struct sg_policy *p, const char *text, size_t len,
		    const char *source, struct sg_problems *problems);

/*
 * Parses SOCKGUARD_OPTIONS ("key=value:key=value", lists with commas) as
 * global keys applied after every file section, whatever the call order.  A
 * colon starts a new pair only where "key=" follows, so "log=unix:/x" works.
 * Returns 0, or -1 with problems (source "SOCKGUARD_OPTIONS", no line), with
 * the same all-or-nothing rule as sg_policy_parse.  options may be NULL.
 */
int sg_policy_parse_options(struct sg_policy *p, const char *options,
			    struct sg_problems *problems);

/*
 * The settings of the program whose short name and executable path are
 * given: defaults, then matching sections in order, then SOCKGUARD_OPTIONS.
 * [peer] sections are not applied here.  origin (may be NULL) gets
 * SG_KEY_COUNT entries.
 */
void sg_policy_for_program(const struct sg_policy *p, const char *name,
			   const char *path, struct sg_settings *out,
			   struct sg_origin *origin);

/* Whether any [peer] section exists (so sockets need a per-peer lookup). */
int sg_policy_has_peer_sections(const struct sg_policy *p);

/*
 * The socket settings for a socket of this program connected to `peer`: the
 * program's settings, with every section (global, matching [program],
 * matching [peer]) applied in file order, then SOCKGUARD_OPTIONS.  Returns a
 * bit mask of the [peer] sections that matched (0: none, out == program's).
 * Allocation-free.
 */
uint64_t sg_policy_for_peer(const struct sg_policy *p, const char *name,
			    const char *path, const struct sockaddr *peer,
			    socklen_t peerlen, struct sg_sock_settings *out);

/*
 * Whether a policy file with this stat may be used.  secure: the process is
 * in secure-execution mode.  Returns 0, or -1 with the reason in why (only a
 * regular file is a policy, "a FIFO, not a regular file"; a file that group
 * or others can write is refused always; in secure mode the file must also
 * be owned by root).
 */
int sg_policy_file_trusted(const struct stat *st, int secure, char *why,
			   size_t whylen);

/*
 * Which sources a process uses.  secure: getauxval(AT_SECURE).  Returns the
 * policy file path to read (config_env, else "/etc/sockguard.conf"; in secure
 * mode always the default) and sets *use_options to whether
 * SOCKGUARD_OPTIONS applies.
 */
const char *sg_policy_sources(int secure, const char *config_env,
			      int *use_options);

/*
 * The sections of a parsed policy, in file order, for `sockguard check`.
 * SOCKGUARD_OPTIONS is not among them; it is always applied last.
 */
enum sg_section_kind {
	SG_SECTION_GLOBAL,	/* keys before the first [section] header */
	SG_SECTION_PROGRAM,
	SG_SECTION_PEER,
	SG_SECTION_OPTIONS
};

struct sg_section_info {
	int kind;		/* enum sg_section_kind */
	const char *arg;	/* the glob or address as written; "" if global */
	const char *source;	/* file name */
	unsigned line;		/* of the header (global: of its first key) */
	uint32_t keys;		/* bit (1u << enum sg_key) per key it sets */
};

unsigned sg_policy_section_count(const struct sg_policy *p);
int sg_policy_section_info(const struct sg_policy *p, unsigned i,
			   struct sg_section_info *out);
/* Whether section i applies to this program (a [peer] section never does). */
int sg_policy_section_matches(const struct sg_policy *p, unsigned i,
			      const char *name, const char *path);

/*
 * A [peer] address: family, network bytes, prefix length and port (0: any).
 * `sockguard tune --peer` takes the same text as a [peer] section header.
 */
struct sg_cidr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefix;
	uint16_t port;		/* host byte order; 0 matches every port */
	uint8_t addr[16];	/* 4 bytes used for AF_INET, masked to prefix */
};

/*
 * Parses ADDR[/PREFIX][:PORT] ("10.0.0.0/8:443", "[2001:db8::]/32:443") as
 * a [peer] header does.  Returns 0, or -1 with the reason in why.
 */
int sg_cidr_parse_text(const char *text, struct sg_cidr *out, char *why,
		       size_t whylen);
/* Whether the address sa (AF_INET or AF_INET6) lies in c, port included. */
int sg_cidr_match(const struct sg_cidr *c, const struct sockaddr *sa,
		  socklen_t len);

/* The policy file read when SOCKGUARD_CONFIG is not set. */
#define SG_POLICY_DEFAULT_PATH "/etc/sockguard.conf"

/*
 * The one policy loader (policy/load.c), used by the shim's constructor and
 * by every command of the tool that reads a policy file, so that they all
 * accept and refuse the same files with the same words.
 *
 * It never blocks and never allocates: the file is looked at with stat(2)
 * before it is opened, so a FIFO, a device, a directory or a socket (or a
 * symbolic link to one) is refused without being opened; the regular file
 * is opened O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC, checked again with
 * fstat(2) (sg_policy_file_trusted), and at most SG_POLICY_TEXT_MAX + 1
 * bytes are read, so a file that grows while it is read is refused as too
 * large.  I/O goes through syscall(2), so that a preloaded library's own
 * wrappers are not entered; errno is preserved.
 *
 * flags: SG_LOAD_REQUIRED makes a missing file a problem (a file named by
 * SOCKGUARD_CONFIG or on a command line; a missing /etc/sockguard.conf is
 * not one); SG_LOAD_SECURE applies the secure-execution rule (root must own
 * the file).  buf holds the text while it is parsed: SG_POLICY_LOAD_BUF
 * bytes of the caller's, or NULL to use a private anonymous mapping.  st
 * (may be NULL) gets the file's status when it was opened.
 *
 * A refused file adds one problem, "PATH: REASON", and leaves p as the
 * empty policy for good (as a parse problem does: see sg_policy_parse), so
 * the program runs with the built-in defaults.  Whoever reports a refusal
 * to the user appends SG_POLICY_REFUSED to that line.
 */
#define SG_LOAD_REQUIRED 1u
#define SG_LOAD_SECURE 2u
#define SG_POLICY_LOAD_BUF (SG_POLICY_TEXT_MAX + 1)
#define SG_POLICY_REFUSED "; refused, using built-in defaults"

enum sg_load_result {
	SG_LOAD_INVALID = -2,	/* read, but its text has problems */
	SG_LOAD_REFUSED = -1,	/* not read: one problem says why */
	SG_LOAD_NONE = 0,	/* no such file, and none was required */
	SG_LOAD_OK = 1,		/* read and parsed without a problem */
};

int sg_policy_load(struct sg_policy *p, const char *path, unsigned flags,
		   char *buf, struct stat *st, struct sg_problems *problems);

/* Name/value helpers for `sockguard check` and the shim's summary. */
const char *sg_key_name(int key);
int sg_key_is_socket(int key);
/* Formats key's value in s into buf ("5000", "HUP,INT", "unix:/x"). */
void sg_settings_format(const struct sg_settings *s, int key, char *buf,
			size_t len);
/* The same appended to f (a value that does not fit sets f->full). */
struct sg_fmt;
void sg_settings_fmt(const struct sg_settings *s, int key, struct sg_fmt *f);

/*
 * Overlays (policy/overlay.c): keys set on top of settings, as `sockguard
 * set` does to a running process.  A key set is a bit mask (1u << enum
 * sg_key).
 *
 * sg_settings_parse_pair parses one "KEY=VALUE" with the policy's parser
 * into *key and its fields of vals; -1 with the message `check` would give
 * ("retry_max: 'x' is not a whole number of retries") in why.
 */
int sg_settings_parse_pair(const char *text, int *key, struct sg_settings *vals,
			   char *why, size_t whylen);
/* Why key cannot change in a running process, or NULL when it can. */
const char *sg_key_live_refusal(int key);
uint32_t sg_live_refused_keys(void);
/* Copies the values of keys from src into dst. */
void sg_settings_apply(struct sg_settings *dst, uint32_t keys,
		       const struct sg_settings *src);
/* The same for the per-socket keys among keys, into socket settings. */
void sg_sock_settings_apply(struct sg_sock_settings *dst, uint32_t keys,
			    const struct sg_settings *src);
/* The keys whose values differ between a and b. */
uint32_t sg_settings_differ(const struct sg_settings *a,
			    const struct sg_settings *b);
/*
 * Checks an overlay read from another process's writing: -1 when every key
 * in keys may change live and has a value in range, else the first key
 * that does not (SG_KEY_COUNT for a bit that names no key).
 */
int sg_settings_check_live(uint32_t keys, const struct sg_settings *vals);

/*
 * Signal names: "HUP" or "SIGHUP", real-time signals as "RTMIN", "RTMIN+n",
 * "RTMAX-n" (with or without "SIG"), and numbers 1..64.  sg_signal_name
 * writes the name of signo into buf ("HUP", "RTMIN+2", "40").
 */
int sg_signal_from_name(const char *s, size_t n);
const char *sg_signal_name(int signo, char *buf, size_t len);
int sg_facility_from_name(const char *s, size_t n);

#endif
