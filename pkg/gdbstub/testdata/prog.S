// A guest for the gdb tests, run by the fake target's interpreter: it uses
// only the instructions that interpreter implements (fake_cpu_test.go).
//
// It calls bump three times (counter 0 -> 3), starts a thread that spins
// in worker, spins itself at spin unless skipspin is set, forks (the
// child writes "child\n" and exits 0), then writes "parent\n" and exits 7.
	.text
	.globl	_start, bump, load_inc, after_store, worker, spin, spin_done, child
_start:
	.cfi_startproc
	.cfi_undefined x30		// the outermost frame
	adrp	x19, counter
	add	x19, x19, :lo12:counter
	movz	x20, #0
1:	bl	bump
	cmp	x20, #3
	b.ne	1b
	// clone(CLONE_VM|CLONE_THREAD, stack2_top): a thread spinning in worker.
	movz	x0, #0x100
	movk	x0, #1, lsl #16
	adrp	x1, stack2_top
	add	x1, x1, :lo12:stack2_top
	movz	x8, #220
	svc	#0
	cbz	x0, worker
	ldr	x3, [x19, #8]		// skipspin
	cbnz	x3, spin_done
spin:
	b	spin
spin_done:
	// fork: clone(SIGCHLD, 0)
	movz	x0, #17
	movz	x1, #0
	movz	x8, #220
	svc	#0
	cbz	x0, child
	adrp	x1, parent_msg
	add	x1, x1, :lo12:parent_msg
	movz	x2, #7
	bl	write_out
	movz	x0, #7
	movz	x8, #94			// exit_group
	svc	#0
	.cfi_endproc

child:
	adrp	x1, child_msg
	add	x1, x1, :lo12:child_msg
	movz	x2, #6
	bl	write_out
	movz	x0, #0
	movz	x8, #94
	svc	#0

// write_out writes x2 bytes at x1 to stdout.
write_out:
	movz	x0, #1
	movz	x8, #64
	svc	#0
	ret

// bump increments counter and x20, with a frame record.
bump:
	stp	x29, x30, [sp, #-16]!
	add	x29, sp, #0
	bl	load_inc
	str	x1, [x19]
after_store:
	add	x20, x20, #1
	ldp	x29, x30, [sp], #16
	ret

// load_inc returns counter + 1 in x1 (a leaf).
load_inc:
	ldr	x1, [x19]
	add	x1, x1, #1
	ret

worker:
	b	worker

	.data
	.balign	8
	.globl	counter, skipspin
counter:	.quad	0
skipspin:	.quad	0
parent_msg:	.ascii	"parent\n"
child_msg:	.ascii	"child\n"
	.balign	16
stack2:	.skip	1024
stack2_top:
