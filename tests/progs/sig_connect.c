/*
 * A blocking connect() interrupted by signals (handlers without SA_RESTART).
 *
 *   sig_connect alarm PORT         alarm(1) bounds the connect: the legacy
 *                                  connect timeout; SIGCHLD every 10 ms too
 *   sig_connect timer PORT MS      SIGCHLD every MS ms from a timer
 *   sig_connect sndtimeo PORT MS   the same, with SO_SNDTIMEO = 500 ms
 *
 * Prints "connect rc=R errno=E elapsed=MS signals=N".  After a successful
 * connect it sends one byte and reads it back ("echo ok").  In timer mode,
 * after EINTR, it stops the timer and calls connect() again, which waits
 * for the connection already under way: "again rc=R errno=E elapsed=MS".
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static volatile sig_atomic_t chld, alrm;

static void on_chld(int sig)
{
	(void)sig;
	chld++;
}

static void on_alrm(int sig)
{
	(void)sig;
	alrm++;
}

static timer_t sigchld_every(int ms)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGCHLD };
	struct itimerspec its = { { 0, ms * 1000000L }, { 0, ms * 1000000L } };
	timer_t t;

	install(SIGCHLD, on_chld);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0 ||
	    timer_settime(t, 0, &its, NULL) < 0) {
		printf("timer: %s\n", strerror(errno));
		exit(2);
	}
	return t;
}

/* One byte there and back: the connection is really usable. */
static void echo_check(int fd)
{
	char byte = 0;

	if (send(fd, "z", 1, 0) != 1 || recv(fd, &byte, 1, 0) != 1 || byte != 'z')
		printf("echo failed: %s\n", strerror(errno));
	else
		printf("echo ok\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: sig_connect alarm|timer PORT [MS]\n");
		return 2;
	}
	int alarm_mode = strcmp(argv[1], "alarm") == 0;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((unsigned short)atoi(argv[2])),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (strcmp(argv[1], "sndtimeo") == 0) {
		struct timeval tv = { 0, 500000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	timer_t timer = sigchld_every(argc > 3 ? atoi(argv[3]) : 10);
	if (alarm_mode) {
		install(SIGALRM, on_alrm);
		alarm(1);
	}
	long start = now_ms();
	int r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	int err = r < 0 ? errno : 0;
	printf("connect rc=%d errno=%s elapsed=%ld signals=%d alarms=%d\n", r,
	       err ? strerrorname_np(err) : "0", now_ms() - start, (int)chld,
	       (int)alrm);
	if (r == 0)
		echo_check(fd);
	if (r < 0 && err == EINTR && !alarm_mode) {
		struct itimerspec off = { { 0, 0 }, { 0, 0 } };
		timer_settime(timer, 0, &off, NULL);
		start = now_ms();
		r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
		printf("again rc=%d errno=%s elapsed=%ld\n", r,
		       r < 0 ? strerrorname_np(errno) : "0", now_ms() - start);
	}
	return 0;
}
