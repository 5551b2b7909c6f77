/*
 * Reading /proc for `sockguard tune` and `sockguard audit`: what a process
 * is (alive, zombie, kernel thread, in another PID namespace), its inet
 * sockets (/proc/PID/net/{tcp,tcp6,udp,udp6} matched with the socket:[INODE]
 * links of /proc/PID/fd), and the processes of a systemd unit (its cgroup v2
 * directory's cgroup.procs).
 */
#ifndef SG_PROC_H
#define SG_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* What /proc/PID/stat and /proc/PID/status say about a process. */
struct sg_proc {
	pid_t pid;
	char comm[32];		/* as the kernel keeps it: any byte but NUL */
	char state;		/* 'R', 'S', 'Z', ... */
	int kthread;		/* a kernel thread (PF_KTHREAD) */
	pid_t nspid;		/* its pid in its own PID namespace, when that
				   is not ours; 0 otherwise */
};

/*
 * Fills p.  Returns 0, -ESRCH when there is no such process (or it is gone),
 * or another -errno.
 */
int sg_proc_read(pid_t pid, struct sg_proc *p);

/*
 * Why nothing can be done with this process: "is a zombie: ...", "is a
 * kernel thread: ...", or NULL when it is an ordinary live process.
 */
const char *sg_proc_unusable(const struct sg_proc *p);

/* A sentence for an -errno met while looking at a process. */
const char *sg_proc_strerror(int err);

/* One inet socket of a network namespace (a line of /proc/PID/net/tcp). */
struct sg_inet_sock {
	uint64_t inode;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t state;		/* TCP state number (1 = ESTABLISHED, 10 = LISTEN) */
	struct sockaddr_storage local, peer;
};

/* The inet sockets of one network namespace, sorted by inode. */
struct sg_sock_table {
	struct sg_inet_sock *v;
	size_t n;
};

/*
 * Reads the TCP (and, with udp set, UDP) sockets of pid's network namespace.
 * Returns 0 or -errno.
 */
int sg_sock_table_read(pid_t pid, int udp, struct sg_sock_table *t);
const struct sg_inet_sock *sg_sock_table_find(const struct sg_sock_table *t,
					      uint64_t inode);
void sg_sock_table_free(struct sg_sock_table *t);

/*
 * Calls fn for every descriptor of pid with the target of its
 * /proc/PID/fd link ("socket:[1234]", "anon_inode:[io_uring]", a path).  A
 * non-zero return from fn stops the walk and is returned.  Returns 0, or
 * -errno when the descriptors cannot be listed (-EACCES without the right
 * to look, -ESRCH when the process is gone).
 */
int sg_proc_each_fd(pid_t pid, int (*fn)(void *ctx, int fd, const char *link),
		    void *ctx);

/* The inode of a "socket:[INODE]" link target; 0 or -1. */
int sg_fd_socket_inode(const char *link, uint64_t *inode);

/* "10.0.0.1:80", "[2001:db8::1]:443" or "*" for an unset address. */
void sg_format_sockaddr(const struct sockaddr_storage *ss, char *buf,
			size_t len);
/* "ESTABLISHED", "LISTEN", ... for a TCP state number of tcp_states.h. */
const char *sg_tcp_state_name(int state);

/*
 * The processes of a systemd unit: every pid in cgroup.procs of the unit's
 * cgroup v2 directory and the directories below it.  A unit name without a
 * type suffix means UNIT.service, as for systemctl(1).  Returns 0 with a
 * malloc'ed array (possibly empty), or -1 with the reason in why.
 */
int sg_unit_pids(const char *unit, pid_t **pids, size_t *n, char *why,
		 size_t whylen);

#endif
