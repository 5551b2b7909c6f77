/*
 * The receiving end of the shim's `log=unix:PATH`: a unix datagram socket,
 * one event per datagram, and helpers that look for a class and a field the
 * way an operator's grep would, by whole space-separated tokens.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fixture.h"
#include "fx_int.h"

int fx_log_receiver_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sun.sun_path)
		return fx__fail("socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fx__fail("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fx__fail("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int fx_log_receiver_open_abstract(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd;

	if (n + 1 > sizeof sun.sun_path)
		return fx__fail("abstract socket name too long: %s", name);
	memcpy(sun.sun_path + 1, name, n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fx__fail("socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0) {
		fx__fail("bind @%s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t fx_log_receiver_read(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	n = recv(fd, buf, len - 1, 0);
	if (n < 0)
		return fx__fail("recv: %s", strerror(errno));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return n;
}

int fx_log_collect(int fd, char *buf, size_t len, int quiet_ms)
{
	size_t used = strlen(buf);
	char line[8192];
	int lines = 0;

	while (fx_log_receiver_read(fd, line, sizeof line, quiet_ms) > 0) {
		int n = snprintf(buf + used, len - used, "%s\n", line);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += n;
		lines++;
	}
	return lines;
}

/* The token at p is whole when spaces or line ends stand on both sides. */
static int fx_token_at(const char *start, const char *p, size_t n)
{
	return (p == start || p[-1] == ' ' || p[-1] == '\n') &&
	       (p[n] == ' ' || p[n] == '\n' || p[n] == '\0');
}

static const char *fx_find_token(const char *lines, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = lines; (p = strstr(p, token)); p++)
		if (fx_token_at(lines, p, n))
			return p;
	return NULL;
}

static const char *fx_line_start(const char *lines, const char *p)
{
	while (p > lines && p[-1] != '\n')
		p--;
	return p;
}

const char *fx_log_find_class(const char *lines, const char *cls)
{
	char token[64];
	const char *p;

	snprintf(token, sizeof token, "class=%s", cls);
	p = fx_find_token(lines, token);
	return p ? fx_line_start(lines, p) : NULL;
}

int fx_log_count(const char *lines, const char *token)
{
	int count = 0;

	for (const char *p = lines; (p = fx_find_token(p, token));
	     p = strchr(p, '\n')) {
		count++;
		if (!strchr(p, '\n'))
			break;
	}
	return count;
}

int fx_log_field(const char *line, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key), end = strcspn(line, "\n");

	for (const char *p = line; p < line + end; p++) {
		if ((p == line || p[-1] == ' ') && !strncmp(p, key, klen) &&
		    p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \n");
			snprintf(val, len, "%.*s", (int)n, p + klen + 1);
			return 0;
		}
	}
	return -1;
}
