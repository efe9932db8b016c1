package agentsys

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/sis-kernel/sissim/pkg/shellcmd"
)

// Usage is the usage line of the agentsys command.
const Usage = "agentsys  the agent control plane: state, agents, audit, policy and self-tests"

// selfTestHelp says what each self-test does, in the order help lists them.
var selfTestHelp = []struct{ name, help string }{
	{"test-fs-list", "FS_LIST /tmp/"},
	{"test-fs-read", "FS_READ /tmp/agentsys/test.txt"},
	{"test-fs-write", "FS_WRITE /tmp/agentsys/test.txt"},
	{"test-fs-stat", "FS_STAT /tmp/agentsys"},
	{"test-fs-create", "FS_CREATE /tmp/agentsys/test_created.txt"},
	{"test-fs-delete", "FS_DELETE /tmp/agentsys/test_delete.txt"},
	{"test-audio-play", "AUDIO_PLAY track 42 (checks the WAV)"},
	{"test-audio-stop", "AUDIO_STOP (plays track 42 first if nothing plays)"},
	{"test-audio-volume", "AUDIO_VOLUME 50 (sets the device's volume to 50)"},
	{"test-doc-new", "DOC_NEW /tmp/docs/test_doc.md (made anew)"},
	{"test-doc-edit", "DOC_EDIT 2 ops on the test document (opened if needed)"},
	{"test-doc-save", "DOC_SAVE the test document (checks the file)"},
	{"test-screenshot", "SCREENSHOT (checks the PNG against the framebuffer)"},
	{"test-record", "RECORD 1000 ms (the GIF is written when machine time reaches the end)"},
}

// ShellCommand returns the agentsys shell command over the service.
func (s *Service) ShellCommand() shellcmd.Command {
	return shellcmd.Command{Name: "agentsys", Usage: Usage, Subs: s.subs(), Run: s.Command}
}

// Command runs the agentsys shell command; without a subcommand it
// prints the help, as SIS does.
func (s *Service) Command(w io.Writer, args []string) error {
	subs := s.subs()
	if len(args) == 0 {
		args = []string{"help"}
	}
	if _, ok := shellcmd.Find(subs, args[0]); !ok && !shellcmd.IsHelp(args[0]) {
		// SIS's line for an unknown subcommand.
		return &shellcmd.UsageError{Detail: "Unknown agentsys subcommand. Use 'agentsys help' for usage.", Syntax: shellcmd.SubsSyntax("agentsys", subs)}
	}
	return shellcmd.Dispatch("agentsys", subs, w, args)
}

// report runs f with a buffer and writes what it printed to w.
func report(f func(b *strings.Builder)) shellcmd.Func {
	return func(w io.Writer, args []string) error {
		if len(args) != 0 {
			return shellcmd.BadArgs("unexpected argument %q", args[0])
		}
		var b strings.Builder
		f(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
}

func (s *Service) subs() []shellcmd.Sub {
	subs := []shellcmd.Sub{
		{Name: "status", Usage: "status  service state, agents and counters", Run: report(s.status)},
		{Name: "list", Usage: "list  registered agents", Run: report(s.list)},
		{Name: "audit", Usage: "audit [N]  the last N audit records (default 20)", Run: func(w io.Writer, args []string) error {
			n := 20
			if len(args) > 1 {
				return shellcmd.BadArgs("agentsys audit: more than one count")
			}
			if len(args) == 1 {
				v, err := strconv.Atoi(args[0])
				if err != nil || v < 1 {
					return shellcmd.BadArgs("agentsys audit: N %q is not a positive number", args[0])
				}
				n = v
			}
			var b strings.Builder
			s.auditCmd(&b, n)
			_, err := io.WriteString(w, b.String())
			return err
		}},
		{Name: "policy", Usage: "policy  each agent's capabilities, scope and limits", Run: report(s.policy)},
	}
	for _, t := range selfTestHelp {
		name := t.name
		subs = append(subs, shellcmd.Sub{Name: name, Usage: name + "  self-test: " + t.help, Run: func(w io.Writer, args []string) error {
			if len(args) != 0 {
				return shellcmd.BadArgs("unexpected argument %q", args[0])
			}
			var b strings.Builder
			err := s.selfTest(&b, selfTests[name])
			if _, werr := io.WriteString(w, b.String()); werr != nil {
				return werr
			}
			if err != nil {
				return fmt.Errorf("agentsys %s: %w", name, err)
			}
			return nil
		}})
	}
	return subs
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func (s *Service) status(b *strings.Builder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Now()
	s.tickLocked(now)
	fmt.Fprintf(b, "[AgentSys] Status:\n  Registered agents: %d\n", len(s.order))
	for _, a := range s.order {
		fmt.Fprintf(b, "    - %s (ID=%d, enabled=%s)\n", a.Name, a.ID, yesNo(a.Enabled))
	}
	fmt.Fprintf(b, "  Total operations: %d\n", s.total)
	fmt.Fprintf(b, "  Denied operations: %d\n", s.denied)
	fmt.Fprintf(b, "  Rejected frames: %d\n", s.rejected)
	fmt.Fprintf(b, "  Audit ring: %d/%d records\n", s.ring.Len(), s.ring.Cap())
	fmt.Fprintf(b, "  Audit log: %s (%d records written, %d write errors", s.cfg.AuditLog, s.logWritten, s.logErrors)
	if s.logErrors > 0 {
		fmt.Fprintf(b, "; last: %s", s.logLastErr)
	}
	b.WriteString(")\n")
	if s.audio.playingAt(now) {
		fmt.Fprintf(b, "  Audio: playing track %d (volume %d)\n", s.audio.track, s.audio.volume)
	} else {
		fmt.Fprintf(b, "  Audio: stopped (volume %d)\n", s.audio.volume)
	}
	fmt.Fprintf(b, "  Documents open: %d\n", len(s.docs.m))
	fmt.Fprintf(b, "  Recordings: %d running, %d written, %d failed\n", len(s.rec.active), s.rec.done, s.rec.failed)
	if s.rec.failed > 0 {
		fmt.Fprintf(b, "  Last recording error: %s\n", s.rec.lastErr)
	}
	if s.internal > 0 {
		fmt.Fprintf(b, "  Internal errors: %d\n", s.internal)
	}
}

func (s *Service) list(b *strings.Builder) {
	b.WriteString("[AgentSys] Registered agents:\n")
	for _, a := range s.Agents() {
		fmt.Fprintf(b, "  %-5d %-12s enabled=%s caps=%s\n", a.ID, a.Name, yesNo(a.Enabled), a.Caps)
	}
}

func limit(v int64, unit string) string {
	if v == 0 {
		return "unlimited"
	}
	return strconv.FormatInt(v, 10) + unit
}

func (s *Service) policy(b *strings.Builder) {
	b.WriteString("[AgentSys] Policy (checked in order: registered, enabled, capability, scope, audit log, file size, rate):\n")
	for _, a := range s.Agents() {
		scope := a.Scope
		if scope == "" {
			scope = "unrestricted"
		}
		fmt.Fprintf(b, "  %s (ID=%d): enabled=%s caps=%s scope=%s max_file_size=%s max_ops_per_sec=%s\n",
			a.Name, a.ID, yesNo(a.Enabled), a.Caps, scope, limit(a.MaxFileSize, " bytes"), limit(int64(a.MaxOpsPerSec), ""))
	}
}

func (s *Service) auditCmd(b *strings.Builder, n int) {
	recs := s.Audit()
	recs = recs[max(0, len(recs)-n):]
	b.WriteString("[AgentSys] Recent audit records:\n")
	for _, r := range recs {
		fmt.Fprintf(b, "  agent=%d op=0x%02X ts=%d allowed=%t\n", r.Agent, r.Op, r.Time.Microseconds(), r.Allowed)
	}
}

// selfTest is one test-* subcommand: a request sent as test_agent and a
// check of its real effect.
type selfTest struct {
	title string                            // after "[AgentSys] Testing "
	op    byte                              //
	setup func(s *Service) ([]byte, error)  // prepares state, returns the arguments
	check func(s *Service, rep Reply) error // verifies the effect
}

const (
	testFile    = MediaDir + "/test.txt"
	testCreated = MediaDir + "/test_created.txt"
	testDelete  = MediaDir + "/test_delete.txt"
	testContent = "Hello from AgentSys!\n"
	testTrack   = 42
	testRecMs   = 1000
	testVolume  = 50
	testDocName = "test_doc.md"
	testDoc     = DocsDir + "/" + testDocName
	testEditOps = 2
)

// testDocument returns a copy of the newest open document of the test
// file (nil when none).
func (s *Service) testDocument() *document {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *document
	for _, x := range s.docs.m {
		if x.path == testDoc && (d == nil || x.ref > d.ref) {
			d = x
		}
	}
	if d == nil {
		return nil
	}
	c := *d
	c.buf = append([]byte(nil), d.buf...)
	return &c
}

// removeIfExists removes name; a missing file is no error.
func (s *Service) removeIfExists(name string) error {
	if err := s.env.FS.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// openTestDoc returns the test document, opening it with a DOC_NEW
// frame as test_agent when none is open.
func (s *Service) openTestDoc() (*document, error) {
	if d := s.testDocument(); d != nil {
		return d, nil
	}
	if err := s.removeIfExists(testDoc); err != nil {
		return nil, err
	}
	rep := s.Handle(EncodeFrame(OpDocNew, 0, Token(AgentTest), NamePayload(testDocName)))
	if rep.Err != OK {
		return nil, fmt.Errorf("DOC_NEW %s: %s", testDoc, rep.Err)
	}
	if d := s.testDocument(); d != nil {
		return d, nil
	}
	return nil, errors.New("DOC_NEW opened no document")
}

var selfTests = map[string]selfTest{
	"test-fs-list": {"FS_LIST on /tmp/", OpFsList,
		func(*Service) ([]byte, error) { return PathPayload("/tmp/"), nil },
		func(s *Service, rep Reply) error {
			ents, err := afero.ReadDir(s.env.FS, "/tmp")
			if err != nil {
				return err
			}
			return wantLine(rep, entriesLine(ents))
		}},
	"test-fs-read": {"FS_READ on " + testFile, OpFsRead,
		func(s *Service) ([]byte, error) {
			if _, err := s.env.FS.Stat(testFile); errors.Is(err, fs.ErrNotExist) {
				if err := s.writeFile(testFile, []byte(testContent)); err != nil {
					return nil, err
				}
			}
			return PathPayload(testFile), nil
		},
		func(s *Service, rep Reply) error {
			want, err := afero.ReadFile(s.env.FS, testFile)
			if err != nil {
				return err
			}
			want = want[:min(len(want), DefaultReadLen)]
			if !bytes.Equal(rep.Data, want) {
				return fmt.Errorf("read %q, file holds %q", rep.Data, want)
			}
			return wantLine(rep, fmt.Sprintf("[FS] Read %d bytes", len(want)))
		}},
	"test-fs-write": {"FS_WRITE on " + testFile, OpFsWrite,
		func(*Service) ([]byte, error) { return WritePayload(testFile, 0, []byte(testContent)), nil },
		func(s *Service, rep Reply) error {
			got, err := afero.ReadFile(s.env.FS, testFile)
			if err != nil {
				return err
			}
			if !bytes.HasPrefix(got, []byte(testContent)) {
				return fmt.Errorf("file holds %q after the write", got)
			}
			return wantLine(rep, fmt.Sprintf("[FS] Wrote %d bytes to %s", len(testContent), testFile))
		}},
	"test-fs-stat": {"FS_STAT on " + MediaDir, OpFsStat,
		func(s *Service) ([]byte, error) {
			return PathPayload(MediaDir), s.env.FS.MkdirAll(MediaDir, 0o755)
		},
		func(s *Service, rep Reply) error {
			fi, err := s.env.FS.Stat(MediaDir)
			if err != nil {
				return err
			}
			return wantLine(rep, fmt.Sprintf("[FS] Stat: %s - size=%d mode=%04o type=dir", MediaDir, fi.Size(), permBits(fi.Mode())))
		}},
	"test-fs-create": {"FS_CREATE on " + testCreated, OpFsCreate,
		func(s *Service) ([]byte, error) {
			if err := s.env.FS.MkdirAll(MediaDir, 0o755); err != nil {
				return nil, err
			}
			return CreatePayload(testCreated, false), s.removeIfExists(testCreated)
		},
		func(s *Service, rep Reply) error {
			fi, err := s.env.FS.Stat(testCreated)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return fmt.Errorf("%s is not a regular file", testCreated)
			}
			return wantLine(rep, "[FS] Created: "+testCreated+" (file)")
		}},
	"test-fs-delete": {"FS_DELETE on " + testDelete, OpFsDelete,
		func(s *Service) ([]byte, error) {
			return PathPayload(testDelete), s.writeFile(testDelete, []byte(testContent))
		},
		func(s *Service, rep Reply) error {
			if _, err := s.env.FS.Stat(testDelete); !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s still exists", testDelete)
			}
			return wantLine(rep, "[FS] Deleted: "+testDelete)
		}},
	"test-audio-play": {fmt.Sprintf("AUDIO_PLAY track=%d", testTrack), OpAudioPlay,
		func(*Service) ([]byte, error) { return U32Payload(testTrack), nil },
		func(s *Service, rep Reply) error {
			name := fmt.Sprintf("%s/audio_track_%d.wav", MediaDir, testTrack)
			b, err := afero.ReadFile(s.env.FS, name)
			if err != nil {
				return err
			}
			if err := CheckWAV(b); err != nil {
				return err
			}
			return wantLine(rep, fmt.Sprintf("[Audio] Playing track %d -> %s", testTrack, name))
		}},
	"test-audio-stop": {"AUDIO_STOP", OpAudioStop,
		func(s *Service) ([]byte, error) {
			if !s.Audio().Playing {
				if rep := s.Handle(EncodeFrame(OpAudioPlay, 0, Token(AgentTest), U32Payload(testTrack))); rep.Err != OK {
					return nil, fmt.Errorf("AUDIO_PLAY: %s", rep.Err)
				}
			}
			return nil, nil
		},
		func(s *Service, rep Reply) error {
			a := s.Audio()
			if a.Playing {
				return errors.New("the audio device still plays")
			}
			return wantLine(rep, fmt.Sprintf("[Audio] Stopped track %d", a.Track))
		}},
	"test-audio-volume": {fmt.Sprintf("AUDIO_VOLUME level=%d", testVolume), OpAudioVolume,
		func(*Service) ([]byte, error) { return VolumePayload(testVolume), nil },
		func(s *Service, rep Reply) error {
			if v := s.Audio().Volume; v != testVolume {
				return fmt.Errorf("the device's volume is %d", v)
			}
			return wantLine(rep, fmt.Sprintf("[Audio] Volume: %d", testVolume))
		}},
	"test-doc-new": {"DOC_NEW on " + testDoc, OpDocNew,
		func(s *Service) ([]byte, error) {
			return NamePayload(testDocName), s.removeIfExists(testDoc)
		},
		func(s *Service, rep Reply) error {
			b, err := afero.ReadFile(s.env.FS, testDoc)
			if err != nil {
				return err
			}
			if want := "# " + testDocName + "\n"; string(b) != want {
				return fmt.Errorf("%s holds %q, want %q", testDoc, b, want)
			}
			d := s.testDocument()
			if d == nil {
				return errors.New("no document is open")
			}
			return wantLine(rep, fmt.Sprintf("[Doc] Created: %s (ref=%d)", testDoc, d.ref))
		}},
	"test-doc-edit": {"DOC_EDIT on " + testDoc, OpDocEdit,
		func(s *Service) ([]byte, error) {
			d, err := s.openTestDoc()
			if err != nil {
				return nil, err
			}
			return EditPayload(d.ref, testEditOps), nil
		},
		func(s *Service, rep Reply) error {
			d := s.testDocument()
			if d == nil {
				return errors.New("the document is gone")
			}
			ls := strings.Split(strings.TrimSuffix(string(d.buf), "\n"), "\n")
			if d.edits < testEditOps || len(ls) < testEditOps {
				return fmt.Errorf("the document holds %d edits", d.edits)
			}
			for i, l := range ls[len(ls)-testEditOps:] {
				want := fmt.Sprintf("edit %d: agent %d at ", d.edits-testEditOps+1+uint64(i), AgentTest)
				if !strings.HasPrefix(l, want) || !strings.HasSuffix(l, " ms") {
					return fmt.Errorf("edit line %q, want %q<n> ms", l, want)
				}
			}
			return wantLine(rep, fmt.Sprintf("[Doc] Edited: ref=%d (%d ops, %d bytes unsaved)", d.ref, testEditOps, len(d.buf)))
		}},
	"test-doc-save": {"DOC_SAVE on " + testDoc, OpDocSave,
		func(s *Service) ([]byte, error) {
			d, err := s.openTestDoc()
			if err != nil {
				return nil, err
			}
			return U32Payload(d.ref), nil
		},
		func(s *Service, rep Reply) error {
			d := s.testDocument()
			if d == nil {
				return errors.New("the document is gone")
			}
			b, err := afero.ReadFile(s.env.FS, testDoc)
			if err != nil {
				return err
			}
			if !bytes.Equal(b, d.buf) {
				return fmt.Errorf("%s holds %q, the document %q", testDoc, b, d.buf)
			}
			return wantLine(rep, fmt.Sprintf("[Doc] Saved: %s (%d bytes)", testDoc, len(b)))
		}},
	"test-screenshot": {"SCREENSHOT", OpScreenshot,
		func(*Service) ([]byte, error) { return nil, nil },
		func(s *Service, rep Reply) error {
			name, ok := strings.CutPrefix(firstLine(rep.Output), "[Screenshot] Saved: ")
			if !ok {
				return errors.New("no [Screenshot] Saved line")
			}
			name, _, _ = strings.Cut(name, " (")
			b, err := afero.ReadFile(s.env.FS, name)
			if err != nil {
				return err
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			scr, err := s.screen()
			if err != nil {
				return err
			}
			return sameImage(img, scr)
		}},
	"test-record": {fmt.Sprintf("RECORD duration=%dms", testRecMs), OpRecord,
		func(*Service) ([]byte, error) { return U32Payload(testRecMs), nil },
		func(s *Service, rep Reply) error {
			if !strings.HasPrefix(firstLine(rep.Output), "[Record] Started: ") {
				return errors.New("no [Record] Started line")
			}
			if _, ok := s.NextTick(); !ok {
				return errors.New("no recording is running")
			}
			return nil
		}},
}

// selfTest runs a self-test, printing SIS's lines; a failure is also
// returned.
func (s *Service) selfTest(b *strings.Builder, t selfTest) error {
	fmt.Fprintf(b, "[AgentSys] Testing %s\n", t.title)
	payload, err := t.setup(s)
	if err != nil {
		fmt.Fprintf(b, "[AgentSys] Test FAILED: setup: %s\n", errText(err))
		return fmt.Errorf("test failed: setup: %s", errText(err))
	}
	rep := s.Handle(EncodeFrame(t.op, 0, Token(AgentTest), payload))
	b.WriteString(rep.Output)
	if rep.Err != OK {
		fmt.Fprintf(b, "[AgentSys] Test FAILED: %s\n", rep.Err)
		return fmt.Errorf("test failed: %s", rep.Err)
	}
	if err := t.check(s, rep); err != nil {
		fmt.Fprintf(b, "[AgentSys] Test FAILED: %v\n", err)
		return fmt.Errorf("test failed: %w", err)
	}
	b.WriteString("[AgentSys] Test PASSED\n")
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func wantLine(rep Reply, want string) error {
	for _, l := range strings.Split(rep.Output, "\n") {
		if l == want {
			return nil
		}
	}
	return fmt.Errorf("output lacks %q", want)
}

// sameImage compares two images pixel by pixel.
func sameImage(a, b image.Image) error {
	if a.Bounds() != b.Bounds() {
		return fmt.Errorf("image is %v, framebuffer %v", a.Bounds(), b.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.NRGBA64Model.Convert(a.At(x, y))
			cb := color.NRGBA64Model.Convert(b.At(x, y))
			if ca != cb {
				return fmt.Errorf("pixel (%d,%d) is %v, framebuffer %v", x, y, ca, cb)
			}
		}
	}
	return nil
}

// CheckWAV verifies that b is a PCM WAV file whose RIFF and data chunk
// sizes agree with its length.
func CheckWAV(b []byte) error {
	le := binary.LittleEndian
	switch {
	case len(b) < 44:
		return fmt.Errorf("WAV of %d bytes is shorter than its 44-byte header", len(b))
	case string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt ":
		return errors.New("not a RIFF/WAVE file")
	case int(le.Uint32(b[4:])) != len(b)-8:
		return fmt.Errorf("RIFF size %d, file holds %d", le.Uint32(b[4:]), len(b)-8)
	case le.Uint32(b[16:]) != 16 || le.Uint16(b[20:]) != 1:
		return errors.New("fmt chunk is not 16-byte PCM")
	case string(b[36:40]) != "data" || int(le.Uint32(b[40:])) != len(b)-44:
		return fmt.Errorf("data chunk size %d, file holds %d", le.Uint32(b[40:]), len(b)-44)
	}
	// In int64: a 16-bit channel count times 16-bit sample bytes
	// overflows uint16 (a zero frame size would divide by zero).
	ch, rate, bits := int64(le.Uint16(b[22:])), int64(le.Uint32(b[24:])), int64(le.Uint16(b[34:]))
	if ch == 0 || bits == 0 || bits%8 != 0 {
		return fmt.Errorf("%d channels of %d bits", ch, bits)
	}
	frame := ch * (bits / 8)
	if int64(le.Uint32(b[28:])) != rate*frame || int64(le.Uint16(b[32:])) != frame {
		return errors.New("byte rate or block align disagree with the format")
	}
	if int64(len(b)-44)%frame != 0 {
		return errors.New("data is not a whole number of frames")
	}
	return nil
}
