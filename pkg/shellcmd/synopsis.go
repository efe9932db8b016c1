package shellcmd

import (
	"strings"
	"unicode"
)

// Word is one word of a synopsis.
type Word struct {
	// Flag is the flag ("--output", "-l") when the word is one.
	Flag string
	// Arg is the flag's value ("<file>" of "--output <file>"); nil for a
	// flag without a value.
	Arg *Word
	// Literals are the keywords the word can be ("on", "off").
	Literals []string
	// Kinds are the placeholders the word can be ("path" of "<path>",
	// "n" of "N").
	Kinds    []string
	Optional bool
	Repeat   bool // "x..."
}

// Words parses a synopsis after its command (and subcommand) name, e.g.
// "[-l] [<path>]" or "--format json --output <file>". A flag takes the
// next word as its value unless its brackets close on the flag itself
// ("[-l]") or the next word is a flag too.
func Words(syntax string) []Word {
	var out []Word
	depth := 0
	toks := strings.Fields(syntax)
	for i := 0; i < len(toks); i++ {
		w, closed := parseWord(toks[i], &depth)
		if w.Flag != "" && !closed && i+1 < len(toks) && !strings.HasPrefix(strings.TrimLeft(toks[i+1], "["), "-") {
			arg, _ := parseWord(toks[i+1], &depth)
			w.Arg = &arg
			i++
		}
		out = append(out, w)
	}
	return out
}

// parseWord parses one token at bracket depth *depth (updated); closed
// says its brackets opened and closed on it ("[-l]").
func parseWord(t string, depth *int) (w Word, closed bool) {
	opens, closes := strings.Count(t, "["), strings.Count(t, "]")
	w.Optional = *depth > 0 || opens > 0
	closed = opens > 0 && closes >= opens
	*depth += opens - closes
	t = strings.Trim(t, "[]")
	if strings.HasSuffix(t, "...") {
		w.Repeat = true
		t = strings.TrimSuffix(t, "...")
	}
	if strings.HasPrefix(t, "-") && !strings.Contains(t, "|") && !isPlaceholder(t[1:]) {
		w.Flag = t
		return w, closed
	}
	for _, alt := range strings.Split(t, "|") {
		if strings.HasSuffix(alt, "...") {
			w.Repeat = true
			alt = strings.TrimSuffix(alt, "...")
		}
		switch {
		case alt == "":
		case isPlaceholder(alt):
			w.Kinds = append(w.Kinds, kindOf(alt))
		default:
			w.Literals = append(w.Literals, alt)
		}
	}
	return w, closed
}

// isPlaceholder reports whether s is "<x>" or an upper-case word ("N").
func isPlaceholder(s string) bool {
	if strings.HasPrefix(s, "<") {
		return true
	}
	upper := false
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		upper = upper || unicode.IsUpper(r)
	}
	return upper
}

// kindOf returns the placeholder's kind: "path" of "<path>" and of
// "<path...>", "n" of "N".
func kindOf(s string) string {
	s = strings.TrimSuffix(strings.Trim(s, "<>"), "...")
	s = strings.TrimSuffix(s, ">")
	return strings.ToLower(s)
}

// Expect returns the words of a synopsis that may come after the typed
// words (the arguments before the one being completed): the value of the
// flag typed last, or the next positional word and, while those are
// optional, the ones after it.
func Expect(words []Word, typed []string) []Word {
	flags := map[string]Word{}
	var pos []Word
	for _, w := range words {
		if w.Flag != "" {
			flags[w.Flag] = w
		} else {
			pos = append(pos, w)
		}
	}
	var next []Word
	n := 0
	for i := 0; i < len(typed); i++ {
		if f, ok := flags[typed[i]]; ok {
			if f.Arg != nil {
				if i == len(typed)-1 {
					return []Word{*f.Arg}
				}
				i++
			}
			continue
		}
		n++
	}
	for i := n; i < len(pos); i++ {
		next = append(next, pos[i])
		if !pos[i].Optional {
			break
		}
	}
	if n >= len(pos) && len(pos) > 0 && pos[len(pos)-1].Repeat {
		next = append(next, pos[len(pos)-1])
	}
	return next
}

// Flags returns the flags of words.
func Flags(words []Word) []string {
	var out []string
	for _, w := range words {
		if w.Flag != "" {
			out = append(out, w.Flag)
		}
	}
	return out
}
