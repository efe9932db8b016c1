package llm

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Corpus is the text `llmctl load` builds the model from by default.
//
//go:embed corpus.txt
var Corpus string

// MaxCorpusBytes bounds a corpus given to Load.
const MaxCorpusBytes = 1 << 20

// Tokenize splits text into tokens: the text is lower-cased, every run of
// letters and digits (with apostrophes inside it) is one token, every
// other printable, non-space character is a token of its own, and white
// space only separates tokens.
func Tokenize(text string) []string {
	var toks []string
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, word.String())
			word.Reset()
		}
	}
	rs := []rune(strings.ToLower(text))
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			word.WriteRune(r)
		case r == '\'' && word.Len() > 0 && i+1 < len(rs) && (unicode.IsLetter(rs[i+1]) || unicode.IsDigit(rs[i+1])):
			word.WriteRune(r)
		case unicode.IsSpace(r) || !unicode.IsPrint(r):
			flush()
		default:
			flush()
			toks = append(toks, string(r))
		}
	}
	flush()
	return toks
}

// Detokenize joins tokens into text: a space between words, none before
// punctuation.
func Detokenize(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		r, _ := utf8.DecodeRuneInString(t)
		if i > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// bos is the token id of a sentence start (not a word of the corpus).
const bos = 0

// Model is a word trigram model with bigram and sentence-start back-off,
// built from a corpus. Decoding is greedy and deterministic.
type Model struct {
	vocab []string       // id -> token; vocab[0] is the sentence start
	ids   map[string]int // token -> id
	bi    map[int][]succ
	tri   map[[2]int][]succ
	// Sizes, for status lines.
	CorpusBytes, Bigrams, Trigrams int
	// Ctx is the context window in tokens (0: unbounded): a request
	// reads at most the last Ctx tokens of its prompt and generates at
	// most Ctx tokens.
	Ctx int
}

// succ is a successor token and how often it followed its context.
type succ struct{ id, n int }

// Build builds a model from corpus: sentences end at '.', '!' or '?'.
func Build(corpus string) (*Model, error) {
	if len(corpus) > MaxCorpusBytes {
		return nil, fmt.Errorf("llm: corpus of %d bytes is larger than %d", len(corpus), MaxCorpusBytes)
	}
	if !utf8.ValidString(corpus) {
		return nil, errors.New("llm: corpus is not UTF-8 text")
	}
	toks := Tokenize(corpus)
	if len(toks) < 3 {
		return nil, errors.New("llm: corpus needs at least three tokens")
	}
	words := map[string]bool{}
	for _, t := range toks {
		words[t] = true
	}
	m := &Model{vocab: []string{"<s>"}, ids: map[string]int{}, CorpusBytes: len(corpus)}
	sorted := make([]string, 0, len(words))
	for w := range words {
		sorted = append(sorted, w)
	}
	sort.Strings(sorted)
	for _, w := range sorted {
		m.ids[w] = len(m.vocab)
		m.vocab = append(m.vocab, w)
	}
	bi := map[int]map[int]int{}
	tri := map[[2]int]map[int]int{}
	a, b := bos, bos
	for _, t := range toks {
		c := m.ids[t]
		if bi[b] == nil {
			bi[b] = map[int]int{}
		}
		bi[b][c]++
		k := [2]int{a, b}
		if tri[k] == nil {
			tri[k] = map[int]int{}
		}
		tri[k][c]++
		a, b = b, c
		if t == "." || t == "!" || t == "?" {
			a, b = bos, bos
		}
	}
	m.bi = map[int][]succ{}
	for k, v := range bi {
		m.bi[k] = sortSucc(v)
		m.Bigrams += len(v)
	}
	m.tri = map[[2]int][]succ{}
	for k, v := range tri {
		m.tri[k] = sortSucc(v)
		m.Trigrams += len(v)
	}
	return m, nil
}

// sortSucc orders successors by count, then by id.
func sortSucc(v map[int]int) []succ {
	out := make([]succ, 0, len(v))
	for id, n := range v {
		out = append(out, succ{id, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].id < out[j].id
	})
	return out
}

// VocabSize returns the number of distinct tokens (with the sentence
// start).
func (m *Model) VocabSize() int { return len(m.vocab) }

// Generation is the result of one decoding run.
type Generation struct {
	Tokens []string
	// Known counts the prompt tokens in the vocabulary.
	Known int
	// Scored counts the candidate successors examined over all steps.
	Scored int
	// Ops counts the decoder's operations (Decoder.Op): what the
	// inference costs.
	Ops int
}

// Generate continues prompt for at most maxTokens tokens, running a
// Decoder to its end.
func (m *Model) Generate(prompt []string, maxTokens int) Generation {
	d := m.NewDecoder(prompt, maxTokens)
	for !d.Op() {
	}
	return d.Generation()
}

// Decoder is one decoding run, done one operation at a time so that it
// can be run in slices: each step takes the most frequent successor of
// the last two tokens (the last one, then a sentence start, when the
// trigram context is unseen), skipping a token that would repeat a
// trigram already written; it stops after a sentence end, after
// maxTokens tokens, or when no candidate is left.
//
// An operation is one probe of a hash table: the look-up of a prompt
// token in the vocabulary, of a context in the trigram, bigram or
// sentence-start table, or of a candidate successor in the set of
// trigrams written. Ops counts them; they are the work the service is
// charged for (CostPerOp).
type Decoder struct {
	m         *Model
	prompt    []string
	pi        int // prompt tokens read
	maxTokens int
	a, b      int // the context: the last two tokens
	seen      map[[3]int]bool
	cands     []succ // the table being scanned
	table     int    // which table: 0 trigram, 1 bigram, 2 sentence start
	looked    bool   // cands holds table's look-up
	ci        int    // next candidate of cands
	done      bool
	g         Generation
}

// NewDecoder returns a decoder that continues prompt for at most
// maxTokens tokens.
func (m *Model) NewDecoder(prompt []string, maxTokens int) *Decoder {
	if m.Ctx > 0 {
		if len(prompt) > m.Ctx {
			prompt = prompt[len(prompt)-m.Ctx:]
		}
		maxTokens = min(maxTokens, m.Ctx)
	}
	return &Decoder{m: m, prompt: prompt, maxTokens: maxTokens, a: bos, b: bos, seen: map[[3]int]bool{}, done: maxTokens <= 0 && len(prompt) == 0}
}

// Done reports whether the run is over.
func (d *Decoder) Done() bool { return d.done }

// Ops returns the operations done so far.
func (d *Decoder) Ops() int { return d.g.Ops }

// Generation returns what the run produced so far.
func (d *Decoder) Generation() Generation {
	g := d.g
	g.Tokens = append([]string(nil), d.g.Tokens...)
	return g
}

// Op does the next operation and reports whether the run is over (an
// over run does nothing).
func (d *Decoder) Op() bool {
	if d.done {
		return true
	}
	d.g.Ops++
	if d.pi < len(d.prompt) {
		t := d.prompt[d.pi]
		d.pi++
		if id, ok := d.m.ids[t]; ok {
			d.g.Known++
			d.a, d.b = d.b, id
			if isEnd(t) {
				d.a, d.b = bos, bos
			}
		}
		d.done = d.pi == len(d.prompt) && d.maxTokens <= 0
		return d.done
	}
	for d.looked && d.ci >= len(d.cands) {
		// This table is exhausted: the next one, if any (no operation).
		d.table++
		d.looked = false
		if d.table == 3 {
			d.g.Ops-- // nothing left to probe
			d.done = true
			return true
		}
	}
	if !d.looked {
		switch d.table {
		case 0:
			d.cands = d.m.tri[[2]int{d.a, d.b}]
		case 1:
			d.cands = d.m.bi[d.b]
		default:
			d.cands = d.m.tri[[2]int{bos, bos}]
		}
		d.looked, d.ci = true, 0
		return false
	}
	s := d.cands[d.ci]
	d.ci++
	d.g.Scored++
	k := [3]int{d.a, d.b, s.id}
	if d.seen[k] {
		return false
	}
	d.seen[k] = true
	t := d.m.vocab[s.id]
	d.g.Tokens = append(d.g.Tokens, t)
	d.a, d.b = d.b, s.id
	d.table, d.looked = 0, false
	d.done = isEnd(t) || len(d.g.Tokens) >= d.maxTokens
	return d.done
}

// isEnd reports whether t ends a sentence.
func isEnd(t string) bool { return t == "." || t == "!" || t == "?" }
