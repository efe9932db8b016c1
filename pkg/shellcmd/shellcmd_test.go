package shellcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSyntaxSummary(t *testing.T) {
	require.Equal(t, "ls [-l] [<path>]", Syntax("ls [-l] [<path>]  list a directory"))
	require.Equal(t, "list a directory", Summary("ls [-l] [<path>]  list a directory"))
	require.Equal(t, "uptime", Syntax("uptime"))
	require.Equal(t, "", Summary("uptime"))
}

func TestUsageErrors(t *testing.T) {
	require.ErrorIs(t, Usage("x <y>"), ErrUsage)
	require.ErrorIs(t, BadArgs("bad %d", 1), ErrUsage)
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", BadArgs("bad")), ErrUsage)
	require.EqualError(t, Usage("x <y>"), "usage: x <y>")
	require.EqualError(t, &UsageError{Detail: "d", Syntax: "s"}, "d (usage: s)")

	require.Nil(t, AsUsage(errors.New("other"), "x", "x", nil))
	u := AsUsage(ErrUsage, "cat", "cat <file>", nil)
	require.Equal(t, &UsageError{Detail: "cat: missing arguments", Syntax: "cat <file>"}, u)
	u = AsUsage(ErrUsage, "cat", "cat <file>", []string{"a", "b"})
	require.Equal(t, "cat: invalid arguments", u.Detail)
	u = AsUsage(BadArgs("unexpected %q", "z"), "det status", "det status", []string{"z"})
	require.Equal(t, &UsageError{Detail: `det status: unexpected "z"`, Syntax: "det status"}, u)
	u = AsUsage(&UsageError{Detail: "det on: bad", Syntax: "det on <n>"}, "det", "det on|off", nil)
	require.Equal(t, &UsageError{Detail: "det on: bad", Syntax: "det on <n>"}, u, "a detail naming the command and a syntax stay")
	u = AsUsage(fmt.Errorf("%w: no --id", ErrUsage), "llmctl query", "llmctl query --id <version>", nil)
	require.Equal(t, "llmctl query: no --id", u.Detail)
}

func testSubs(log *[]string) []Sub {
	run := func(name string) Func {
		return func(w io.Writer, args []string) error {
			*log = append(*log, fmt.Sprint(name, args))
			if len(args) > 0 && args[0] == "bad" {
				return ErrUsage
			}
			return nil
		}
	}
	return []Sub{
		{Name: "load", Usage: "load <version>  load a model", Run: run("load")},
		{Name: "status", Usage: "status  show the state", Run: run("status")},
	}
}

func TestDispatch(t *testing.T) {
	var log []string
	subs := testSubs(&log)
	var out bytes.Buffer
	require.NoError(t, Dispatch("svc", subs, &out, []string{"load", "v1"}))
	require.Equal(t, []string{"load[v1]"}, log)

	err := Dispatch("svc", subs, &out, nil)
	require.Equal(t, &UsageError{Detail: "svc: missing subcommand", Syntax: "svc load|status"}, err)
	err = Dispatch("svc", subs, &out, []string{"nope"})
	require.Equal(t, &UsageError{Detail: `svc: unknown subcommand "nope"`, Syntax: "svc load|status"}, err)
	err = Dispatch("svc", subs, &out, []string{"load", "bad"})
	require.Equal(t, &UsageError{Detail: "svc load: invalid arguments", Syntax: "svc load <version>"}, err)

	out.Reset()
	require.NoError(t, Dispatch("svc", subs, &out, []string{"help"}))
	require.Equal(t, "usage: svc <subcommand> [args...]\nsubcommands:\n  svc load <version>  load a model\n  svc status          show the state\n", out.String())
	for _, args := range [][]string{{"help", "load"}, {"load", "help"}, {"load", "--help"}, {"-h", "load"}} {
		out.Reset()
		require.NoError(t, Dispatch("svc", subs, &out, args), "%v", args)
		require.Equal(t, "usage: svc load <version>\n  load a model\n", out.String(), "%v", args)
	}
	require.ErrorIs(t, Dispatch("svc", subs, &out, []string{"help", "nope"}), ErrUsage)
	require.ErrorIs(t, Dispatch("svc", subs, &out, []string{"help", "a", "b"}), ErrUsage)
	require.Len(t, log, 2, "help runs no subcommand")
}

func TestWriteHelpOfACommand(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, WriteHelp(&out, Command{Name: "ls", Usage: "ls [-l] [<path>]  list a directory"}, nil))
	require.Equal(t, "usage: ls [-l] [<path>]\n  list a directory\n", out.String())
}

func TestWords(t *testing.T) {
	w := Words("[-l] [<path>]")
	require.Equal(t, []Word{{Flag: "-l", Optional: true}, {Kinds: []string{"path"}, Optional: true}}, w)

	w = Words("[--format json] --output <file>")
	require.Equal(t, []Word{
		{Flag: "--format", Optional: true, Arg: &Word{Literals: []string{"json"}, Optional: true}},
		{Flag: "--output", Arg: &Word{Kinds: []string{"file"}}},
	}, w)

	w = Words("[-SIGNAL] <pid>...")
	require.Equal(t, []Word{{Kinds: []string{"-signal"}, Optional: true}, {Kinds: []string{"pid"}, Repeat: true}}, w)

	w = Words("on|off|status [N]")
	require.Equal(t, []Word{{Literals: []string{"on", "off", "status"}}, {Kinds: []string{"n"}, Optional: true}}, w)

	w = Words("<id>...|--all|--recent N [--path <file>]")
	require.Equal(t, []string{"--path"}, Flags(w))
	require.Equal(t, Word{Kinds: []string{"id"}, Literals: []string{"--all", "--recent"}, Repeat: true}, w[0], "alternatives, not a flag")
}

func TestExpect(t *testing.T) {
	w := Words("[-l] [<path>]")
	require.Equal(t, []Word{w[1]}, Expect(w, nil), "flags are offered apart; the path comes first")
	require.Equal(t, []Word{w[1]}, Expect(w, []string{"-l"}))
	require.Empty(t, Expect(w, []string{"/a"}))

	w = Words("--from <version> --to <version>")
	require.Equal(t, []Word{{Kinds: []string{"version"}}}, Expect(w, []string{"--from"}))
	require.Empty(t, Expect(w, []string{"--from", "v1"}))

	w = Words("[-SIGNAL] <pid>...")
	require.Equal(t, w, Expect(w, nil), "an optional word and the one after it")
	require.Equal(t, []Word{w[1]}, Expect(w, []string{"-KILL", "1", "2"}), "a repeated word repeats")

	w = Words("<prog> [<arg>...] [&]")
	require.Equal(t, []Word{w[0]}, Expect(w, nil))
}
