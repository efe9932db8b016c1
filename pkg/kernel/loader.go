package kernel

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/sis-kernel/sissim/pkg/cpu"
	"github.com/sis-kernel/sissim/pkg/linux"
	"github.com/sis-kernel/sissim/pkg/vfs"
)

// MaxExecSize is the largest program file execve accepts.
const MaxExecSize = 16 << 20

// ExecError explains why a program cannot be loaded. Errno is what execve
// returns for it.
type ExecError struct {
	Path   string
	Reason string
	Errno  linux.Errno
}

func (e *ExecError) Error() string { return e.Path + ": " + e.Reason }

// Unwrap returns the errno, so errors.Is(err, linux.ENOEXEC) works.
func (e *ExecError) Unwrap() error { return e.Errno }

func execErr(errno linux.Errno, format string, args ...any) *ExecError {
	return &ExecError{Reason: fmt.Sprintf(format, args...), Errno: errno}
}

// image is what the loader learned about a loaded program.
type image struct {
	entry  uint64 // where the program starts (the interpreter's entry for a dynamic one)
	phdr   uint64 // address of the program headers in memory
	phent  uint64
	phnum  uint64
	end    uint64 // highest loaded address of the program (start of the heap)
	base   uint64 // the interpreter's load address (AT_BASE), 0 for a static program
	pentry uint64 // the program's own entry (AT_ENTRY)
	sp     uint64 // the initial stack pointer
	auxv   [][2]uint64
	// cred are the credentials the program runs with (set-user-ID
	// programs); secure is AT_SECURE (sys_cred.go).
	cred   cred
	secure bool
}

// loadSeg is a validated PT_LOAD segment.
type loadSeg struct {
	vaddr, memsz, off, filesz uint64
	prot                      cpu.Prot
}

// elfInfo is a validated AArch64 executable: its segments and interpreter.
type elfInfo struct {
	f      *elf.File
	segs   []loadSeg
	interp string // PT_INTERP, "" for a static program
	phoff  uint64
}

// parseELF validates r (size bytes) as an AArch64 executable and returns
// its loadable segments. It never touches guest memory, so it is the part
// the fuzzer exercises.
func parseELF(r io.ReaderAt, size int64) (*elfInfo, error) {
	if size > MaxExecSize {
		return nil, execErr(linux.E2BIG, "file is %d bytes; the limit is %d", size, MaxExecSize)
	}
	var magic [4]byte
	if n, _ := r.ReadAt(magic[:], 0); n < 4 || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return nil, execErr(linux.ENOEXEC, "not an ELF file")
	}
	f, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, execErr(linux.ENOEXEC, "truncated or malformed ELF (%v)", err)
	}
	switch {
	case f.Class != elf.ELFCLASS64:
		return nil, execErr(linux.ENOEXEC, "%v ELF; sissim runs 64-bit AArch64 programs", f.Class)
	case f.Data != elf.ELFDATA2LSB:
		return nil, execErr(linux.ENOEXEC, "big-endian ELF; sissim runs little-endian AArch64 programs")
	case f.Machine != elf.EM_AARCH64:
		return nil, execErr(linux.ENOEXEC, "ELF for %v; sissim runs AArch64 (EM_AARCH64) programs", f.Machine)
	case f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN:
		return nil, execErr(linux.ENOEXEC, "ELF type %v is not executable", f.Type)
	}
	info := &elfInfo{f: f}
	var hdr [0x40]byte
	if _, err := r.ReadAt(hdr[:], 0); err == nil {
		info.phoff = binary.LittleEndian.Uint64(hdr[0x20:])
	}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			b, _ := io.ReadAll(io.LimitReader(p.Open(), linux.PATH_MAX))
			info.interp = string(bytes.TrimRight(b, "\x00"))
			if info.interp == "" || len(b) >= linux.PATH_MAX {
				return nil, execErr(linux.ENOEXEC, "malformed ELF: bad PT_INTERP")
			}
		case elf.PT_LOAD:
			if p.Memsz == 0 {
				continue
			}
			end := p.Vaddr + p.Memsz
			if p.Filesz > p.Memsz || end < p.Vaddr || end > maxUserAddr>>1 ||
				p.Off+p.Filesz < p.Off || p.Off+p.Filesz > uint64(size) || p.Off%pageSize != p.Vaddr%pageSize {
				return nil, execErr(linux.ENOEXEC, "truncated or malformed ELF: bad PT_LOAD segment at %#x", p.Vaddr)
			}
			var prot cpu.Prot
			if p.Flags&elf.PF_R != 0 {
				prot |= cpu.ProtRead
			}
			if p.Flags&elf.PF_W != 0 {
				prot |= cpu.ProtWrite
			}
			if p.Flags&elf.PF_X != 0 {
				prot |= cpu.ProtExec
			}
			info.segs = append(info.segs, loadSeg{vaddr: p.Vaddr, memsz: p.Memsz, off: p.Off, filesz: p.Filesz, prot: prot})
		}
	}
	if len(info.segs) == 0 {
		return nil, execErr(linux.ENOEXEC, "no loadable segments")
	}
	if len(info.segs) > maxMapCount/2 {
		return nil, execErr(linux.ENOMEM, "%d loadable segments; at most %d fit the address space's mappings", len(info.segs), maxMapCount/2)
	}
	for i := 1; i < len(info.segs); i++ {
		if info.segs[i].vaddr < info.segs[i-1].vaddr+info.segs[i-1].memsz {
			return nil, execErr(linux.ENOEXEC, "malformed ELF: PT_LOAD segments overlap or are unsorted")
		}
	}
	return info, nil
}

// loadSegments maps the segments of an ELF file (open as of) at bias into
// t's address space, as Linux's load_elf_binary does: file pages mapped
// private, the rest of the last file page zeroed, the bss anonymous.
func (t *Task) loadSegments(info *elfInfo, of *openFile, vf *vfs.File, name string, bias uint64) (*image, error) {
	as := t.as
	img := &image{phent: 56, phnum: uint64(len(info.f.Progs))}
	for _, s := range info.segs {
		start := pageDown(s.vaddr + bias)
		fileEnd := s.vaddr + bias + s.filesz
		end := pageUp(s.vaddr + bias + s.memsz)
		if end > maxUserAddr || start < pageSize {
			return nil, execErr(linux.ENOMEM, "segment at %#x does not fit the address space", s.vaddr+bias)
		}
		if s.filesz > 0 {
			obj, err := t.m.fileObject(of, vf)
			if err != nil {
				return nil, err
			}
			n := pageUp(fileEnd) - start
			if err := as.mapRange(start, n, s.prot, cpu.ProtAll, 0, obj, pageDown(s.off)/pageSize, name); err != nil {
				return nil, err
			}
			if z := pageUp(fileEnd) - fileEnd; z > 0 && fileEnd < end {
				// The bss starts inside the last file page: zero the rest.
				if err := t.pokeText(fileEnd, make([]byte, z)); err != nil {
					return nil, execErr(linux.ENOMEM, "cannot clear the bss at %#x", fileEnd)
				}
			}
		}
		if bss := pageUp(fileEnd); bss < end {
			if s.filesz == 0 {
				bss = start
			}
			if err := as.mapRange(bss, end-bss, s.prot, cpu.ProtAll, 0, nil, 0, ""); err != nil {
				return nil, err
			}
		}
		img.end = max(img.end, end)
	}
	img.entry = info.f.Entry + bias
	for _, p := range info.f.Progs {
		if p.Type == elf.PT_PHDR {
			img.phdr = p.Vaddr + bias
		}
	}
	if img.phdr == 0 {
		for _, s := range info.segs {
			if info.phoff >= s.off && info.phoff < s.off+s.filesz {
				img.phdr = s.vaddr + (info.phoff - s.off) + bias
			}
		}
	}
	return img, nil
}

// openExec opens a program file for execve, refusing what Linux refuses:
// a missing file, a directory, something not a regular file or without
// execute permission (EACCES).
func (m *Machine) openExec(c *vfs.Ctx, cwd, name string) (*vfs.File, vfs.Attr, error) {
	a, err := m.fs.StatAt(c, cwd, name, true)
	if err != nil {
		errno := linux.ErrnoFromError(err)
		return nil, a, &ExecError{Path: name, Reason: errno.Error(), Errno: errno}
	}
	switch {
	case a.IsDir():
		return nil, a, execErr(linux.EACCES, "is a directory")
	case a.Mode&vfs.ModeType != vfs.ModeRegular:
		return nil, a, execErr(linux.EACCES, "not a regular file")
	case a.Mode&0o111 == 0:
		return nil, a, execErr(linux.EACCES, "not executable")
	case a.Size > MaxExecSize:
		return nil, a, execErr(linux.E2BIG, "file is %d bytes; the limit is %d", a.Size, MaxExecSize)
	}
	f, err := m.fs.OpenAt(c, cwd, name, linux.O_RDONLY|linux.O_NONBLOCK, 0)
	if err != nil {
		errno := linux.ErrnoFromError(err)
		return nil, a, &ExecError{Path: name, Reason: errno.Error(), Errno: errno}
	}
	if fa, err := f.Stat(); err != nil || fa.Mode&vfs.ModeType != vfs.ModeRegular {
		f.Close()
		return nil, a, execErr(linux.EACCES, "not a regular file")
	}
	return f, a, nil
}

// maxInterpDepth bounds #! nesting.
const maxInterpDepth = 4

// HWCAP bits the emulated CPU (Unicorn's Cortex-A72) implements.
const hwcap = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 // FP ASIMD AES PMULL SHA1 SHA2 CRC32

// execProgram replaces t's program (execve): it resolves #! scripts, maps
// the ELF program (and its interpreter), builds the stack and sets the
// registers. On error the old program is untouched.
func (t *Task) execProgram(name string, argv, envp []string) error {
	m := t.m
	cwd := t.cwd
	exe := name
	// The new comm is the base name of the path execve was given (a
	// script's, not its interpreter's; the link's, not its target's).
	comm := path.Base(name)
	var f *vfs.File
	var info *elfInfo
	var exeAttr vfs.Attr
	for depth := 0; ; depth++ {
		if depth > maxInterpDepth {
			return execErr(linux.ELOOP, "more than %d nested #! interpreters", maxInterpDepth)
		}
		if exe == "/proc/self/exe" {
			exe = t.vctx().Rel(t.exe)
		}
		var err error
		var a vfs.Attr
		f, a, err = m.openExec(t.vctx(), cwd, exe)
		if err != nil {
			var ee *ExecError
			if depth > 0 && errors.As(err, &ee) {
				ee.Reason = "interpreter " + exe + ": " + ee.Reason
			}
			return err
		}
		var head [256]byte
		n, _ := f.ReadAt(head[:], 0)
		exeAttr = a
		if !bytes.HasPrefix(head[:n], []byte("#!")) {
			if info, err = parseELF(f, a.Size); err != nil {
				f.Close()
				return err
			}
			break
		}
		f.Close()
		interp, arg, ok := parseShebang(head[:n])
		if !ok {
			return execErr(linux.ENOEXEC, "#! line names no interpreter")
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, name)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, name, exe = nargv, interp, interp
	}
	of := &openFile{f: f, flags: linux.O_RDONLY, refs: 1}
	defer of.release()
	abs := exe
	if !path.IsAbs(abs) {
		abs = path.Join(cwd, abs)
	} else if t.root != "" {
		abs = path.Join(t.root, abs) // a path in the chroot (sys_fs.go)
	}
	abs = path.Clean(abs)
	// /proc/<pid>/exe and the maps name the file itself, symbolic links
	// resolved, as Linux's d_path of the open file does.
	real := abs
	if f.Path != "" {
		real = f.Path
	}

	old := t.as
	nas, err := m.newAddressSpace()
	if err != nil {
		return err
	}
	t.as = nas
	img, err := t.loadImage(info, of, f, real)
	if err == nil {
		img.cred, img.secure = t.execCred(exeAttr)
		err = t.buildStack(img, argv, envp, abs)
	}
	if err != nil {
		t.as = old
		nas.release()
		var ee *ExecError
		if errors.As(err, &ee) && ee.Path == "" {
			ee.Path = name
		}
		return err
	}
	t.as = old
	t.commit(nas, real, comm, argv, envp, img)
	return nil
}

// loadImage maps the program and its interpreter into t.as.
func (t *Task) loadImage(info *elfInfo, of *openFile, f *vfs.File, abs string) (*image, error) {
	var bias uint64
	if info.f.Type == elf.ET_DYN {
		bias = pieBase - pageDown(info.segs[0].vaddr)
	}
	img, err := t.loadSegments(info, of, f, abs, bias)
	if err != nil {
		return nil, err
	}
	img.pentry = img.entry
	t.as.brkBase, t.as.brk, t.as.brkMapped = img.end, img.end, img.end
	if info.interp == "" {
		return img, nil
	}
	// A dynamic program: load its interpreter (ld.so), which starts first.
	ifile, ia, err := t.m.openExec(t.vctx(), "/", info.interp)
	if err != nil {
		var ee *ExecError
		if errors.As(err, &ee) {
			return nil, execErr(ee.Errno, "interpreter %s: %s", info.interp, ee.Reason)
		}
		return nil, execErr(linux.ErrnoFromError(err), "interpreter %s: %v", info.interp, err)
	}
	iof := &openFile{f: ifile, flags: linux.O_RDONLY, refs: 1}
	defer iof.release()
	iinfo, err := parseELF(ifile, ia.Size)
	if err != nil {
		var ee *ExecError
		if errors.As(err, &ee) {
			return nil, execErr(ee.Errno, "interpreter %s: %s", info.interp, ee.Reason)
		}
		return nil, err
	}
	if iinfo.interp != "" || iinfo.f.Type != elf.ET_DYN {
		return nil, execErr(linux.ELIBBAD, "interpreter %s is not a shared object", info.interp)
	}
	ibias := interpBase - pageDown(iinfo.segs[0].vaddr)
	iimg, err := t.loadSegments(iinfo, iof, ifile, path.Clean(info.interp), ibias)
	if err != nil {
		return nil, err
	}
	img.base = ibias + pageDown(iinfo.segs[0].vaddr)
	img.entry = iimg.entry
	return img, nil
}

// buildStack maps the stack and writes argv, envp and the auxiliary
// vector.
func (t *Task) buildStack(img *image, argv, envp []string, exe string) error {
	if err := t.as.mapRange(stackTop-stackSize, stackSize, cpu.ProtRead|cpu.ProtWrite, cpu.ProtAll, vmGrowsDown, nil, 0, "[stack]"); err != nil {
		return err
	}
	si := stackImage{argv: argv, envp: envp, execfn: exe}
	t.m.randomBytes(si.random[:])
	si.auxv = [][2]uint64{
		{linux.AT_HWCAP, hwcap},
		{linux.AT_PAGESZ, pageSize},
		{linux.AT_CLKTCK, 100},
		{linux.AT_PHDR, img.phdr},
		{linux.AT_PHENT, img.phent},
		{linux.AT_PHNUM, img.phnum},
		{linux.AT_BASE, img.base},
		{linux.AT_FLAGS, 0},
		{linux.AT_ENTRY, img.pentry},
		{linux.AT_UID, uint64(img.cred.ruid)},
		{linux.AT_EUID, uint64(img.cred.euid)},
		{linux.AT_GID, uint64(img.cred.rgid)},
		{linux.AT_EGID, uint64(img.cred.egid)},
		{linux.AT_SECURE, b2u(img.secure)},
		{linux.AT_HWCAP2, 0},
		{linux.AT_MINSIGSTKSZ, minSigStk},
	}
	sp, err := si.build(t.Process, stackTop)
	if err != nil {
		if errors.Is(err, errArgs) {
			return execErr(linux.E2BIG, "argument list too long")
		}
		return err
	}
	img.sp, img.auxv = sp, si.full
	return nil
}

// commit makes the loaded image t's program: the point of no return of
// execve. The other threads end, t takes the leader's id, the old address
// space goes, registers start afresh at the entry point.
func (t *Task) commit(nas *addressSpace, exe, comm string, argv, envp []string, img *image) {
	m, p := t.m, t.Process
	for _, o := range append([]*Task(nil), p.tasks...) {
		if o != t {
			o.dying = true
			m.exitTask(o)
		}
	}
	if t.TID != p.PID {
		m.mu.Lock()
		delete(m.tasks, t.TID)
		t.TID = p.PID
		m.tasks[t.TID] = t
		m.mu.Unlock()
	}
	if p.as != nil {
		m.flushTLB(p.as)
		p.as.release()
	}
	p.as = nas
	p.exe, p.argv, p.envp, p.auxv = exe, argv, envp, img.auxv
	t.comm, p.undumpable = comm, img.secure
	p.execAttrs(img)
	t.ctx.CopyFrom(m.initCtx)
	t.ctx.SetReg(cpu.SP, img.sp)
	t.ctx.SetReg(cpu.PC, img.entry)
	if m.cpuTask == t {
		m.cpu.Load(t.ctx)
		m.cpu.SetPageTable(nas.pt.Root())
	}
	t.stop = true
	if p.fds != nil {
		p.fds.closeOnExec()
	}
	for i := range p.sigacts {
		if p.sigacts[i].handler > sigIGN {
			p.sigacts[i] = sigaction{}
		}
	}
	t.altStack = sigStack{flags: ssDisable}
	t.clearTID, t.robustList = 0, 0
	m.debugExec(t)
	if v := p.vforkParent(); v != nil {
		v.vforkChild = nil
		v.vforkDone.wakeAll()
	}
}

// parseShebang parses a "#!interpreter [arg]" line (at most 256 bytes, as
// Linux's BINPRM_BUF_SIZE).
func parseShebang(data []byte) (interp, arg string, ok bool) {
	line := data[2:]
	if len(line) > 254 {
		line = line[:254]
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(line), "\t", " "))
	if s == "" {
		return "", "", false
	}
	interp, arg, _ = strings.Cut(s, " ")
	return interp, strings.TrimSpace(arg), true
}

// stackImage lays out the initial process stack as Linux's
// create_elf_tables does: strings at the top, then AT_PLATFORM and
// AT_RANDOM data, then argc, argv, envp and the auxiliary vector at a
// 16-byte aligned SP.
type stackImage struct {
	argv, envp []string
	execfn     string
	random     [16]byte
	auxv       [][2]uint64 // without AT_RANDOM, AT_EXECFN, AT_PLATFORM, AT_NULL
	full       [][2]uint64 // set by build: the whole vector
}

// errArgs reports an argument list too large for the stack.
var errArgs = errors.New("argument list too long")

// maxArgBytes bounds the argument and environment strings (Linux allows a
// quarter of the stack rlimit).
const maxArgBytes = stackSize / 4

// build writes the stack below top into p's memory and returns the
// initial SP.
func (si *stackImage) build(p *Process, top uint64) (uint64, error) {
	// Strings in address order: argv, envp, then the program name; the top
	// word of the stack stays zero, as on Linux.
	var block []byte
	var argAddrs, envAddrs []uint64
	add := func(s string) uint64 {
		off := uint64(len(block))
		block = append(append(block, s...), 0)
		return off
	}
	for _, a := range si.argv {
		argAddrs = append(argAddrs, add(a))
	}
	for _, e := range si.envp {
		envAddrs = append(envAddrs, add(e))
	}
	execOff := add(si.execfn)
	if len(block) > maxArgBytes {
		return 0, errArgs
	}
	strBase := top - 8 - uint64(len(block))
	for i := range argAddrs {
		argAddrs[i] += strBase
	}
	for i := range envAddrs {
		envAddrs[i] += strBase
	}
	platAddr := strBase - uint64(len("aarch64")+1)
	randAddr := (platAddr - 16) &^ 15

	auxv := append(append([][2]uint64(nil), si.auxv...),
		[2]uint64{linux.AT_RANDOM, randAddr},
		[2]uint64{linux.AT_EXECFN, strBase + execOff},
		[2]uint64{linux.AT_PLATFORM, platAddr},
		[2]uint64{linux.AT_NULL, 0})
	si.full = auxv
	words := 1 + len(argAddrs) + 1 + len(envAddrs) + 1 + 2*len(auxv)
	sp := (randAddr - uint64(8*words)) &^ 15
	tbl := make([]byte, 0, 8*words)
	w := func(v uint64) { tbl = binary.LittleEndian.AppendUint64(tbl, v) }
	w(uint64(len(argAddrs)))
	for _, a := range argAddrs {
		w(a)
	}
	w(0)
	for _, a := range envAddrs {
		w(a)
	}
	w(0)
	for _, a := range auxv {
		w(a[0])
		w(a[1])
	}
	for _, c := range []struct {
		addr uint64
		data []byte
	}{{strBase, block}, {platAddr, []byte("aarch64\x00")}, {randAddr, si.random[:]}, {sp, tbl}} {
		if err := p.copyOut(c.addr, c.data); err != nil {
			return 0, err
		}
	}
	return sp, nil
}
