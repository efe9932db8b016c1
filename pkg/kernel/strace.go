package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// argKind says how strace prints one argument.
type argKind uint8

const (
	argHex    argKind = iota // 0x1f
	argInt                   // signed decimal
	argUint                  // unsigned decimal
	argFD                    // descriptor, AT_FDCWD
	argPath                  // NUL-terminated string
	argBufIn                 // buffer written by the guest; length is the next argument
	argBufOut                // buffer filled by the call; length is the result
	argOct                   // mode bits
	argOpen                  // O_* flags
	argProt                  // PROT_* flags
	argMap                   // MAP_* flags
	argClock                 // clock id
	argSig                   // signal number
)

// unknownArgs is how strace prints the arguments of an unimplemented call.
var unknownArgs = []argKind{argHex, argHex, argHex, argHex, argHex, argHex}

// strace prints one line for a finished system call, like strace(1).
func (m *Machine) strace(t *Task, e *syscallEntry, a *args, ret uint64, err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "[pid %d] %s(", t.TID, e.name)
	for i, k := range e.args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t.formatArg(k, a, i, ret, err))
	}
	b.WriteString(") = ")
	if t.dying {
		b.WriteString("?")
	} else if err != nil {
		errno := linux.ErrnoFromError(err)
		fmt.Fprintf(&b, "-1 %s (%s)", errno.Name(), errno.Error())
	} else if e.name == "mmap" || e.name == "brk" {
		fmt.Fprintf(&b, "%#x", ret)
	} else {
		b.WriteString(strconv.FormatInt(int64(ret), 10))
	}
	b.WriteByte('\n')
	m.cfg.Strace.Write([]byte(b.String()))
}

// straceBufMax is how many bytes of a buffer strace shows.
const straceBufMax = 32

func (t *Task) formatArg(k argKind, a *args, i int, ret uint64, err error) string {
	v := a[i]
	switch k {
	case argInt:
		return strconv.FormatInt(int64(v), 10)
	case argUint:
		return strconv.FormatUint(v, 10)
	case argFD:
		if int32(v) == linux.AT_FDCWD {
			return "AT_FDCWD"
		}
		return strconv.Itoa(int(int32(v)))
	case argPath:
		s, e := t.readString(v, linux.PATH_MAX)
		if e != nil {
			return fmt.Sprintf("%#x", v)
		}
		return strconv.Quote(s)
	case argBufIn, argBufOut:
		n := a[i+1]
		if k == argBufOut {
			if err != nil {
				return fmt.Sprintf("%#x", v)
			}
			n = ret
		}
		return t.quoteBuf(v, n)
	case argOct:
		return fmt.Sprintf("%#o", v)
	case argOpen:
		return openFlagString(int(v))
	case argProt:
		return flagString(v, protNames, "PROT_NONE")
	case argMap:
		return flagString(v, mapNames, "0")
	case argClock:
		if n, ok := clockNames[int(v)]; ok {
			return n
		}
		return strconv.FormatUint(v, 10)
	case argSig:
		if v > 0 && v < 65 {
			return linux.Signal(v).String()
		}
		return strconv.FormatUint(v, 10)
	}
	if v == 0 {
		return "NULL"
	}
	return fmt.Sprintf("%#x", v)
}

func (t *Task) quoteBuf(addr, n uint64) string {
	show := n
	if show > straceBufMax {
		show = straceBufMax
	}
	b := make([]byte, show)
	if t.copyIn(addr, b) != nil {
		return fmt.Sprintf("%#x", addr)
	}
	s := strconv.Quote(string(b))
	if n > show {
		s += "..."
	}
	return s
}

type flagName struct {
	bit  uint64
	name string
}

var protNames = []flagName{{1, "PROT_READ"}, {2, "PROT_WRITE"}, {4, "PROT_EXEC"}}

var mapNames = []flagName{
	{0x01, "MAP_SHARED"}, {0x02, "MAP_PRIVATE"}, {0x10, "MAP_FIXED"}, {0x20, "MAP_ANONYMOUS"},
	{0x100, "MAP_GROWSDOWN"}, {0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"},
	{0x20000, "MAP_STACK"}, {0x100000, "MAP_FIXED_NOREPLACE"},
}

var openNames = []flagName{
	{linux.O_CREAT, "O_CREAT"}, {linux.O_EXCL, "O_EXCL"}, {linux.O_NOCTTY, "O_NOCTTY"},
	{linux.O_TRUNC, "O_TRUNC"}, {linux.O_APPEND, "O_APPEND"}, {linux.O_NONBLOCK, "O_NONBLOCK"},
	{linux.O_DIRECTORY, "O_DIRECTORY"}, {linux.O_NOFOLLOW, "O_NOFOLLOW"},
	{linux.O_CLOEXEC, "O_CLOEXEC"}, {linux.O_PATH, "O_PATH"}, {linux.O_LARGEFILE, "O_LARGEFILE"},
}

var clockNames = map[int]string{
	0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
	3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW", 5: "CLOCK_REALTIME_COARSE",
	6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME",
}

func flagString(v uint64, names []flagName, zero string) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, n := range names {
		if v&n.bit == n.bit {
			parts = append(parts, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, "|")
}

func openFlagString(f int) string {
	acc := [...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[f&linux.O_ACCMODE]
	rest := flagString(uint64(f&^linux.O_ACCMODE), openNames, "")
	if rest == "" {
		return acc
	}
	return acc + "|" + rest
}
