// Package agentsys is the SIS agent control plane: a frame protocol that
// lets agents (guest programs, the shell) ask the kernel for file, audio,
// document and screen operations, a policy engine deciding who may do
// what, and an audit trail of every operation.
//
// # Request frame
//
// An 8-byte header, then the payload:
//
//	magic u8 = 0x43 ('C') | version u8 = 0 | cmd u8 | flags u8 = 0 | length u32 LE
//	payload[length]: token u64 LE, then the operation's arguments
//
// The agent id is (token >> 48) & 0xFFFF; the low 48 bits are the token's
// check value, see [Token]. Frame errors, checked in this order: fewer
// than 8 bytes or a wrong magic -> BadFrame; a version other than 0 or
// nonzero (reserved) flags -> Unsupported; length above Config.MaxFrame
// -> Oversize; length different from the bytes that follow the header
// (truncated frames, trailing bytes) -> BadFrame; a payload shorter than
// the 8-byte token -> InvalidFormat. These are counted as rejected frames
// and not audited (they name no agent). From the token on, every request
// is an operation and is audited: an unknown cmd -> Unsupported; a wrong
// check value -> AuthFailed; arguments shorter than the operation needs,
// invalid UTF-8, empty, relative or NUL-containing paths -> InvalidFormat;
// policy denials -> PermissionDenied (ResourceLimit with a retry-after for
// the rate limit); a failing file operation -> IoError. Nothing is written
// when a request fails before its operation runs.
//
// # Operation arguments (after the token, little endian)
//
//	0x30 FS_LIST      path_len u16, path
//	0x31 FS_READ      path_len u16, path, [offset u64, len u32] (default 0, 512)
//	0x32 FS_WRITE     path_len u16, path, offset u64, data (rest of the payload)
//	0x33 FS_STAT      path_len u16, path
//	0x34 FS_CREATE    path_len u16, path, [kind u8: 0 file, 1 dir]
//	0x35 FS_DELETE    path_len u16, path
//	0x36 AUDIO_PLAY   track u32
//	0x37 AUDIO_STOP   -
//	0x38 AUDIO_VOLUME level u8 (0..100)
//	0x39 DOC_NEW      name_len u16, name
//	0x3A DOC_EDIT     doc_ref u32, ops_count u16
//	0x3B DOC_SAVE     doc_ref u32
//	0x3C SCREENSHOT   -
//	0x3D RECORD       [duration u32 ms] (default 5000)
//
// # Reply
//
// [Reply.Encode] gives what a reader of /dev/agentsys gets back:
//
//	status i32 LE        0 OK, else the CtrlError (1 BadFrame .. 8 ResourceLimit)
//	retry_after_ms u32 LE nonzero only with ResourceLimit from the rate limit
//	output_len u32 LE
//	data_len u32 LE      FS_READ: the bytes read; 0 otherwise
//	output[output_len]   the text lines, each ending in '\n', the last one
//	                     "[AUDIT] agent=<dec> op=0x<HH> result=ALLOW|DENY"
//	data[data_len]
//
// # Files
//
// File operations act on the machine's VFS. Media go to /tmp/agentsys
// with virtual-time names (milliseconds since boot): screenshots are PNG
// images of the framebuffer, recordings animated GIFs of framebuffer
// frames captured every Config.FrameInterval of machine time, audio a
// one-second 16-bit PCM WAV tone whose pitch depends on the track.
// Documents live under /tmp/docs. Every operation is kept in an audit
// ring and appended as one JSON line to Config.AuditLog. The log is
// append-only for agents: an operation that would change it (FS_WRITE,
// FS_CREATE, FS_DELETE, DOC_NEW, DOC_SAVE on its path, a symlink to it or
// another hard link of it) is denied whatever the agent's scope, and the
// service writes no media file or document through such a link. The
// service keeps the log open from its start and fixes its directory in
// the namespace, so a mount or a rename cannot take the records; it
// rotates the log at Config.MaxLogBytes to AuditLog+".1".
package agentsys
