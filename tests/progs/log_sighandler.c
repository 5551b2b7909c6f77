/*
 * A signal handler that fails on a socket while the program is already
 * inside the shim's logger: the main thread and a second thread meet refused
 * connects in a loop (each one logged), and a fast interval timer's SIGALRM
 * handler sends on a socket it shut down (EPIPE, logged from inside the
 * handler).  If the logger took a lock a handler could find held, this
 * would hang; it must exit 0 within its run time.
 *
 *   log_sighandler PORT MS     PORT closed, run for MS milliseconds
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static int closed_port;
static int shut_fd = -1;
static volatile sig_atomic_t handled;
static volatile int stop;

static void on_alarm(int sig)
{
	int saved = errno;

	if (send(shut_fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE)
		handled++;
	errno = saved;
}

static int refuse_once(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(closed_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int refused = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0;

	close(fd);
	return refused;
}

static void *refuse_loop(void *arg)
{
	long *count = arg;

	while (!stop)
		*count += refuse_once();
	return NULL;
}

static void start_alarms(void)
{
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct sigaction sa;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	shutdown(sv[0], SHUT_WR);
	shut_fd = sv[0];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	long main_count = 0, thread_count = 0, end;
	pthread_t t;

	if (argc < 3)
		return 2;
	closed_port = atoi(argv[1]);
	end = now_ms() + atoi(argv[2]);
	start_alarms();
	pthread_create(&t, NULL, refuse_loop, &thread_count);
	while (now_ms() < end)
		main_count += refuse_once();
	setitimer(ITIMER_REAL, &off, NULL);
	stop = 1;
	pthread_join(t, NULL);
	printf("refused=%ld handled=%ld\n", main_count + thread_count,
	       (long)handled);
	return 0;
}
