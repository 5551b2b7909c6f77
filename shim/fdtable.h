/*
 * Per-descriptor state: one 32-bit word per fd in a flat array sized from
 * RLIMIT_NOFILE, updated with atomic bit operations and never locked.
 * Descriptors beyond the table (or before the constructor ran) read as 0,
 * "unknown", and are classified on the error path when needed.
 *
 * Every writer does nothing in a vfork child: the child's descriptors are
 * its own copies, but the table is its parent's memory.
 */
#ifndef SG_FDTABLE_H
#define SG_FDTABLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "state.h"

/* Everything declared here lives in the shim: direct, not through the GOT. */
#pragma GCC visibility push(hidden)

#define SG_FD_KNOWN	0x00000001u	/* the bits below were learnt */
#define SG_FD_SOCKET	0x00000002u
#define SG_FD_TCP	0x00000004u	/* SOCK_STREAM over AF_INET/AF_INET6 */
#define SG_FD_NONBLOCK	0x00000008u	/* O_NONBLOCK, as last seen */
#define SG_FD_WATCHED	0x00000010u	/* handed to poll/select/epoll_ctl */
#define SG_FD_SHIM	0x00000020u	/* owned by the shim (log, reserve) */
#define SG_FD_RCVTIMEO	0x00000040u	/* program set SO_RCVTIMEO != 0 */
#define SG_FD_SNDTIMEO	0x00000080u	/* program set SO_SNDTIMEO != 0 */
#define SG_FD_LISTEN	0x00000100u	/* listen() was called */
#define SG_FD_USER_KA	0x00000200u	/* program set SO_KEEPALIVE itself */
#define SG_FD_USER_UTO	0x00000400u	/* program set TCP_USER_TIMEOUT */
#define SG_FD_USER_SNDBUF 0x00000800u	/* program set SO_SNDBUF */
#define SG_FD_USER_RCVBUF 0x00001000u	/* program set SO_RCVBUF */
#define SG_FD_CONNECTING 0x00002000u	/* non-blocking connect in progress */
#define SG_FD_UDP	0x00004000u
#define SG_FD_UNIX	0x00008000u
/* bits 16..23: an errno held back after a partial write (0: none) */
#define SG_FD_PENDING_SHIFT 16
#define SG_FD_PENDING_MASK 0x00ff0000u
#define SG_FD_ASYNC	0x01000000u	/* O_ASYNC: signal-driven I/O, EAGAIN expected */
#define SG_FD_STREAM	0x02000000u	/* a stdio stream on a socket (fdopen) */
#define SG_FD_PEER	0x04000000u	/* a peer is remembered (sg_fd_remember_peer) */
/* bits 27..31: free */

extern uint32_t *sg_fdt;
extern unsigned sg_fdt_size;

/* A remembered peer: an IPv4 or IPv6 address; unix paths are not kept. */
struct sg_peer_slot {
	uint32_t len;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
};
extern struct sg_peer_slot *sg_peers;
extern unsigned sg_peers_size;


/* Sets the table up (constructor); safe to call once. */
void sg_fdtable_init(void);

static inline uint32_t sg_fd_get(int fd)
{
	if ((unsigned)fd >= sg_fdt_size)
		return 0;
	return __atomic_load_n(&sg_fdt[fd], __ATOMIC_RELAXED);
}

static inline int sg_fd_writable(int fd)
{
	return (unsigned)fd < sg_fdt_size && !sg_thread.vfork_child;
}

static inline void sg_fd_set_bits(int fd, uint32_t bits)
{
	if (sg_fd_writable(fd) &&
	    (__atomic_load_n(&sg_fdt[fd], __ATOMIC_RELAXED) & bits) != bits)
		__atomic_fetch_or(&sg_fdt[fd], bits, __ATOMIC_RELAXED);
}

static inline void sg_fd_clear_bits(int fd, uint32_t bits)
{
	if (sg_fd_writable(fd) &&
	    (__atomic_load_n(&sg_fdt[fd], __ATOMIC_RELAXED) & bits) != 0)
		__atomic_fetch_and(&sg_fdt[fd], ~bits, __ATOMIC_RELAXED);
}

static inline void sg_fd_store(int fd, uint32_t word)
{
	if (sg_fd_writable(fd))
		__atomic_store_n(&sg_fdt[fd], word, __ATOMIC_RELAXED);
}

/* The descriptor was closed (or is about to be reused): forget it. */
void sg_fd_forget(int fd);

/*
 * sg_fd_forget for a caller that read fd's word, not 0, in the table, and
 * knows that nothing else needs forgetting (close).  The peer slot is read
 * only under the word's SG_FD_PEER bit, so it needs no clearing.
 */
static inline void sg_fd_forget_word(int fd)
{
	__atomic_store_n(&sg_fdt[fd], 0, __ATOMIC_RELAXED);
}

/*
 * What the shim must do when the program closes fd, whose word is w (not
 * 0): the shim's own descriptors and stdio socket streams are let go by
 * their owners (fdops.c); everything else is forgotten here.
 */
#define SG_FD_LET_GO (SG_FD_SHIM | SG_FD_STREAM)
/* newfd is now a duplicate of oldfd (dup, dup2, dup3, F_DUPFD). */
void sg_fd_copy(int oldfd, int newfd);

/*
 * The state of fd with the KNOWN bits filled in by asking the kernel
 * (fstat, SO_TYPE, SO_DOMAIN, SO_RCVTIMEO, SO_SNDTIMEO, F_GETFL) if they
 * were not known yet.  Error paths only, and never in a quiet process
 * (then the word is returned as it is).
 */
uint32_t sg_fd_classify(int fd);

/* SG_FD_TCP, SG_FD_UDP, SG_FD_UNIX or 0 for a socket's domain and type. */
uint32_t sg_fd_socket_kind(int domain, int type);

/* The soft RLIMIT_NOFILE (1024 if it cannot be read). */
unsigned long sg_fd_soft_limit(void);

/*
 * The lowest number a shim-owned descriptor (log socket, accept reserve) may
 * take: 64 below the soft descriptor limit, capped at 1024 (and the table),
 * so that programs counting on low numbers, or on select(2)'s FD_SETSIZE,
 * never meet it; with a small limit, the top quarter of it.  Always below
 * the soft limit, where a freed descriptor is one accept() can use.
 */
int sg_fd_high_floor(void);

/* Pending error held back after a partial write. */
int sg_fd_take_pending(int fd);
void sg_fd_set_pending(int fd, int err);

/*
 * The peer a socket was connected to, remembered from connect()/sendto()/
 * accept() so that it can be logged after the connection is gone.
 * Async-signal-safe.  recall returns the length, 0 when none is known.
 */
void sg_fd_remember_peer(int fd, const struct sockaddr *sa, socklen_t len);

/*
 * Keeps the IPv4 or IPv6 address of len bytes at sa in slot: returns its
 * length, or 0 (nothing kept) for any other family or a length too short
 * for the family's address.  The family is read only where len says it is
 * there (a program may pass a buffer of a byte at the end of a mapping).
 */
static inline socklen_t sg_peer_keep(struct sg_peer_slot *slot,
				     const struct sockaddr *sa, socklen_t len)
{
	if (len < sizeof(struct sockaddr_in))
		return 0;
	if (sa->sa_family == AF_INET) {
		slot->a.in = *(const struct sockaddr_in *)sa;
		len = sizeof(struct sockaddr_in);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		slot->a.in6 = *(const struct sockaddr_in6 *)sa;
		len = sizeof(struct sockaddr_in6);
	} else {
		return 0;
	}
	__atomic_store_n(&slot->len, len, __ATOMIC_RELEASE);
	return len;
}

/*
 * sg_fd_remember_peer for a caller about to store the word itself (the
 * shim acting): returns SG_FD_PEER when the peer was kept, 0 otherwise.
 */
static inline uint32_t sg_fd_put_peer(int fd, const struct sockaddr *sa,
				      socklen_t len)
{
	if ((unsigned)fd >= sg_peers_size || sa == NULL)
		return 0;
	return sg_peer_keep(&sg_peers[fd], sa, len) ? SG_FD_PEER : 0;
}
socklen_t sg_fd_recall_peer(int fd, struct sockaddr_storage *ss);

/*
 * "The last operation was a send", for the eof class: a byte per fd, kept
 * only while some policy logs eof (SG_FAST_EOF).
 */
extern uint8_t *sg_fd_lastop;

static inline void sg_fd_note_lastop(int fd, uint8_t was_send)
{
	if ((sg_fast() & SG_FAST_EOF) && sg_fd_writable(fd))
		__atomic_store_n(&sg_fd_lastop[fd], was_send, __ATOMIC_RELAXED);
}

static inline int sg_fd_last_was_send(int fd)
{
	return (unsigned)fd < sg_fdt_size && (sg_fast() & SG_FAST_EOF) &&
	       __atomic_load_n(&sg_fd_lastop[fd], __ATOMIC_RELAXED);
}

/* Zeroed, private, anonymous memory that is never swapped in unless used. */
void *sg_map_zeroed(size_t bytes);

/*
 * close_range(2) made through syscall(2) (fdops.c): how a musl program,
 * whose libc has no close_range function, or one built for an older glibc
 * closes a range.  The table follows it as it follows close_range().
 */
long sg_close_range_syscall(unsigned lo, unsigned hi, unsigned flags);

#pragma GCC visibility pop

#endif
