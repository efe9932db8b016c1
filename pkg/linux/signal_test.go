package linux_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim/pkg/linux"
)

func TestSignal(t *testing.T) {
	for _, tc := range []struct {
		sig        linux.Signal
		nr         int
		name, desc string
	}{
		// Descriptions as printed by glibc 2.36 strsignal() (aarch64).
		{linux.SIGHUP, 1, "SIGHUP", "Hangup"},
		{linux.SIGINT, 2, "SIGINT", "Interrupt"},
		{linux.SIGABRT, 6, "SIGABRT", "Aborted"},
		{linux.SIGBUS, 7, "SIGBUS", "Bus error"},
		{linux.SIGKILL, 9, "SIGKILL", "Killed"},
		{linux.SIGSEGV, 11, "SIGSEGV", "Segmentation fault"},
		{linux.SIGPIPE, 13, "SIGPIPE", "Broken pipe"},
		{linux.SIGTERM, 15, "SIGTERM", "Terminated"},
		{linux.SIGCHLD, 17, "SIGCHLD", "Child exited"},
		{linux.SIGIO, 29, "SIGIO", "I/O possible"},
		{linux.SIGSYS, 31, "SIGSYS", "Bad system call"},
		{linux.SIGRTMIN, 32, "SIGRTMIN", "Unknown signal 32"},
		{linux.SIGRTMIN + 2, 34, "SIGRTMIN+2", "Real-time signal 0"},
		{linux.SIGRTMAX, 64, "SIGRTMAX", "Real-time signal 30"},
		{0, 0, "Signal(0)", "Unknown signal 0"},
		{65, 65, "Signal(65)", "Unknown signal 65"},
	} {
		require.EqualValues(t, tc.nr, tc.sig)
		require.Equal(t, tc.name, tc.sig.String())
		require.Equal(t, tc.desc, tc.sig.Description())
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]linux.Signal{"9": linux.SIGKILL, "KILL": linux.SIGKILL, "sigterm": linux.SIGTERM, "SIGRTMIN+2": linux.SIGRTMIN + 2, "64": linux.SIGRTMAX} {
		got, err := linux.ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "65", "-1", "NOPE", ""} {
		if _, err := linux.ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) succeeded", in)
		}
	}
}
