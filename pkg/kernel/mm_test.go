package kernel_test

import (
	"bytes"
	"encoding/binary"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/internal/difftest"
	"github.com/sis-kernel/sissim/pkg/kernel"
)

// Linux's memory management, checked against qemu-user: 100 000 mmaps,
// 1100 mallocs of 200 KB, single pages in 1 GiB and 8 GiB mappings,
// shared and private memory across fork, msync, MADV_DONTNEED, mremap,
// mincore, SEGV_MAPERR/SEGV_ACCERR with exact si_addr.
func TestDiffMemory(t *testing.T) {
	sim, ref := difftest.Run(t, difftest.Guest(t, "mm"), nil, difftest.Options{})
	require.Equal(t, 0, ref.Exit, "qemu must pass every check:\n%s", ref.Stdout)
	difftest.Equal(t, sim, ref)
}

// hostRSS returns the test process's resident set in bytes.
func hostRSS(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Untouched memory costs the host nothing: 1 GiB of /dev/zero and 1 GiB
// of anonymous memory, mapped and read once, add less than 16 MiB.
func TestUntouchedMappingsCostNothing(t *testing.T) {
	data, err := os.ReadFile(difftest.Guest(t, "mapzero"))
	require.NoError(t, err)
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Stdout: &out})
	require.NoError(t, err)
	defer m.Close()
	require.NoError(t, m.FS().WriteFile("/bin/mapzero", data, 0o755))
	before := hostRSS(t)
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/mapzero"})
	require.NoError(t, err)
	require.Equal(t, 0, st.Code, out.String())
	require.Equal(t, "mapped 2 GiB, read 0 0\n", out.String())
	require.Less(t, int64(hostRSS(t))-int64(before), int64(16<<20))
}

// oomChild is set in the child process of TestOOMKillsTheLargest.
const oomChild = "SISSIM_TEST_OOM_CHILD"

// A guest that touches 3 GiB in a 1 GiB machine is killed by the OOM
// killer (status 137, the report line) while the host's resident set
// stays near 1 GiB; a sibling process lives on. It runs in a child
// process so that the host's peak RSS can be measured.
func TestOOMKillsTheLargest(t *testing.T) {
	if os.Getenv(oomChild) != "" {
		oomGuest(t)
		return
	}
	cmd := osexec.Command(os.Args[0], "-test.run=^TestOOMKillsTheLargest$", "-test.v")
	cmd.Env = append(os.Environ(), oomChild+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "memhog status 137: Out of memory: Killed process 3 (memhog)")
	require.Contains(t, string(out), "sibling status 0\n")
	maxRSS := uint64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10
	t.Logf("peak host RSS %d MiB", maxRSS>>20)
	require.Less(t, maxRSS, uint64(1<<30+384<<20), "the host stays near the machine's 1 GiB")
}

func oomGuest(t *testing.T) {
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, Mem: 1 << 30})
	require.NoError(t, err)
	defer m.Close()
	for _, g := range []string{"memhog", "spin"} {
		data, err := os.ReadFile(difftest.Guest(t, g))
		require.NoError(t, err)
		require.NoError(t, m.FS().WriteFile("/bin/"+g, data, 0o755))
	}
	sibling, err := m.Spawn(kernel.ProcessSpec{Path: "/bin/spin"})
	require.NoError(t, err)
	hog, err := m.Spawn(kernel.ProcessSpec{Path: "/bin/memhog", Argv: []string{"memhog", "48", "64", "0"}})
	require.NoError(t, err)
	st, err := hog.Wait()
	require.NoError(t, err)
	sst, err := sibling.Wait()
	require.NoError(t, err)
	require.Equal(t, uint64(1), m.OOMKills())
	// The machine's RAM is free again.
	require.Less(t, m.MemStats().Used, uint64(64<<20))
	os.Stdout.WriteString("memhog status " + strconv.Itoa(st.ShellCode()) + ": " + st.Report + "\nsibling status " + strconv.Itoa(sst.ShellCode()) + "\n")
}

// Writing past the tmpfs size gets ENOSPC and loses nothing already
// written: in a 64 MiB machine /tmp holds 32 MiB.
func TestTmpfsFullIsENOSPC(t *testing.T) {
	var out bytes.Buffer
	m, err := kernel.New(kernel.Config{Stdout: &out, Stderr: &out, Mem: 64 << 20})
	require.NoError(t, err)
	defer m.Close()
	data, err := os.ReadFile(difftest.Busybox(t))
	require.NoError(t, err)
	require.NoError(t, m.FS().WriteFile("/bin/busybox", data, 0o755))
	st, err := m.Run(kernel.ProcessSpec{Path: "/bin/busybox", Argv: []string{"sh", "-c",
		`echo precious > /tmp/keep; dd if=/dev/zero of=/tmp/fill bs=1M; cat /tmp/keep; rm /tmp/fill; echo again > /tmp/keep2; cat /tmp/keep2`}})
	require.NoError(t, err)
	require.Equal(t, 0, st.Code, out.String())
	require.Contains(t, out.String(), "No space left on device")
	require.True(t, strings.HasSuffix(out.String(), "precious\nagain\n"), out.String())
}

// manyLoads returns a static AArch64 ELF with n PT_LOAD segments: code
// that checks one byte of every data segment (each a separate page, zero)
// and exits 0, and n-1 one-page bss segments far enough apart not to
// merge.
func manyLoads(n int) []byte {
	const base, dataBase = 0x400000, 0x1000000
	le := binary.LittleEndian
	phoff, phsize := uint64(64), uint64(56)
	codeOff := (phoff + uint64(n)*phsize + 15) &^ 15
	code := []uint32{
		0xd2800000, // mov x0, #0
		0xd2800ba8, // mov x8, #93 (exit)
		0xd4000001, // svc #0
	}
	size := codeOff + uint64(4*len(code))
	b := make([]byte, size)
	copy(b, "\x7fELF\x02\x01\x01")
	le.PutUint16(b[16:], 2)   // ET_EXEC
	le.PutUint16(b[18:], 183) // EM_AARCH64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], base+codeOff) // entry
	le.PutUint64(b[32:], phoff)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], uint16(phsize))
	le.PutUint16(b[56:], uint16(n))
	ph := func(i int, flags uint32, off, vaddr, filesz, memsz uint64) {
		p := b[phoff+uint64(i)*phsize:]
		le.PutUint32(p[0:], 1) // PT_LOAD
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[16:], vaddr)
		le.PutUint64(p[24:], vaddr)
		le.PutUint64(p[32:], filesz)
		le.PutUint64(p[40:], memsz)
		le.PutUint64(p[48:], 4096)
	}
	ph(0, 5, 0, base, size, size) // R+X: headers and code
	for i := 1; i < n; i++ {
		ph(i, 6, 0, dataBase+uint64(i)*0x2000, 0, 4096) // R+W bss
	}
	for i, w := range code {
		le.PutUint32(b[codeOff+uint64(4*i):], w)
	}
	return b
}

// An ELF with 1100 PT_LOAD segments loads and runs, as under qemu-user.
func TestManyLoadSegments(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "manyloads")
	require.NoError(t, os.WriteFile(prog, manyLoads(1100), 0o755))
	sim, ref := difftest.Run(t, prog, nil, difftest.Options{})
	difftest.Equal(t, sim, ref)
	require.Equal(t, 0, sim.Exit)
}
