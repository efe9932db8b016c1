// Command bench compares sissim with qemu-aarch64-static on the benchmark
// guests and prints one table (make bench).
//
//	go run ./internal/bench [-runs 5] [-metric wall|cpu] [-sissim bin/sissim] [-qemu qemu-aarch64-static]
//
// Every number comes from the same invocation: each command runs -runs times,
// the runs of all commands interleaved so that a change in host load hits
// them alike, and the median wall time (or with -metric cpu the median
// user+system CPU time, steadier on a busy host) is used. Loop benchmarks subtract the
// median start-up time of the same guest with N=0, so they report the cost of
// one system call or one loop iteration. Nothing passes or fails on timing.
package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sis-kernel/sissim/pkg/kernel"
)

// aluInsns is the number of instructions in one alu_loop iteration.
const aluInsns = 12

// runner is one way to run a guest.
type runner struct {
	name string
	argv []string // the command before the guest path
}

// job is one command whose time is sampled.
type job struct {
	cpu     bool // sample CPU time (user+system) instead of wall time
	r       runner
	guest   string
	args    []string
	samples []time.Duration
	stdout  []byte
}

func (j *job) String() string {
	return strings.Join(append(append(slices.Clone(j.r.argv), filepath.Base(j.guest)), j.args...), " ")
}

// run executes the job once and records its wall or CPU time.
func (j *job) run() error {
	argv := append(append(slices.Clone(j.r.argv), j.guest), j.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %v: %s", j, err, strings.TrimSpace(errb.String()))
	}
	if j.cpu {
		d = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	j.samples = append(j.samples, d)
	j.stdout = out.Bytes()
	return nil
}

// median returns the median sample.
func (j *job) median() time.Duration {
	s := slices.Clone(j.samples)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// perOp is the median time of the loop job minus the median start-up time
// of its N=0 twin, per iteration.
func perOp(loop, zero *job, n int) time.Duration {
	return (loop.median() - zero.median()) / time.Duration(n)
}

type config struct {
	cpu      bool
	runs     int
	sissim   string
	qemu     string
	guests   string
	syscallN int
	aluN     int
	aluSecs  float64
	busybox  string
	fileN    int
	forkN    int
	framesN  int
	pipeMiB  int
	storeN   int
	protN    int
	threadN  int
	futexN   int
	goN      int
	tcpMiB   int
	pingN    int
	connN    int
	gdb      string
}

func main() {
	var c config
	flag.IntVar(&c.runs, "runs", 5, "runs of each command; the median is used")
	metric := flag.String("metric", "wall", "what to time: wall (elapsed) or cpu (user+system time of the command; steadier on a busy host)")
	flag.StringVar(&c.sissim, "sissim", "bin/sissim", "sissim binary")
	flag.StringVar(&c.qemu, "qemu", "qemu-aarch64-static", "qemu-user binary (empty: skip)")
	flag.StringVar(&c.guests, "guests", "testdata/guests", "directory of the benchmark guests")
	flag.IntVar(&c.syscallN, "syscalls", 2_000_000, "getpid calls per run")
	flag.IntVar(&c.aluN, "alu", 0, "alu_loop iterations per run (0: calibrate to -alu-seconds under the baseline)")
	flag.Float64Var(&c.aluSecs, "alu-seconds", 1, "target duration of one alu_loop run under the baseline")
	flag.StringVar(&c.busybox, "busybox", ".cache/busybox/bin/busybox", "arm64 busybox for the process benchmarks (empty: skip)")
	flag.IntVar(&c.fileN, "files", 5000, "create/write/read/unlink rounds per fileloop run")
	flag.IntVar(&c.forkN, "forks", 200, "fork+exit+wait rounds per shell run")
	flag.IntVar(&c.framesN, "frames", 50_000, "AgentSys FS_STAT frames per agentsys-bench run")
	flag.IntVar(&c.pipeMiB, "pipe-mib", 256, "MiB pushed through a pipe per run")
	flag.IntVar(&c.storeN, "stores", 1_000_000, "rounds of 64 stores per benchops store run")
	flag.IntVar(&c.protN, "mprotects", 20_000, "mprotect pairs per benchops mprotect run")
	flag.IntVar(&c.threadN, "threads", 1000, "thread create+join rounds per run")
	flag.IntVar(&c.futexN, "futexes", 20_000, "futex ping-pong round trips per run")
	flag.IntVar(&c.goN, "go-values", 100_000, "values through the Go channel pipeline per run (0: skip the Go rows)")
	flag.IntVar(&c.tcpMiB, "tcp-mib", 256, "MiB streamed over TCP loopback per netbench run")
	flag.IntVar(&c.pingN, "pingpong", 100_000, "AF_UNIX one-byte round trips per netbench run")
	flag.IntVar(&c.connN, "conns", 2000, "TCP loopback connections per netbench run")
	flag.StringVar(&c.gdb, "gdb", "gdb-multiarch", "gdb for the debugger rows (empty: skip)")
	flag.Parse()
	switch *metric {
	case "wall":
	case "cpu":
		c.cpu = true
	default:
		fmt.Fprintf(os.Stderr, "bench: -metric %q: want wall or cpu\n", *metric)
		os.Exit(2)
	}
	if c.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -runs must be at least 1")
		os.Exit(2)
	}
	if err := bench(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func bench(c config, w io.Writer) error {
	rt := runner{"sissim realtime", []string{c.sissim, "run", "--clock", "realtime"}}
	det := runner{"sissim deterministic", []string{c.sissim, "run", "--clock", "deterministic"}}
	runners := []runner{rt, det}
	var qemu *runner
	if c.qemu != "" {
		if p, err := exec.LookPath(c.qemu); err == nil {
			qemu = &runner{"qemu-user", []string{p}}
			runners = append(runners, *qemu)
		} else {
			fmt.Fprintf(w, "note: %s not found; qemu columns left out\n", c.qemu)
		}
	}
	guest := func(name string) string { return filepath.Join(c.guests, name) }
	for _, g := range []string{"getpid_loop", "alu_loop", "hello", "fileloop", "agentsys-bench", "benchops", "netbench"} {
		if _, err := os.Stat(guest(g)); err != nil {
			return err
		}
	}
	base := rt
	if qemu != nil {
		base = *qemu
	}
	if c.aluN == 0 {
		n, err := calibrate(base, guest("alu_loop"), c.aluSecs, c.cpu)
		if err != nil {
			return err
		}
		c.aluN = n
	}

	var all []*job
	addPath := func(r runner, path string, args ...string) *job {
		j := &job{cpu: c.cpu, r: r, guest: path, args: args}
		all = append(all, j)
		return j
	}
	add := func(r runner, g string, args ...string) *job { return addPath(r, guest(g), args...) }
	sys := map[string]loopJobs{}
	alu := map[string]loopJobs{}
	hello := map[string]*job{}
	for _, r := range runners {
		sys[r.name] = loopJobs{add(r, "getpid_loop", strconv.Itoa(c.syscallN)), add(r, "getpid_loop", "0")}
		alu[r.name] = loopJobs{add(r, "alu_loop", strconv.Itoa(c.aluN)), add(r, "alu_loop", "0")}
		hello[r.name] = add(r, "hello")
	}
	// Small files: sissim on its tmpfs and on a host mount, qemu on the host.
	hostDir, err := os.MkdirTemp("", "sissim-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(hostDir)
	fileRunners := []runner{
		{"sissim tmpfs", slices.Clone(det.argv)},
		{"sissim host mount", append(slices.Clone(det.argv), "--mount", hostDir+":/mnt")},
	}
	fileDirs := []string{"/tmp", "/mnt"}
	if qemu != nil {
		fileRunners = append(fileRunners, runner{"qemu-user host fs", qemu.argv})
		fileDirs = append(fileDirs, hostDir)
	}
	files := map[string]loopJobs{}
	for i, r := range fileRunners {
		files[r.name] = loopJobs{add(r, "fileloop", fileDirs[i], strconv.Itoa(c.fileN)), add(r, "fileloop", fileDirs[i], "0")}
	}
	// Sockets: TCP loopback throughput, AF_UNIX ping-pong, TCP connections.
	tcpStream := map[string]loopJobs{}
	pingpong := map[string]loopJobs{}
	conns := map[string]loopJobs{}
	for _, r := range runners {
		tcpStream[r.name] = loopJobs{add(r, "netbench", "tcp", strconv.Itoa(c.tcpMiB)), add(r, "netbench", "tcp", "0")}
		pingpong[r.name] = loopJobs{add(r, "netbench", "unix", strconv.Itoa(c.pingN)), add(r, "netbench", "unix", "0")}
		conns[r.name] = loopJobs{add(r, "netbench", "connect", strconv.Itoa(c.connN)), add(r, "netbench", "connect", "0")}
	}
	// Under gdb: alu_loop continuing freely with a debugger attached, and
	// a reverse-stepi after 10^8 instructions.
	dbg, err := debuggerJobs(c, guest("alu_loop"), addPath)
	if err != nil {
		fmt.Fprintf(w, "note: %v; debugger rows left out\n", err)
	}
	// Boot to the sis> prompt and out again (stdin at EOF ends the shell).
	bootJob := addPath(runner{"sissim", []string{c.sissim}}, "boot")
	// AgentSys frames from a guest: one write and one read per FS_STAT.
	agentsys := runner{"sissim deterministic", append(slices.Clone(det.argv), "--features", "agentsys")}
	frames := loopJobs{add(agentsys, "agentsys-bench", strconv.Itoa(c.framesN)), add(agentsys, "agentsys-bench", "0")}
	// Processes: fork+exit+wait and pipe throughput under busybox sh.
	procs := map[string]loopJobs{}
	pipes := map[string]loopJobs{}
	haveBusybox := false
	if c.busybox != "" {
		if _, err := os.Stat(c.busybox); err == nil {
			haveBusybox = true
		} else {
			fmt.Fprintf(w, "note: %s not found (make busybox); process rows left out\n", c.busybox)
		}
	}
	forkScript := func(n int) string {
		return fmt.Sprintf("i=0; while [ $i -lt %d ]; do ( exit 0 ); i=$((i+1)); done", n)
	}
	pipeScript := func(mib int) string {
		// dd on both ends: a byte-counting reader such as wc would measure
		// its own per-byte loop (Unicorn 2.0's slow stores), not the pipe.
		return fmt.Sprintf("dd if=/dev/zero bs=65536 count=%d 2>/dev/null | dd of=/dev/null bs=65536 2>/dev/null", mib*16)
	}
	procRunners := []runner{det}
	if qemu != nil {
		procRunners = append(procRunners, *qemu)
	}
	// fork+exec+wait of a tiny guest (getpid_loop 0): busybox sh in sissim
	// runs it from a read-only mount of the guests; qemu-user cannot execve
	// an AArch64 program on a host without binfmt_misc, so its twin is the
	// host's sh starting qemu-aarch64-static on the guest.
	var execJobs map[string]loopJobs
	if haveBusybox {
		absGuests, err := filepath.Abs(c.guests)
		if err != nil {
			return err
		}
		loop := func(n int, cmd string) string {
			return fmt.Sprintf("i=0; while [ $i -lt %d ]; do %s; i=$((i+1)); done", n, cmd)
		}
		simExec := runner{"sissim deterministic", append(slices.Clone(det.argv), "--mount", absGuests+":/g:ro")}
		execJobs = map[string]loopJobs{det.name: {
			addPath(simExec, c.busybox, "sh", "-c", loop(c.forkN, "/g/getpid_loop 0")),
			addPath(simExec, c.busybox, "sh", "-c", loop(0, "/g/getpid_loop 0")),
		}}
		if qemu != nil {
			hostSh := runner{"host sh", []string{"/bin/sh"}}
			cmd := qemu.argv[0] + " " + guest("getpid_loop") + " 0"
			execJobs[qemu.name] = loopJobs{addPath(hostSh, "-c", loop(c.forkN, cmd)), addPath(hostSh, "-c", loop(0, cmd))}
		}
		for _, r := range procRunners {
			procs[r.name] = loopJobs{
				addPath(r, c.busybox, "sh", "-c", forkScript(c.forkN)),
				addPath(r, c.busybox, "sh", "-c", forkScript(0)),
			}
			pipes[r.name] = loopJobs{
				addPath(r, c.busybox, "sh", "-c", pipeScript(c.pipeMiB)),
				addPath(r, c.busybox, "sh", "-c", pipeScript(0)),
			}
		}
	}
	// Memory and threads: benchops and two Go programs.
	type memJobs struct {
		store                   *job
		prot64, prot4G          loopJobs
		thread, futex           loopJobs
		goHello, goPipe, goZero *job
	}
	mems := map[string]*memJobs{}
	var goDir string
	if c.goN > 0 {
		if goDir, err = buildGoGuests(); err != nil {
			fmt.Fprintf(w, "note: Go guests not built (%v); Go rows left out\n", err)
			c.goN = 0
		} else {
			defer os.RemoveAll(goDir)
		}
	}
	for _, r := range procRunners {
		m := &memJobs{store: add(r, "benchops", "store", strconv.Itoa(c.storeN))}
		prot := func(mib string) loopJobs {
			return loopJobs{add(r, "benchops", "mprotect", strconv.Itoa(c.protN), mib), add(r, "benchops", "mprotect", "0", mib)}
		}
		m.prot64, m.prot4G = prot("64"), prot("4096")
		m.thread = loopJobs{add(r, "benchops", "thread", strconv.Itoa(c.threadN)), add(r, "benchops", "thread", "0")}
		m.futex = loopJobs{add(r, "benchops", "futex", strconv.Itoa(c.futexN)), add(r, "benchops", "futex", "0")}
		if c.goN > 0 {
			m.goHello = addPath(r, filepath.Join(goDir, "hello"))
			m.goPipe = addPath(r, filepath.Join(goDir, "pipeline"), strconv.Itoa(c.goN))
			m.goZero = addPath(r, filepath.Join(goDir, "pipeline"), "0")
		}
		mems[r.name] = m
	}
	what := "wall time"
	if c.cpu {
		what = "CPU time (user+system)"
	}
	fmt.Fprintf(w, "sissim bench: %d runs of each command, interleaved; median %s\n", c.runs, what)
	fmt.Fprintf(w, "host: %s, %s\n", hostCPU(), loadAvg())
	fmt.Fprintf(w, "engines: %s; %s\n", version(c.sissim, "version"), qemuVersion(qemu))
	// One warm-up round (page cache, lazy binding), then the measured rounds.
	for round := 0; round <= c.runs; round++ {
		for _, j := range all {
			if err := j.run(); err != nil {
				return err
			}
			if round == 0 {
				j.samples = j.samples[:0]
			}
		}
	}
	// Every engine must compute the same checksum.
	want := alu[base.name].loop.stdout
	for _, r := range runners {
		if got := alu[r.name].loop.stdout; !bytes.Equal(got, want) {
			return fmt.Errorf("alu_loop %d: %s printed %q, %s printed %q", c.aluN, r.name, got, base.name, want)
		}
	}

	t := [][]string{{""}}
	for _, r := range runners {
		t[0] = append(t[0], r.name)
	}
	row := func(label string, f func(r runner) string) {
		cells := []string{label}
		for _, r := range runners {
			cells = append(cells, f(r))
		}
		t = append(t, cells)
	}
	sysNs := func(r runner) float64 { return ns(perOp(sys[r.name].loop, sys[r.name].zero, c.syscallN)) }
	aluNs := func(r runner) float64 {
		return float64(alu[r.name].loop.median()-alu[r.name].zero.median()) / float64(c.aluN)
	}
	row(fmt.Sprintf("getpid round trip, ns/syscall (N=%d)", c.syscallN), func(r runner) string { return fmt.Sprintf("%.0f", sysNs(r)) })
	row("  start-up (getpid_loop 0), ms", func(r runner) string { return ms(sys[r.name].zero.median()) })
	row(fmt.Sprintf("alu_loop compute, ns/iteration (N=%d)", c.aluN), func(r runner) string { return fmt.Sprintf("%.2f", aluNs(r)) })
	row("  guest instructions/s, millions", func(r runner) string { return fmt.Sprintf("%.0f", aluInsns*1e3/aluNs(r)) })
	row("hello end to end, ms", func(r runner) string { return ms(hello[r.name].median()) })
	printTable(w, t)

	// File-system and process rows have their own columns.
	fileUs := func(r runner) float64 { return ns(perOp(files[r.name].loop, files[r.name].zero, c.fileN)) / 1e3 }
	ft := [][]string{{""}, {fmt.Sprintf("small file create/write/read/unlink, us/round (N=%d)", c.fileN)}}
	for _, r := range fileRunners {
		ft[0] = append(ft[0], r.name)
		ft[1] = append(ft[1], fmt.Sprintf("%.1f", fileUs(r)))
	}
	fmt.Fprintln(w)
	printTable(w, ft)
	forkUs := func(r runner) float64 { return ns(perOp(procs[r.name].loop, procs[r.name].zero, c.forkN)) / 1e3 }
	execUs := func(r runner) float64 { return ns(perOp(execJobs[r.name].loop, execJobs[r.name].zero, c.forkN)) / 1e3 }
	pipeMBs := func(r runner) float64 {
		d := pipes[r.name].loop.median() - pipes[r.name].zero.median()
		return float64(c.pipeMiB) / d.Seconds()
	}
	if haveBusybox {
		pt := [][]string{{""},
			{fmt.Sprintf("fork+exit+wait (busybox sh subshell), us (N=%d)", c.forkN)},
			{fmt.Sprintf("pipe throughput (dd | dd, %d MiB), MiB/s", c.pipeMiB)},
			{fmt.Sprintf("fork+exec+wait of getpid_loop 0, us (N=%d; qemu: host sh starting qemu-user)", c.forkN)}}
		for _, r := range procRunners {
			pt[0] = append(pt[0], r.name)
			pt[1] = append(pt[1], fmt.Sprintf("%.0f", forkUs(r)))
			pt[2] = append(pt[2], fmt.Sprintf("%.0f", pipeMBs(r)))
			pt[3] = append(pt[3], fmt.Sprintf("%.0f", execUs(r)))
		}
		fmt.Fprintln(w)
		printTable(w, pt)
	}
	storeMs := func(r runner) float64 { return ns(mems[r.name].store.median()) / 1e6 }
	protUs := func(r runner, l func(*memJobs) loopJobs) float64 {
		j := l(mems[r.name])
		return ns(perOp(j.loop, j.zero, c.protN)) / 1e3
	}
	prot64 := func(m *memJobs) loopJobs { return m.prot64 }
	prot4G := func(m *memJobs) loopJobs { return m.prot4G }
	threadUs := func(r runner) float64 {
		return ns(perOp(mems[r.name].thread.loop, mems[r.name].thread.zero, c.threadN)) / 1e3
	}
	futexUs := func(r runner) float64 {
		return ns(perOp(mems[r.name].futex.loop, mems[r.name].futex.zero, c.futexN)) / 1e3
	}
	goStartMs := func(r runner) float64 { return ns(mems[r.name].goHello.median()) / 1e6 }
	goPipeUs := func(r runner) float64 {
		return ns(perOp(mems[r.name].goPipe, mems[r.name].goZero, c.goN)) / 1e3
	}
	mt := [][]string{{""},
		{fmt.Sprintf("store-heavy loop (%d stores), end to end, ms", 64*c.storeN)},
		{"mprotect of one page (pair) in a 64 MiB mapping, us"},
		{"mprotect of one page (pair) in a 4 GiB mapping, us"},
		{fmt.Sprintf("thread create+join, us (N=%d)", c.threadN)},
		{fmt.Sprintf("futex ping-pong between two threads, us/round trip (N=%d)", c.futexN)}}
	if c.goN > 0 {
		mt = append(mt, []string{"Go program start-up (hello), end to end, ms"},
			[]string{fmt.Sprintf("Go channel pipeline (8 stages, 4 workers), us/value (N=%d)", c.goN)})
	}
	for _, r := range procRunners {
		mt[0] = append(mt[0], r.name)
		mt[1] = append(mt[1], fmt.Sprintf("%.0f", storeMs(r)))
		mt[2] = append(mt[2], fmt.Sprintf("%.2f", protUs(r, prot64)))
		mt[3] = append(mt[3], fmt.Sprintf("%.2f", protUs(r, prot4G)))
		mt[4] = append(mt[4], fmt.Sprintf("%.1f", threadUs(r)))
		mt[5] = append(mt[5], fmt.Sprintf("%.2f", futexUs(r)))
		if c.goN > 0 {
			mt[6] = append(mt[6], fmt.Sprintf("%.1f", goStartMs(r)))
			mt[7] = append(mt[7], fmt.Sprintf("%.2f", goPipeUs(r)))
		}
	}
	fmt.Fprintln(w)
	printTable(w, mt)
	tcpMBs := func(r runner) float64 {
		d := tcpStream[r.name].loop.median() - tcpStream[r.name].zero.median()
		return float64(c.tcpMiB) / d.Seconds()
	}
	pingUs := func(r runner) float64 { return ns(perOp(pingpong[r.name].loop, pingpong[r.name].zero, c.pingN)) / 1e3 }
	connPerSec := func(r runner) float64 { return 1e9 / ns(perOp(conns[r.name].loop, conns[r.name].zero, c.connN)) }
	st := [][]string{{""},
		{fmt.Sprintf("TCP loopback throughput (netbench tcp %d), MiB/s", c.tcpMiB)},
		{fmt.Sprintf("AF_UNIX ping-pong round trip (netbench unix %d), us", c.pingN)},
		{fmt.Sprintf("TCP loopback connections (netbench connect %d), per second", c.connN)}}
	for _, r := range runners {
		st[0] = append(st[0], r.name)
		st[1] = append(st[1], fmt.Sprintf("%.0f", tcpMBs(r)))
		st[2] = append(st[2], fmt.Sprintf("%.2f", pingUs(r)))
		st[3] = append(st[3], fmt.Sprintf("%.0f", connPerSec(r)))
	}
	fmt.Fprintln(w)
	printTable(w, st)
	if dbg != nil {
		free := float64(dbg.free.loop.median()-dbg.free.zero.median()) / float64(c.aluN)
		fmt.Fprintf(w, "\nalu_loop compute under gdb (sissim deterministic --gdb, continue), ns/iteration (N=%d): %.2f, %.3fx of sissim deterministic without a debugger (goal <= 1.05)\n",
			c.aluN, free, free/aluNs(det))
		fmt.Fprintf(w, "reverse-stepi %d instructions into a run (alu_loop %d, at the instruction after its loop), ms: %s\n",
			dbg.insns, dbg.n, ms(dbg.back.loop.median()-dbg.back.zero.median()))
		fmt.Fprintf(w, "reverse-stepi %d instructions into a run (alu_loop %d; from the last of the checkpoints the run took, every %d instructions at least), ms: %s\n",
			dbg.farI, dbg.farN, kernel.DefaultCheckpointPolicy().Every, ms(dbg.far.loop.median()-dbg.far.zero.median()))
	}
	frameUs := ns(perOp(frames.loop, frames.zero, c.framesN)) / 1e3
	fmt.Fprintf(w, "\nAgentSys FS_STAT through /dev/agentsys from a guest (N=%d): %.1f us/frame, %.0f frames/s\n", c.framesN, frameUs, 1e6/frameUs)
	fmt.Fprintf(w, "boot to the sis> prompt and exit (sissim boot, stdin at EOF), process start included: %s ms (goal < 50 ms)\n", ms(bootJob.median()))

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio (time / time; below 1 is faster)\tvalue\tgoal")
	ratio := func(label string, a, b float64, goal string) {
		fmt.Fprintf(tw, "%s\t%.2fx\t%s\n", label, a/b, goal)
	}
	dt, rtn := det.name, rt.name
	if qemu != nil {
		q := *qemu
		ratio("syscall: sissim realtime / qemu-user", sysNs(rt), sysNs(q), "<= 1.0")
		ratio("syscall: sissim deterministic / qemu-user", sysNs(det), sysNs(q), "<= 1.0")
		ratio("compute: sissim realtime / qemu-user", aluNs(rt), aluNs(q), "<= 1.1")
		ratio("compute: sissim deterministic / qemu-user", aluNs(det), aluNs(q), "<= 1.5")
	}
	ratio("compute: sissim deterministic / sissim realtime", aluNs(det), aluNs(rt), "")
	if qemu != nil {
		ratio("hello: sissim deterministic / qemu-user", ns(hello[dt].median()), ns(hello[qemu.name].median()), "")
		ratio("hello: sissim realtime / qemu-user", ns(hello[rtn].median()), ns(hello[qemu.name].median()), "")
		q := fileRunners[len(fileRunners)-1]
		ratio("small files: sissim tmpfs / qemu-user host fs", fileUs(fileRunners[0]), fileUs(q), "")
		ratio("small files: sissim host mount / qemu-user host fs", fileUs(fileRunners[1]), fileUs(q), "")
		if haveBusybox {
			ratio("fork+exit+wait: sissim deterministic / qemu-user", forkUs(det), forkUs(*qemu), "<= 1.5")
			ratio("pipe time per MiB: sissim deterministic / qemu-user", pipeMBs(*qemu), pipeMBs(det), "<= 2")
			ratio("fork+exec+wait: sissim deterministic / qemu-user", execUs(det), execUs(*qemu), "")
		}
		q = *qemu
		ratio("store-heavy loop: sissim deterministic / qemu-user", storeMs(det), storeMs(q), "<= 3")
		ratio("mprotect in 4 GiB / in 64 MiB, sissim deterministic", protUs(det, prot4G), protUs(det, prot64), "~1")
		ratio("thread create+join: sissim deterministic / qemu-user", threadUs(det), threadUs(q), "")
		ratio("futex ping-pong: sissim deterministic / qemu-user", futexUs(det), futexUs(q), "")
		if c.goN > 0 {
			ratio("Go start-up: sissim deterministic / qemu-user", goStartMs(det), goStartMs(q), "")
			ratio("Go pipeline: sissim deterministic / qemu-user", goPipeUs(det), goPipeUs(q), "")
		}
		ratio("TCP time per MiB: sissim deterministic / qemu-user", tcpMBs(*qemu), tcpMBs(det), "")
		ratio("TCP time per MiB: sissim realtime / qemu-user", tcpMBs(*qemu), tcpMBs(rt), "")
		ratio("AF_UNIX ping-pong: sissim deterministic / qemu-user", pingUs(det), pingUs(*qemu), "")
		ratio("AF_UNIX ping-pong: sissim realtime / qemu-user", pingUs(rt), pingUs(*qemu), "")
		ratio("time per TCP connection: sissim deterministic / qemu-user", connPerSec(*qemu), connPerSec(det), "")
		ratio("time per TCP connection: sissim realtime / qemu-user", connPerSec(*qemu), connPerSec(rt), "")
	}
	return tw.Flush()
}

// debugJobs are the debugger rows' jobs.
type debugJobs struct {
	free loopJobs // alu_loop N and 0 under gdb's continue
	// back and far are sessions with and without one reverse-stepi at the
	// end of the loop, about 10^8 instructions into the run (before the
	// first checkpoint) and 10^9 (after the checkpoints the run took).
	back, far   loopJobs
	n, farN     int // alu_loop iterations of back and far
	insns, farI int // instructions before their stop
}

// loopJobs are a loop job and its N=0 (or otherwise smaller) twin.
type loopJobs struct{ loop, zero *job }

// aluPrologue is the number of alu_loop instructions before its loop for
// an argv[1] of that many digits (see guest/alu_loop.S: 9 to the first
// digit, 2, 6 a digit, 4 at the end of the string, 7 before the loop).
func aluPrologue(digits int) int { return 9 + 2 + 6*digits + 4 + 7 }

// aluEnd is the instruction after alu_loop's loop (eor x0, x11, x13).
const aluEnd = 0xca0d0160

// debuggerJobs adds the jobs of the debugger rows: a shell starts
// sissim run --gdb on a free port, waits for it to print its address, then
// runs gdb's commands against it.
func debuggerJobs(c config, alu string, add func(runner, string, ...string) *job) (*debugJobs, error) {
	if c.gdb == "" {
		return nil, errors.New("no gdb")
	}
	gdb, err := exec.LookPath(c.gdb)
	if err != nil {
		return nil, err
	}
	end, err := findInsn(alu, aluEnd)
	if err != nil {
		return nil, err
	}
	session := func(cmds ...string) runner {
		script := `f=$(mktemp) || exit 1
"$0" run --clock deterministic --gdb 127.0.0.1:0 "$1" "$2" 2>"$f" & s=$!
until a=$(sed -n 's/.*waiting for a debugger on \([0-9.:]*\) .*/\1/p' "$f") && [ -n "$a" ]; do
	kill -0 $s 2>/dev/null || { cat "$f" >&2; rm -f "$f"; exit 1; }
	sleep 0.01
done
"` + gdb + `" -batch -nx -ex "target remote $a"`
		for _, c := range cmds {
			script += ` -ex "` + c + `"`
		}
		script += ` >/dev/null || { kill $s; rm -f "$f"; exit 1; }
wait $s; r=$?; rm -f "$f"; exit $r`
		return runner{"sissim deterministic under gdb", []string{"/bin/sh", "-c", script, c.sissim}}
	}
	free := session("continue")
	back := session(fmt.Sprintf("break *%#x", end), "continue", "reverse-stepi", "delete", "continue")
	noBack := session(fmt.Sprintf("break *%#x", end), "continue", "delete", "continue")
	const n, farN = 8_333_333, 83_333_333 // about 10^8 and 10^9 instructions
	d := &debugJobs{
		free:  loopJobs{add(free, alu, strconv.Itoa(c.aluN)), add(free, alu, "0")},
		back:  loopJobs{add(back, alu, strconv.Itoa(n)), add(noBack, alu, strconv.Itoa(n))},
		far:   loopJobs{add(back, alu, strconv.Itoa(farN)), add(noBack, alu, strconv.Itoa(farN))},
		n:     n,
		farN:  farN,
		insns: aluPrologue(len(strconv.Itoa(n))) + aluInsns*n,
		farI:  aluPrologue(len(strconv.Itoa(farN))) + aluInsns*farN,
	}
	return d, nil
}

// findInsn returns the address of the first instruction word insn in the
// executable segments of the ELF file at path.
func findInsn(path string, insn uint32) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return 0, err
		}
		for i := 0; i+4 <= len(b); i += 4 {
			if binary.LittleEndian.Uint32(b[i:]) == insn {
				return p.Vaddr + uint64(i), nil
			}
		}
	}
	return 0, fmt.Errorf("%s: instruction %#08x not found", path, insn)
}

// buildGoGuests builds the hello and pipeline programs of
// testdata/goguests for linux/arm64 into a new temporary directory.
func buildGoGuests() (string, error) {
	dir, err := os.MkdirTemp("", "sissim-bench-go-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{"hello", "pipeline"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, name), "./"+name)
		cmd.Dir = filepath.Join("testdata", "goguests")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("go build %s: %v: %s", name, err, bytes.TrimSpace(out))
		}
	}
	return dir, nil
}

// calibrate picks an alu_loop N that takes about secs under r.
func calibrate(r runner, guest string, secs float64, cpu bool) (int, error) {
	const probe = 20_000_000
	zero := &job{cpu: cpu, r: r, guest: guest, args: []string{"0"}}
	loop := &job{cpu: cpu, r: r, guest: guest, args: []string{strconv.Itoa(probe)}}
	for range 2 {
		if err := zero.run(); err != nil {
			return 0, err
		}
		if err := loop.run(); err != nil {
			return 0, err
		}
	}
	per := float64(loop.median()-zero.median()) / probe
	if per <= 0 {
		return 0, errors.New("alu_loop calibration: no measurable loop time")
	}
	n := int(secs*1e9/per/10_000_000+0.5) * 10_000_000
	return max(n, 10_000_000), nil
}

// printTable prints rows with the first column left-aligned and the others
// right-aligned.
func printTable(w io.Writer, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", width[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func ns(d time.Duration) float64 { return float64(d.Nanoseconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1e3) }

// version returns the first line a command prints.
func version(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return argv[0] + ": unknown version"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

func qemuVersion(q *runner) string {
	if q == nil {
		return "no qemu"
	}
	return version(q.argv[0], "--version")
}

func hostCPU() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	n, model := 0, ""
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			n++
		case "model name":
			model = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("%d x %s", n, model)
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "load unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}
