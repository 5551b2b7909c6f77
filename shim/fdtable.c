/*
 * The per-descriptor state table.  See fdtable.h.
 *
 * The arrays are anonymous mappings sized from the hard RLIMIT_NOFILE (capped),
 * so untouched entries cost no memory.  They are inherited by fork(), which
 * is right: so are the descriptors they describe.
 */
#include "fdtable.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "../policy/rawsys.h"

#define SG_FDT_CAP (1u << 20)	/* larger limits: the rest is "unknown" */
/*
 * Remembered peers are kept for the first 64 Ki descriptors only: 2 MiB of
 * address space rather than 32, which matters where overcommit is strict
 * (MAP_NORESERVE is then ignored) and every process on a host preloads us.
 */
#define SG_PEERS_CAP (1u << 16)


uint32_t *sg_fdt;
unsigned sg_fdt_size;
uint8_t *sg_fd_lastop;
struct sg_peer_slot *sg_peers;
unsigned sg_peers_size;
#define peers sg_peers
#define peers_size sg_peers_size

void *sg_map_zeroed(size_t bytes)
{
	long p = sg_sys6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p < 0 && p > -4096 ? NULL : (void *)p;
}

static int nofile_limit(struct rlimit *rl)
{
	return sg_sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, rl) == 0 ? 0 : -1;
}

void sg_fdtable_init(void)
{
	struct rlimit rl;
	unsigned n = 65536;

	if (sg_fdt)
		return;
	if (nofile_limit(&rl) == 0) {
		rlim_t want = rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur;
		n = want > SG_FDT_CAP ? SG_FDT_CAP : (unsigned)want;
	}
	if (n < 1024)
		n = 1024;
	unsigned np = n < SG_PEERS_CAP ? n : SG_PEERS_CAP;
	uint32_t *t = sg_map_zeroed((size_t)n * sizeof(*t));
	struct sg_peer_slot *p = sg_map_zeroed((size_t)np * sizeof(*p));
	uint8_t *l = sg_map_zeroed(n);
	if (!t || !p || !l)
		return;	/* no table: every descriptor stays "unknown" */
	peers = p;
	peers_size = np;
	sg_fd_lastop = l;
	sg_fdt = t;
	__atomic_store_n(&sg_fdt_size, n, __ATOMIC_RELEASE);
}

void sg_fd_forget(int fd)
{
	if (!sg_fd_writable(fd))
		return;
	uint32_t w = __atomic_load_n(&sg_fdt[fd], __ATOMIC_RELAXED);
	/* The peer slot is read only under the word's SG_FD_PEER bit. */
	if (w)
		__atomic_store_n(&sg_fdt[fd], 0, __ATOMIC_RELAXED);
	sg_fd_note_lastop(fd, 0);
}

void sg_fd_copy(int oldfd, int newfd)
{
	if (!sg_fd_writable(newfd))
		return;
	if ((unsigned)oldfd >= sg_fdt_size) {
		sg_fd_forget(newfd);
		return;
	}
	/* A duplicate shares the open file, not the shim's own bookkeeping. */
	uint32_t keep = ~(SG_FD_SHIM | SG_FD_STREAM | SG_FD_PENDING_MASK |
			  SG_FD_CONNECTING);
	uint32_t w = sg_fd_get(oldfd) & keep;
	if (!((unsigned)oldfd < peers_size && (unsigned)newfd < peers_size))
		w &= ~SG_FD_PEER;
	else if (w & SG_FD_PEER)
		peers[newfd] = peers[oldfd];
	sg_fd_store(newfd, w);
}

static int sock_int(int fd, int name, int *v)
{
	socklen_t len = sizeof(*v);
	return (int)sg_sys5(SYS_getsockopt, fd, SOL_SOCKET, name, v, &len);
}

/* SO_RCVTIMEO/SO_SNDTIMEO set before the shim saw the socket (exec, SCM_RIGHTS). */
static uint32_t timeout_bit(int fd, int name, uint32_t bit)
{
	long tv[2] = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (sg_sys5(SYS_getsockopt, fd, SOL_SOCKET, name, tv, &len) == 0 &&
	    (tv[0] || tv[1]))
		return bit;
	return 0;
}

static uint32_t socket_bits(int fd)
{
	int type = 0, domain = 0;

	if (sock_int(fd, SO_TYPE, &type) < 0 || sock_int(fd, SO_DOMAIN, &domain) < 0)
		return SG_FD_SOCKET;
	uint32_t bits = SG_FD_SOCKET | sg_fd_socket_kind(domain, type) |
			timeout_bit(fd, SO_RCVTIMEO, SG_FD_RCVTIMEO) |
			timeout_bit(fd, SO_SNDTIMEO, SG_FD_SNDTIMEO);
	if (bits & (SG_FD_RCVTIMEO | SG_FD_SNDTIMEO))
		sg_fast_set(SG_FAST_TIMEO, 1);
	return bits;
}

static int is_socket(int fd)
{
	struct stat sb;
#ifdef SYS_fstat
	long r = sg_sys2(SYS_fstat, fd, &sb);
#else
	long r = sg_sys4(SYS_newfstatat, fd, "", &sb, AT_EMPTY_PATH);
#endif
	return r == 0 && S_ISSOCK(sb.st_mode);
}

uint32_t sg_fd_classify(int fd)
{
	uint32_t st = sg_fd_get(fd);

	if ((st & SG_FD_KNOWN) || !sg_own_syscalls_allowed())
		return st;
	long fl = sg_sys2(SYS_fcntl, fd, F_GETFL);
	if (fl < 0)
		return st;	/* not open: nothing to remember */
	uint32_t bits = SG_FD_KNOWN;
	if (is_socket(fd))
		bits |= socket_bits(fd);
	if (fl & O_NONBLOCK)
		bits |= SG_FD_NONBLOCK;
	if (fl & O_ASYNC)
		bits |= SG_FD_ASYNC;
	sg_fd_set_bits(fd, bits);
	return st | bits;
}

uint32_t sg_fd_socket_kind(int domain, int type)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain == AF_UNIX)
		return SG_FD_UNIX;
	if (domain != AF_INET && domain != AF_INET6)
		return 0;
	if (base == SOCK_STREAM)
		return SG_FD_TCP;
	return base == SOCK_DGRAM ? SG_FD_UDP : 0;
}

unsigned long sg_fd_soft_limit(void)
{
	struct rlimit rl;
	return nofile_limit(&rl) == 0 ? rl.rlim_cur : 1024;
}

int sg_fd_high_floor(void)
{
	unsigned long hi = sg_fd_soft_limit();

	if (hi > 1024)
		hi = 1024;
	if (sg_fdt_size && sg_fdt_size < hi)
		hi = sg_fdt_size;
	return (int)(hi > 256 ? hi - 64 : hi * 3 / 4);
}

int sg_fd_take_pending(int fd)
{
	uint32_t st = sg_fd_get(fd);
	if (!(st & SG_FD_PENDING_MASK))
		return 0;
	sg_fd_clear_bits(fd, SG_FD_PENDING_MASK);
	return (int)((st & SG_FD_PENDING_MASK) >> SG_FD_PENDING_SHIFT);
}

void sg_fd_set_pending(int fd, int err)
{
	if (err <= 0 || err > 255)
		return;
	sg_fd_clear_bits(fd, SG_FD_PENDING_MASK);
	sg_fd_set_bits(fd, (uint32_t)err << SG_FD_PENDING_SHIFT);
}

void sg_fd_remember_peer(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (sg_fd_writable(fd) && sg_fd_put_peer(fd, sa, len))
		sg_fd_set_bits(fd, SG_FD_PEER);
}

socklen_t sg_fd_recall_peer(int fd, struct sockaddr_storage *ss)
{
	if ((unsigned)fd >= peers_size || !(sg_fd_get(fd) & SG_FD_PEER))
		return 0;
	uint32_t len = __atomic_load_n(&peers[fd].len, __ATOMIC_ACQUIRE);
	if (len == 0 || len > sizeof(peers[fd].a))
		return 0;
	memcpy(ss, &peers[fd].a, len);
	return len;
}
