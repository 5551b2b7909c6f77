/*
 * EINTR accounting per thread.  The main thread (A) blocks in read() on a
 * socket; thread B handles SIGTERM (a signal in eintr_pass) while A is
 * interrupted by SIGCHLD (not in eintr_pass).  Both handlers are installed
 * without SA_RESTART.  A byte arrives after 400 ms.
 *
 *   sig_threads other    SIGTERM is blocked in A, so B handles it: A must
 *                        not see EINTR, and reads the byte
 *   sig_threads same     SIGTERM goes to A (B blocks it): A must see EINTR
 *
 * Prints "read rc=R errno=E elapsed=MS term_on_a=N term_on_b=N chld_on_a=N".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "progs.h"

static pthread_t thread_a, thread_b;
static volatile sig_atomic_t term_on_a, term_on_b, chld_on_a, chld_elsewhere;
static volatile int done;
static int pair[2];

static void on_term(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), thread_a))
		term_on_a++;
	else if (pthread_equal(pthread_self(), thread_b))
		term_on_b++;
}

static void on_chld(int sig)
{
	(void)sig;
	if (pthread_equal(pthread_self(), thread_a))
		chld_on_a++;
	else
		chld_elsewhere++;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Unblocks one signal, then blocks the other, in the calling thread. */
static void block_only(int block, int unblock)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, unblock);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	sigemptyset(&s);
	sigaddset(&s, block);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* B: idles with SIGCHLD blocked (other), or both blocked (same). */
static void *thread_b_main(void *arg)
{
	int same = *(int *)arg;

	block_only(SIGCHLD, SIGTERM);
	if (same)
		block_only(SIGTERM, SIGCHLD);
	for (int i = 0; i < 200 && !done; i++)
		sleep_ms(5);
	return NULL;
}

/*
 * The sender: process-directed signals, as kill(1) and child exits send
 * them, interleaved; then the byte A waits for.
 */
static void *sender_main(void *arg)
{
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (int i = 0; i < 6; i++) {
		sleep_ms(50);
		kill(getpid(), i % 2 ? SIGCHLD : SIGTERM);
	}
	sleep_ms(100);
	if (write(pair[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t sender;
	char byte;
	int same;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (strcmp(argv[1], "other") && strcmp(argv[1], "same"))) {
		fprintf(stderr, "usage: sig_threads other|same\n");
		return 2;
	}
	same = strcmp(argv[1], "same") == 0;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		return 2;
	install(SIGTERM, on_term);
	install(SIGCHLD, on_chld);
	thread_a = pthread_self();
	/* A blocks SIGTERM while B starts, so B inherits a mask it then sets. */
	block_only(SIGTERM, SIGCHLD);
	pthread_create(&thread_b, NULL, thread_b_main, &same);
	pthread_create(&sender, NULL, sender_main, NULL);
	if (same) {
		sigset_t term;
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	}
	long start = now_ms();
	ssize_t r = read(pair[0], &byte, 1);
	int err = r < 0 ? errno : 0;
	long elapsed = now_ms() - start;
	done = 1;
	pthread_join(sender, NULL);
	pthread_join(thread_b, NULL);
	printf("read rc=%zd errno=%s elapsed=%ld term_on_a=%d term_on_b=%d "
	       "chld_on_a=%d chld_elsewhere=%d\n", r,
	       err ? strerrorname_np(err) : "0", elapsed, (int)term_on_a,
	       (int)term_on_b, (int)chld_on_a, (int)chld_elsewhere);
	return 0;
}
