package agentsys

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/vfs"
)

// fuzzBroad is the fuzz agent without a scope.
const fuzzBroad = 3

// fuzzAgents are confined to /tmp/files/, but for fuzzBroad.
var fuzzAgents = []Agent{
	{ID: fuzzBroad, Name: "broad", Enabled: true, Caps: CapAll},
	{ID: 0, Name: "a0", Enabled: true, Caps: CapAll, Scope: "/tmp/files/"},
	{ID: 1, Name: "a1", Enabled: true, Caps: CapFsBasic | CapDocBasic, Scope: "/tmp/files/", MaxFileSize: 4096, MaxOpsPerSec: 2},
	{ID: 2, Name: "a2", Enabled: false, Caps: CapAll, Scope: "/tmp/files/"},
	{ID: AgentTest, Name: "t", Enabled: true, Caps: CapAll &^ CapAdmin, Scope: "/tmp/files/"},
}

func fuzzSeeds() [][]byte {
	tok := Token(0)
	var seeds [][]byte
	add := func(op byte, pl []byte) { seeds = append(seeds, EncodeFrame(op, 0, tok, pl)) }
	add(OpFsList, PathPayload("/tmp/files"))
	add(OpFsRead, ReadPayload("/tmp/files/a", 1, 4))
	add(OpFsRead, PathPayload("/tmp/files/etc/passwd"))
	add(OpFsWrite, WritePayload("/tmp/files/a", 2, []byte("xyz")))
	add(OpFsWrite, WritePayload("/tmp/files/../../etc/passwd", 0, []byte("pwned")))
	add(OpFsWrite, WritePayload("/tmp/files/up/etc/hostname", 0, []byte("pwned")))
	add(OpFsStat, PathPayload("/tmp/files/etc"))
	add(OpFsCreate, CreatePayload("/tmp/files/d", true))
	add(OpFsDelete, PathPayload("/tmp/files/a"))
	add(OpAudioPlay, U32Payload(3))
	add(OpAudioStop, nil)
	add(OpAudioVolume, VolumePayload(10))
	add(OpDocNew, NamePayload("n"))
	add(OpDocEdit, EditPayload(1, 3))
	add(OpDocSave, U32Payload(1))
	add(OpScreenshot, nil)
	add(OpRecord, U32Payload(300))
	seeds = append(seeds,
		EncodeFrame(OpFsWrite, 0, Token(1), WritePayload("/tmp/files/b", 4000, []byte("0123456789"))),
		EncodeFrame(OpFsStat, 0, Token(2), PathPayload("/tmp/files")),
		EncodeFrame(OpFsWrite, 0, Token(fuzzBroad), WritePayload(DefaultAuditLog, 0, []byte("{}"))),
		EncodeFrame(OpFsWrite, 0, Token(fuzzBroad), WritePayload("/tmp/files/hard", 0, []byte("{}"))),
		EncodeFrame(OpFsWrite, 0, tok, WritePayload("/tmp/files/hard", 0, []byte("{}"))),
		EncodeFrame(OpFsWrite, 0, Token(fuzzBroad), WritePayload("/tmp/files/log", 0, []byte("{}"))),
		EncodeFrame(OpFsDelete, 0, Token(fuzzBroad), PathPayload("/var/log/agentsys-audit.jsonl")),
		EncodeFrame(OpFsCreate, 0, Token(fuzzBroad), CreatePayload("/var/log/agentsys-audit.jsonl", true)),
		EncodeFrame(OpFsStat, 0, Token(9), PathPayload("/tmp/files")),
		EncodeFrame(OpFsStat, 0, 12345, PathPayload("/tmp/files")),
		EncodeFrame(0x40, 0, tok, nil),
		[]byte{0x43, 0, 0x30, 0, 0xff, 0xff, 0, 0},
		[]byte{0x43, 1, 0x30, 0, 0, 0, 0, 0},
		[]byte{0x43},
		nil,
	)
	return seeds
}

func FuzzHandle(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint16(0))
	}
	f.Fuzz(func(t *testing.T, frame []byte, later uint16) {
		v, err := vfs.NewDefaultRoot("sis")
		require.NoError(t, err)
		fsys := v.Afero()
		require.NoError(t, fsys.MkdirAll("/tmp/files", 0o755))
		require.NoError(t, afero.WriteFile(fsys, "/tmp/files/a", []byte("abcdef"), 0o644))
		require.NoError(t, fsys.(afero.Symlinker).SymlinkIfPossible("/etc", "/tmp/files/etc"))
		require.NoError(t, fsys.(afero.Symlinker).SymlinkIfPossible("../..", "/tmp/files/up"))
		scr := image.NewRGBA(image.Rect(0, 0, 32, 24))
		scr.SetRGBA(3, 4, color.RGBA{200, 10, 10, 255})
		now := time.Second
		s, err := New(Config{Agents: fuzzAgents, MaxFrame: 4096}, Env{FS: fsys,
			Now: func() time.Duration { return now }, Screen: func() image.Image { return scr }})
		require.NoError(t, err)
		// The audit log, with a symlink and a hard link to it in the scope.
		require.Equal(t, OK, s.Handle(EncodeFrame(OpAudioStop, 0, Token(0), nil)).Err)
		require.NoError(t, fsys.(afero.Symlinker).SymlinkIfPossible(DefaultAuditLog, "/tmp/files/log"))
		require.NoError(t, v.LinkAt(nil, "/", DefaultAuditLog, "/", "/tmp/files/hard", false))
		logBefore, err := afero.ReadFile(fsys, DefaultAuditLog)
		require.NoError(t, err)
		skip := []string{"/tmp/files", "/tmp/agentsys", "/var/log"}
		before := snapshot(t, fsys, skip...)
		broad := len(frame) >= 16 && TokenAgent(binary.LittleEndian.Uint64(frame[8:])) == fuzzBroad

		for range 2 { // twice: state (documents, rate buckets) matters
			rep := s.Handle(frame)
			require.True(t, strings.HasSuffix(rep.Output, "\n"), "%q", rep.Output)
			back, err := DecodeReply(rep.Encode())
			require.NoError(t, err)
			require.Equal(t, rep.Err, back.Err)
			if rep.Err == OK {
				require.Contains(t, rep.Output, "result=ALLOW\n")
			}
		}
		now += time.Duration(later) * 10 * time.Millisecond
		s.Tick(now)
		if next, ok := s.NextTick(); ok {
			require.Greater(t, next, now)
		}
		require.Zero(t, s.Stats().InternalErrors)
		if !broad {
			require.Empty(t, diff(before, snapshot(t, fsys, skip...)), "wrote outside the scope")
		}
		logAfter, err := afero.ReadFile(fsys, DefaultAuditLog)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(logAfter, logBefore), "the audit log was rewritten")
		require.Equal(t, s.Stats().LogWritten, uint64(bytes.Count(logAfter, []byte("\n"))), "the log lost records")
	})
}

func BenchmarkHandleStat(b *testing.B) {
	m := newMachine(b)
	s := newService(b, m, Config{})
	frame := EncodeFrame(OpFsStat, 0, Token(AgentSystem), PathPayload("/etc/passwd"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rep := s.Handle(frame); rep.Err != OK {
			b.Fatal(rep.Output)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
