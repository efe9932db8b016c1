package agentsys

import (
	"fmt"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileOperations(t *testing.T) {
	m := newMachine(t)
	s := newService(t, m, Config{})
	audit := func(op byte, allow string) string {
		return fmt.Sprintf("[AUDIT] agent=0 op=0x%02X result=%s", op, allow)
	}
	steps := []struct {
		op      byte
		payload []byte
		want    []string
		err     CtrlError
	}{
		{OpFsCreate, CreatePayload("/tmp/w", true), []string{"[FS] Created: /tmp/w (dir)"}, OK},
		{OpFsCreate, PathPayload("/tmp/w/a.txt"), []string{"[FS] Created: /tmp/w/a.txt (file)"}, OK},
		{OpFsCreate, CreatePayload("/tmp/w/a.txt", false), []string{"[FS] Error: File exists"}, IoError},
		{OpFsWrite, WritePayload("/tmp/w/a.txt", 0, []byte("hello\x01world")), []string{"[FS] Wrote 11 bytes to /tmp/w/a.txt"}, OK},
		{OpFsWrite, WritePayload("/tmp/w/./a.txt", 11, []byte("!!")), []string{"[FS] Wrote 2 bytes to /tmp/w/a.txt"}, OK},
		{OpFsRead, PathPayload("/tmp/w/a.txt"), []string{"[FS] Read 13 bytes", "[FS] Preview: hello.world!!"}, OK},
		{OpFsRead, ReadPayload("/tmp/w/a.txt", 6, 3), []string{"[FS] Read 3 bytes", "[FS] Preview: wor"}, OK},
		{OpFsRead, ReadPayload("/tmp/w/a.txt", 100, 3), []string{"[FS] Read 0 bytes", "[FS] Preview: "}, OK},
		{OpFsRead, ReadPayload("/tmp/w/a.txt", 1<<63, 3), []string{"[FS] Error: Invalid argument"}, IoError},
		{OpFsRead, PathPayload("/tmp/w"), []string{"[FS] Error: Is a directory"}, IoError},
		{OpFsRead, PathPayload("/tmp/nope"), []string{"[FS] Error: No such file or directory"}, IoError},
		{OpFsWrite, WritePayload("/tmp/w/b", 0, nil), []string{"[FS] Wrote 0 bytes to /tmp/w/b"}, OK},
		{OpFsWrite, WritePayload("/tmp/w/c", DefaultMaxWriteEnd, []byte("x")), []string{"[FS] Error: File too large"}, IoError},
		{OpFsWrite, WritePayload("/tmp/w/c", 1<<64-1, []byte("xy")), []string{"[FS] Error: File too large"}, IoError},
		{OpFsWrite, WritePayload("/tmp/nodir/c", 0, []byte("x")), []string{"[FS] Error: No such file or directory"}, IoError},
		{OpFsList, PathPayload("/tmp/w/"), []string{"[FS] Entries: a.txt, b"}, OK},
		{OpFsCreate, CreatePayload("/tmp/w/sub", true), []string{"[FS] Created: /tmp/w/sub (dir)"}, OK},
		{OpFsList, PathPayload("/tmp/w"), []string{"[FS] Entries: a.txt, b, sub/"}, OK},
		{OpFsList, PathPayload("/tmp/w/sub"), []string{"[FS] Entries: (empty)"}, OK},
		{OpFsList, PathPayload("/tmp/w/a.txt"), []string{"[FS] Error: Not a directory"}, IoError},
		{OpFsStat, PathPayload("/tmp/w/a.txt"), []string{"[FS] Stat: /tmp/w/a.txt - size=13 mode=0644 type=file"}, OK},
		{OpFsStat, PathPayload("/tmp"), []string{"[FS] Stat: /tmp - size=%d mode=1777 type=dir"}, OK},
		{OpFsStat, PathPayload("/tmp/w/link"), []string{"[FS] Stat: /tmp/w/link - size=5 mode=0777 type=symlink"}, OK},
		{OpFsStat, PathPayload("/dev/null"), []string{"[FS] Stat: /dev/null - size=0 mode=0666 type=char"}, OK},
		{OpFsDelete, PathPayload("/tmp/w"), []string{"[FS] Error: Directory not empty"}, IoError},
		{OpFsDelete, PathPayload("/tmp/w/a.txt"), []string{"[FS] Deleted: /tmp/w/a.txt"}, OK},
		{OpFsDelete, PathPayload("/tmp/w/sub"), []string{"[FS] Deleted: /tmp/w/sub"}, OK},
		{OpFsDelete, PathPayload("/tmp/w/sub"), []string{"[FS] Error: No such file or directory"}, IoError},
	}
	for i, st := range steps {
		if i == 22 {
			require.NoError(t, m.fs.(afero.Symlinker).SymlinkIfPossible("a.txt", "/tmp/w/link"))
		}
		if i == 21 {
			fi, err := m.fs.Stat("/tmp")
			require.NoError(t, err)
			st.want[0] = fmt.Sprintf(st.want[0], fi.Size())
		}
		rep := do(s, AgentSystem, st.op, st.payload)
		assert.Equal(t, st.err, rep.Err, "step %d: %s", i, rep.Output)
		assert.Equal(t, append(st.want, audit(st.op, "ALLOW")), lines(rep.Output), "step %d", i)
	}
	got, err := afero.ReadFile(m.fs, "/tmp/w/b")
	require.NoError(t, err)
	assert.Empty(t, got)
	// FS_READ returns the bytes in the reply.
	require.NoError(t, afero.WriteFile(m.fs, "/tmp/r", []byte("0123456789"), 0o644))
	rep := do(s, AgentAgentd, OpFsRead, ReadPayload("/tmp/r", 2, 5))
	assert.Equal(t, []byte("23456"), rep.Data)
}

func TestPreview(t *testing.T) {
	b := make([]byte, 100)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	b[3] = 0x7f
	b[4] = '\n'
	p := preview(b)
	assert.Len(t, p, 64)
	assert.Equal(t, "abc..fgh", p[:8])
}
