package gdbstub

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func cbz(rt uint32, off int32) uint32 { return 0xb4000000 | (uint32(off/4)&0x7ffff)<<5 | rt }
func adr(rd uint32, off int32) uint32 {
	return 0x10000000 | (uint32(off)&3)<<29 | (uint32(off>>2)&0x7ffff)<<5 | rd
}

// forkProgram forks (or vforks); the parent exits 1, the child 2.
func forkProgram(flags uint32) (*fakeMachine, *fakeProc) {
	return newProgram(
		movz(0, flags),        // 0x400000
		movz(8, sysClone),     // 0x400004
		svc(),                 // 0x400008
		cbz(0, 16),            // 0x40000c: the child goes to 0x40001c
		movz(0, 1),            // 0x400010: parent
		movz(8, sysExitGroup), // 0x400014
		svc(),                 // 0x400018
		movz(0, 2),            // 0x40001c: child
		movz(8, sysExitGroup), // 0x400020
		svc(),                 // 0x400024
	)
}

const sigchld = 17

func TestForkFollowParent(t *testing.T) {
	m, _ := forkProgram(sigchld)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("Z0,400010,4"))
	require.Equal(t, "T05fork:p65.65;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "mp64.64,p65.65", c.cmd("qfThreadInfo"))
	require.Equal(t, le64(0x65), c.cmd("p0"), "fork returned the child's PID")
	require.Equal(t, "OK", c.cmd("Hgp65.65"))
	require.Equal(t, le64(0), c.cmd("p0"))
	// gdb removes the parent's breakpoints from the child: they were never
	// there, which is fine.
	require.Equal(t, "OK", c.cmd("z0,400010,4"))
	require.Equal(t, "OK", c.cmd("D;65"))
	require.Equal(t, "mp64.64", c.cmd("qfThreadInfo"))
	require.Equal(t, "OK", c.cmd("Hgp64.64"))
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "OK", c.cmd("z0,400010,4"))
	require.Equal(t, "W01;process:64", c.cmd("vCont;c"))
}

func TestForkFollowChild(t *testing.T) {
	m, _ := forkProgram(sigchld)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "T05fork:p65.65;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "OK", c.cmd("D;64"))
	require.Equal(t, "OK", c.cmd("Hgp65.65"))
	require.Equal(t, "OK", c.cmd("Z0,40001c,4"))
	require.Equal(t, "T05swbreak:;thread:p65.65;", c.cmd("vCont;c:p65.-1"))
	require.Equal(t, "OK", c.cmd("z0,40001c,4"))
	require.Equal(t, "W02;process:65", c.cmd("vCont;c:p65.-1"))
}

func TestForkBothDebugged(t *testing.T) {
	m, _ := forkProgram(sigchld)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "T05fork:p65.65;thread:p64.64;", c.cmd("vCont;c"))
	// Only the parent's process resumes (schedule-multiple off): the
	// child stays held.
	require.Equal(t, "W01;process:64", c.cmd("vCont;c:p64.-1"))
	require.Equal(t, "mp65.65", c.cmd("qfThreadInfo"))
	require.Equal(t, "W02;process:65", c.cmd("vCont;c"))
}

func TestForkWithoutEvents(t *testing.T) {
	m, _ := forkProgram(sigchld)
	c := connect(t, m, "multiprocess+;swbreak+")
	// The child is not debugged: it runs on its own and is never reported.
	require.Equal(t, "W01;process:64", c.cmd("vCont;c"))
	// With nothing left to debug, the machine runs the child to its end.
	<-m.freeDone
	require.Empty(t, m.procs)
}

func TestVFork(t *testing.T) {
	m, _ := forkProgram(cloneVM | cloneVfork | sigchld)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "T05vfork:p65.65;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "OK", c.cmd("D;65"))
	// The parent waits until the child exits, then reports vforkdone.
	require.Equal(t, "T05vforkdone:;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "W01;process:64", c.cmd("vCont;c"))
}

// tinyELF builds a static AArch64 executable: one PT_LOAD at base with the
// ELF header, the program header and code, entered at the code.
func tinyELF(base uint64, code ...uint32) []byte {
	const ehsize, phsize = 64, 56
	img := make([]byte, ehsize+phsize+4*len(code))
	copy(img, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le := binary.LittleEndian
	le.PutUint16(img[16:], 2)                  // ET_EXEC
	le.PutUint16(img[18:], 183)                // EM_AARCH64
	le.PutUint32(img[20:], 1)                  // EV_CURRENT
	le.PutUint64(img[24:], base+ehsize+phsize) // e_entry
	le.PutUint64(img[32:], ehsize)             // e_phoff
	le.PutUint16(img[52:], ehsize)             // e_ehsize
	le.PutUint16(img[54:], phsize)             // e_phentsize
	le.PutUint16(img[56:], 1)                  // e_phnum
	ph := img[ehsize:]
	le.PutUint32(ph[0:], 1)                 // PT_LOAD
	le.PutUint32(ph[4:], 5)                 // PF_R|PF_X
	le.PutUint64(ph[16:], base)             // p_vaddr
	le.PutUint64(ph[24:], base)             // p_paddr
	le.PutUint64(ph[32:], uint64(len(img))) // p_filesz
	le.PutUint64(ph[40:], uint64(len(img))) // p_memsz
	le.PutUint64(ph[48:], 0x1000)           // p_align
	for i, w := range code {
		le.PutUint32(img[ehsize+phsize+4*i:], w)
	}
	return img
}

func TestExec(t *testing.T) {
	path := "/bin/other"
	code := []uint32{
		adr(0, 16),         // 0x400000: x0 = the path at 0x400010
		movz(8, sysExecve), // 0x400004
		svc(),              // 0x400008
		brk(0),             // 0x40000c: not reached
	}
	m, p := newProgram(code...)
	p.loadCode(codeAddr+16, 0x6e69622f, 0x68746f2f, 0x00007265) // "/bin/other"
	m.programs[path] = tinyELF(0x500000, exitCode(5)...)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("Z0,40000c,4"))
	require.Equal(t, fmt.Sprintf("T05exec:%s;thread:p64.64;", hex.EncodeToString([]byte(path))), c.cmd("vCont;c"))
	require.Equal(t, uint64(0x500000+120), c.regPC(), "stopped at the new entry")
	require.Equal(t, "l"+path, c.cmd("qXfer:exec-file:read:64:0,100"))
	// The old image's breakpoint is gone with it.
	require.Equal(t, "OK", c.cmd("z0,40000c,4"))
	require.Empty(t, p.breaks)
	require.Equal(t, "W05;process:64", c.cmd("vCont;c"))
}

func TestSyscallCatch(t *testing.T) {
	m, _ := newProgram(
		movz(8, sysGetpid), // 0x400000
		svc(),              // 0x400004
		movz(0, 9),
		movz(8, sysExitGroup),
		svc(),
	)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("QCatchSyscalls:1"))
	require.Equal(t, "T05syscall_entry:ac;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, uint64(codeAddr+4), c.regPC())
	require.Equal(t, "T05syscall_return:ac;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, le64(0x64), c.cmd("p0"))
	require.Equal(t, "OK", c.cmd("QCatchSyscalls:1;5e"))
	require.Equal(t, []int{0x5e}, m.opts.Syscalls)
	require.Equal(t, "T05syscall_entry:5e;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "OK", c.cmd("QCatchSyscalls:0"))
	require.Equal(t, "W09;process:64", c.cmd("vCont;c"))
	require.Equal(t, "E01", c.cmd("QCatchSyscalls:2"))
	require.Equal(t, "E01", c.cmd("QCatchSyscalls:1;zz"))
}

func TestReverse(t *testing.T) {
	m, p := newProgram(
		movz(1, 1),      // 0x400000
		str64(1, 19, 0), // 0x400004
		movz(1, 2),      // 0x400008
		str64(1, 19, 0), // 0x40000c
		movz(1, 3),      // 0x400010
		b(0),            // 0x400014
	)
	mem := func() string { return c64(t, p, dataAddr) }
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("Z0,400014,4"))
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("c"))
	require.Equal(t, "2", mem())

	// reverse-stepi over a store restores the old value.
	require.Equal(t, "T05thread:p64.64;", c.cmd("bs"))
	require.Equal(t, uint64(0x400010), c.regPC())
	require.Equal(t, le64(2), c.cmd("p1"))
	require.Equal(t, "T05thread:p64.64;", c.cmd("bs"))
	require.Equal(t, uint64(0x40000c), c.regPC())
	require.Equal(t, "1", mem())

	// reverse-continue to a watchpoint stops before the store is undone;
	// gdb then steps back over it.
	require.Equal(t, "OK", c.cmd("Z2,410000,8"))
	require.Equal(t, "T05watch:410000;thread:p64.64;", c.cmd("bc"))
	require.Equal(t, uint64(0x400008), c.regPC())
	require.Equal(t, "1", mem())
	require.Equal(t, "OK", c.cmd("z2,410000,8"))
	require.Equal(t, "T05thread:p64.64;", c.cmd("bs"))
	require.Equal(t, uint64(0x400004), c.regPC())
	require.Equal(t, "0", mem())

	require.Equal(t, "T05replaylog:begin;thread:p64.64;", c.cmd("bc"))
	require.Equal(t, uint64(codeAddr), c.regPC())

	// Forward again reproduces the run; a breakpoint stops a reverse
	// continue too.
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("c"))
	require.Equal(t, "2", mem())
	require.Equal(t, "OK", c.cmd("Z0,400008,4"))
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("bc"))
	require.Equal(t, uint64(0x400008), c.regPC())
	require.Equal(t, "1", mem())
	require.Equal(t, "", c.cmd("bx"))
}

// A target that cannot go back says why in console output before the
// error reply (gdb prints it).
func TestReverseRefused(t *testing.T) {
	m, _ := newProgram(movz(1, 1), b(0))
	m.revErr = errors.New("reverse execution is off: too many recorded changes")
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	c.send("bs")
	require.Equal(t, "O"+hex.EncodeToString([]byte("reverse execution is off: too many recorded changes\n")), c.recv())
	require.Equal(t, "E03", c.recv())
}

func c64(t *testing.T, p *fakeProc, addr uint64) string {
	t.Helper()
	v, err := p.mem.u64(addr)
	require.NoError(t, err)
	return fmt.Sprint(v)
}

func TestResumeMatchingNothing(t *testing.T) {
	m, _ := newProgram(b(0))
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "E02", c.cmd("vCont;c:p99.-1"))
	require.Equal(t, "E02", c.cmd("vCont;t"))
	require.Equal(t, "E02", c.cmd("vCont;c:p99.-1"))
	require.Equal(t, "", c.cmd("vCont;r400000,400004"), "range stepping is not supported")
	require.Equal(t, "", c.cmd("vCont;x"))
	require.Equal(t, "E01", c.cmd("vCont"))
	require.Equal(t, "E01", c.cmd("vCont;"))
	require.Equal(t, "E01", c.cmd("vCont;cc"))
}
