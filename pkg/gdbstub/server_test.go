package gdbstub

import (
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/stretchr/testify/require"
)

const gdbFeatures = "multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+;vContSupported+;QThreadEvents+;no-resumed+;xmlRegisters=i386"

func TestSupported(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	feats := strings.Split(c.cmd("qSupported:"+gdbFeatures), ";")
	for _, f := range []string{"PacketSize=4000", "QStartNoAckMode+", "multiprocess+", "swbreak+", "hwbreak+",
		"qXfer:features:read+", "qXfer:threads:read+", "qXfer:exec-file:read+", "qXfer:auxv:read+",
		"qXfer:libraries-svr4:read+", "qXfer:memory-map:read+", "qXfer:siginfo:read+", "vContSupported+", "fork-events+",
		"vfork-events+", "exec-events+", "QPassSignals+", "QCatchSyscalls+", "ReverseStep+", "ReverseContinue+"} {
		require.Contains(t, feats, f)
	}
	require.True(t, m.opts.ForkEvents && m.opts.VForkEvents && m.opts.ExecEvents)
}

func TestSupportedWithoutCapabilities(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	m.caps = Capabilities{}
	c := dial(t, m)
	reply := c.cmd("qSupported:" + gdbFeatures)
	for _, f := range []string{"fork-events", "vfork-events", "exec-events", "Reverse", "QCatchSyscalls"} {
		require.NotContains(t, reply, f)
	}
	require.Equal(t, "", c.cmd("bs"), "reverse step without the capability")
	require.Equal(t, "", c.cmd("QCatchSyscalls:1"))
	require.False(t, m.opts.ForkEvents)

	// Events the debugger did not ask for are not enabled either.
	m2, _ := newProgram(exitCode(0)...)
	c2 := dial(t, m2)
	require.NotContains(t, c2.cmd("qSupported:multiprocess+"), "fork-events")
	require.False(t, m2.opts.ForkEvents)
}

func TestSupportedMinimalTarget(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	var tgt Target = struct{ Target }{m}
	srvConn, cliConn := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- (&Server{Target: tgt}).ServeConn(srvConn) }()
	c := &client{t: t, conn: cliConn, r: newReader(cliConn)}
	reply := c.cmd("qSupported:multiprocess+")
	for _, f := range []string{"exec-file", "auxv", "libraries-svr4", "memory-map", "siginfo"} {
		require.NotContains(t, reply, f)
	}
	require.Equal(t, "", c.cmd("qXfer:auxv:read::0,100"))
	require.Equal(t, "", c.cmd("qXfer:siginfo:read::0,80"))
	require.Equal(t, "", c.cmd("vFile:open:2f,0,0"))
	cliConn.Close()
	require.NoError(t, <-done)
}

func TestNoAckMode(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("Hg0"))
	// In no-ack mode a bad checksum is processed anyway, as gdbserver does.
	_, err := c.conn.Write([]byte("$Hg0#00"))
	require.NoError(t, err)
	require.Equal(t, "OK", c.recv())
}

func TestAckRetransmit(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	// A bad checksum is refused with '-'.
	_, err := c.conn.Write([]byte("$Hg0#00"))
	require.NoError(t, err)
	b, err := c.r.ReadByte()
	require.NoError(t, err)
	require.Equal(t, byte('-'), b)
	// A reply rejected with '-' is sent again.
	c.send("Hg0")
	first := readRawPacket(t, c)
	_, err = c.conn.Write([]byte("-"))
	require.NoError(t, err)
	second := readRawPacket(t, c)
	require.Equal(t, first, second)
	_, err = c.conn.Write([]byte("+"))
	require.NoError(t, err)
	require.Equal(t, "OK", c.cmd("Hc-1"))
}

func readRawPacket(t *testing.T, c *client) string {
	t.Helper()
	s, err := c.r.ReadString('#')
	require.NoError(t, err)
	var cs [2]byte
	_, err = io.ReadFull(c.r, cs[:])
	require.NoError(t, err)
	return s + string(cs[:])
}

func TestRegisters(t *testing.T) {
	m, p := newProgram(exitCode(0)...)
	th := p.threads[0]
	th.regs.X[0] = 0x1122334455667788
	th.regs.X[30] = 0xabc
	th.regs.CPSR = 0x60000000
	th.regs.V[1][0] = 0x5a
	th.regs.V[31][15] = 0xa5
	th.regs.FPSR = 0x10
	th.regs.FPCR = 0x20
	c := connect(t, m, gdbFeatures)
	g := c.cmd("g")
	require.Len(t, g, 2*regsSize)
	require.Equal(t, le64(0x1122334455667788), g[:16])
	require.Equal(t, le64(0xabc), c.cmd("p1e"))
	require.Equal(t, le64(codeAddr), c.cmd("p20"))
	require.Equal(t, "00000060", c.cmd("p21"))
	require.Equal(t, "5a"+strings.Repeat("00", 15), c.cmd("p23"))
	require.Equal(t, strings.Repeat("00", 15)+"a5", c.cmd("p41"))
	require.Equal(t, "10000000", c.cmd("p42"))
	require.Equal(t, "20000000", c.cmd("p43"))
	require.Equal(t, "E01", c.cmd("p44"))
	require.Equal(t, "E01", c.cmd("pzz"))

	require.Equal(t, "OK", c.cmd("P0="+le64(42)))
	require.Equal(t, uint64(42), th.regs.X[0])
	require.Equal(t, "E01", c.cmd("P0=01"), "a value of the wrong size")
	require.Equal(t, "OK", c.cmd("P21=00000080"))
	require.Equal(t, uint32(0x80000000), th.regs.CPSR)

	// G writes everything back; a wrong length is refused.
	g2 := le64(7) + g[16:]
	require.Equal(t, "OK", c.cmd("G"+g2))
	require.Equal(t, uint64(7), th.regs.X[0])
	require.Equal(t, uint32(0x60000000), th.regs.CPSR)
	require.Equal(t, "E01", c.cmd("G00"))
	require.Equal(t, "E01", c.cmd("Gzz"))
}

func TestMemory(t *testing.T) {
	m, p := newProgram(exitCode(0)...)
	p.mem.mapRange(dataAddr, 3*fakePageSize)
	require.NoError(t, p.mem.write(dataAddr, []byte{1, 2, 3, 4}))
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "01020304", c.cmd(fmt.Sprintf("m%x,4", dataAddr)))
	// A read running off the mapping returns what is readable.
	end := uint64(dataAddr + 3*fakePageSize - 2)
	require.Equal(t, "0000", c.cmd(fmt.Sprintf("m%x,8", end)))
	require.Equal(t, "E0e", c.cmd("m10,4"))
	require.Equal(t, "E01", c.cmd("m10"))
	require.Equal(t, "E01", c.cmd("mzz,4"))
	// Huge reads are capped to what fits a packet.
	require.Len(t, c.cmd(fmt.Sprintf("m%x,100000", dataAddr)), 2*maxRead)

	require.Equal(t, "OK", c.cmd(fmt.Sprintf("M%x,2:aabb", dataAddr)))
	require.Equal(t, "E01", c.cmd(fmt.Sprintf("M%x,3:aabb", dataAddr)))
	require.Equal(t, "E0e", c.cmd("M10,1:00"))
	// X carries escaped binary data.
	data := []byte{'#', '$', '}', '*', 0}
	x := fmt.Sprintf("X%x,%x:", dataAddr+8, len(data)) + string(appendEscaped(nil, data))
	require.Equal(t, "OK", c.cmd(x))
	got := make([]byte, 5)
	_, err := p.mem.read(dataAddr+8, got)
	require.NoError(t, err)
	require.Equal(t, data, got)
	require.Equal(t, "OK", c.cmd(fmt.Sprintf("X%x,0:", dataAddr)), "the X probe")
	require.Equal(t, "E01", c.cmd(fmt.Sprintf("X%x,2:a", dataAddr)))
	require.Equal(t, "aabb0304", c.cmd(fmt.Sprintf("m%x,4", dataAddr)))
}

func TestBreakpointsAndStep(t *testing.T) {
	m, _ := newProgram(append([]uint32{
		movz(1, 5),      // 0x400000
		addImm(1, 1, 1), // 0x400004
		addImm(1, 1, 1), // 0x400008
		nop(),           // 0x40000c
	}, exitCode(3)...)...)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "T05thread:p64.64;", c.cmd("?"))
	require.Equal(t, "vCont;c;C;s;S;t", c.cmd("vCont?"))

	require.Equal(t, "T05thread:p64.64;", c.cmd("vCont;s:p64.64"))
	require.Equal(t, uint64(codeAddr+4), c.regPC())
	require.Equal(t, le64(5), c.cmd("p1"))
	require.Equal(t, "T05thread:p64.64;", c.cmd("s"))
	require.Equal(t, uint64(codeAddr+8), c.regPC())

	require.Equal(t, "OK", c.cmd("Z0,40000c,4"))
	require.Equal(t, "OK", c.cmd("Z0,40000c,4"), "inserting twice is harmless")
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, uint64(codeAddr+12), c.regPC())
	require.Equal(t, le64(7), c.cmd("p1"))
	// Resuming at a breakpoint stops at once, as a brk would: gdb steps
	// over it with the breakpoint removed.
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "OK", c.cmd("z0,40000c,4"))
	require.Equal(t, "OK", c.cmd("z0,40000c,4"), "removing twice is harmless")
	require.Equal(t, "OK", c.cmd("Z1,400010,4"))
	require.Equal(t, "T05hwbreak:;thread:p64.64;", c.cmd("vCont;c:p64.-1"))
	require.Equal(t, uint64(codeAddr+16), c.regPC())
	require.Equal(t, "OK", c.cmd("z1,400010,4"))
	require.Equal(t, "W03;process:64", c.cmd("c"))
}

func TestBreakpointReasonNotNegotiated(t *testing.T) {
	m, _ := newProgram(nop(), nop())
	c := connect(t, m, "multiprocess+")
	require.Equal(t, "OK", c.cmd("Z0,400004,4"))
	require.Equal(t, "T05thread:p64.64;", c.cmd("c"), "no swbreak without swbreak+")
}

func TestBadBreakpoints(t *testing.T) {
	m, _ := newProgram(nop())
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "", c.cmd("Z5,400000,4"), "unknown kinds are unsupported")
	require.Equal(t, "E01", c.cmd("Z0,zz,4"))
	require.Equal(t, "E01", c.cmd("Z0,400000"))
	require.Equal(t, "E01", c.cmd("Z2,400000,0"))
	require.Equal(t, "E01", c.cmd("Z2,ffffffffffffffff,2"))
}

func TestWatchpoints(t *testing.T) {
	m, p := newProgram(append([]uint32{
		movz(1, 9),
		str64(1, 19, 0), // 0x400004: 8-byte store at dataAddr
		ldr64(2, 19, 8), // 0x400008: 8-byte load at dataAddr+8
		str32(1, 19, 8), // 0x40000c: 4-byte store at dataAddr+8
	}, exitCode(0)...)...)
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	// A watchpoint on the upper half of the stored word: the reported
	// address is inside the watched range.
	require.Equal(t, "OK", c.cmd(fmt.Sprintf("Z2,%x,4", dataAddr+4)))
	require.Equal(t, fmt.Sprintf("T05watch:%x;thread:p64.64;", dataAddr+4), c.cmd("vCont;c"))
	// Stopped before the store, as AArch64 hardware does.
	require.Equal(t, uint64(codeAddr+4), c.regPC())
	v, err := p.mem.u64(dataAddr)
	require.NoError(t, err)
	require.Zero(t, v)
	// gdb steps over it with the watchpoint removed.
	require.Equal(t, "OK", c.cmd(fmt.Sprintf("z2,%x,4", dataAddr+4)))
	require.Equal(t, "T05thread:p64.64;", c.cmd("vCont;s:p64.64"))
	require.Equal(t, "0900000000000000", c.cmd(fmt.Sprintf("m%x,8", dataAddr)))

	require.Equal(t, "OK", c.cmd(fmt.Sprintf("Z3,%x,8", dataAddr+8)))
	require.Equal(t, fmt.Sprintf("T05rwatch:%x;thread:p64.64;", dataAddr+8), c.cmd("vCont;c"))
	require.Equal(t, uint64(codeAddr+8), c.regPC())
	require.Equal(t, "OK", c.cmd(fmt.Sprintf("z3,%x,8", dataAddr+8)))
	require.Equal(t, "T05thread:p64.64;", c.cmd("vCont;s:p64.64"))
	require.Equal(t, "OK", c.cmd(fmt.Sprintf("Z4,%x,1", dataAddr+11)))
	require.Equal(t, fmt.Sprintf("T05awatch:%x;thread:p64.64;", dataAddr+11), c.cmd("vCont;c"))
	require.Equal(t, uint64(codeAddr+12), c.regPC())
}

func TestInterrupt(t *testing.T) {
	m, _ := newProgram(b(0)) // spin
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	m.onResume = func(int) {
		_, err := c.conn.Write([]byte{0x03})
		if err != nil {
			t.Error(err)
		}
	}
	require.Equal(t, "T02thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, uint64(codeAddr), c.regPC())
	// An interrupt while stopped is ignored.
	_, err := c.conn.Write([]byte{0x03})
	require.NoError(t, err)
	require.Equal(t, "OK", c.cmd("vCtrlC"))
}

func TestSignalsAndKill(t *testing.T) {
	m, _ := newProgram(undefined())
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "T04thread:p64.64;", c.cmd("vCont;c"))
	// Continuing without the signal discards it: the instruction faults again.
	require.Equal(t, "T04thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "X04;process:64", c.cmd("vCont;C04:p64.64"))

	// A passed signal is delivered without stopping.
	m2, _ := newProgram(undefined())
	c2 := connect(t, m2, gdbFeatures)
	require.Equal(t, "OK", c2.cmd("QPassSignals:4;e"))
	require.Equal(t, "X04;process:64", c2.cmd("c"))
	require.Equal(t, "E01", c2.cmd("QPassSignals:zz"))

	// C with a signal gdb has but Linux does not is refused.
	m3, _ := newProgram(nop())
	c3 := connect(t, m3, "")
	require.Equal(t, "E01", c3.cmd("C07"))
	require.Equal(t, "E01", c3.cmd("vCont;C07"))
	require.Equal(t, "OK", c3.cmd("vKill;64"))
	require.Equal(t, "E02", c3.cmd("vKill;64"))
}

func TestExitWithoutMultiprocess(t *testing.T) {
	m, _ := newProgram(exitCode(0x107)...)
	c := connect(t, m, "swbreak+")
	require.Equal(t, "T05thread:64;", c.cmd("?"))
	require.Equal(t, "QC64", c.cmd("qC"))
	require.Equal(t, "W07", c.cmd("c"))
}

// threadProgram starts a thread (clone with CLONE_THREAD) that spins, and
// then spins itself at codeAddr+0x14.
func threadProgram() (*fakeMachine, *fakeProc) {
	return newProgram(
		movz(0, cloneVM),            // 0x400000
		movk(0, cloneThread>>16, 1), // 0x400004
		movz(8, sysClone),           // 0x400008
		svc(),                       // 0x40000c
		nop(),                       // 0x400010
		b(0),                        // 0x400014
	)
}

func TestThreads(t *testing.T) {
	m, p := threadProgram()
	p.name = "a<b>&\"c\"\x01"
	c := connect(t, m, gdbFeatures)
	c.noAckMode()
	require.Equal(t, "OK", c.cmd("Z0,400010,4"))
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("vCont;c"))
	require.Equal(t, "mp64.64,p64.65", c.cmd("qfThreadInfo"))
	require.Equal(t, "l", c.cmd("qsThreadInfo"))
	require.Equal(t, le64(0x65), c.cmd("p0"), "clone returned the new TID")
	require.Equal(t, "OK", c.cmd("Hgp64.65"))
	require.Equal(t, le64(0), c.cmd("p0"), "the new thread's x0")
	require.Equal(t, "QCp64.65", c.cmd("qC"))
	require.Equal(t, "OK", c.cmd("Tp64.65"))
	require.Equal(t, "E02", c.cmd("Tp64.66"))
	require.Equal(t, "E02", c.cmd("Hgp64.66"))
	require.Equal(t, "E02", c.cmd("Hgzz"))
	require.Equal(t, hex.EncodeToString([]byte(p.name)), c.cmd("qThreadExtraInfo,p64.65"))

	doc := readXfer(t, c, "threads", "")
	var threads struct {
		Threads []struct {
			ID   string `xml:"id,attr"`
			Name string `xml:"name,attr"`
		} `xml:"thread"`
	}
	require.NoError(t, xml.Unmarshal([]byte(doc), &threads), doc)
	require.Len(t, threads.Threads, 2)
	require.Equal(t, "p64.64", threads.Threads[0].ID)
	require.Equal(t, "p64.65", threads.Threads[1].ID)
	require.Equal(t, "a<b>&\"c\"\uFFFD", threads.Threads[1].Name)

	// Step only thread 65 while 64 stays where it is.
	require.Equal(t, "OK", c.cmd("z0,400010,4"))
	require.Equal(t, "T05thread:p64.65;", c.cmd("vCont;s:p64.65;t"))
	require.Equal(t, "OK", c.cmd("Hgp64.64"))
	require.Equal(t, uint64(codeAddr+0x10), c.regPC())
	require.Equal(t, "OK", c.cmd("Hgp64.65"))
	require.Equal(t, uint64(codeAddr+0x14), c.regPC())

	// A bare c with no Hc resumes every thread, not the one that stopped
	// last (lldb resumes so).
	m.onResume = func(int) {
		if _, err := c.conn.Write([]byte{0x03}); err != nil {
			t.Error(err)
		}
	}
	require.Contains(t, c.cmd("c"), "T02thread:")
	require.Equal(t, Resume{Actions: []Action{{Kind: ActionContinue, Thread: ThreadID{All, All}}}}, *m.lastResume.Load())
	// Hc names the thread c resumes.
	require.Equal(t, "OK", c.cmd("Hcp64.65"))
	require.Contains(t, c.cmd("c"), "T02thread:p64.65;")
	require.Equal(t, Resume{Actions: []Action{{Kind: ActionContinue, Thread: ThreadID{0x64, 0x65}}}}, *m.lastResume.Load())
}

// readXfer reads a whole qXfer object in small pieces.
func readXfer(t *testing.T, c *client, object, annex string) string {
	t.Helper()
	var doc strings.Builder
	for {
		r := c.cmd(fmt.Sprintf("qXfer:%s:read:%s:%x,%x", object, annex, doc.Len(), 0x40))
		require.NotEmpty(t, r)
		require.Contains(t, "ml", r[:1], "reply %q", r)
		doc.WriteString(r[1:])
		if r[0] == 'l' {
			return doc.String()
		}
	}
}

func TestXfer(t *testing.T) {
	m, p := newProgram(nop())
	c := connect(t, m, gdbFeatures)
	doc := readXfer(t, c, "features", "target.xml")
	require.Equal(t, targetXML, doc)
	require.Equal(t, "", c.cmd("qXfer:features:read:other.xml:0,100"))
	require.Equal(t, "", c.cmd("qXfer:nothing:read::0,100"))
	require.Equal(t, "", c.cmd("qXfer:features:write:target.xml:0:00"))
	require.Equal(t, "E01", c.cmd("qXfer:features:read:target.xml:zz"))
	require.Equal(t, "l", c.cmd(fmt.Sprintf("qXfer:features:read:target.xml:%x,10", len(targetXML))))

	require.Equal(t, "/bin/prog", readXfer(t, c, "exec-file", "64"))
	require.Equal(t, "/bin/prog", readXfer(t, c, "exec-file", ""))
	require.Equal(t, "E03", c.cmd("qXfer:exec-file:read:99:0,100"))
	p.auxv = []byte{6, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	require.Equal(t, string(p.auxv), readXfer(t, c, "auxv", ""))
	mm := readXfer(t, c, "memory-map", "")
	require.Contains(t, mm, `<memory type="ram" start="0x1000" length="0xfffffffff000"/>`)
	require.NoError(t, xml.Unmarshal([]byte(mm), new(struct{})))
	require.Equal(t, "<library-list-svr4 version=\"1.0\"/>\n", readXfer(t, c, "libraries-svr4", ""),
		"a program without PT_DYNAMIC has no libraries")
}

func TestAttached(t *testing.T) {
	m, p := newProgram(nop())
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "0", c.cmd("qAttached:64"))
	require.Equal(t, "0", c.cmd("qAttached"))
	p.attached = true
	require.Equal(t, "1", c.cmd("qAttached:64"))
	require.Equal(t, "E02", c.cmd("qAttached:99"))
	require.Equal(t, "E01", c.cmd("qAttached:zz"))
}

func TestVFile(t *testing.T) {
	m, _ := newProgram(nop())
	content := []byte("hello}#$*world")
	m.files["/etc/motd"] = content
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "F0", c.cmd("vFile:setfs:0"))
	path := hex.EncodeToString([]byte("/etc/motd"))
	fd := c.cmd("vFile:open:" + path + ",0,0")
	require.Equal(t, "F1", fd)
	require.Equal(t, "F5;hello", c.cmd("vFile:pread:1,5,0"))
	require.Equal(t, "F9;}#$*world", c.cmd("vFile:pread:1,100,5"))
	require.Equal(t, "F0;", c.cmd("vFile:pread:1,100,100"))
	st := c.cmd("vFile:fstat:1")
	require.True(t, strings.HasPrefix(st, "F40;"), st)
	stat := []byte(st[4:])
	require.Len(t, stat, 64)
	require.Equal(t, []byte{0, 0, 0x81, 0xed}, stat[8:12], "st_mode 0100755")
	require.Equal(t, byte(len(content)), stat[35], "st_size")
	require.Equal(t, "F0", c.cmd("vFile:close:1"))
	require.Equal(t, "F-1,9", c.cmd("vFile:close:1"))
	require.Equal(t, "F-1,9", c.cmd("vFile:pread:1,5,0"))
	require.Equal(t, "F-1,2", c.cmd("vFile:open:"+hex.EncodeToString([]byte("/none"))+",0,0"))
	require.Equal(t, "F-1,1e", c.cmd("vFile:open:"+path+",1,0"), "writes are refused")
	require.Equal(t, "F-1,1e", c.cmd("vFile:open:"+path+",200,1a4"))
	require.Equal(t, "F-1,16", c.cmd("vFile:open:zz,0,0"))
	require.Equal(t, "", c.cmd("vFile:unlink:"+path))
	for i := 0; i < maxOpenFiles; i++ {
		require.True(t, strings.HasPrefix(c.cmd("vFile:open:"+path+",0,0"), "F"))
	}
	require.Equal(t, "F-1,18", c.cmd("vFile:open:"+path+",0,0"))
}

func TestDetachAndFreeRun(t *testing.T) {
	// The program writes "bye\n" and exits after the breakpoint.
	m, p := newProgram(append([]uint32{
		movz(1, 0),
		movz(0, 1),
		addImm(1, 19, 0),
		movz(2, 4),
		movz(8, sysWrite),
		svc(),
	}, exitCode(0)...)...)
	require.NoError(t, p.mem.write(dataAddr, []byte("bye\n")))
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "OK", c.cmd("Z0,400008,4"))
	require.Equal(t, "OK", c.cmd("Z2,410000,8"))
	require.Equal(t, "T05swbreak:;thread:p64.64;", c.cmd("c"))
	require.Equal(t, "OK", c.cmd("D;64"))
	// The session ended with the last process; the machine ran on, its
	// breakpoints gone.
	require.NoError(t, <-c.done)
	c.done <- nil
	<-m.freeDone
	require.Equal(t, "bye\n", m.output())
	require.Empty(t, m.procs)
}

func TestDisconnectWhileRunning(t *testing.T) {
	m, p := newProgram(b(0))
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "OK", c.cmd("Z0,400100,4"))
	resumed := make(chan struct{})
	m.onResume = func(int) { close(resumed) }
	c.send("vCont;c")
	<-resumed
	c.conn.Close()
	require.NoError(t, <-c.done)
	c.done <- nil
	require.True(t, p.detached)
	require.Empty(t, p.breaks)
	// A new debugger attaches to the running machine.
	c2 := connect(t, m, gdbFeatures)
	require.Equal(t, "T02thread:p64.64;", c2.cmd("?"))
	require.Equal(t, "mp64.64", c2.cmd("qfThreadInfo"))
}

func TestKillAll(t *testing.T) {
	m, _ := newProgram(nop())
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "X09", c.cmd("k"), "gdb ignores it; lldb waits for it")
	require.NoError(t, <-c.done)
	c.done <- nil
	require.Empty(t, m.procs)
}

func TestOneConnectionAtATime(t *testing.T) {
	m, _ := newProgram(nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &Server{Target: m}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	c1, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	cl := &client{t: t, conn: c1, r: newReader(c1)}
	require.Contains(t, cl.cmd("qSupported"), "PacketSize")
	c2, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	_, err = c2.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "a second debugger is turned away")
	require.NoError(t, srv.Close())
	require.NoError(t, <-done)
	_, err = c1.Read(make([]byte, 1))
	require.Error(t, err, "closing the server ends the session")
}

func TestSignalNumbers(t *testing.T) {
	for s := linux.Signal(1); s <= linux.SIGRTMAX; s++ {
		g := gdbSignal(s)
		if s == linux.SIGSTKFLT {
			require.Equal(t, gdbSignalUnknown, g)
			continue
		}
		back, ok := linuxSignal(g)
		require.True(t, ok, "signal %d", s)
		require.Equal(t, s, back, "signal %d (gdb %d)", s, g)
	}
	require.Equal(t, 10, gdbSignal(linux.SIGBUS))
	require.Equal(t, 30, gdbSignal(linux.SIGUSR1))
	require.Equal(t, 77, gdbSignal(32))
	_, ok := linuxSignal(7) // SIGEMT
	require.False(t, ok)
}

func TestSignalsForLLDB(t *testing.T) {
	// gdb numbering: SIGUSR1 is 30 (0x1e).
	m, _ := newProgram(undefined())
	c := connect(t, m, gdbFeatures)
	require.Equal(t, "T04thread:p64.64;", c.cmd("c"))
	require.Equal(t, "X1e;process:64", c.cmd("vCont;C1e:p64.64"))
	// lldb asks qHostInfo and then speaks Linux numbers: SIGUSR1 is 10.
	m2, _ := newProgram(undefined())
	c2 := connect(t, m2, "multiprocess+")
	require.Contains(t, c2.cmd("qHostInfo"), "ostype:linux")
	require.Equal(t, "T04thread:p64.64;", c2.cmd("c"))
	require.Equal(t, "X0a;process:64", c2.cmd("vCont;C0a:p64.64"))
}

func TestMonitor(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	c.cmd("qSupported:" + gdbFeatures)
	rcmd := func(cmd string) string {
		var out strings.Builder
		r := c.cmd("qRcmd," + hex.EncodeToString([]byte(cmd)))
		for ; r != "OK" && strings.HasPrefix(r, "O"); r = c.recv() {
			b, err := hex.DecodeString(r[1:])
			require.NoError(t, err)
			out.Write(b)
		}
		require.Equal(t, "OK", r)
		return out.String()
	}
	require.Equal(t, "hello\n", rcmd("echo hello"))
	require.Equal(t, strings.Repeat("x", PacketSize)+"\n", rcmd("long"))
	require.Equal(t, "unknown command \"what\"\n", rcmd("what"))
	require.Equal(t, "E01", c.cmd("qRcmd,zz"))

	// A target without monitor commands says so with an empty reply.
	var tgt Target = struct{ Target }{m}
	srvConn, cliConn := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- (&Server{Target: tgt}).ServeConn(srvConn) }()
	c2 := &client{t: t, conn: cliConn, r: newReader(cliConn)}
	require.Equal(t, "", c2.cmd("qRcmd,"+hex.EncodeToString([]byte("echo x"))))
	cliConn.Close()
	require.NoError(t, <-done)
}

func TestSiginfo(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	c.cmd("qSupported:" + gdbFeatures)
	r := c.cmd("qXfer:siginfo:read::0,200")
	require.Len(t, r, 129)
	require.Equal(t, byte('l'), r[0])
	require.Equal(t, byte(m.procs[0].threads[0].id.Tid), r[1])
}

// vRun (extended-remote run) fails: the target cannot start a program. R
// (restart) is not supported either and, as the protocol says, has no
// reply: the next packet's reply is its own.
func TestRestartHasNoReply(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	c.cmd("qSupported:" + gdbFeatures)
	c.noAckMode()
	require.Equal(t, "E03", c.cmd("vRun;"), "an error, not a fall back to R")
	_, err := c.conn.Write(frame([]byte("R00")))
	require.NoError(t, err)
	require.Equal(t, "T05thread:p64.64;", c.cmd("?"))
}

func TestVFileReadlink(t *testing.T) {
	m, _ := newProgram(exitCode(0)...)
	c := dial(t, m)
	c.cmd("qSupported:" + gdbFeatures)
	require.Equal(t, "F0", c.cmd("vFile:setfs:64"))
	want := "target-of-/proc/64/exe"
	require.Equal(t, fmt.Sprintf("F%x;%s", len(want), want), c.cmd("vFile:readlink:"+hex.EncodeToString([]byte("/proc/64/exe"))))
	require.Equal(t, "F-1,16", c.cmd("vFile:readlink:zz"))
	require.Equal(t, "F0", c.cmd("vFile:setfs:99"))
	require.Contains(t, c.cmd("vFile:readlink:"+hex.EncodeToString([]byte("x"))), "F-1,")
}
