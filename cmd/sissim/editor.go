package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/reeflective/readline"
	"github.com/rivo/uniseg"
	"github.com/sis-kernel/sissim/pkg/sis"
	"golang.org/x/term"
)

// lineEditor reads the interactive shell's lines on the terminal with
// reeflective/readline: Emacs keys, history (in $HOME/.sissim_history)
// with Ctrl-R search, and Tab completion from the shell. It reads the
// terminal only while it waits for a line, in raw mode; between lines the
// terminal is back in its normal mode, where guests read it and Ctrl-C
// raises SIGINT.
type lineEditor struct {
	rl *readline.Shell
}

// newLineEditor returns the editor for sh. A history file that cannot be
// read is reported on warn and the history stays in memory.
func newLineEditor(sh *sis.Shell, warn io.Writer) *lineEditor {
	rl := readline.NewShell()
	// No ESC[6n query per refresh: the library drops keys that arrive
	// with the terminal's answer (typed fast, pasted, or over a slow
	// link). The prompt starts at column 0 (every command's output ends
	// with a newline), which the editor then assumes; ReadLine keeps a
	// row free below it.
	rl.Config.Set("cursor-position-probe", false)
	// UTF-8 throughout: bytes >= 0x80 are characters, not Meta keys (the
	// library's defaults are those of readline in an 8-bit locale).
	rl.Config.Set("convert-meta", false)
	rl.Config.Set("input-meta", true)
	rl.Config.Set("output-meta", true)
	// ^C is printed by ReadLine, after the line (the library's echo is
	// cleared with the line).
	rl.Config.Set("echo-control-characters", false)
	rl.Prompt.Primary(func() string { return sis.ShellPrompt })
	rl.Completer = func(line []rune, cursor int) readline.Completions {
		var cands []readline.Completion
		for _, c := range sh.Complete(string(line[:cursor])) {
			// A completed word ends with a space, a directory with its
			// slash (the library drops the space when the user types one).
			v := c
			if !strings.HasSuffix(c, "/") {
				v += " "
			}
			cands = append(cands, readline.Completion{Value: v, Display: c})
		}
		return readline.CompleteRaw(cands)
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		h, err := openHistory(filepath.Join(home, historyName))
		if err != nil {
			fmt.Fprintf(warn, "sissim: history: %v (kept in memory only)\n", err)
			rl.History.Add("history", readline.NewInMemoryHistory())
		} else {
			rl.History.Add("history", h)
		}
	}
	return &lineEditor{rl: rl}
}

// ReadLine implements sis.LineReader. Ctrl-C shows the dropped line
// with ^C after it, as the SIS console does.
func (e *lineEditor) ReadLine() (string, error) {
	// Without the probe the editor cannot tell that its row is the
	// terminal's last, and it redraws one row too high there: a newline
	// (scrolling at the bottom) and a step back up keep a row free below.
	io.WriteString(os.Stdout, "\n\x1b[A")
	line, err := e.rl.Readline()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		e.showInterrupted(string(*e.rl.Line()))
		return "", sis.ErrInterrupted
	case errors.Is(err, io.EOF):
		return "", io.EOF
	}
	return line, err
}

// showInterrupted rewrites the rows of the prompt and the dropped line
// (which the editor left, cursor below) with "^C" after the line.
func (e *lineEditor) showInterrupted(line string) {
	text := sis.ShellPrompt + line
	rows := 1
	if cols, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && cols > 0 {
		rows = max(1, (uniseg.StringWidth(text)+cols-1)/cols)
	}
	fmt.Fprintf(os.Stdout, "\x1b[%dA\r\x1b[J%s^C\r\n", rows, text)
}
