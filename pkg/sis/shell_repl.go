package sis

import (
	"errors"
	"io"
)

// LineReader reads the shell's command lines: an interactive line editor
// (the CLI's, on a terminal) or plain lines from a pipe.
type LineReader interface {
	// ReadLine returns the next line without its end. It returns
	// ErrInterrupted when the user dropped the line (Ctrl-C), and io.EOF
	// at the end of input (with an unterminated last line, if any).
	ReadLine() (string, error)
}

// ErrInterrupted is returned by a LineReader when the user dropped the
// line with Ctrl-C; the shell reads the next one.
var ErrInterrupted = errors.New("interrupted")

// ReplOptions configures Shell.Serve.
type ReplOptions struct {
	// Prompt prints the banner, and a prompt before every line read from
	// the input (a Lines editor prints its own prompt).
	Prompt bool
	// Lines reads the lines instead of the input (an interactive editor).
	Lines LineReader
	// Stderr receives errors; nil: the output.
	Stderr io.Writer
}

// Serve runs the shell on lines from in (or o.Lines) until exit or the
// end of input, writing to out. It returns ErrExit (an *ExitError after
// `exit N`) after exit, nil at end of input, and otherwise a read error.
// Failed commands print their error and the shell goes on; failures
// counts them.
func (s *Shell) Serve(in io.Reader, out io.Writer, o ReplOptions) (failures int, err error) {
	errOut := o.Stderr
	if errOut == nil {
		errOut = out
	}
	if o.Prompt {
		io.WriteString(out, ShellBanner)
	}
	lines := o.Lines
	if lines == nil {
		lines = &plainLines{in: in}
	}
	for {
		if o.Prompt && o.Lines == nil {
			io.WriteString(out, ShellPrompt)
		}
		line, err := lines.ReadLine()
		if errors.Is(err, ErrInterrupted) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return failures, err
		}
		execErr := s.ExecStreams(out, errOut, line)
		if errors.Is(execErr, ErrExit) {
			var ee *ExitError
			if !errors.As(execErr, &ee) && execErr != ErrExit {
				failures++ // exit after a failure in the same line
			}
			return failures, execErr
		}
		if execErr != nil {
			failures++
		}
		if err != nil { // end of input
			return failures, nil
		}
	}
}

// plainLines reads lines byte by byte: it never reads ahead, so a guest
// started by a command reads the rest of the input. It accepts LF, CR and
// CR LF line ends.
type plainLines struct {
	in     io.Reader
	lastCR bool // the previous line ended in CR: a following LF is part of it
}

func (p *plainLines) ReadLine() (string, error) {
	var buf []byte
	var b [1]byte
	for {
		n, err := p.in.Read(b[:])
		if n == 0 {
			if err == nil {
				continue
			}
			return string(buf), err
		}
		c := b[0]
		if c == '\n' && p.lastCR {
			p.lastCR = false
			continue
		}
		p.lastCR = false
		if c == '\n' || c == '\r' {
			p.lastCR = c == '\r'
			return string(buf), nil
		}
		if len(buf) <= 4*MaxShellLine { // longer lines fail anyway; keep memory bounded
			buf = append(buf, c)
		}
	}
}
