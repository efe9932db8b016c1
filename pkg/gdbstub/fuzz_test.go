package gdbstub

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// instantTarget stops right after every Resume (a brk at the first
// thread), so that arbitrary resume packets cannot run a program forever.
type instantTarget struct {
	*fakeMachine
	ev chan StopEvent
}

func (t *instantTarget) Resume(r Resume) error {
	t.ev <- StopEvent{Kind: StopSignal, Thread: ThreadID{100, 100}, Signal: 5}
	return nil
}

func (t *instantTarget) Events() <-chan StopEvent { return t.ev }

// FuzzSession sends arbitrary packets to a session: every packet but R
// gets a reply (or ends the session), and nothing panics or hangs.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"qSupported:multiprocess+;swbreak+", "g", "G00", "p20", "P20=0000", "m400000,4",
		"M400000,1:00", "X400000,1:}\x03", "Z0,400000,4", "z2,410000,8", "vCont;c:p64.64;s",
		"vCont;C0b", "Hgp64.65", "Hc-1", "T64", "qXfer:threads:read::0,10",
		"qXfer:features:read:target.xml:10,10", "qXfer:libraries-svr4:read:start=1;prev=2:0,100",
		"vFile:open:2f,0,0", "vFile:pread:1,10,0", "QPassSignals:e;f", "QCatchSyscalls:1;40",
		"bs", "bc", "D;64", "k", "vKill;64", "qAttached:64", "qC", "qfThreadInfo", "?", "c400004",
		"S05;400000", "qThreadExtraInfo,p64.64", "qRcmd,6869", "qRcmd,zz", "QStartNoAckMode", "R00", "vRun;",
		"qXfer:siginfo:read::0,80", "qXfer:siginfo:read::ffffffffffff,ffff", "vFile:readlink:2f70726f63",
		"vFile:readlink:zz",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, p := newProgram(nop(), brk(0), b(-8))
		dynamicImage(t, p)
		m.files["/"] = []byte("root")
		tgt := &instantTarget{fakeMachine: m, ev: make(chan StopEvent, 1)}
		srvConn, cliConn := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- (&Server{Target: tgt}).ServeConn(srvConn) }()
		r := bufio.NewReader(cliConn)
		// Two packets: the fuzzed one and a probe that must be answered
		// if the session is still up.
		for _, pkt := range [][]byte{payload, []byte("qC")} {
			if _, err := cliConn.Write(frame(appendEscaped(nil, pkt))); err != nil {
				break
			}
			if len(pkt) > 0 && pkt[0] == 'R' {
				continue // R has no reply
			}
			if !readReply(r, cliConn) {
				break
			}
		}
		cliConn.Close()
		<-done
	})
}

// readReply reads acks and one reply packet, acknowledging it; false when
// the session ended.
func readReply(r *bufio.Reader, w io.Writer) bool {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return false
		}
		if c != '$' {
			continue
		}
		if _, err := r.ReadBytes('#'); err != nil {
			return false
		}
		if _, err := io.ReadFull(r, make([]byte, 2)); err != nil {
			return false
		}
		_, err = w.Write([]byte("+"))
		return err == nil
	}
}
