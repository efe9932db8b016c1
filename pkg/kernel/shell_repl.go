package kernel

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ReplOptions configures Shell.Serve.
type ReplOptions struct {
	// Echo makes the line editor echo input and handle editing keys as a
	// serial console does (for terminals in raw mode and for tests).
	// Without it, input is read as plain lines (pipes).
	Echo bool
	// Prompt prints the banner and a prompt before every line.
	Prompt bool
	// BeforeGuest and AfterGuest run around a guest started by `run` (the
	// CLI leaves raw terminal mode while a guest runs).
	BeforeGuest, AfterGuest func()
}

// Serve runs the interactive shell on in/out until exit or end of input.
// It returns ErrExit after the exit command, nil at end of input, and
// otherwise a read error. Failed commands print one line and the shell
// goes on; Failures counts them.
func (s *Shell) Serve(in io.Reader, out io.Writer, o ReplOptions) (failures int, err error) {
	s.beforeGuest, s.afterGuest = o.BeforeGuest, o.AfterGuest
	defer func() { s.beforeGuest, s.afterGuest = nil, nil }()
	if o.Prompt {
		io.WriteString(out, ShellBanner)
	}
	ed := &lineEditor{in: in, out: out, echo: o.Echo}
	for {
		if o.Prompt {
			io.WriteString(out, ShellPrompt)
		}
		line, err := ed.readLine()
		if errors.Is(err, errInterrupted) {
			continue
		}
		if errors.Is(err, errLineTooLong) {
			fmt.Fprintf(out, "error: line too long (more than %d bytes)\n", MaxShellLine)
			failures++
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if strings.TrimSpace(line) == "" {
					return failures, nil
				}
				err = nil // run the last, unterminated line
			} else {
				return failures, err
			}
		}
		if strings.TrimSpace(line) != "" {
			ed.remember(line)
		}
		execErr := s.ExecTo(out, line)
		if errors.Is(execErr, ErrExit) {
			if execErr != ErrExit {
				failures++
			}
			return failures, ErrExit
		}
		if execErr != nil {
			failures++
		}
		if err == nil && ed.eof {
			return failures, nil
		}
	}
}

var (
	errInterrupted = errors.New("interrupted")
	errLineTooLong = errors.New("line too long")
)

// lineEditor reads command lines byte by byte (never buffering ahead, so a
// guest started from the shell reads the rest of the input) with SIS
// console editing: echo, CR/LF -> "\r\n", backspace/DEL -> "\b \b",
// Ctrl-C -> "^C\r\n", Ctrl-D on an empty line ends input, and up/down arrow
// keys walk the history.
type lineEditor struct {
	in      io.Reader
	out     io.Writer
	echo    bool
	history []string
	eof     bool
	lastCR  bool // the previous line ended in CR: a following LF is part of it
}

const maxHistory = 100

func (e *lineEditor) remember(line string) {
	if n := len(e.history); n > 0 && e.history[n-1] == line {
		return
	}
	e.history = append(e.history, line)
	if len(e.history) > maxHistory {
		e.history = e.history[1:]
	}
}

func (e *lineEditor) readByte() (byte, error) {
	var b [1]byte
	for {
		n, err := e.in.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

func (e *lineEditor) write(s string) {
	if e.echo {
		io.WriteString(e.out, s)
	}
}

// readLine returns the next line without its terminator. At end of input
// it returns what was typed and io.EOF.
func (e *lineEditor) readLine() (string, error) {
	var buf []byte
	tooLong := false
	hist := len(e.history) // position in history while browsing
	replace := func(s string) {
		e.write(strings.Repeat("\b \b", len(buf)))
		buf = append(buf[:0], s...)
		e.write(s)
	}
	for {
		c, err := e.readByte()
		if err != nil {
			e.eof = true
			if tooLong {
				return "", errLineTooLong
			}
			return string(buf), err
		}
		if c == '\n' && e.lastCR {
			e.lastCR = false
			continue
		}
		e.lastCR = false
		switch c {
		case '\r', '\n':
			e.lastCR = c == '\r'
			e.write("\r\n")
			if tooLong {
				return "", errLineTooLong
			}
			return string(buf), nil
		case 0x7f, '\b':
			if len(buf) > 0 {
				buf = buf[:len(buf)-1]
				e.write("\b \b")
			}
		case 0x03: // Ctrl-C
			e.write("^C\r\n")
			return "", errInterrupted
		case 0x04: // Ctrl-D
			if len(buf) == 0 && e.echo {
				e.eof = true
				return "", io.EOF
			}
		case 0x1b: // escape sequences: arrows
			if !e.echo {
				buf = append(buf, c)
				continue
			}
			b1, err := e.readByte()
			if err != nil || (b1 != '[' && b1 != 'O') {
				continue
			}
			b2, err := e.readByte()
			if err != nil {
				continue
			}
			switch b2 {
			case 'A': // up
				if hist > 0 {
					hist--
					replace(e.history[hist])
				}
			case 'B': // down
				if hist < len(e.history) {
					hist++
					if hist == len(e.history) {
						replace("")
					} else {
						replace(e.history[hist])
					}
				}
			}
		default:
			if len(buf) >= MaxShellLine {
				tooLong = true
				continue
			}
			if c < 0x20 && c != '\t' && e.echo {
				continue // other control keys are ignored on a terminal
			}
			buf = append(buf, c)
			e.write(string(c))
		}
	}
}
