package agentsys

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenAndFrameLayout(t *testing.T) {
	for _, id := range []uint16{0, 1, 2, 0x1234, 0xFFFF} {
		assert.Equal(t, id, TokenAgent(Token(id)))
	}
	assert.NotEqual(t, Token(1)&(1<<48-1), Token(2)&(1<<48-1))
	f := EncodeFrame(OpFsStat, 0, Token(3), PathPayload("/tmp"))
	require.Len(t, f, 8+8+2+4)
	assert.Equal(t, []byte{0x43, 0, 0x33, 0}, f[:4])
	assert.Equal(t, uint32(14), binary.LittleEndian.Uint32(f[4:]))
	assert.Equal(t, Token(3), binary.LittleEndian.Uint64(f[8:]))
	assert.Equal(t, uint16(4), binary.LittleEndian.Uint16(f[16:]))
	assert.Equal(t, "/tmp", string(f[18:]))
	assert.Equal(t, "FS_LIST", OpName(0x30))
	assert.Equal(t, "RECORD", OpName(0x3D))
	assert.Equal(t, "OP_0x3E", OpName(0x3E))
	assert.Equal(t, "ResourceLimit", ResourceLimit.String())
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []Reply{
		{},
		{Err: ResourceLimit, Output: "[AgentSys] x\n", RetryAfter: 20 * time.Millisecond},
		{Output: "[FS] Read 3 bytes\n", Data: []byte{1, 2, 3}},
	} {
		b := r.Encode()
		assert.Equal(t, int32(r.Err), int32(binary.LittleEndian.Uint32(b)))
		got, err := DecodeReply(b)
		require.NoError(t, err)
		assert.Equal(t, r, got)
	}
	// Retry-after rounds up to whole milliseconds.
	b := Reply{Err: ResourceLimit, RetryAfter: 1500 * time.Microsecond}.Encode()
	assert.Equal(t, uint32(2), binary.LittleEndian.Uint32(b[4:]))
	// Malformed replies are refused.
	_, err := DecodeReply(b[:10])
	assert.Error(t, err)
	bad := Reply{Output: "abc"}.Encode()
	_, err = DecodeReply(bad[:len(bad)-1])
	assert.Error(t, err)
	binary.LittleEndian.PutUint32(bad, 99)
	_, err = DecodeReply(bad)
	assert.Error(t, err)
}

func TestBadFramesWriteNothing(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	require.NoError(t, m.fs.MkdirAll("/tmp/files", 0o755))
	valid := EncodeFrame(OpFsWrite, 0, Token(AgentSystem), WritePayload("/tmp/files/x", 0, []byte("data")))
	mut := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), valid...))
	}
	withLen := func(n uint32) []byte {
		return mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], n); return b })
	}
	cases := []struct {
		name    string
		frame   []byte
		want    CtrlError
		audited bool
	}{
		{"empty", nil, BadFrame, false},
		{"short header", valid[:7], BadFrame, false},
		{"wrong magic", mut(func(b []byte) []byte { b[0] = 0x44; return b }), BadFrame, false},
		{"version 1", mut(func(b []byte) []byte { b[1] = 1; return b }), Unsupported, false},
		{"flags set", mut(func(b []byte) []byte { b[3] = 0x80; return b }), Unsupported, false},
		{"oversize length", withLen(DefaultMaxFrame + 1), Oversize, false},
		{"oversize payload", EncodeFrame(OpFsWrite, 0, Token(0), WritePayload("/tmp/files/x", 0, make([]byte, DefaultMaxFrame))), Oversize, false},
		{"truncated", valid[:len(valid)-3], BadFrame, false},
		{"length says more", withLen(uint32(len(valid) - 8 + 1)), BadFrame, false},
		{"length says less", withLen(uint32(len(valid) - 8 - 1)), BadFrame, false},
		{"trailing bytes", append(append([]byte(nil), valid...), 0), BadFrame, false},
		{"no token", EncodeFrame(OpFsWrite, 0, 0, nil)[:HeaderSize+4], BadFrame, false},
		{"payload shorter than token", func() []byte {
			b := []byte{0x43, 0, 0x32, 0, 4, 0, 0, 0, 1, 2, 3, 4}
			return b
		}(), InvalidFormat, false},
		{"unknown op", EncodeFrame(0x3E, 0, Token(0), nil), Unsupported, true},
		{"op below range", EncodeFrame(0x2F, 0, Token(0), nil), Unsupported, true},
		{"bad token", EncodeFrame(OpFsWrite, 0, Token(0)^1, WritePayload("/tmp/files/x", 0, []byte("d"))), AuthFailed, true},
		{"invalid UTF-8 path", do2(OpFsWrite, WritePayload("/tmp/files/\xff\xfe", 0, []byte("d"))), InvalidFormat, true},
		{"empty path", do2(OpFsWrite, WritePayload("", 0, []byte("d"))), InvalidFormat, true},
		{"relative path", do2(OpFsWrite, WritePayload("tmp/files/x", 0, []byte("d"))), InvalidFormat, true},
		{"NUL in path", do2(OpFsWrite, WritePayload("/tmp/files/x\x00y", 0, []byte("d"))), InvalidFormat, true},
		{"path_len lies", do2(OpFsWrite, []byte{0xff, 0x00, '/', 't'}), InvalidFormat, true},
		{"write without offset", do2(OpFsWrite, append(PathPayload("/tmp/files/x"), 1, 2, 3)), InvalidFormat, true},
		{"read range short", do2(OpFsRead, append(PathPayload("/tmp/files/x"), 1, 2, 3)), InvalidFormat, true},
		{"create bad kind", do2(OpFsCreate, append(PathPayload("/tmp/files/y"), 7)), InvalidFormat, true},
		{"create trailing", do2(OpFsCreate, append(PathPayload("/tmp/files/y"), 0, 0)), InvalidFormat, true},
		{"play short", do2(OpAudioPlay, []byte{1, 2}), InvalidFormat, true},
		{"stop trailing", do2(OpAudioStop, []byte{1}), InvalidFormat, true},
		{"volume above 100", do2(OpAudioVolume, []byte{101}), InvalidFormat, true},
		{"doc name with slash", do2(OpDocNew, NamePayload("../etc/x")), InvalidFormat, true},
		{"doc name dotdot", do2(OpDocNew, NamePayload("..")), InvalidFormat, true},
		{"doc edit short", do2(OpDocEdit, []byte{1, 0, 0, 0}), InvalidFormat, true},
		{"record zero", do2(OpRecord, U32Payload(0)), InvalidFormat, true},
		{"record too long", do2(OpRecord, U32Payload(maxRecordMs+1)), InvalidFormat, true},
	}
	before := snapshot(t, m.fs, "/var/log")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := len(s.Audit())
			rep := s.Handle(c.frame)
			assert.Equal(t, c.want, rep.Err, rep.Output)
			assert.NotEmpty(t, rep.Output)
			if c.audited {
				require.Len(t, s.Audit(), n+1)
				rec := s.Audit()[n]
				assert.False(t, rec.Allowed)
				assert.Contains(t, rec.Result, c.want.String())
				assert.Contains(t, rep.Output, "result=DENY\n")
			} else {
				assert.Len(t, s.Audit(), n)
			}
		})
	}
	assert.Empty(t, diff(before, snapshot(t, m.fs, "/var/log")), "bad frames changed files")
	st := s.Stats()
	assert.Equal(t, uint64(13), st.RejectedFrames)
}

// do2 builds a frame as the system agent.
func do2(op byte, payload []byte) []byte { return EncodeFrame(op, 0, Token(AgentSystem), payload) }

func TestMaxFrameConfigurable(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{MaxFrame: 64})
	rep := do(s, 0, OpFsWrite, WritePayload("/tmp/a", 0, make([]byte, 64)))
	assert.Equal(t, Oversize, rep.Err)
	rep = do(s, 0, OpFsWrite, WritePayload("/tmp/a", 0, make([]byte, 64-8-2-6-8)))
	assert.Equal(t, OK, rep.Err, rep.Output)
	// Reads are bounded by MaxFrame too.
	rep = do(s, 0, OpFsRead, ReadPayload("/etc/passwd", 0, 1000))
	assert.Equal(t, OK, rep.Err)
	assert.Len(t, rep.Data, 64)
}

func TestNewValidatesConfig(t *testing.T) {
	m := newMachine(t)
	for _, c := range []Config{
		{RingSize: 200},
		{AuditLog: "relative.jsonl"},
		{MaxFrame: 8},
		{FrameInterval: time.Microsecond},
		{Agents: []Agent{{ID: 1, Name: "a"}, {ID: 1, Name: "b"}}},
		{Agents: []Agent{{ID: 1, Name: "a", Scope: "tmp"}}},
		{Agents: []Agent{{ID: 1, Name: "a", MaxOpsPerSec: -1}}},
	} {
		_, err := New(c, m.env())
		assert.Error(t, err, "%+v", c)
	}
	_, err := New(Config{}, Env{})
	assert.Error(t, err)
}
