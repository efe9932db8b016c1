package strace

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tables are the constant tables checked against the arm64 headers.
var tables = map[string]xlat{
	"openFlags": openFlags, "atFlags": atFlags, "atStatxSync": atStatxSync, "accessModes": accessModes,
	"faccessatFlags": faccessatFlags, "fcntlCmds": fcntlCmds, "fdFlags": fdFlags, "lockTypes": lockTypes,
	"seekWhence": seekWhence, "notifyFlags": notifyFlags, "sealFlags": sealFlags, "fownerTypes": fownerTypes,
	"flockCmds": flockCmds, "modeTypes": modeTypes, "protFlags": protFlags, "mapTypes": mapTypes,
	"mapFlags": mapFlags, "madviseAdvice": madviseAdvice, "fadviseAdvice": fadviseAdvice,
	"mremapFlags": mremapFlags, "msyncFlags": msyncFlags, "mlockallFlags": mlockallFlags,
	"mlock2Flags": mlock2Flags, "cloneFlags": cloneFlags, "unshareFlags": unshareFlags,
	"waitOptions": waitOptions, "idTypes": idTypes, "sigprocmaskHow": sigprocmaskHow,
	"saFlags": saFlags, "ssFlags": ssFlags, "sigevNotify": sigevNotify, "clockNames": clockNames,
	"timerFlags": timerFlags, "timerfdSetFlags": timerfdSetFlags, "timerfdCreateFlags": timerfdCreateFlags,
	"itimerWhich": itimerWhich, "efdFlags": efdFlags, "sfdFlags": sfdFlags, "epollCreateFlags": epollCreateFlags,
	"epollCtlOps": epollCtlOps, "epollEvents": epollEvents, "pollEvents": pollEvents,
	"inotifyInitFlags": inotifyInitFlags, "inotifyMask": inotifyMask, "memfdFlags": memfdFlags,
	"renameFlags": renameFlags, "xattrFlags": xattrFlags, "fallocFlags": fallocFlags,
	"mountFlags": mountFlags, "umountFlags": umountFlags, "statfsFlags": statfsFlags, "fsMagic": fsMagic,
	"rlimitResources": rlimitResources, "rusageWho": rusageWho, "priorityWhich": priorityWhich,
	"schedPolicies": schedPolicies, "personalityFlags": personalityFlags, "ioprioWho": ioprioWho,
	"ioprioClass": ioprioClass, "grndFlags": grndFlags, "closeRangeFlags": closeRangeFlags,
	"membarrierCmds": membarrierCmds, "syncFileRangeFlags": syncFileRangeFlags, "spliceFlags": spliceFlags,
	"rwfFlags": rwfFlags, "statxMask": statxMask, "statxAttrs": statxAttrs, "prctlOptions": prctlOptions,
	"dumpableValues": dumpableValues, "futexOps": futexOps, "addrFamilies": addrFamilies,
	"sockTypes": sockTypes, "sockTypeFlags": sockTypeFlags, "inetProtocols": inetProtocols,
	"netlinkProtocols": netlinkProtocols, "sockLevels": sockLevels, "solSocketOpts": solSocketOpts,
	"tcpOpts": tcpOpts, "ipOpts": ipOpts, "ipv6Opts": ipv6Opts, "msgFlags": msgFlags,
	"shutdownHow": shutdownHow, "sigCodes": sigCodes, "sigchldCodes": sigchldCodes,
	"sigillCodes": sigillCodes, "sigsegvCodes": sigsegvCodes, "sigbusCodes": sigbusCodes,
	"sigfpeCodes": sigfpeCodes, "sigtrapCodes": sigtrapCodes, "sigpollCodes": sigpollCodes,
	"capVersions": capVersions, "keyctlCmds": keyctlCmds, "rebootCmds": rebootCmds,
	"pidfdOpenFlags": pidfdOpenFlags, "seccompOps": seccompOps, "openat2Resolve": openat2Resolve,
	"mbindModes": mbindModes, "ptraceRequests": ptraceRequests, "ioctlNames": ioctlNames,
	"fsFlags": fsFlags, "tcflshArgs": tcflshArgs, "tcxoncArgs": tcxoncArgs, "termiosIflag": termiosIflag,
	"termiosOflag": termiosOflag, "termiosCflag": termiosCflag, "termiosLflag": termiosLflag,
	"baudRates": baudRates, "pipeFlags": pipeFlags, "dup3Flags": dup3Flags,
}

// headers are included (each compiled on its own, so that glibc's and the
// kernel's headers need not agree) to find the values.
var headers = [][]string{
	{"fcntl.h", "sys/stat.h", "sys/mman.h", "sys/wait.h", "sys/resource.h", "signal.h", "time.h", "sched.h",
		"sys/socket.h", "netinet/in.h", "netinet/tcp.h", "sys/epoll.h", "sys/eventfd.h", "sys/timerfd.h",
		"sys/signalfd.h", "sys/inotify.h", "poll.h", "termios.h", "sys/ioctl.h", "sys/xattr.h",
		"sys/personality.h", "sys/random.h", "sys/file.h", "unistd.h", "sys/prctl.h", "sys/statvfs.h",
		"sys/mount.h", "sys/ptrace.h", "sys/reboot.h", "sys/syslog.h"},
	{"linux/falloc.h", "linux/futex.h", "linux/membarrier.h", "linux/magic.h", "linux/capability.h",
		"linux/ioprio.h", "linux/close_range.h", "linux/reboot.h", "linux/openat2.h", "linux/netlink.h",
		"linux/fb.h", "linux/loop.h", "linux/sockios.h", "linux/seccomp.h", "linux/keyctl.h", "linux/rseq.h",
		"linux/mempolicy.h", "linux/fs.h", "linux/fiemap.h", "linux/stat.h", "linux/fcntl.h", "linux/pidfd.h", "linux/mman.h",
		"linux/signal.h", "linux/eventpoll.h", "linux/wait.h", "linux/sched.h", "linux/memfd.h",
		"linux/in.h", "linux/in6.h", "linux/socket.h", "linux/prctl.h", "asm/termbits.h", "asm/ioctls.h",
		"linux/resource.h", "linux/time.h", "linux/poll.h", "asm/siginfo.h", "linux/ptrace.h", "linux/xattr.h"},
}

// TestTablesMatchHeaders compiles a program that prints every table name
// the arm64 headers define, runs it under qemu-aarch64-static, and checks
// the values. It needs the aarch64 cross compiler and qemu-user.
func TestTablesMatchHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	gcc, err := exec.LookPath("aarch64-linux-gnu-gcc")
	if err != nil {
		t.Skip("aarch64-linux-gnu-gcc not installed")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static not installed")
	}
	names := map[string]int64{} // name -> value in our tables
	for tname, x := range tables {
		for _, e := range x {
			if strings.ContainsAny(e.s, "|(") {
				continue
			}
			v := int64(e.v)
			if old, ok := names[e.s]; ok && old != v {
				t.Errorf("%s: %s is %#x here and %#x in another table", tname, e.s, v, old)
			}
			names[e.s] = v
		}
	}
	found := map[string]int64{}
	for i, hs := range headers {
		for n, v := range headerValues(t, gcc, qemu, i, hs, names) {
			found[n] = v
		}
	}
	var missing []string
	for n, want := range names {
		got, ok := found[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		if got != want && int64(int32(got)) != int64(int32(want)) {
			t.Errorf("%s = %#x, the arm64 headers say %#x", n, want, got)
		}
	}
	sort.Strings(missing)
	t.Logf("%d of %d names checked against the headers; not in them: %s", len(found), len(names), strings.Join(missing, " "))
	require.Greater(t, len(found), len(names)*85/100, "too few names found in the headers")
}

func headerValues(t *testing.T, gcc, qemu string, i int, hs []string, names map[string]int64) map[string]int64 {
	dir := t.TempDir()
	var src bytes.Buffer
	src.WriteString("#define _GNU_SOURCE\n")
	for _, h := range hs {
		fmt.Fprintf(&src, "#include <%s>\n", h)
	}
	src.WriteString("#include <stdio.h>\nint main(void) {\n")
	for n := range names {
		if i == 0 && strings.HasPrefix(n, "TC") && strings.HasSuffix(n, "2") {
			continue // glibc's termios.h does not define struct termios2
		}
		fmt.Fprintf(&src, "#ifdef %s\n\tprintf(\"%s %%lld\\n\", (long long)(%s));\n#endif\n", n, n, n)
	}
	src.WriteString("\treturn 0;\n}\n")
	c := filepath.Join(dir, "v.c")
	bin := filepath.Join(dir, "v")
	require.NoError(t, os.WriteFile(c, src.Bytes(), 0o644))
	out, err := exec.Command(gcc, "-static", "-w", "-o", bin, c).CombinedOutput()
	require.NoError(t, err, "header set %d: %s", i, out)
	out, err = exec.Command(qemu, bin).Output()
	require.NoError(t, err)
	vals := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		n, v, _ := strings.Cut(sc.Text(), " ")
		x, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err)
		vals[n] = x
	}
	return vals
}
