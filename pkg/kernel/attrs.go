package kernel

// Attributes of processes and threads kept by the system calls of
// credentials, priorities, timers, terminals and blocking opens (sys_cred.go,
// sys_sched.go, sys_timer.go, sys_fifo.go); Process and Task embed them.

// procAttrs are per-process attributes.
type procAttrs struct {
}

// taskAttrs are per-thread attributes.
type taskAttrs struct {
	// fifoWait is the FIFO open the thread waits in; blockUndo undoes it
	// when the call is abandoned (sys_fifo.go).
	fifoWait  *fifoWait
	blockUndo func()
}
