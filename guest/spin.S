/*
 * spin - generic timer: busy-wait 10 ms on CNTVCT_EL0 (no libc).
 *
 * Reads CNTFRQ_EL0 and CNTVCT_EL0, spins until CNTVCT_EL0 has advanced by
 * CNTFRQ_EL0/100 ticks (10 ms), then write(1, "spun 10ms\n", 10) and
 * exit_group(0). Makes no other system call.
 *
 * Expected output: "spun 10ms\n", exit status 0. The run takes >= 10 ms of
 * guest time; a frozen counter makes it spin forever (use a budget/timeout).
 */
	.text
	.globl	_start
	.type	_start, %function
_start:
	mrs	x1, cntfrq_el0
	mov	x2, #100
	udiv	x1, x1, x2		// x1 = ticks in 10 ms
	isb
	mrs	x3, cntvct_el0		// x3 = start
1:	isb
	mrs	x4, cntvct_el0
	sub	x4, x4, x3		// elapsed ticks (wraps correctly)
	cmp	x4, x1
	b.lo	1b

	mov	x0, #1			// fd
	adr	x1, msg			// buf
	mov	x2, #(msg_end - msg)	// count
	mov	x8, #64			// write
	svc	#0

	mov	x0, #0
	mov	x8, #94			// exit_group
	svc	#0
	b	.			// not reached
	.size	_start, . - _start

	.section .rodata
msg:	.ascii	"spun 10ms\n"
msg_end:

	.section .note.GNU-stack, "", %progbits
