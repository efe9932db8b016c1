package strace

import (
	"reflect"
	"strconv"

	"github.com/sis-kernel/sissim/pkg/linux"
)

// sysFlags are a system call's strace classes and properties.
type sysFlags uint32

const (
	trFile sysFlags = 1 << iota
	trProcess
	trNetwork
	trSignal
	trIPC
	trDesc
	trMemory
	trCreds
	trClock
	trStat
	trLstat
	trFstat
	trStatLike
	trStatfs
	trFstatfs
	trStatfsLike
	trPure
	neverFails // the result is never an error (getpid, umask)
	noReturn   // exit, exit_group: "= ?"
	newTask    // a positive result is a new task (fork, clone)
)

func (f sysFlags) has(g sysFlags) bool { return f&g != 0 }

// sysent describes how strace prints one system call.
type sysent struct {
	name  string
	nargs int
	flags sysFlags
	// spec returns the arguments to print; nil prints nargs arguments in
	// hex, as strace does for calls it does not decode.
	spec func(d *dec) []arg
	// done sets the result's format and tail after a successful call.
	done func(d *dec)
}

func (s *sysent) args(d *dec) []arg {
	if s.spec != nil {
		return s.spec(d)
	}
	a := make([]arg, s.nargs)
	for i := range a {
		a[i] = in(aHex)
	}
	return a
}

// sysents holds every system call strace knows on arm64, by number.
var sysents = buildSysents()

// lookup returns the description of system call nr; unknown numbers print
// as strace prints them: syscall_0x1f4(0x1, ...) with six arguments.
// StaticTypes lists the pointer types of a Tracer's state whose targets
// never change (the system call table): a copy of a Tracer
// (internal/graphcopy) shares them, and the package's functions, which
// hold no state (argument decoders capture nothing that changes).
func StaticTypes() []reflect.Type { return []reflect.Type{reflect.TypeFor[*sysent]()} }

func lookup(nr uint64) *sysent {
	if s, ok := sysents[nr]; ok {
		return s
	}
	if name := linux.SyscallName(nr); name != "" {
		return &sysent{name: name, nargs: 6}
	}
	return &sysent{name: "syscall_" + hex(nr), nargs: 6}
}

// Name returns the name strace gives system call nr.
func Name(nr uint64) string { return lookup(nr).name }

// Number returns the number of the system call strace names name, or false.
func Number(name string) (uint64, bool) {
	nr, ok := sysnums[name]
	if !ok {
		if rest, found := cutPrefix(name, "syscall_"); found {
			if v, err := strconv.ParseUint(rest, 0, 64); err == nil {
				return v, true
			}
		}
	}
	return nr, ok
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

var sysnums = func() map[string]uint64 {
	m := make(map[string]uint64, len(sysents))
	for nr := uint64(0); nr < 1024; nr++ {
		if name := linux.SyscallName(nr); name != "" {
			m[name] = nr
		}
	}
	for nr, s := range sysents {
		m[s.name] = nr
	}
	return m
}()

// fixed returns a spec function for a fixed argument list.
func fixed(a ...arg) func(d *dec) []arg {
	return func(*dec) []arg { return a }
}

func buildSysents() map[uint64]*sysent {
	m := make(map[uint64]*sysent, len(baseSysents))
	for nr, b := range baseSysents {
		name := linux.SyscallName(nr)
		if name == "" {
			continue
		}
		m[nr] = &sysent{name: name, nargs: b.nargs, flags: b.flags}
	}
	for nr, s := range decoders() {
		e, ok := m[nr]
		if !ok {
			continue
		}
		e.spec, e.done = s.spec, s.done
		e.flags |= s.flags
	}
	return m
}

// rv returns a done function that sets the result format.
func rv(k rvKind) func(d *dec) { return func(d *dec) { d.rv = k } }

// decoders returns the decoding of each system call strace decodes.
func decoders() map[uint64]sysent {
	fd := in(aFD)
	dirfd := in(aDirFD)
	path := in(aPath)
	mode := in(aMode)
	i32 := in(aInt)
	u32 := in(aUint)
	long := in(aLong)
	ulong := in(aUlong)
	ptr := in(aPtr)
	hx := in(aHex)
	pid := in(aPID)
	sig := in(aSig)
	id := in(aID)
	atflags := in(fArg(atFlags, "AT_???"))

	return map[uint64]sysent{
		// Extended attributes.
		linux.SysSetxattr:     {spec: fixed(path, in(aStr), in(aBufIn), ulong, in(fArg(xattrFlags, "XATTR_???")))},
		linux.SysLsetxattr:    {spec: fixed(path, in(aStr), in(aBufIn), ulong, in(fArg(xattrFlags, "XATTR_???")))},
		linux.SysFsetxattr:    {spec: fixed(fd, in(aStr), in(aBufIn), ulong, in(fArg(xattrFlags, "XATTR_???")))},
		linux.SysGetxattr:     {spec: fixed(path, in(aStr), out(aBufRet), ulong)},
		linux.SysLgetxattr:    {spec: fixed(path, in(aStr), out(aBufRet), ulong)},
		linux.SysFgetxattr:    {spec: fixed(fd, in(aStr), out(aBufRet), ulong)},
		linux.SysListxattr:    {spec: fixed(path, out(aBufRet), ulong)},
		linux.SysLlistxattr:   {spec: fixed(path, out(aBufRet), ulong)},
		linux.SysFlistxattr:   {spec: fixed(fd, out(aBufRet), ulong)},
		linux.SysRemovexattr:  {spec: fixed(path, in(aStr))},
		linux.SysLremovexattr: {spec: fixed(path, in(aStr))},
		linux.SysFremovexattr: {spec: fixed(fd, in(aStr))},

		linux.SysGetcwd:       {spec: fixed(out(aStrRet), ulong)},
		linux.SysEventfd2:     {spec: fixed(u32, in(fArg(efdFlags, "EFD_???")))},
		linux.SysEpollCreate1: {spec: fixed(in(fArg(epollCreateFlags, "EPOLL_???")))},
		linux.SysEpollCtl:     {spec: fixed(fd, in(xArg(epollCtlOps, "EPOLL_CTL_???")), fd, in(aStruct(16, epollEvent)))},
		linux.SysEpollPwait:   {spec: fixed(fd, out(aEpollEvents), i32, i32, in(aSigset(5)), ulong)},
		linux.SysEpollPwait2:  {spec: fixed(fd, out(aEpollEvents), i32, in(aTimespec), in(aSigset(5)), ulong)},
		linux.SysDup:          {spec: fixed(fd)},
		linux.SysDup3:         {spec: fixed(fd, fd, in(fArg(dup3Flags, "O_???")))},
		linux.SysFcntl:        {spec: fcntlSpec, done: fcntlDone},
		linux.SysInotifyInit1: {spec: fixed(in(fArg(inotifyInitFlags, "IN_???")))},
		linux.SysInotifyAddWatch: {
			spec: fixed(fd, path, in(fArg(inotifyMask, "IN_???")))},
		linux.SysInotifyRmWatch:  {spec: fixed(fd, i32)},
		linux.SysIoctl:           {spec: ioctlSpec},
		linux.SysIoprioSet:       {spec: fixed(in(xArg(ioprioWho, "IOPRIO_WHO_???")), i32, in(func(d *dec, i int) { d.w(ioprio(d.a[i])) }))},
		linux.SysIoprioGet:       {spec: fixed(in(xArg(ioprioWho, "IOPRIO_WHO_???")), i32), done: func(d *dec) { d.tail = " (" + ioprio(d.ret) + ")" }},
		linux.SysFlock:           {spec: fixed(fd, in(fArg(flockCmds, "LOCK_???")))},
		linux.SysMknodat:         {spec: mknodSpec},
		linux.SysMkdirat:         {spec: fixed(dirfd, path, mode)},
		linux.SysUnlinkat:        {spec: fixed(dirfd, path, in(fArg(unlinkatFlags, "AT_???")))},
		linux.SysSymlinkat:       {spec: fixed(path, dirfd, path)},
		linux.SysLinkat:          {spec: fixed(dirfd, path, dirfd, path, atflags)},
		linux.SysRenameat:        {spec: fixed(dirfd, path, dirfd, path)},
		linux.SysUmount2:         {spec: fixed(path, in(fArg(umountFlags, "MNT_???")))},
		linux.SysMount:           {spec: mountSpec},
		linux.SysPivotRoot:       {spec: fixed(path, path)},
		linux.SysStatfs:          {spec: fixed(path, out(aStruct(120, statfs)))},
		linux.SysFstatfs:         {spec: fixed(fd, out(aStruct(120, statfs)))},
		linux.SysTruncate:        {spec: fixed(path, long)},
		linux.SysFtruncate:       {spec: fixed(fd, long)},
		linux.SysFallocate:       {spec: fixed(fd, in(fArg(fallocFlags, "FALLOC_FL_???")), long, long)},
		linux.SysFaccessat:       {spec: fixed(dirfd, path, in(fArg(accessModes, "?_OK")))},
		linux.SysFaccessat2:      {spec: fixed(dirfd, path, in(fArg(accessModes, "?_OK")), in(fArg(faccessatFlags, "AT_???")))},
		linux.SysChdir:           {spec: fixed(path)},
		linux.SysFchdir:          {spec: fixed(fd)},
		linux.SysChroot:          {spec: fixed(path)},
		linux.SysFchmod:          {spec: fixed(fd, mode)},
		linux.SysFchmodat:        {spec: fixed(dirfd, path, mode)},
		linux.SysFchmodat2:       {spec: fixed(dirfd, path, mode, atflags)},
		linux.SysFchownat:        {spec: fixed(dirfd, path, id, id, atflags)},
		linux.SysFchown:          {spec: fixed(fd, id, id)},
		linux.SysOpenat:          {spec: openatSpec},
		linux.SysOpenat2:         {spec: fixed(dirfd, path, in(aOpenHow), ulong)},
		linux.SysClose:           {spec: fixed(fd)},
		linux.SysCloseRange:      {spec: fixed(u32, u32, in(fArg(closeRangeFlags, "CLOSE_RANGE_???")))},
		linux.SysVhangup:         {},
		linux.SysPipe2:           {spec: fixed(out(aFDPair), in(fArg(pipeFlags, "O_???")))},
		linux.SysGetdents64:      {spec: fixed(fd, out(aDirents), u32)},
		linux.SysLseek:           {spec: fixed(fd, long, in(xArg(seekWhence, "SEEK_???")))},
		linux.SysRead:            {spec: fixed(fd, out(aBufRet), ulong)},
		linux.SysWrite:           {spec: fixed(fd, in(aBufIn), ulong)},
		linux.SysReadv:           {spec: fixed(fd, out(aIovRet), ulong)},
		linux.SysWritev:          {spec: fixed(fd, in(aIovAll), ulong)},
		linux.SysPread64:         {spec: fixed(fd, out(aBufRet), ulong, long)},
		linux.SysPwrite64:        {spec: fixed(fd, in(aBufIn), ulong, long)},
		linux.SysPreadv:          {spec: fixed(fd, out(aIovRet), ulong, long)},
		linux.SysPwritev:         {spec: fixed(fd, in(aIovAll), ulong, long)},
		linux.SysPreadv2:         {spec: fixed(fd, out(aIovRet), ulong, long, in(fArg(rwfFlags, "RWF_???")))},
		linux.SysPwritev2:        {spec: fixed(fd, in(aIovAll), ulong, long, in(fArg(rwfFlags, "RWF_???")))},
		linux.SysSendfile:        {spec: fixed(fd, fd, inout(aOffInOut), ulong)},
		linux.SysPselect6:        {spec: pselectSpec, done: pselectDone},
		linux.SysPpoll:           {spec: ppollSpec, done: ppollDone},
		linux.SysSignalfd4:       {spec: fixed(fd, in(aSigset(2)), ulong, in(fArg(sfdFlags, "SFD_???")))},
		linux.SysVmsplice:        {spec: fixed(fd, in(aIovAll), ulong, in(fArg(spliceFlags, "SPLICE_F_???")))},
		linux.SysSplice:          {spec: fixed(fd, in(aLoffPtr), fd, in(aLoffPtr), ulong, in(fArg(spliceFlags, "SPLICE_F_???")))},
		linux.SysTee:             {spec: fixed(fd, fd, ulong, in(fArg(spliceFlags, "SPLICE_F_???")))},
		linux.SysReadlinkat:      {spec: fixed(dirfd, path, out(aBufRet), ulong)},
		linux.SysNewfstatat:      {spec: fixed(dirfd, path, out(aStruct(linux.SizeofStat, stat)), atflags)},
		linux.SysFstat:           {spec: fixed(fd, out(aStruct(linux.SizeofStat, stat)))},
		linux.SysStatx:           {spec: fixed(dirfd, path, in(aStatxFlags), in(fArg(statxMask, "STATX_???")), out(aStruct(linux.SizeofStatx, statx)))},
		linux.SysSync:            {},
		linux.SysFsync:           {spec: fixed(fd)},
		linux.SysFdatasync:       {spec: fixed(fd)},
		linux.SysSyncfs:          {spec: fixed(fd)},
		linux.SysSyncFileRange:   {spec: fixed(fd, long, long, in(fArg(syncFileRangeFlags, "SYNC_FILE_RANGE_???")))},
		linux.SysTimerfdCreate:   {spec: fixed(in(aClock), in(fArg(timerfdCreateFlags, "TFD_???")))},
		linux.SysTimerfdSettime:  {spec: fixed(fd, in(fArg(timerfdSetFlags, "TFD_TIMER_???")), in(aItimerspec), out(aItimerspec))},
		linux.SysTimerfdGettime:  {spec: fixed(fd, out(aItimerspec))},
		linux.SysUtimensat:       {spec: fixed(dirfd, path, in(aUtimes), atflags)},
		linux.SysAcct:            {spec: fixed(path)},
		linux.SysCapget:          {spec: fixed(in(aCapHeader), out(aCapData))},
		linux.SysCapset:          {spec: fixed(in(aCapHeader), in(aCapData))},
		linux.SysPersonality:     {spec: fixed(in(func(d *dec, i int) { d.w(personality(uint64(uint32(d.a[i])))) })), done: func(d *dec) { d.rv = rvHex; d.tail = " (" + personality(d.ret) + ")" }},
		linux.SysExit:            {spec: fixed(i32), flags: noReturn},
		linux.SysExitGroup:       {spec: fixed(i32), flags: noReturn},
		linux.SysWaitid:          {spec: fixed(in(xArg(idTypes, "P_???")), i32, out(aSiginfo), in(fArg(waitOptions, "W???")), out(aRusage))},
		linux.SysSetTidAddress:   {spec: fixed(ptr)},
		linux.SysUnshare:         {spec: fixed(in(fArg(unshareFlags, "CLONE_???")))},
		linux.SysFutex:           {spec: futexSpec},
		linux.SysSetRobustList:   {spec: fixed(ptr, ulong)},
		linux.SysGetRobustList:   {spec: fixed(pid, out(aPtrPtr), out(aUlongPtr))},
		linux.SysNanosleep:       {spec: fixed(in(aTimespec), inout(aRemaining))},
		linux.SysGetitimer:       {spec: fixed(in(xArg(itimerWhich, "ITIMER_???")), out(aItimerval))},
		linux.SysSetitimer:       {spec: fixed(in(xArg(itimerWhich, "ITIMER_???")), in(aItimerval), out(aItimerval))},
		linux.SysTimerCreate:     {spec: fixed(in(aClock), in(aStruct(64, sigevent)), out(aIntPtr))},
		linux.SysTimerGettime:    {spec: fixed(i32, out(aItimerspec))},
		linux.SysTimerGetoverrun: {spec: fixed(i32)},
		linux.SysTimerSettime:    {spec: fixed(i32, in(fArg(timerFlags, "TIMER_???")), in(aItimerspec), out(aItimerspec))},
		linux.SysTimerDelete:     {spec: fixed(i32)},
		linux.SysClockSettime:    {spec: fixed(in(aClock), in(aTimespec))},
		linux.SysClockGettime:    {spec: fixed(in(aClock), out(aTimespec))},
		linux.SysClockGetres:     {spec: fixed(in(aClock), out(aTimespec))},
		linux.SysClockNanosleep:  {spec: fixed(in(aClock), in(fArg(timerFlags, "TIMER_???")), in(aTimespec), inout(aRemaining))},
		linux.SysSyslog:          {spec: fixed(in(xArg(syslogCmds, "SYSLOG_ACTION_???")), ptr, i32)},
		linux.SysPtrace:          {spec: fixed(in(xArg(ptraceRequests, "PTRACE_???")), pid, ptr, ptr)},
		linux.SysSchedSetparam:   {spec: fixed(pid, in(aSchedParam))},
		linux.SysSchedSetscheduler: {
			spec: fixed(pid, in(xArg(schedPolicies, "SCHED_???")), in(aSchedParam))},
		linux.SysSchedGetscheduler:   {spec: fixed(pid), done: func(d *dec) { d.tail = " (" + xval(schedPolicies, d.ret&^0x40000000, "SCHED_???") + ")" }},
		linux.SysSchedGetparam:       {spec: fixed(pid, out(aSchedParam))},
		linux.SysSchedSetaffinity:    {spec: fixed(pid, u32, in(aCPUSet(1)))},
		linux.SysSchedGetaffinity:    {spec: fixed(pid, u32, out(aCPUSetRet))},
		linux.SysSchedYield:          {},
		linux.SysSchedGetPriorityMax: {spec: fixed(in(xArg(schedPolicies, "SCHED_???")))},
		linux.SysSchedGetPriorityMin: {spec: fixed(in(xArg(schedPolicies, "SCHED_???")))},
		linux.SysSchedRrGetInterval:  {spec: fixed(pid, out(aTimespec))},
		linux.SysRestartSyscall:      {},
		linux.SysKill:                {spec: fixed(pid, sig)},
		linux.SysTkill:               {spec: fixed(pid, sig)},
		linux.SysTgkill:              {spec: fixed(pid, pid, sig)},
		linux.SysSigaltstack:         {spec: fixed(in(aStruct(24, stack)), out(aStruct(24, stack)))},
		linux.SysRtSigsuspend:        {spec: fixed(in(aSigset(1)), ulong)},
		linux.SysRtSigaction:         {spec: fixed(sig, in(aStruct(32, sigaction)), out(aStruct(32, sigaction)), ulong)},
		linux.SysRtSigprocmask:       {spec: fixed(in(xArg(sigprocmaskHow, "SIG_???")), in(aSigset(3)), out(aSigset(3)), ulong)},
		linux.SysRtSigpending:        {spec: fixed(out(aSigset(1)), ulong)},
		linux.SysRtSigtimedwait:      {spec: fixed(in(aSigset(3)), out(aSiginfo), in(aTimespec), ulong), done: func(d *dec) { d.tail = " (" + sigArg(d.ret) + ")" }},
		linux.SysRtSigqueueinfo:      {spec: fixed(pid, sig, in(aSiginfo))},
		linux.SysRtTgsigqueueinfo:    {spec: fixed(pid, pid, sig, in(aSiginfo))},
		linux.SysRtSigreturn:         {spec: sigreturnSpec},
		linux.SysSetpriority:         {spec: fixed(in(xArg(priorityWhich, "PRIO_???")), i32, i32)},
		linux.SysGetpriority:         {spec: fixed(in(xArg(priorityWhich, "PRIO_???")), i32)},
		linux.SysReboot:              {spec: fixed(in(xArg(rebootMagic, "LINUX_REBOOT_MAGIC_???")), in(xArg(rebootMagic, "LINUX_REBOOT_MAGIC_???")), in(xArg(rebootCmds, "LINUX_REBOOT_CMD_???")), ptr)},
		linux.SysSetregid:            {spec: fixed(id, id)},
		linux.SysSetgid:              {spec: fixed(id)},
		linux.SysSetreuid:            {spec: fixed(id, id)},
		linux.SysSetuid:              {spec: fixed(id)},
		linux.SysSetresuid:           {spec: fixed(id, id, id)},
		linux.SysGetresuid:           {spec: fixed(out(aUintPtr), out(aUintPtr), out(aUintPtr))},
		linux.SysSetresgid:           {spec: fixed(id, id, id)},
		linux.SysGetresgid:           {spec: fixed(out(aUintPtr), out(aUintPtr), out(aUintPtr))},
		linux.SysSetfsuid:            {spec: fixed(id)},
		linux.SysSetfsgid:            {spec: fixed(id)},
		linux.SysTimes:               {spec: fixed(out(aStruct(32, tms))), done: rv(rvUdec)},
		linux.SysSetpgid:             {spec: fixed(pid, pid)},
		linux.SysGetpgid:             {spec: fixed(pid)},
		linux.SysGetsid:              {spec: fixed(pid)},
		linux.SysSetsid:              {},
		linux.SysGetgroups:           {spec: fixed(i32, out(aIDs(-1)))},
		linux.SysSetgroups:           {spec: fixed(i32, in(aIDs(0)))},
		linux.SysUname:               {spec: fixed(out(aStruct(linux.SizeofUtsname, utsname)))},
		linux.SysSethostname:         {spec: fixed(in(aBufIn), ulong)},
		linux.SysSetdomainname:       {spec: fixed(in(aBufIn), ulong)},
		linux.SysGetrlimit:           {spec: fixed(in(xArg(rlimitResources, "RLIMIT_???")), out(aRlimit))},
		linux.SysSetrlimit:           {spec: fixed(in(xArg(rlimitResources, "RLIMIT_???")), in(aRlimit))},
		linux.SysGetrusage:           {spec: fixed(in(aSignedX(rusageWho, "RUSAGE_???")), out(aRusage))},
		linux.SysUmask:               {spec: fixed(mode), done: rv(rvOct)},
		linux.SysPrctl:               {spec: prctlSpec, done: prctlDone},
		linux.SysGetcpu:              {spec: fixed(out(aUintPtr), out(aUintPtr), ptr)},
		linux.SysGettimeofday:        {spec: fixed(out(aTimeval), out(aTimezone))},
		linux.SysSettimeofday:        {spec: fixed(in(aTimeval), in(aTimezone))},
		linux.SysGetpid:              {},
		linux.SysGetppid:             {},
		linux.SysGetuid:              {},
		linux.SysGeteuid:             {},
		linux.SysGetgid:              {},
		linux.SysGetegid:             {},
		linux.SysGettid:              {},
		linux.SysSysinfo:             {spec: fixed(out(aStruct(112, sysinfo)))},
		linux.SysSocket:              {spec: socketSpec},
		linux.SysSocketpair:          {spec: fixed(in(xArg(addrFamilies, "AF_???")), in(func(d *dec, i int) { d.w(sockType(uint64(uint32(d.a[i])))) }), i32, out(aFDPair))},
		linux.SysBind:                {spec: fixed(fd, in(aSockaddr(2)), u32)},
		linux.SysListen:              {spec: fixed(fd, i32)},
		linux.SysAccept:              {spec: fixed(fd, inout(aSockaddrOut), inout(aSocklen))},
		linux.SysAccept4:             {spec: fixed(fd, inout(aSockaddrOut), inout(aSocklen), in(fArg(sockTypeFlags, "SOCK_???")))},
		linux.SysConnect:             {spec: fixed(fd, in(aSockaddr(2)), u32)},
		linux.SysGetsockname:         {spec: fixed(fd, inout(aSockaddrOut), inout(aSocklen))},
		linux.SysGetpeername:         {spec: fixed(fd, inout(aSockaddrOut), inout(aSocklen))},
		linux.SysSendto:              {spec: fixed(fd, in(aBufIn), ulong, in(fArg(msgFlags, "MSG_???")), in(aSockaddr(5)), u32)},
		linux.SysRecvfrom:            {spec: fixed(fd, out(aBufRet), ulong, in(fArg(msgFlags, "MSG_???")), inout(aSockaddrOut), inout(aSocklen))},
		linux.SysSetsockopt:          {spec: fixed(fd, in(xArg(sockLevels, "SOL_???")), in(aSockopt), in(aOptval), u32)},
		linux.SysGetsockopt:          {spec: fixed(fd, in(xArg(sockLevels, "SOL_???")), in(aSockopt), out(aOptvalOut), out(aUintPtr))},
		linux.SysShutdown:            {spec: fixed(fd, in(xArg(shutdownHow, "SHUT_???")))},
		linux.SysSendmsg:             {spec: fixed(fd, in(aMsghdrIn), in(fArg(msgFlags, "MSG_???")))},
		linux.SysRecvmsg:             {spec: fixed(fd, out(aMsghdrRet), in(fArg(msgFlags, "MSG_???")))},
		linux.SysSendmmsg:            {spec: fixed(fd, out(aMmsghdrs(false)), u32, in(fArg(msgFlags, "MSG_???")))},
		linux.SysRecvmmsg:            {spec: fixed(fd, out(aMmsghdrs(true)), u32, in(fArg(msgFlags, "MSG_???")), in(aTimespec))},
		linux.SysReadahead:           {spec: fixed(fd, long, ulong)},
		linux.SysBrk:                 {spec: fixed(ptr), done: rv(rvHex)},
		linux.SysMunmap:              {spec: fixed(ptr, ulong)},
		linux.SysMremap:              {spec: mremapSpec, done: rv(rvHex)},
		linux.SysClone:               {spec: cloneSpec, flags: newTask},
		linux.SysClone3:              {spec: fixed(inout(aCloneArgs), ulong), flags: newTask},
		linux.SysExecve:              {spec: fixed(path, in(aArgv), in(aEnvp))},
		linux.SysExecveat:            {spec: fixed(dirfd, path, in(aArgv), in(aEnvp), atflags)},
		linux.SysMmap:                {spec: fixed(ptr, ulong, in(fArg(protFlags, "PROT_???")), in(func(d *dec, i int) { d.w(mmapFlags(uint64(uint32(d.a[i])))) }), fd, in(aHex)), done: rv(rvHex)},
		linux.SysFadvise64:           {spec: fixed(fd, long, long, in(xArg(fadviseAdvice, "POSIX_FADV_???")))},
		linux.SysSwapon:              {spec: fixed(path, hx)},
		linux.SysSwapoff:             {spec: fixed(path)},
		linux.SysMprotect:            {spec: fixed(ptr, ulong, in(fArg(protFlags, "PROT_???")))},
		linux.SysPkeyMprotect:        {spec: fixed(ptr, ulong, in(fArg(protFlags, "PROT_???")), i32)},
		linux.SysMsync:               {spec: fixed(ptr, ulong, in(fArg(msyncFlags, "MS_???")))},
		linux.SysMlock:               {spec: fixed(ptr, ulong)},
		linux.SysMunlock:             {spec: fixed(ptr, ulong)},
		linux.SysMlock2:              {spec: fixed(ptr, ulong, in(fArg(mlock2Flags, "MLOCK_???")))},
		linux.SysMlockall:            {spec: fixed(in(fArg(mlockallFlags, "MCL_???")))},
		linux.SysMunlockall:          {},
		linux.SysMincore:             {spec: fixed(ptr, ulong, out(aMincore))},
		linux.SysMadvise:             {spec: fixed(ptr, ulong, in(xArg(madviseAdvice, "MADV_???")))},
		linux.SysProcessMadvise:      {spec: fixed(fd, in(aIovAll), ulong, in(xArg(madviseAdvice, "MADV_???")), u32)},
		linux.SysWait4:               {spec: fixed(pid, out(aWaitStatus), in(fArg(waitOptions, "W???")), out(aRusage))},
		linux.SysPrlimit64:           {spec: fixed(pid, in(xArg(rlimitResources, "RLIMIT_???")), in(aRlimit), out(aRlimit))},
		linux.SysGetrandom:           {spec: fixed(out(aRandom), ulong, in(fArg(grndFlags, "GRND_???")))},
		linux.SysMemfdCreate:         {spec: fixed(in(aStr), in(fArg(memfdFlags, "MFD_???")))},
		linux.SysMembarrier: {spec: fixed(in(fArg(membarrierCmds, "MEMBARRIER_CMD_???")), u32, i32), done: func(d *dec) {
			if d.a[0] == 0 {
				d.rv = rvHex
				d.tail = " (" + flags(membarrierCmds, d.ret, "MEMBARRIER_CMD_???") + ")"
			}
		}},
		linux.SysCopyFileRange:   {spec: fixed(fd, inout(aOffInOut), fd, inout(aOffInOut), ulong, u32)},
		linux.SysRenameat2:       {spec: fixed(dirfd, path, dirfd, path, in(fArg(renameFlags, "RENAME_???")))},
		linux.SysSeccomp:         {spec: fixed(in(xArg(seccompOps, "SECCOMP_SET_MODE_???")), u32, ptr)},
		linux.SysRseq:            {spec: fixed(ptr, in(aHex), in(fArg(rseqFlags, "RSEQ_FLAG_???")), in(aHex))},
		linux.SysPidfdOpen:       {spec: fixed(pid, in(fArg(pidfdOpenFlags, "PIDFD_???")))},
		linux.SysPidfdSendSignal: {spec: fixed(fd, sig, in(aSiginfo), u32)},
		linux.SysPidfdGetfd:      {spec: fixed(fd, fd, u32)},
		linux.SysSetns:           {spec: fixed(fd, in(fArg(unshareFlags, "CLONE_???")))},
		linux.SysKcmp:            {spec: fixed(pid, pid, i32, ulong, ulong)},
		linux.SysSetMempolicy:    {spec: fixed(in(xArg(mbindModes, "MPOL_???")), ptr, ulong)},
		linux.SysMbind:           {spec: fixed(ptr, ulong, in(xArg(mbindModes, "MPOL_???")), ptr, ulong, hx)},
		linux.SysGetMempolicy:    {spec: fixed(out(aIntPtr), ptr, ulong, ptr, hx)},
		linux.SysPkeyAlloc:       {spec: fixed(hx, hx)},
		linux.SysPkeyFree:        {spec: fixed(i32)},
		linux.SysNameToHandleAt:  {spec: fixed(dirfd, path, ptr, ptr, atflags)},
		linux.SysOpenByHandleAt:  {spec: fixed(fd, ptr, aOpenArg)},
		linux.SysKeyctl:          {spec: fixed(in(xArg(keyctlCmds, "KEYCTL_???")), hx, hx, hx, hx)},
		linux.SysMqUnlink:        {spec: fixed(path)},
		linux.SysMqOpen:          {spec: mqOpenSpec},
		linux.SysShmget:          {spec: fixed(in(aIPCKey), ulong, in(aIPCFlags))},
		linux.SysShmat:           {spec: fixed(i32, ptr, in(fArg(shmatFlags, "SHM_???"))), done: rv(rvHex)},
		linux.SysShmdt:           {spec: fixed(ptr)},
		linux.SysSemget:          {spec: fixed(in(aIPCKey), i32, in(aIPCFlags))},
		linux.SysMsgget:          {spec: fixed(in(aIPCKey), in(aIPCFlags))},
		linux.SysShmctl:          {spec: fixed(i32, in(aIPCCmd(shmctlCmds, "SHM_???")), ptr)},
		linux.SysSemctl:          {spec: fixed(i32, i32, in(aIPCCmd(semctlCmds, "SEM_???")), ptr)},
		linux.SysMsgctl:          {spec: fixed(i32, in(aIPCCmd(msgctlCmds, "MSG_???")), ptr)},
		linux.SysSemop:           {spec: fixed(i32, in(aSembufs), ulong)},
		linux.SysSemtimedop:      {spec: fixed(i32, in(aSembufs), ulong, in(aTimespec))},
		linux.SysMsgsnd:          {spec: fixed(i32, in(aMsgbuf(2)), ulong, in(fArg(ipcFlags, "IPC_???")))},
		linux.SysMsgrcv:          {spec: fixed(i32, out(aMsgbuf(2)), ulong, long, in(fArg(msgrcvFlags, "MSG_???")))},
		linux.SysSchedSetattr:    {spec: fixed(pid, in(aSchedAttr), u32)},
		linux.SysSchedGetattr:    {spec: fixed(pid, out(aSchedAttr), u32, u32)},
		linux.SysUserfaultfd:     {spec: fixed(in(fArg(userfaultfdFlags, "O_???")))},
		linux.SysMemfdSecret:     {spec: fixed(in(fArg(dup3Flags, "O_???")))},
		linux.SysFinitModule:     {spec: fixed(fd, in(aStr), u32)},
		linux.SysDeleteModule:    {spec: fixed(in(aStr), hx)},
	}
}

// Decodes reports whether strace decodes the arguments of system call nr
// (rather than printing them in hex).
func Decodes(nr uint64) bool {
	s, ok := sysents[nr]
	return ok && (s.spec != nil || s.nargs == 0)
}

var shmatFlags = xlat{{0o10000, "SHM_RDONLY"}, {0o20000, "SHM_RND"}, {0o40000, "SHM_REMAP"}, {0o100000, "SHM_EXEC"}}

var ipcFlags = xlat{{0o1000, "IPC_CREAT"}, {0o2000, "IPC_EXCL"}, {0o4000, "IPC_NOWAIT"}}

var ipcCmds = xlat{{0, "IPC_RMID"}, {1, "IPC_SET"}, {2, "IPC_STAT"}, {3, "IPC_INFO"}}

var shmctlCmds = append(xlat{{11, "SHM_LOCK"}, {12, "SHM_UNLOCK"}, {13, "SHM_STAT"}, {14, "SHM_INFO"}, {15, "SHM_STAT_ANY"}}, ipcCmds...)

var semctlCmds = append(xlat{{11, "GETPID"}, {12, "GETVAL"}, {13, "GETALL"}, {14, "GETNCNT"}, {15, "GETZCNT"}, {16, "SETVAL"}, {17, "SETALL"}, {18, "SEM_STAT"}, {19, "SEM_INFO"}, {20, "SEM_STAT_ANY"}}, ipcCmds...)

var msgctlCmds = append(xlat{{11, "MSG_STAT"}, {12, "MSG_INFO"}, {13, "MSG_STAT_ANY"}}, ipcCmds...)

var msgrcvFlags = xlat{{0o4000, "IPC_NOWAIT"}, {0o10000, "MSG_NOERROR"}, {0o20000, "MSG_EXCEPT"}, {0o40000, "MSG_COPY"}}

var semFlags = xlat{{0o4000, "IPC_NOWAIT"}, {0x1000, "SEM_UNDO"}}

var userfaultfdFlags = xlat{{0o2000000, "O_CLOEXEC"}, {0o4000, "O_NONBLOCK"}, {1, "UFFD_USER_MODE_ONLY"}}

// aIPCCmd prints a System V IPC command, with IPC_64 when it is set.
func aIPCCmd(x xlat, unknown string) func(d *dec, i int) {
	return func(d *dec, i int) {
		v := uint64(uint32(d.a[i]))
		if v&0x100 != 0 {
			d.w("IPC_64|")
			v &^= 0x100
		}
		d.w(xval(x, v, unknown))
	}
}

// aSembufs prints semop's operations: [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}].
func aSembufs(d *dec, i int) {
	n := d.a[i+1]
	if n > 1024 {
		d.addr(d.a[i])
		return
	}
	b := d.fetch(d.a[i], int(n)*6)
	if b == nil {
		return
	}
	var parts []string
	for k := 0; k < int(n); k++ {
		if k >= d.tr.opt.StringLimit {
			parts = append(parts, "...")
			break
		}
		e := b[6*k:]
		parts = append(parts, "{sem_num="+utoa(le16(e))+", sem_op="+itoa(int64(int16(le16(e[2:]))))+", sem_flg="+flags(semFlags, le16(e[4:]), "SEM_???")+"}")
	}
	d.w("[" + join(parts, ", ") + "]")
}

// aMsgbuf prints a message {mtype=1, mtext="..."} whose text length is
// argument j.
func aMsgbuf(j int) func(d *dec, i int) {
	return func(d *dec, i int) {
		b := d.fetch(d.a[i], 8)
		if b == nil {
			return
		}
		d.w("{mtype=" + itoa(i64(b)) + ", mtext=")
		d.strn(d.a[i]+8, d.a[j])
		d.w("}")
	}
}

// aSchedAttr prints struct sched_attr.
func aSchedAttr(d *dec, i int) {
	b := d.fetch(d.a[i], 56)
	if b == nil {
		if b = d.fetch(d.a[i], 48); b == nil {
			return
		}
	}
	var f fields
	f.add("size", utoa(le32(b)))
	f.add("sched_policy", xval(schedPolicies, le32(b[4:]), "SCHED_???"))
	f.add("sched_flags", hex0(le64(b[8:])))
	f.add("sched_nice", itoa(i32(b[16:])))
	f.add("sched_priority", utoa(le32(b[20:])))
	f.add("sched_runtime", utoa(le64(b[24:])))
	f.add("sched_deadline", utoa(le64(b[32:])))
	f.add("sched_period", utoa(le64(b[40:])))
	if len(b) >= 56 && le32(b) >= 56 {
		f.add("sched_util_min", utoa(le32(b[48:])))
		f.add("sched_util_max", utoa(le32(b[52:])))
	}
	d.w(f.String())
}

// aIPCKey prints a System V IPC key: IPC_PRIVATE or 0x...
func aIPCKey(d *dec, i int) {
	if uint32(d.a[i]) == 0 {
		d.w("IPC_PRIVATE")
		return
	}
	d.w(hex(uint64(uint32(d.a[i]))))
}

// aIPCFlags prints IPC_CREAT|IPC_EXCL|0600.
func aIPCFlags(d *dec, i int) {
	v := uint64(uint32(d.a[i]))
	s := ""
	if f := v &^ 0o777; f != 0 {
		s = flags(ipcFlags, f, "IPC_???") + "|"
	}
	d.w(s + octal(v&0o777))
}

func mqOpenSpec(d *dec) []arg {
	a := []arg{in(aStr), in(aOpen)}
	if uint32(d.a[1])&0o100 != 0 { // O_CREAT
		a = append(a, in(aMode), in(aStruct(64, func(b []byte) string {
			return "{mq_flags=" + openMode(le64(b)&0o4000) + ", mq_maxmsg=" + itoa(i64(b[8:])) + ", mq_msgsize=" + itoa(i64(b[16:])) + ", mq_curmsgs=" + itoa(i64(b[24:])) + "}"
		})))
	}
	return a
}

// aOpenArg prints open flags as an input argument.
var aOpenArg = in(aOpen)

func openatSpec(d *dec) []arg {
	a := []arg{in(aDirFD), in(aPath), aOpenArg}
	if f := uint32(d.a[2]); f&0o100 != 0 || f&0o20000000 != 0 { // O_CREAT, __O_TMPFILE
		a = append(a, in(aMode))
	}
	return a
}

func mremapSpec(d *dec) []arg {
	a := []arg{in(aPtr), in(aUlong), in(aUlong), in(fArg(mremapFlags, "MREMAP_???"))}
	if d.a[3]&2 != 0 { // MREMAP_FIXED
		a = append(a, in(aPtr))
	}
	return a
}

func mknodSpec(d *dec) []arg {
	a := []arg{in(aDirFD), in(aPath), in(func(d *dec, i int) { d.w(fileMode(uint64(uint32(d.a[i])))) })}
	switch uint32(d.a[2]) & 0o170000 {
	case 0o020000, 0o060000:
		a = append(a, in(func(d *dec, i int) { d.w(makedev(d.a[i])) }))
	}
	return a
}

func mountSpec(d *dec) []arg {
	return []arg{in(aPath), in(aPath), in(aStr), in(func(d *dec, i int) {
		v := d.a[i]
		if v&0xffff0000 == 0xc0ed0000 {
			d.w("MS_MGC_VAL")
			if v &^= 0xffff0000; v != 0 {
				d.w("|" + flags(mountFlags, v, "MS_???"))
			}
			return
		}
		d.w(flags(mountFlags, v, "MS_???"))
	}), in(aStr)}
}

func socketSpec(d *dec) []arg {
	fam := uint32(d.a[0])
	proto := in(aInt)
	switch fam {
	case 2, 10: // AF_INET, AF_INET6
		proto = in(xArg(inetProtocols, "IPPROTO_???"))
	case 16: // AF_NETLINK
		proto = in(xArg(netlinkProtocols, "NETLINK_???"))
	}
	return []arg{in(xArg(addrFamilies, "AF_???")), in(func(d *dec, i int) { d.w(sockType(uint64(uint32(d.a[i])))) }), proto}
}

func aStatxFlags(d *dec, i int) {
	v := uint64(uint32(d.a[i]))
	s := xval(atStatxSync, v&0x6000, "AT_STATX_???")
	if rest := v &^ 0x6000; rest != 0 {
		s += "|" + flags(atFlags, rest, "AT_???")
	}
	d.w(s)
}

// aUtimes prints utimensat's times: NULL or [time, time].
func aUtimes(d *dec, i int) {
	b := d.fetch(d.a[i], 32)
	if b == nil {
		return
	}
	d.w("[" + utimeTimespec(b) + ", " + utimeTimespec(b[16:]) + "]")
}

// aRemaining prints nanosleep's remaining time: written only when a signal
// interrupted a relative sleep; otherwise strace shows the address.
func aRemaining(d *dec, i int) {
	abs := d.nr == linux.SysClockNanosleep && d.a[1]&1 != 0
	if !abs && (d.restart != "" || d.errno == linux.EINTR) {
		d.timespecAt(d.a[i])
		return
	}
	d.addr(d.a[i])
}

func aTimezone(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("{tz_minuteswest=" + itoa(i32(b)) + ", tz_dsttime=" + itoa(i32(b[4:])) + "}")
	}
}

func aRusage(d *dec, i int) {
	if b := d.fetch(d.a[i], 32); b != nil {
		d.w(rusage(b))
	}
}

func aSiginfo(d *dec, i int) { d.siginfoAt(d.a[i]) }

func aWaitStatus(d *dec, i int) {
	if d.ret == 0 && d.errno == 0 { // WNOHANG and no child changed state
		d.addr(d.a[i])
		return
	}
	if b := d.fetch(d.a[i], 4); b != nil {
		d.w(waitStatus(uint32(le32(b))))
	}
}

func aPtrPtr(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("[" + addrStr(le64(b)) + "]")
	}
}

func aUlongPtr(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("[" + utoa(le64(b)) + "]")
	}
}

// aLoffPtr prints an optional offset pointer: NULL or [N].
func aLoffPtr(d *dec, i int) { aLongPtr(d, i) }

// aOffInOut prints an in/out offset at exit: [N] (the updated value).
func aOffInOut(d *dec, i int) {
	if d.a[i] == 0 {
		d.w("NULL")
		return
	}
	aLongPtr(d, i)
}

func aSchedParam(d *dec, i int) {
	if b := d.fetch(d.a[i], 4); b != nil {
		d.w("[" + itoa(i32(b)) + "]")
	}
}

// aCPUSet prints a CPU mask whose size is argument j.
func aCPUSet(j int) func(d *dec, i int) {
	return func(d *dec, i int) {
		n := d.a[j]
		if n > 1024 {
			n = 1024
		}
		if b := d.fetch(d.a[i], int(n)); b != nil {
			d.w(cpuSet(b))
		}
	}
}

// aCPUSetRet prints the mask sched_getaffinity filled (result bytes).
func aCPUSetRet(d *dec, i int) {
	n := d.ret
	if n > 1024 {
		n = 1024
	}
	if b := d.fetch(d.a[i], int(n)); b != nil {
		d.w(cpuSet(b))
	}
}

func aMincore(d *dec, i int) {
	pages := (d.a[1] + 4095) / 4096
	if pages > 1024 {
		d.addr(d.a[i])
		return
	}
	b := d.fetch(d.a[i], int(pages))
	if b == nil {
		return
	}
	d.w("[")
	for k, v := range b {
		if k > 0 {
			d.w(", ")
		}
		if k >= d.tr.opt.StringLimit {
			d.w("...")
			break
		}
		d.w(utoa(uint64(v & 1)))
	}
	d.w("]")
}

func aRandom(d *dec, i int) { d.strnQ(d.a[i], d.ret, quoteHex) }

func aIovRet(d *dec, i int) { d.iovecs(d.a[i], d.a[i+1], int64(d.ret)) }
func aIovAll(d *dec, i int) { d.iovecs(d.a[i], d.a[i+1], -1) }

// aMmsghdrs prints the struct mmsghdr array of sendmmsg and recvmmsg at
// exit: the messages the call moved (vlen, the next argument, when it
// failed), each {msg_hdr={...}, msg_len=N}; received data is shown up to
// msg_len.
func aMmsghdrs(recv bool) func(d *dec, i int) {
	return func(d *dec, i int) {
		n := uint64(uint32(d.a[i+1]))
		if d.errno == 0 && d.ret < n {
			n = d.ret
		}
		if b := d.read(d.a[i], 1); b == nil || n == 0 {
			d.addr(d.a[i])
			return
		}
		d.w("[")
		for k := uint64(0); k < n; k++ {
			if k > 0 {
				d.w(", ")
			}
			if k >= uint64(d.tr.opt.StringLimit) {
				d.w("...")
				break
			}
			at := d.a[i] + 64*k
			lb := d.read(at+56, 4)
			if lb == nil {
				d.addr(at)
				break
			}
			data := int64(-1)
			if recv {
				data = int64(le32(lb))
			}
			d.w("{msg_hdr=")
			d.msghdrAt(at, data)
			d.w(", msg_len=" + utoa(le32(lb)) + "}")
		}
		d.w("]")
	}
}

func aMsghdrIn(d *dec, i int)  { d.msghdrAt(d.a[i], -1) }
func aMsghdrRet(d *dec, i int) { d.msghdrAt(d.a[i], int64(d.ret)) }

// aSocklen prints an in/out socklen_t at exit: [16] when unchanged or
// the call failed, [128 => 16] when the call changed it.
func aSocklen(d *dec, i int) {
	if d.a[i] == 0 {
		d.w("NULL")
		return
	}
	b := d.read(d.a[i], 4)
	if b == nil {
		d.addr(d.a[i])
		return
	}
	now := le32(b)
	before, ok := d.saved[i], d.ok[i]
	if !ok || before == now || d.failed() {
		if ok && d.failed() {
			now = before
		}
		d.w("[" + utoa(now) + "]")
		return
	}
	d.w("[" + utoa(before) + " => " + utoa(now) + "]")
}

// aSockaddrOut prints the address accept, getsockname and recvfrom filled.
func aSockaddrOut(d *dec, i int) {
	if d.a[i] == 0 {
		d.w("NULL")
		return
	}
	if d.failed() {
		d.addr(d.a[i])
		return
	}
	n := uint64(0)
	if b := d.read(d.a[i+1], 4); b != nil {
		n = le32(b)
	}
	if before := d.saved[i+1]; d.ok[i+1] && before < n {
		n = before
	}
	d.sockaddrAt(d.a[i], n)
}

func aSockopt(d *dec, i int) {
	name := uint64(uint32(d.a[i]))
	switch uint32(d.a[i-1]) {
	case 1:
		d.w(xval(solSocketOpts, name, "SO_???"))
	case 6:
		d.w(xval(tcpOpts, name, "TCP_???"))
	case 0:
		d.w(xval(ipOpts, name, "IP_???"))
	case 41:
		d.w(xval(ipv6Opts, name, "IPV6_???"))
	default:
		d.w(utoa(name))
	}
}

// aOptval prints setsockopt's value: [N] for an int, else a buffer.
func aOptval(d *dec, i int) {
	n := d.a[i+1]
	if n == 4 {
		aIntPtr(d, i)
		return
	}
	d.strn(d.a[i], n)
}

// aOptvalOut prints getsockopt's value: [N] for an int, else a buffer.
func aOptvalOut(d *dec, i int) {
	n := uint64(0)
	if b := d.read(d.a[i+1], 4); b != nil {
		n = le32(b)
	}
	if n == 4 {
		aIntPtr(d, i)
		return
	}
	d.strn(d.a[i], n)
}

func aEpollEvents(d *dec, i int) {
	n := d.ret
	if n > 1024 {
		n = 1024
	}
	b := d.fetch(d.a[i], int(n)*16)
	if b == nil {
		return
	}
	d.w("[")
	for k := uint64(0); k < n; k++ {
		if k > 0 {
			d.w(", ")
		}
		if k >= uint64(d.tr.opt.StringLimit) {
			d.w("...")
			break
		}
		d.w(epollEvent(b[16*k:]))
	}
	d.w("]")
}

// aDirents prints getdents64's buffer as strace does without -v:
// 0x... /* N entries */.
func aDirents(d *dec, i int) {
	n := d.ret
	if n > 1<<16 {
		n = 1 << 16
	}
	b := d.read(d.a[i], int(n))
	if b == nil {
		d.addr(d.a[i])
		return
	}
	entries := 0
	for off := 0; off+19 <= len(b); entries++ {
		reclen := int(le16(b[off+16:]))
		if reclen == 0 {
			break
		}
		off += reclen
	}
	word := " entries */"
	if entries == 1 {
		word = " entry */"
	}
	d.w(hex(d.a[i]) + " /* " + itoa(int64(entries)) + word)
}

// aArgv prints execve's argv: ["prog", "arg"].
func aArgv(d *dec, i int) {
	addr := d.a[i]
	if addr == 0 {
		d.w("NULL")
		return
	}
	var parts []string
	for k := 0; ; k++ {
		p := d.read(addr+uint64(8*k), 8)
		if p == nil {
			if k == 0 {
				d.addr(addr)
				return
			}
			parts = append(parts, hex(addr+uint64(8*k)))
			break
		}
		v := le64(p)
		if v == 0 {
			break
		}
		if k >= d.tr.opt.StringLimit {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, d.strS(v, d.tr.opt.StringLimit))
	}
	d.w("[" + join(parts, ", ") + "]")
}

// aEnvp prints execve's envp as strace does without -v:
// 0x7ffd... /* 23 vars */.
func aEnvp(d *dec, i int) {
	addr := d.a[i]
	if addr == 0 {
		d.w("NULL")
		return
	}
	n := 0
	for ; n < 1<<16; n++ {
		p := d.read(addr+uint64(8*n), 8)
		if p == nil {
			d.addr(addr)
			return
		}
		if le64(p) == 0 {
			break
		}
	}
	word := " vars */"
	if n == 1 {
		word = " var */"
	}
	d.w(hex(addr) + " /* " + itoa(int64(n)) + word)
}

func join(parts []string, sep string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + len(sep)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, p...)
	}
	return string(b)
}

func aCapHeader(d *dec, i int) {
	if b := d.fetch(d.a[i], 8); b != nil {
		d.w("{version=" + xval(capVersions, le32(b), "_LINUX_CAPABILITY_VERSION_???") + ", pid=" + itoa(i32(b[4:])) + "}")
	}
}

func aCapData(d *dec, i int) {
	b := d.fetch(d.a[i], 24)
	if b == nil {
		return
	}
	d.w("{effective=" + capSet(le32(b), le32(b[12:])) + ", permitted=" + capSet(le32(b[4:]), le32(b[16:])) + ", inheritable=" + capSet(le32(b[8:]), le32(b[20:])) + "}")
}

func aOpenHow(d *dec, i int) {
	b := d.fetch(d.a[i], 24)
	if b == nil {
		return
	}
	var f fields
	fl := le64(b)
	f.add("flags", openMode(fl))
	if fl&(0o100|0o20000000) != 0 {
		f.add("mode", octal(le64(b[8:])))
	}
	f.add("resolve", flags(openat2Resolve, le64(b[16:]), "RESOLVE_???"))
	d.w(f.String())
}
