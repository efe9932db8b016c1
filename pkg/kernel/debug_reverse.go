package kernel

import "github.com/sis-kernel/sissim/pkg/gdbstub"

// recording is the history of a reverse-debugging session.
type recording struct{}

func (r *recording) kernelPoint() bool { return false }
func (r *recording) interrupt()        {}

func (d *debugger) replayTarget(t *Task) (uint64, bool)                          { return 0, false }
func (d *debugger) replayReached(t *Task, pos uint64) *gdbstub.StopEvent         { return nil }
func (d *debugger) collectBreak(t *Task, pos uint64) bool                        { return false }
func (d *debugger) collectWatch(t *Task, pos uint64, ev *gdbstub.StopEvent) bool { return false }
func (d *debugger) signalPoint()                                                 {}
func (d *debugger) recordWrite()                                                 {}
func (d *debugger) recordResume(r gdbstub.Resume)                                {}
func (d *debugger) recordKill(pid int)                                           {}
func (d *debugger) reverse(r gdbstub.Resume) error                               { return gdbstub.ErrUnsupported }
