/*
 * A "legacy" blocking-style writer: it sets O_NONBLOCK on its socket (a
 * library default it never noticed), never polls, and treats EAGAIN or a
 * short count as fatal, the way code written for blocking sockets does.
 *
 *   ea_legacy_writer PORT MODE [BYTES]
 *
 * It connects to 127.0.0.1:PORT and sends BYTES (default 16 MiB) of the
 * pattern byte ea_pat(offset):
 *   write, send, writev, sendmsg   in 256 KiB calls (vectors split unevenly)
 *   single                         one write() of the whole buffer
 *   reset                          one send() of the whole buffer, then one
 *                                  more send(); prints both results (the peer
 *                                  is expected to reset the connection)
 *   signal                         a blocking socket (no O_NONBLOCK), one
 *                                  write() of the whole buffer while a thread
 *                                  sends SIGWINCH (handler without SA_RESTART)
 *                                  every 5 ms
 * Output: "sent=N" and exit 0 when every call moved its whole buffer, or
 * "fatal: ..." and exit 1 at the first EAGAIN or short count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static unsigned char ea_pat(size_t i)
{
	return (unsigned char)(i + (i >> 8) * 7 + (i >> 16) * 13 + (i >> 24) * 5);
}

static int connect_port(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((unsigned short)port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		printf("fatal: connect: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

/* One call of the chosen kind for buf[0..len); returns its result. */
static ssize_t one_call(int fd, const char *mode, const unsigned char *buf,
			size_t len)
{
	if (strcmp(mode, "write") == 0)
		return write(fd, buf, len);
	if (strcmp(mode, "send") == 0)
		return send(fd, buf, len, 0);
	size_t a = len / 5, b = len / 3;
	struct iovec iov[3] = {
		{ (void *)buf, a },
		{ (void *)(buf + a), b },
		{ (void *)(buf + a + b), len - a - b },
	};
	if (strcmp(mode, "writev") == 0)
		return writev(fd, iov, 3);
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };
	return sendmsg(fd, &m, 0);
}

static int chunked(int fd, const char *mode, const unsigned char *buf,
		   size_t total)
{
	for (size_t off = 0; off < total; off += CHUNK) {
		size_t len = total - off < CHUNK ? total - off : CHUNK;
		ssize_t r = one_call(fd, mode, buf + off, len);
		if (r != (ssize_t)len) {
			printf("fatal: %s at offset %zu returned %zd (%s)\n", mode,
			       off, r, r < 0 ? strerror(errno) : "short");
			return 1;
		}
	}
	printf("sent=%zu\n", total);
	return 0;
}

static int reset_mode(int fd, const unsigned char *buf, size_t total)
{
	ssize_t r = send(fd, buf, total, 0);
	int e1 = r < 0 ? errno : 0;
	ssize_t r2 = send(fd, buf, 4096, 0);
	int e2 = r2 < 0 ? errno : 0;
	printf("first=%zd errno=%d\nsecond=%zd errno=%d\n", r, e1, r2, e2);
	return 0;
}

static volatile sig_atomic_t winches;
static volatile int writing = 1;

static void on_winch(int sig)
{
	(void)sig;
	winches++;
}

static void *pester(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;
	for (int i = 0; i < 4000 && writing; i++) {
		pthread_kill(main_thread, SIGWINCH);
		usleep(5000);
	}
	return NULL;
}

/* A blocking write cut short by signals that are not in eintr_pass. */
static int signal_mode(int fd, const unsigned char *buf, size_t total)
{
	struct sigaction sa = { .sa_handler = on_winch };	/* no SA_RESTART */
	pthread_t self = pthread_self(), t;
	sigaction(SIGWINCH, &sa, NULL);
	pthread_create(&t, NULL, pester, &self);
	ssize_t r = write(fd, buf, total);
	int e = errno;
	writing = 0;
	pthread_join(t, NULL);
	printf("%ssent=%zd%s%s signals=%d\n", r == (ssize_t)total ? "" : "fatal: ",
	       r, r < 0 ? " " : "", r < 0 ? strerror(e) : "", (int)winches);
	return r == (ssize_t)total ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ea_legacy_writer PORT MODE [BYTES]\n");
		return 2;
	}
	size_t total = argc > 3 ? strtoul(argv[3], NULL, 0) : 16u << 20;
	unsigned char *buf = malloc(total);
	if (!buf)
		return 2;
	for (size_t i = 0; i < total; i++)
		buf[i] = ea_pat(i);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);

	int fd = connect_port(atoi(argv[1]));
	int rc;
	if (strcmp(argv[2], "signal") == 0) {
		rc = signal_mode(fd, buf, total);
		close(fd);
		free(buf);
		return rc;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (strcmp(argv[2], "reset") == 0) {
		rc = reset_mode(fd, buf, total);
	} else if (strcmp(argv[2], "single") == 0) {
		ssize_t r = write(fd, buf, total);
		printf("%ssent=%zd%s%s\n", r == (ssize_t)total ? "" : "fatal: ",
		       r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
		rc = r == (ssize_t)total ? 0 : 1;
	} else {
		rc = chunked(fd, argv[2], buf, total);
	}
	close(fd);
	free(buf);
	return rc;
}
