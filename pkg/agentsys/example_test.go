package agentsys_test

import (
	"fmt"
	"os"
	"time"

	"github.com/sis-kernel/sissim/pkg/agentsys"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// A client writes a frame and gets the reply's lines.
func Example() {
	v, _ := vfs.NewDefaultRoot("sis")
	s, _ := agentsys.New(agentsys.Config{}, agentsys.Env{FS: v.Afero(), Now: func() time.Duration { return 0 }})
	tok := agentsys.Token(agentsys.AgentFiles)
	for _, f := range [][]byte{
		agentsys.EncodeFrame(agentsys.OpFsCreate, 0, tok, agentsys.CreatePayload("/tmp/files", true)),
		agentsys.EncodeFrame(agentsys.OpFsWrite, 0, tok, agentsys.WritePayload("/tmp/files/a.txt", 0, []byte("hi\n"))),
		agentsys.EncodeFrame(agentsys.OpFsList, 0, tok, agentsys.PathPayload("/tmp/files")),
		agentsys.EncodeFrame(agentsys.OpFsRead, 0, tok, agentsys.PathPayload("/tmp/files/../../etc/passwd")),
	} {
		wire := s.Handle(f).Encode()
		r, _ := agentsys.DecodeReply(wire)
		fmt.Fprint(os.Stdout, r.Err, "\n", r.Output)
	}
	// Output:
	// OK
	// [FS] Created: /tmp/files (dir)
	// [AUDIT] agent=2 op=0x34 result=ALLOW
	// OK
	// [FS] Wrote 3 bytes to /tmp/files/a.txt
	// [AUDIT] agent=2 op=0x32 result=ALLOW
	// OK
	// [FS] Entries: a.txt
	// [AUDIT] agent=2 op=0x30 result=ALLOW
	// PermissionDenied
	// [AgentSys] FS_READ denied: Path outside allowed scope
	// [AUDIT] agent=2 op=0x31 result=DENY
}
