package sis_test

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/sis-kernel/sissim/pkg/sis"
)

// Boot a machine with a program in /bin and drive its shell from Go.
func ExampleShell_Exec() {
	m, err := sis.Boot(sis.BootConfig{
		Image: map[string]fs.FS{"/bin": os.DirFS("../../testdata/guests")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	out, err := m.Shell().Exec("run /bin/hello 0; echo done")
	fmt.Print(out)
	fmt.Println("error:", err)
	// Output:
	// Hello, world!
	// argv[0]=/bin/hello
	// argv[1]=0
	// [pid 2] exit status 0
	// done
	// error: <nil>
}
