package agentsys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Frame header constants.
const (
	Magic      = 0x43 // 'C'
	Version    = 0
	HeaderSize = 8
	// DefaultMaxFrame is the largest payload accepted when Config.MaxFrame is 0.
	DefaultMaxFrame = 64 << 10
)

// Operation codes.
const (
	OpFsList      byte = 0x30
	OpFsRead      byte = 0x31
	OpFsWrite     byte = 0x32
	OpFsStat      byte = 0x33
	OpFsCreate    byte = 0x34
	OpFsDelete    byte = 0x35
	OpAudioPlay   byte = 0x36
	OpAudioStop   byte = 0x37
	OpAudioVolume byte = 0x38
	OpDocNew      byte = 0x39
	OpDocEdit     byte = 0x3A
	OpDocSave     byte = 0x3B
	OpScreenshot  byte = 0x3C
	OpRecord      byte = 0x3D
)

// opNames names the operations, indexed by op - OpFsList.
var opNames = [...]string{
	"FS_LIST", "FS_READ", "FS_WRITE", "FS_STAT", "FS_CREATE", "FS_DELETE",
	"AUDIO_PLAY", "AUDIO_STOP", "AUDIO_VOLUME", "DOC_NEW", "DOC_EDIT",
	"DOC_SAVE", "SCREENSHOT", "RECORD",
}

// ValidOp reports whether op is one of the operation codes 0x30-0x3D.
func ValidOp(op byte) bool { return op >= OpFsList && op <= OpRecord }

// OpName returns the spec's name of op ("FS_LIST"), or "OP_0xHH" for an
// unknown code.
func OpName(op byte) string {
	if ValidOp(op) {
		return opNames[op-OpFsList]
	}
	return fmt.Sprintf("OP_0x%02X", op)
}

// CtrlError is the status of a reply; 0 is success.
type CtrlError uint8

// Reply statuses.
const (
	OK CtrlError = iota
	BadFrame
	Unsupported
	Oversize
	AuthFailed
	PermissionDenied
	IoError
	InvalidFormat
	ResourceLimit
)

var ctrlNames = [...]string{"OK", "BadFrame", "Unsupported", "Oversize", "AuthFailed",
	"PermissionDenied", "IoError", "InvalidFormat", "ResourceLimit"}

func (e CtrlError) String() string {
	if int(e) < len(ctrlNames) {
		return ctrlNames[e]
	}
	return fmt.Sprintf("CtrlError(%d)", uint8(e))
}

// Error makes a nonzero CtrlError usable as an error.
func (e CtrlError) Error() string { return e.String() }

// tokenCheck is the check value the low 48 bits of an agent's token hold.
func tokenCheck(agent uint16) uint64 {
	return (uint64(agent)*0x9E3779B97F4A7C15 ^ 0x534953414754) & (1<<48 - 1)
}

// Token returns the capability token of an agent:
//
//	agent<<48 | ((agent * 0x9E3779B97F4A7C15) ^ 0x534953414754) & 0xFFFFFFFFFFFF
//
// (the product taken modulo 2^64). A token whose low 48 bits differ from
// that check value fails with AuthFailed.
func Token(agent uint16) uint64 { return uint64(agent)<<48 | tokenCheck(agent) }

// TokenAgent returns the agent id a token names.
func TokenAgent(token uint64) uint16 { return uint16(token >> 48) }

// EncodeFrame builds a request frame: header, the token, then payload
// (the operation's arguments, see the package doc).
func EncodeFrame(cmd byte, flags byte, token uint64, payload []byte) []byte {
	b := make([]byte, HeaderSize+8+len(payload))
	b[0], b[1], b[2], b[3] = Magic, Version, cmd, flags
	binary.LittleEndian.PutUint32(b[4:], uint32(8+len(payload)))
	binary.LittleEndian.PutUint64(b[8:], token)
	copy(b[16:], payload)
	return b
}

// PathPayload is the argument of FS_LIST, FS_STAT, FS_DELETE (and of
// FS_READ with the default range): path_len u16, path.
func PathPayload(p string) []byte {
	b := make([]byte, 2+len(p))
	binary.LittleEndian.PutUint16(b, uint16(len(p)))
	copy(b[2:], p)
	return b
}

// NamePayload is DOC_NEW's argument: name_len u16, name.
func NamePayload(name string) []byte { return PathPayload(name) }

// ReadPayload is FS_READ's argument with an explicit range.
func ReadPayload(p string, off uint64, n uint32) []byte {
	b := PathPayload(p)
	b = binary.LittleEndian.AppendUint64(b, off)
	return binary.LittleEndian.AppendUint32(b, n)
}

// WritePayload is FS_WRITE's argument.
func WritePayload(p string, off uint64, data []byte) []byte {
	b := PathPayload(p)
	b = binary.LittleEndian.AppendUint64(b, off)
	return append(b, data...)
}

// CreatePayload is FS_CREATE's argument (a directory when dir).
func CreatePayload(p string, dir bool) []byte {
	kind := byte(0)
	if dir {
		kind = 1
	}
	return append(PathPayload(p), kind)
}

// U32Payload is the argument of AUDIO_PLAY (track), DOC_SAVE (doc_ref)
// and RECORD (duration in ms).
func U32Payload(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// VolumePayload is AUDIO_VOLUME's argument.
func VolumePayload(level uint8) []byte { return []byte{level} }

// EditPayload is DOC_EDIT's argument.
func EditPayload(ref uint32, ops uint16) []byte {
	return binary.LittleEndian.AppendUint16(U32Payload(ref), ops)
}

// Reply is the answer to one frame.
type Reply struct {
	Err CtrlError // OK on success
	// Output holds the text lines, each ending in '\n'; for operations
	// the last one is the [AUDIT] line.
	Output     string
	RetryAfter time.Duration // with ResourceLimit from the rate limit
	Data       []byte        // FS_READ: the bytes read
}

// ReplyHeaderSize is the size of the fixed part of an encoded reply.
const ReplyHeaderSize = 16

// Encode returns the wire form of r (see the package doc).
func (r Reply) Encode() []byte {
	b := make([]byte, ReplyHeaderSize, ReplyHeaderSize+len(r.Output)+len(r.Data))
	binary.LittleEndian.PutUint32(b, uint32(int32(r.Err)))
	ms := r.RetryAfter.Milliseconds()
	if r.RetryAfter > 0 && time.Duration(ms)*time.Millisecond < r.RetryAfter {
		ms++ // round up: retrying earlier would be refused again
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(min(ms, 1<<32-1)))
	binary.LittleEndian.PutUint32(b[8:], uint32(len(r.Output)))
	binary.LittleEndian.PutUint32(b[12:], uint32(len(r.Data)))
	b = append(b, r.Output...)
	return append(b, r.Data...)
}

// DecodeReply parses an encoded reply.
func DecodeReply(b []byte) (Reply, error) {
	if len(b) < ReplyHeaderSize {
		return Reply{}, errors.New("agentsys: reply shorter than its header")
	}
	st := int32(binary.LittleEndian.Uint32(b))
	if st < 0 || st > int32(ResourceLimit) {
		return Reply{}, fmt.Errorf("agentsys: bad reply status %d", st)
	}
	on := uint64(binary.LittleEndian.Uint32(b[8:]))
	dn := uint64(binary.LittleEndian.Uint32(b[12:]))
	if uint64(len(b)-ReplyHeaderSize) != on+dn {
		return Reply{}, fmt.Errorf("agentsys: reply holds %d bytes after the header, header says %d", len(b)-ReplyHeaderSize, on+dn)
	}
	r := Reply{
		Err:        CtrlError(st),
		RetryAfter: time.Duration(binary.LittleEndian.Uint32(b[4:])) * time.Millisecond,
		Output:     string(b[ReplyHeaderSize : ReplyHeaderSize+on]),
	}
	if dn > 0 {
		r.Data = append([]byte(nil), b[ReplyHeaderSize+on:]...)
	}
	return r, nil
}

// reader decodes little-endian arguments; a short read sets short.
type reader struct {
	b     []byte
	short bool
}

func (r *reader) n(k int) []byte {
	if len(r.b) < k {
		r.short = true
		r.b = nil
		return make([]byte, k)
	}
	v := r.b[:k]
	r.b = r.b[k:]
	return v
}

func (r *reader) u8() uint8   { return r.n(1)[0] }
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.n(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.n(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.n(8)) }
func (r *reader) str() string { return string(r.n(int(r.u16()))) }
func (r *reader) empty() bool { return len(r.b) == 0 }
