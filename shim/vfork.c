/*
 * vfork(2) and clone(2) with CLONE_VM|CLONE_VFORK: a child that runs on its
 * parent's memory until it execs or exits.  Whatever such a child does
 * through the shim (CPython's subprocess resets every signal handler and
 * calls close_range in it) must leave the parent's shim state as it was, so
 * the child's thread is marked and every wrapper in it passes straight
 * through to libc.
 *
 * The mark lives in thread-local storage: the child runs with its parent
 * thread's thread pointer, so it sees the mark (sg_thread.vfork_child), and the parent thread, the
 * only one that shares it, is suspended until the child is gone.  Other
 * threads of the parent are unaffected.  No system call is added: the mark
 * is one store before the vfork and one after it in the parent.
 *
 * vfork itself cannot be wrapped by a C function: the child would return
 * through the wrapper's frame and the parent would then resume in a frame
 * the child has overwritten.  Like libc's own vfork, the x86-64 version
 * below keeps its return address in a register across the system call.
 * Elsewhere vfork is left to libc, and a vfork child there is not
 * recognised (see docs/DESIGN.md).
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>

#include "real.h"
#include "shim.h"
#include "state.h"

#if defined(__x86_64__)

/* The assembly below addresses the mark as %fs:(&sg_thread) + 8. */
_Static_assert(offsetof(struct sg_thread, vfork_child) == 8,
	       "vfork.c's assembly knows where the mark is");

/* The error path of the vfork below: errno from -r, -1 for the caller. */
__attribute__((used)) static long vfork_failed(long r)
{
	errno = (int)-r;
	return -1;
}

/*
 * %rdx: return address, %esi: the thread's previous mark (a vfork child
 * may itself vfork), both preserved by the syscall instruction, which
 * clobbers only %rcx, %r11 and %rax.
 */
__asm__(
	".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	popq %rdx\n"
	"	movq sg_thread@gottpoff(%rip), %rcx\n"
	"	movl %fs:8(%rcx), %esi\n"
	"	movl $1, %fs:8(%rcx)\n"
	"	movl $58, %eax\n"	/* SYS_vfork */
	"	syscall\n"
	"	pushq %rdx\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"		/* the child keeps the mark */
	"	movq sg_thread@gottpoff(%rip), %rcx\n"
	"	movl %esi, %fs:8(%rcx)\n"	/* the parent, resumed */
	"	cmpq $-4095, %rax\n"
	"	jae 2f\n"
	"1:	ret\n"
	"2:	movq %rax, %rdi\n"
	"	jmp vfork_failed\n"
	".size vfork, .-vfork\n");

#endif

/*
 * clone(2) with CLONE_VM|CLONE_VFORK and the parent's thread pointer: the
 * same situation as vfork.  The child's function is called through a
 * trampoline that marks the thread first; its address and argument travel
 * at the top of the child's own stack.
 */
struct clone_call {
	int (*fn)(void *);
	void *arg;
};

static int clone_trampoline(void *p)
{
	struct clone_call *call = p;

	sg_thread.vfork_child = 1;
	return call->fn(call->arg);
}

static int marks_child(int flags, void *stack)
{
	return (flags & (CLONE_VM | CLONE_VFORK)) == (CLONE_VM | CLONE_VFORK) &&
	       !(flags & (CLONE_THREAD | CLONE_SETTLS)) && stack != NULL;
}

SG_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);

	if (!marks_child(flags, stack))
		return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	uintptr_t top = ((uintptr_t)stack - sizeof(struct clone_call)) & ~(uintptr_t)15;
	struct clone_call *call = (struct clone_call *)top;
	call->fn = fn;
	call->arg = arg;
	int before = sg_thread.vfork_child;
	int r = REAL(clone)(clone_trampoline, call, flags, call, ptid, tls, ctid);
	int saved = errno;
	sg_thread.vfork_child = before;
	errno = saved;
	return r;
}
