package sis_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sis-kernel/sissim"
	"github.com/sis-kernel/sissim/pkg/shellcmd"
	"github.com/sis-kernel/sissim/pkg/sis"
)

func TestShellLsLetters(t *testing.T) {
	m := boot(t, nil)
	require.NoError(t, m.FS().Symlink("hello", "/bin/greet"))
	out, err := m.Shell().Exec("ls /bin; ls /dev")
	require.NoError(t, err)
	require.Contains(t, out, "f hello\n")
	require.Contains(t, out, "l greet\n")
	require.Contains(t, out, "c null\n")
	require.Contains(t, out, "l stdin\n")

	// ls follows a symlink to a directory it is given.
	require.NoError(t, m.FS().Symlink("/bin", "/b"))
	out, err = m.Shell().Exec("ls /b")
	require.NoError(t, err)
	require.Contains(t, out, "Listing /b:\n")
	require.Contains(t, out, "f hello\n")
}

func TestShellLsLong(t *testing.T) {
	m := boot(t, nil)
	require.NoError(t, m.FS().MkdirAll("/t/sub", 0o750))
	require.NoError(t, m.FS().WriteFile("/t/file", []byte("12345"), 0o640))
	require.NoError(t, m.FS().Symlink("file", "/t/link"))
	out, err := m.Shell().Exec("ls -l /t")
	require.NoError(t, err)
	require.Equal(t, "Listing /t:\n"+
		"-rw-r----- 1 5 file\n"+
		"lrwxrwxrwx 1 4 link -> file\n"+
		"drwxr-x--- 2 40 sub\n", regexp.MustCompile(` +`).ReplaceAllString(out, " "))

	// A file, a symlink itself, a device with its major and minor.
	out, err = m.Shell().Exec("ls -l /t/link; ls -l /dev/null")
	require.NoError(t, err)
	require.Contains(t, out, "Listing /t/link:\nlrwxrwxrwx 1 4 link -> file\n")
	require.Regexp(t, `\ncrw-rw-rw- 1 +1, 3 null\n`, out)

	for line, want := range map[string]string{
		"ls -x /":            "error: ls: unknown option -x\nusage: ls [-l] [<path>]\n",
		"ls / /bin":          "error: ls: more than one path\nusage: ls [-l] [<path>]\n",
		"ls -l /nonexisting": "error: ls: /nonexisting: No such file or directory\n",
	} {
		out, err := m.Shell().Exec(line)
		require.Error(t, err, line)
		require.Equal(t, want, out, line)
	}
}

func TestShellCat(t *testing.T) {
	m := boot(t, nil)
	big := strings.Repeat("0123456789abcdef", 300) // 4800 bytes
	require.NoError(t, m.FS().WriteFile("/tmp/big", []byte(big), 0o644))
	require.NoError(t, m.FS().WriteFile("/tmp/bin", []byte{0x7f, 'E', 'L', 'F', 0, 1, 2}, 0o644))
	require.NoError(t, m.FS().WriteFile("/tmp/utf8", []byte("héllo ✓"), 0o644))
	sh := m.Shell()

	// A longer file: the first 4 KiB, and a note on the error stream.
	var out, errOut bytes.Buffer
	require.NoError(t, sh.ExecStreams(&out, &errOut, "cat /tmp/big"))
	require.Equal(t, big[:4096]+"\n", out.String())
	require.Equal(t, "cat: /tmp/big: printed the first 4096 of 4800 bytes\n", errOut.String())

	// Text and binary go to a pipe as they are.
	got, err := sh.Exec("cat /tmp/utf8; cat /tmp/bin")
	require.NoError(t, err)
	require.Equal(t, "héllo ✓\n\x7fELF\x00\x01\x02\n", got)

	// On a terminal a binary file is refused; -x shows it as a hex dump.
	sh.SetTerminal(true)
	got, err = sh.Exec("cat /tmp/bin")
	require.Error(t, err)
	require.Equal(t, "error: cat: /tmp/bin is a binary file; not printing it to a terminal ('cat -x /tmp/bin' shows a hex dump)\n", got)
	got, err = sh.Exec("cat -x /tmp/bin; cat /tmp/utf8")
	require.NoError(t, err)
	require.Equal(t, hex.Dump([]byte{0x7f, 'E', 'L', 'F', 0, 1, 2})+"héllo ✓\n", got)

	got, err = sh.Exec("cat /tmp")
	require.Error(t, err)
	require.Equal(t, "error: cat: /tmp: Is a directory\n", got)
}

func TestShellPs(t *testing.T) {
	m := boot(t, io.Discard)
	sh := m.Shell()
	out, err := sh.Exec("run /bin/getpid_loop 100000000 &; kill -STOP 2; ps")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, "  PID  PPID STATE       TIME THR RSS(KiB)  COMMAND", lines[1])
	row := regexp.MustCompile(`^ +2 +1 stop +\d+:\d\d\.\d\d +1 +\d+  /bin/getpid_loop 100000000$`)
	require.Regexp(t, row, lines[2])

	out, err = sh.Exec("kill -CONT 2; ps")
	require.NoError(t, err)
	require.Regexp(t, `\n +2 +1 run +0:00\.\d\d +1 `, out)

	out, err = sh.Exec("kill -KILL 2; ps")
	require.NoError(t, err)
	require.Equal(t, "[pid 2] done: killed by SIGKILL\n  PID  PPID STATE       TIME THR RSS(KiB)  COMMAND\n", out)
	_, err = sh.Exec("ps -e")
	require.ErrorIs(t, err, shellcmd.ErrUsage)
}

func TestShellClear(t *testing.T) {
	m := boot(t, nil)
	out, err := m.Shell().Exec("clear")
	require.NoError(t, err)
	require.Equal(t, "\x1b[H\x1b[2J\x1b[3J", out)
}

// Completion offers commands, subcommands, flags and the values of the
// synopsis' placeholders.
func TestShellComplete(t *testing.T) {
	m, err := sis.Boot(sis.BootConfig{Image: sissim.RootImage(), Console: io.Discard, Services: sis.DefaultServices()})
	require.NoError(t, err)
	defer m.Close()
	sh := m.Shell()
	_, err = sh.Exec("run /bin/getpid_loop 100000000 &")
	require.NoError(t, err)
	for line, want := range map[string][]string{
		"mode":                                  {"modelctl"},
		"me":                                    {"memstats", "metrics", "metricsctl"},
		"modelctl sta":                          {"modelctl status"[len("modelctl "):]},
		"modelctl ":                             {"dry-swap", "health", "help", "history", "list", "load", "remove", "rollback", "status", "swap"},
		"modelctl swap v1.0":                    {"v1.0.0"},
		"llmctl swap --from v1.1.0 --to v1.1":   {"v1.1.0"},
		"llmctl swap --":                        {"--from", "--to"},
		"ls /bi":                                {"/bin/"},
		"ls /bin/hel":                           {"/bin/hello"},
		"ls -":                                  {"-l"},
		"cat /etc/hostn":                        {"/etc/hostname"},
		"run hel":                               {"hello"},
		"kill ":                                 {"2"},
		"metrics j":                             {"json"},
		"det on 1 2 3; det o":                   {"off", "on"},
		"help mod":                              {"modelctl"},
		"help modelctl sw":                      {"swap"},
		"autoctl export-decisions --output /tm": {"/tmp/"},
		"echo ":                                 nil,
		"nosuch ":                               nil,
	} {
		require.Equal(t, want, sh.Complete(line), "%q", line)
	}
	// Model versions come from the registry and its directory.
	require.Contains(t, sh.Complete("modelctl load "), "v1.1.0")
}

// Only the last command of a line is completed, and the completion never
// lists more than the directory holds.
func TestShellCompleteBounded(t *testing.T) {
	m := boot(t, nil)
	for i := 0; i < 1500; i++ {
		require.NoError(t, m.FS().WriteFile("/tmp/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)), nil, 0o644))
	}
	c := m.Shell().Complete("cat /tmp/f")
	require.LessOrEqual(t, len(c), 1000)
	require.NotEmpty(t, c)
}
