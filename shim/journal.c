/*
 * log=journal: each line as one entry of journald's native protocol, a
 * datagram of "FIELD=value\n" lines to /run/systemd/journal/socket
 * (systemd.journal-fields(7), sd_journal_send(3)).
 *
 * The entry carries the line itself as MESSAGE, the usual syslog fields
 * (PRIORITY, SYSLOG_FACILITY, SYSLOG_IDENTIFIER, SYSLOG_PID), a MESSAGE_ID
 * fixed per class so that `journalctl MESSAGE_ID=...` finds every event of a
 * class, ERRNO as a number, and one SOCKGUARD_KEY field per key=value of the
 * line.  The values are those of the line, escaped the same way, so none
 * holds a newline and the plain (not the binary) field format always fits.
 *
 * Async-signal-safe like the rest of the writer; the entry is assembled
 * from a few buffers with one sendmsg(2), each frame under 1 KiB.
 */
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../policy/fmt.h"
#include "log.h"
#include "../policy/rawsys.h"
#include "../policy/classify.h"

#define JOURNAL_PATH "/run/systemd/journal/socket"

/*
 * One 128-bit id per class, made once at random and never to change: they
 * are the man page's MESSAGE_IDs.  Indexed by enum sg_class.
 */
static const char *const message_ids[SG_CLASS_COUNT] = {
	"07e0a400e2bd4f658f8c1e1538b4b3db",	/* reset */
	"8d295f01a37741eab4fedabeedc77907",	/* refused */
	"b6dee747f69a4b29bc7d9693fd4a40a4",	/* timeout */
	"cca5feae3fe04e0d9315d3b434f00af0",	/* unreachable */
	"ab432e349966433b9913d3c25284788a",	/* pipe */
	"163b70449e6d42389f82742897798270",	/* aborted */
	"97510761a41a4b85adef37cae86a1010",	/* eof */
	"6befaa6f21a74c78badde5fa31d21c4d",	/* fd_exhausted */
	"143b6453af7341aba708f69b7e87bc6d",	/* suppressed */
	"a509800f462a44b5bab013b76bffa11b",	/* summary */
};

struct span {
	const char *p;
	size_t n;
};

/*
 * The next "key=value" of a line from *pos: 1 with key and value set, 0 at
 * the end.  A word without '=' comes back with an empty key.
 */
static int next_field(const char *s, size_t len, size_t *pos, struct span *key,
		      struct span *val)
{
	size_t i = *pos, end, eq;

	while (i < len && s[i] == ' ')
		i++;
	if (i >= len)
		return 0;
	for (end = i; end < len && s[end] != ' '; end++)
		;
	for (eq = i; eq < end && s[eq] != '='; eq++)
		;
	*pos = end;
	*key = (struct span){ s + i, eq < end ? eq - i : 0 };
	*val = (struct span){ s + eq + (eq < end), eq < end ? end - eq - 1 : 0 };
	return 1;
}

/* A key of the line as a journal field name: [A-Z0-9_] (sd_journal_send(3)). */
static void field_name(struct sg_fmt *f, struct span key)
{
	sg_fmt_str(f, "SOCKGUARD_");
	for (size_t i = 0; i < key.n; i++) {
		char c = key.p[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9'))
			c = '_';
		sg_fmt_char(f, c);
	}
}

/* errno=NAME (or a number the table does not name) as a number, 0 if none. */
static int errno_number(struct span v)
{
	int err = sg_errno_from_name(v.p, v.n);
	size_t i;

	if (err > 0)
		return err;
	for (i = 0, err = 0; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
		err = err * 10 + (v.p[i] - '0');
	return i == v.n && i > 0 && i < 6 ? err : 0;
}

/*
 * "SOCKGUARD_KEY=value\n" for each field of s; a field that does not fit is
 * left out whole.  *err gets the errno= field's number, when there is one.
 */
static __attribute__((noinline)) void fields_of(const char *s, size_t len, struct sg_fmt *f, int *err)
{
	struct span key, val;
	size_t pos = 0;

	while (next_field(s, len, &pos, &key, &val)) {
		size_t mark = sg_fmt_mark(f);

		if (key.n == 0)
			continue;
		if (key.n == 5 && memcmp(key.p, "errno", 5) == 0)
			*err = errno_number(val);
		field_name(f, key);
		sg_fmt_char(f, '=');
		sg_fmt_mem(f, val.p, val.n);
		sg_fmt_char(f, '\n');
		sg_fmt_commit(f, mark);
	}
}

static void field_num(struct sg_fmt *f, const char *name, uint64_t v)
{
	sg_fmt_str(f, name);
	sg_fmt_u64(f, v);
	sg_fmt_char(f, '\n');
}

/* The fixed fields, MESSAGE, then the line's own fields. */
static __attribute__((noinline)) int
send_entry(const struct sg_log_msg *m, const char *fields, size_t flen,
	   int err)
{
	char head[224];
	struct sg_fmt h;
	struct iovec iov[5];

	sg_fmt_init(&h, head, sizeof(head));
	if (m->cls >= 0 && m->cls < SG_CLASS_COUNT) {
		sg_fmt_str(&h, "MESSAGE_ID=");
		sg_fmt_str(&h, message_ids[m->cls]);
		sg_fmt_char(&h, '\n');
	}
	field_num(&h, "PRIORITY=", (uint64_t)m->severity);
	field_num(&h, "SYSLOG_FACILITY=", (uint64_t)sg_log_facility());
	sg_fmt_str(&h, "SYSLOG_IDENTIFIER=sockguard\n");
	field_num(&h, "SYSLOG_PID=", (uint64_t)sg_sys0(SYS_getpid));
	if (err > 0)
		field_num(&h, "ERRNO=", (uint64_t)err);
	sg_fmt_str(&h, "MESSAGE=");
	iov[0] = (struct iovec){ head, h.len };
	iov[1] = (struct iovec){ (void *)m->body, m->len };
	iov[2] = (struct iovec){ (void *)m->tail, m->tail_len };
	iov[3] = (struct iovec){ "\n", 1 };
	iov[4] = (struct iovec){ (void *)fields, flen };
	return sg_log_send(JOURNAL_PATH, iov, 5, m->flags);
}

int sg_journal_send(const struct sg_log_msg *m)
{
	char fields[SG_LOG_LINE_MAX - 256];
	struct sg_fmt f;
	int err = 0;

	sg_fmt_init(&f, fields, sizeof(fields));
	fields_of(m->body, m->len, &f, &err);
	fields_of(m->tail, m->tail_len, &f, &err);
	return send_entry(m, fields, f.len, err);
}
