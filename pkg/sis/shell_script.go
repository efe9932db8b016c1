package sis

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// scriptCommand is one command of a script: its words, or why it is
// malformed.
type scriptCommand struct {
	words []string
	err   error
}

// parseScript splits a script into commands. ';', newlines and carriage
// returns end a command; '#' at the start of a word starts a comment that
// runs to the end of the line; single and double quotes group words (no
// escapes inside, and a quote ends with its line). Empty commands are
// left out. A command longer than MaxShellLine bytes, with a control
// character or invalid UTF-8, or with an unterminated quote is returned
// with its error.
func parseScript(script string) []scriptCommand {
	var out []scriptCommand
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		comment bool
		size    int // bytes of the command, comments left out
		bad     error
	)
	endWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	endCommand := func() {
		if quote != 0 && bad == nil {
			bad = fmt.Errorf("unterminated %c quote", quote)
		}
		if bad == nil && size > MaxShellLine {
			bad = fmt.Errorf("line too long (more than %d bytes)", MaxShellLine)
		}
		endWord()
		if bad != nil {
			out = append(out, scriptCommand{err: bad})
		} else if len(words) > 0 {
			out = append(out, scriptCommand{words: words})
		}
		words, quote, size, bad = nil, 0, 0, nil
	}
	for i := 0; i < len(script); {
		r, n := utf8.DecodeRuneInString(script[i:])
		i += n
		if r == '\n' || r == '\r' {
			comment = false
			endCommand()
			continue
		}
		if comment {
			continue
		}
		size += n
		switch {
		case r == utf8.RuneError && n == 1:
			if bad == nil {
				bad = fmt.Errorf("line contains invalid UTF-8")
			}
		case (r < 0x20 && r != '\t') || r == 0x7f:
			if bad == nil {
				bad = fmt.Errorf("line contains a control character (0x%02x)", r)
			}
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ';':
			size--
			endCommand()
		case r == ' ' || r == '\t':
			endWord()
		case r == '#' && !inWord:
			comment = true
			size--
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	endCommand()
	return out
}
