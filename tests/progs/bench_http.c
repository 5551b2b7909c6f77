/*
 * bench_http: a load generator that sends an exact number of HTTP requests,
 * for the per-request instruction counts of `make bench` (the server runs
 * under callgrind; this client does not, and never runs under the shim).
 *
 *   bench_http PORT PATH REQUESTS CONNECTIONS keepalive|close
 *
 * CONNECTIONS threads each send their share of REQUESTS GET requests for
 * PATH to 127.0.0.1:PORT, one at a time (no pipelining), and read each
 * response whole (headers, then Content-Length bytes of body).  keepalive
 * keeps one connection per thread for all its requests, as wrk does;
 * close opens a new connection for every request and asks the server to
 * close it after the response, as ab without -k does.  Unlike wrk or ab,
 * the server sees exactly REQUESTS requests, whatever the timing, so that
 * the server's instruction count is the same from one run to the next.
 *
 * Prints the number of responses with status 200; exits 1 if any request
 * failed or was answered otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 256
#define BUF_SIZE 65536

static struct sockaddr_in target;
static char request[512];
static size_t request_len;
static int keepalive;

struct worker {
	pthread_t tid;
	long requests;	/* to send */
	long ok;	/* answered with status 200 */
};

static int dial(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The value of Content-Length in the header block hdr, or -1. */
static long content_length(const char *hdr)
{
	const char *p = strcasestr(hdr, "\r\ncontent-length:");

	return p ? strtol(p + 17, NULL, 10) : -1;
}

/*
 * Reads one response from fd into buf: 1 when its status is 200, 0 for
 * another status, -1 on an error or a connection closed early.
 */
static int read_response(int fd, char *buf)
{
	size_t have = 0;
	char *end = NULL;
	long body;
	ssize_t n;

	while (!end) {
		if (have >= BUF_SIZE - 1)
			return -1;
		n = recv(fd, buf + have, BUF_SIZE - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	body = content_length(buf);
	if (body < 0)
		return -1;
	/* Keep-alive: no pipelining, so nothing follows this response. */
	for (long left = body - (long)(have - (size_t)(end + 4 - buf));
	     left > 0; left -= n) {
		n = recv(fd, buf, BUF_SIZE - 1, 0);
		if (n <= 0)
			return -1;
	}
	return strncmp(buf, "HTTP/1.1 200 ", 13) == 0 ||
	       strncmp(buf, "HTTP/1.0 200 ", 13) == 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char *buf = malloc(BUF_SIZE);
	int fd = -1, r;

	for (long i = 0; buf && i < w->requests; i++) {
		if (fd < 0 && (fd = dial()) < 0)
			break;
		if (send_all(fd, request, request_len) < 0)
			break;
		r = read_response(fd, buf);
		if (r < 0)
			break;
		w->ok += r;
		if (!keepalive) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_CONN];
	long total, conns, ok = 0;

	if (argc != 6 || (strcmp(argv[5], "keepalive") && strcmp(argv[5], "close")))
		goto usage;
	total = strtol(argv[3], NULL, 10);
	conns = strtol(argv[4], NULL, 10);
	if (total <= 0 || conns <= 0 || conns > MAX_CONN || conns > total)
		goto usage;
	keepalive = !strcmp(argv[5], "keepalive");
	target.sin_family = AF_INET;
	target.sin_port = htons((unsigned short)atoi(argv[1]));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	request_len = (size_t)snprintf(request, sizeof(request),
		"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", argv[2],
		keepalive ? "" : "Connection: close\r\n");
	if (request_len >= sizeof(request))
		goto usage;
	for (long i = 0; i < conns; i++) {
		w[i].requests = total / conns + (i < total % conns);
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			perror("bench_http: pthread_create");
			return 1;
		}
	}
	for (long i = 0; i < conns; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
	}
	printf("%ld\n", ok);
	if (ok != total) {
		fprintf(stderr, "bench_http: %ld of %ld requests answered with 200\n",
			ok, total);
		return 1;
	}
	return 0;
usage:
	fprintf(stderr, "usage: bench_http PORT PATH REQUESTS CONNECTIONS "
		"keepalive|close\n");
	return 2;
}
