package agentsys

import (
	"errors"
	"fmt"
	"image"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sis-kernel/sissim/pkg/ring"

	"github.com/spf13/afero"
)

// Env is what the machine hands the service.
type Env struct {
	// FS is the machine's VFS (vfs.FS.Afero); paths are absolute guest
	// paths. A file system with symlinks must resolve paths itself
	// (Resolver), so scope checks see what the operation will act on.
	// Where it can (vfs.FS.Afero can), the service protects its log's
	// directory (Protect) and keeps a rotated log append-only if the
	// log was (SetAppendOnly).
	FS     afero.Fs
	Now    func() time.Duration // machine time since boot
	Epoch  time.Time            // wall time at boot, for the audit log's "time"
	Screen func() image.Image   // the framebuffer's contents; nil: no display
}

// Config tunes the service; zero fields take the defaults.
type Config struct {
	MaxFrame      int           // largest payload, DefaultMaxFrame when 0
	RingSize      int           // audit ring, DefaultRingSize when 0 (at least 1024)
	AuditLog      string        // DefaultAuditLog when ""
	Agents        []Agent       // nil: BuiltinAgents()
	FrameInterval time.Duration // RECORD capture period, DefaultFrameInterval when 0
	// MaxWriteEnd bounds offset+len of any FS_WRITE whatever the agent
	// (EFBIG beyond), so a frame cannot make the host allocate gigabytes;
	// DefaultMaxWriteEnd when 0.
	MaxWriteEnd int64
	// MaxLogBytes bounds the audit log: a record that would take it past
	// this size first rotates it to AuditLog+".1" (replacing the previous
	// one); DefaultMaxLogBytes when 0, at least 4 KiB.
	MaxLogBytes int64
}

// Resolver is a file system that resolves paths itself: Realpath returns
// the canonical path name leads to, following every symlink (the last
// one only when followLast), failing with ELOOP past 40 links; missing
// components are taken as they are (vfs.FS.Realpath).
type Resolver interface {
	Realpath(name string, followLast bool) (string, error)
}

// Defaults.
const (
	DefaultRingSize      = 1024
	DefaultAuditLog      = "/var/log/agentsys-audit.jsonl"
	DefaultFrameInterval = 100 * time.Millisecond
	DefaultMaxWriteEnd   = 64 << 20
	DefaultMaxLogBytes   = 4 << 20
	DefaultReadLen       = 512
	DefaultRecordMs      = 5000
	MediaDir             = "/tmp/agentsys"
	DocsDir              = "/tmp/docs"
)

// Record is one audited operation.
type Record struct {
	Seq     uint64        // 1, 2, ... in handling order
	Agent   uint16        // from the token
	Op      byte          // the cmd byte
	Time    time.Duration // machine time
	Allowed bool          // the policy let it run
	Result  string        // "OK" or "<CtrlError>: <detail>"
}

type agentState struct {
	Agent
	bucket bucket
	ops    uint64
}

// Service is an AgentSys instance. Its methods are safe for concurrent use.
type Service struct {
	mu        sync.Mutex
	cfg       Config
	env       Env
	agents    map[uint16]*agentState
	order     []*agentState
	observers []func(Record)

	ring *ring.Ring[Record]
	seq  uint64

	total, denied, rejected, internal uint64
	log                               auditLog
	logWritten, logErrors             uint64
	logLastErr                        string

	audio audioState
	docs  docStore
	rec   recorder
}

// New returns a service; it fails on an invalid Config.
func New(cfg Config, env Env) (*Service, error) {
	if env.FS == nil || env.Now == nil {
		return nil, errors.New("agentsys: Env.FS and Env.Now are required")
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.RingSize == 0 {
		cfg.RingSize = DefaultRingSize
	}
	if cfg.AuditLog == "" {
		cfg.AuditLog = DefaultAuditLog
	}
	if cfg.Agents == nil {
		cfg.Agents = BuiltinAgents()
	}
	if cfg.FrameInterval == 0 {
		cfg.FrameInterval = DefaultFrameInterval
	}
	if cfg.MaxWriteEnd == 0 {
		cfg.MaxWriteEnd = DefaultMaxWriteEnd
	}
	if cfg.MaxLogBytes == 0 {
		cfg.MaxLogBytes = DefaultMaxLogBytes
	}
	switch {
	case cfg.MaxFrame < 16:
		return nil, fmt.Errorf("agentsys: MaxFrame %d is below 16 bytes", cfg.MaxFrame)
	case cfg.RingSize < DefaultRingSize:
		return nil, fmt.Errorf("agentsys: RingSize %d is below %d", cfg.RingSize, DefaultRingSize)
	case !path.IsAbs(cfg.AuditLog):
		return nil, fmt.Errorf("agentsys: AuditLog %q is not an absolute path", cfg.AuditLog)
	case cfg.FrameInterval < time.Millisecond:
		return nil, fmt.Errorf("agentsys: FrameInterval %v is below 1ms", cfg.FrameInterval)
	case cfg.MaxWriteEnd < 0:
		return nil, errors.New("agentsys: negative MaxWriteEnd")
	case cfg.MaxLogBytes < 4<<10:
		return nil, fmt.Errorf("agentsys: MaxLogBytes %d is below 4 KiB", cfg.MaxLogBytes)
	}
	if _, links := env.FS.(afero.LinkReader); links {
		if _, ok := env.FS.(Resolver); !ok {
			return nil, errors.New("agentsys: Env.FS has symlinks but does not resolve paths (Resolver)")
		}
	}
	s := &Service{cfg: cfg, env: env, agents: map[uint16]*agentState{}, ring: ring.New[Record](cfg.RingSize)}
	for _, a := range cfg.Agents {
		if _, dup := s.agents[a.ID]; dup {
			return nil, fmt.Errorf("agentsys: agent id %d registered twice", a.ID)
		}
		if a.Scope != "" && !path.IsAbs(a.Scope) {
			return nil, fmt.Errorf("agentsys: agent %s: scope %q is not absolute", a.Name, a.Scope)
		}
		if a.MaxFileSize < 0 || a.MaxOpsPerSec < 0 {
			return nil, fmt.Errorf("agentsys: agent %s: negative limit", a.Name)
		}
		st := &agentState{Agent: a}
		s.agents[a.ID] = st
		s.order = append(s.order, st)
	}
	s.audio.volume = 80
	s.docs.init()
	s.log = auditLog{fs: env.FS, path: path.Clean(cfg.AuditLog), max: cfg.MaxLogBytes}
	// The log is opened here if it can be; a failure shows up as a
	// counted log write error.
	_ = s.log.open()
	return s, nil
}

// Observe registers fn to be called once per handled operation, after
// the service's lock is released (fn may call the service).
func (s *Service) Observe(fn func(Record)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observers = append(s.observers, fn)
}

// Audit returns the ring's records, oldest first.
func (s *Service) Audit() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auditLocked()
}

func (s *Service) auditLocked() []Record {
	return s.ring.All()
}

// Agents returns the registered agents in registration order.
func (s *Service) Agents() []Agent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Agent, len(s.order))
	for i, a := range s.order {
		out[i] = a.Agent
	}
	return out
}

// Stats are the service's counters.
type Stats struct {
	Operations     uint64 // audited operations
	Denied         uint64 // of which not allowed
	RejectedFrames uint64 // frames refused before naming an agent
	LogWritten     uint64 // records appended to the audit log
	LogErrors      uint64 // records the log failed to take (they stay in the ring)
	LogLastError   string
	InternalErrors uint64 // recovered panics (a bug; 0 expected)
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{s.total, s.denied, s.rejected, s.logWritten, s.logErrors, s.logLastErr, s.internal}
}

// request is one operation being handled.
type request struct {
	op      byte
	agentID uint16
	agent   *agentState // nil when not registered
	now     time.Duration
	out     strings.Builder
	data    []byte
}

func (q *request) printf(format string, a ...any) {
	fmt.Fprintf(&q.out, format, a...)
	q.out.WriteByte('\n')
}

// outcome is how an operation ended.
type outcome struct {
	err     CtrlError
	detail  string
	allowed bool
	retry   time.Duration
}

// Handle decodes one frame, checks the policy, runs the operation and
// audits it. It never panics and writes nothing when the request fails
// before its operation runs.
func (s *Service) Handle(frame []byte) Reply {
	s.mu.Lock()
	rep, rec := s.handleLocked(frame)
	obs := s.observers
	s.mu.Unlock()
	if rec != nil {
		for _, fn := range obs {
			fn(*rec)
		}
	}
	return rep
}

func (s *Service) handleLocked(frame []byte) (rep Reply, rec *Record) {
	defer func() {
		if p := recover(); p != nil {
			s.internal++
			rep = Reply{Err: IoError, Output: fmt.Sprintf("[AgentSys] Error: internal error: %v\n", p)}
			rec = nil
		}
	}()
	now := s.env.Now()
	s.tickLocked(now)

	if bad, detail := s.checkHeader(frame); bad != OK {
		s.rejected++
		return Reply{Err: bad, Output: "[AgentSys] Error: " + bad.String() + ": " + detail + "\n"}, nil
	}
	payload := frame[HeaderSize:]
	if len(payload) < 8 {
		s.rejected++
		return Reply{Err: InvalidFormat, Output: "[AgentSys] Error: InvalidFormat: payload shorter than the 8-byte token\n"}, nil
	}
	r := reader{b: payload}
	token := r.u64()
	q := &request{op: frame[2], agentID: TokenAgent(token), now: now}
	q.agent = s.agents[q.agentID]
	o := s.run(q, token, &r)

	s.total++
	if !o.allowed {
		s.denied++
	}
	if q.agent != nil {
		q.agent.ops++
	}
	result := "OK"
	if o.err != OK {
		result = o.err.String()
		if o.detail != "" {
			result += ": " + o.detail
		}
	}
	verdict := "ALLOW"
	if !o.allowed {
		verdict = "DENY"
	}
	q.printf("[AUDIT] agent=%d op=0x%02X result=%s", q.agentID, q.op, verdict)
	r2 := s.audit(q.agentID, q.op, now, o.allowed, result)
	return Reply{Err: o.err, Output: q.out.String(), RetryAfter: o.retry, Data: q.data}, &r2
}

// checkHeader validates the frame header and length.
func (s *Service) checkHeader(f []byte) (CtrlError, string) {
	switch {
	case len(f) < HeaderSize:
		return BadFrame, fmt.Sprintf("frame of %d bytes is shorter than the 8-byte header", len(f))
	case f[0] != Magic:
		return BadFrame, fmt.Sprintf("bad magic 0x%02X (want 0x43)", f[0])
	case f[1] != Version:
		return Unsupported, fmt.Sprintf("protocol version %d (want 0)", f[1])
	case f[3] != 0:
		return Unsupported, fmt.Sprintf("reserved flags 0x%02X set", f[3])
	}
	n := uint64(f[4]) | uint64(f[5])<<8 | uint64(f[6])<<16 | uint64(f[7])<<24
	if n > uint64(s.cfg.MaxFrame) {
		return Oversize, fmt.Sprintf("payload of %d bytes exceeds the %d-byte limit", n, s.cfg.MaxFrame)
	}
	if have := uint64(len(f) - HeaderSize); have != n {
		return BadFrame, fmt.Sprintf("header length %d but %d payload bytes follow", n, have)
	}
	return OK, ""
}

// args are an operation's decoded arguments.
type args struct {
	path string // cleaned, for path operations and documents
	off  uint64
	n    uint32
	data []byte
	kind uint8
	u32  uint32
	u16  uint16
	u8   uint8
	name string
}

// run authenticates, parses, checks the policy and runs the operation.
func (s *Service) run(q *request, token uint64, r *reader) outcome {
	name := OpName(q.op)
	if !ValidOp(q.op) {
		q.printf("[AgentSys] Error: Unsupported: unknown operation 0x%02X", q.op)
		return outcome{err: Unsupported, detail: fmt.Sprintf("unknown operation 0x%02X", q.op)}
	}
	if token&(1<<48-1) != tokenCheck(q.agentID) {
		return s.deny(q, AuthFailed, ReasonAuth)
	}
	// Policy, in the spec's order; argument decoding sits between the
	// agent checks and the checks that need the arguments.
	a := q.agent
	switch {
	case a == nil:
		return s.deny(q, PermissionDenied, ReasonNotRegistered)
	case !a.Enabled:
		return s.deny(q, PermissionDenied, ReasonDisabled)
	case a.Caps&opCap(q.op) == 0:
		return s.deny(q, PermissionDenied, ReasonNoCapability)
	}
	ar, bad := s.parse(q, r)
	if bad != "" {
		q.printf("[AgentSys] Error: InvalidFormat: %s: %s", name, bad)
		return outcome{err: InvalidFormat, detail: bad}
	}
	// Documents are checked against their file's path.
	if q.op == OpDocEdit || q.op == OpDocSave {
		d := s.docs.get(ar.u32)
		if d == nil {
			q.printf("[Doc] Error: No such document: ref=%d", ar.u32)
			return outcome{err: IoError, detail: fmt.Sprintf("no document %d", ar.u32), allowed: true}
		}
		ar.path = d.path
	}
	target := ar.path
	if ar.path != "" && a.Scope != "" {
		if !inScope(a.Scope, ar.path) {
			return s.deny(q, PermissionDenied, ReasonOutsideScope)
		}
		follow := q.op != OpFsStat && q.op != OpFsDelete
		var err error
		if target, err = s.realpath(ar.path, follow); err != nil {
			// Where the path leads cannot be known (too many links,
			// a file used as a directory): nothing runs.
			t := errText(err)
			q.printf("[AgentSys] %s denied: %s", name, t)
			return outcome{err: IoError, detail: t}
		}
		if !inScope(a.Scope, target) {
			return s.deny(q, PermissionDenied, ReasonOutsideScope)
		}
	}
	if ar.path != "" && modifies(q.op) && s.isAuditLog(ar.path, q.op != OpFsDelete) {
		return s.deny(q, PermissionDenied, ReasonAuditLog)
	}
	if q.op == OpFsWrite && a.MaxFileSize > 0 {
		end := ar.off + uint64(len(ar.data))
		if end < ar.off || end > uint64(a.MaxFileSize) {
			return s.deny(q, PermissionDenied, ReasonTooLarge)
		}
	}
	if ok, wait := a.bucket.take(q.now, a.MaxOpsPerSec); !ok {
		q.printf("[AgentSys] %s denied: %s (retry after %d ms)", name, ReasonRateLimit, ceilMs(wait))
		return outcome{err: ResourceLimit, detail: ReasonRateLimit, retry: wait}
	}
	o := s.execute(q, ar, target)
	o.allowed = true
	return o
}

func ceilMs(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }

func (s *Service) deny(q *request, e CtrlError, reason string) outcome {
	q.printf("[AgentSys] %s denied: %s", OpName(q.op), reason)
	return outcome{err: e, detail: reason}
}

// parse decodes the arguments after the token; bad says what is wrong.
func (s *Service) parse(q *request, r *reader) (a args, bad string) {
	needPath := func() {
		a.path, bad = cleanPath(r.str())
	}
	switch q.op {
	case OpFsList, OpFsStat, OpFsDelete:
		needPath()
	case OpFsRead:
		needPath()
		a.off, a.n = 0, DefaultReadLen
		if !r.empty() && bad == "" {
			a.off, a.n = r.u64(), r.u32()
		}
	case OpFsWrite:
		needPath()
		a.off = r.u64()
		a.data = r.b
		r.b = nil
	case OpFsCreate:
		needPath()
		if !r.empty() {
			a.kind = r.u8()
			if a.kind > 1 {
				return a, fmt.Sprintf("kind %d (want 0 file or 1 dir)", a.kind)
			}
		}
	case OpAudioPlay, OpDocSave:
		a.u32 = r.u32()
	case OpAudioStop, OpScreenshot:
	case OpAudioVolume:
		a.u8 = r.u8()
		if !r.short && a.u8 > 100 {
			return a, fmt.Sprintf("volume %d is above 100", a.u8)
		}
	case OpDocNew:
		a.name = r.str()
		if !r.short {
			if bad = checkDocName(a.name); bad == "" {
				a.path = DocsDir + "/" + a.name
			}
		}
	case OpDocEdit:
		a.u32, a.u16 = r.u32(), r.u16()
	case OpRecord:
		a.u32 = DefaultRecordMs
		if !r.empty() {
			a.u32 = r.u32()
			if !r.short && (a.u32 == 0 || a.u32 > maxRecordMs) {
				return a, fmt.Sprintf("duration %d ms (want 1..%d)", a.u32, maxRecordMs)
			}
		}
	}
	if r.short {
		return a, "payload too short"
	}
	if bad != "" {
		return a, bad
	}
	if !r.empty() {
		return a, fmt.Sprintf("%d unexpected trailing bytes", len(r.b))
	}
	return a, ""
}

// cleanPath validates a path from a frame and cleans it.
func cleanPath(p string) (string, string) {
	switch {
	case p == "":
		return "", "empty path"
	case !utf8.ValidString(p):
		return "", "path is not valid UTF-8"
	case strings.IndexByte(p, 0) >= 0:
		return "", "path contains a NUL byte"
	case p[0] != '/':
		return "", "path is not absolute"
	}
	return path.Clean(p), ""
}

// realpath returns the canonical path the clean absolute path p leads to,
// as the file system resolves it (following the last symlink only when
// followLast): the one place symlinks are resolved, so an operation acts
// on exactly the path its checks saw. A file system without symlinks
// returns p.
func (s *Service) realpath(p string, followLast bool) (string, error) {
	if r, ok := s.env.FS.(Resolver); ok {
		return r.Realpath(p, followLast)
	}
	return p, nil
}
