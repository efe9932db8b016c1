/*
 * getpid_loop - system call round trip benchmark (no libc).
 *
 * Usage: getpid_loop [N]
 * Performs N getpid system calls (x8=172), N being argv[1] parsed as an
 * unsigned decimal number (parsing stops at the first non-digit; a missing
 * argv[1] or one that starts with a non-digit means the default, 1000000),
 * then exit_group(0) (x8=94). Makes no other system call.
 *
 * Expected output: none; exit status 0. Under sissim the kernel sees exactly
 * N getpid calls and one exit_group.
 */
	.text
	.globl	_start
	.type	_start, %function
_start:
	ldr	x9, =1000000		// default N
	ldr	x0, [sp]		// argc
	cmp	x0, #2
	b.lo	2f
	ldr	x1, [sp, #16]		// argv[1]
	ldrb	w2, [x1]
	sub	w2, w2, #'0'
	cmp	w2, #9
	b.hi	2f			// not a digit: keep the default
	mov	x9, #0
	mov	x3, #10
1:	ldrb	w2, [x1], #1
	sub	w2, w2, #'0'
	cmp	w2, #9
	b.hi	2f
	madd	x9, x9, x3, x2		// N = N*10 + digit
	b	1b

2:	cbz	x9, 4f
	mov	x8, #172		// getpid
3:	svc	#0
	subs	x9, x9, #1
	b.ne	3b

4:	mov	x0, #0
	mov	x8, #94			// exit_group
	svc	#0
	b	.			// not reached
	.size	_start, . - _start

	.section .note.GNU-stack, "", %progbits
