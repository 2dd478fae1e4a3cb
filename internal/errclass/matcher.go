package errclass

import (
	"math/bits"
	"sort"
	"strings"
)

// This file holds the machinery that finds every rule phrase in a message in one pass
// (an Aho–Corasick automaton). Go's regexp is linear-time too, but a regexp with a
// hundred alternatives scans at about 15 MB/s, too slow for a 200 KB traceback times a
// dozen rules; the automaton reads every byte once whatever the number of phrases.
//
// Text and phrases are read through the same normalisation, so a phrase matches what a
// person would call "the same words":
//
//   - ASCII letters are folded to lower case: matching is case-insensitive.
//   - Runs of white space, '_' and '-' count as one separator: "rate limit" matches
//     "Rate-Limit", "RATE_LIMIT" and "rate\n  limit".
//   - Word boundaries are symbols of their own (a word is a run of ASCII letters and
//     digits), so "invalid" does not match inside "invalidate". In a phrase, a '*' at
//     either end lifts the boundary on that side: "*timeout*" matches "ReadTimeout" and
//     "TimeoutError", "throttl*" matches "Throttled" and "ThrottlingException".

// Symbols of the normalised stream; the letters, digits and punctuation that occur in
// phrases get the symbols from firstCharSym on.
const (
	symWordStart = iota
	symWordEnd
	symSep
	symOther
	firstCharSym
)

// phrase is one compiled phrase: its symbols, and the rule it belongs to.
type phrase struct {
	syms []uint8
	rule int
}

// matcher finds the rules whose phrases occur in a text.
type matcher struct {
	rules   []rule
	class   [256]uint8 // byte → symbol
	nsym    int
	next    []int32 // next[state*nsym+sym]: the automaton's complete transition table
	outs    []int32 // phrases that end in a state: outs[outIdx[s]:outIdx[s+1]]
	outIdx  []int32
	phrases []phrase
}

func isSepByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f', '_', '-':
		return true
	}
	return false
}

func isWordByte(c byte) bool { return isASCIILetter(c) || isASCIIDigit(c) }

func fold(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// newMatcher compiles the rules' phrases. It panics on a malformed phrase: the rules are
// constants of the program, and TestRulesCompile runs this at test time.
func newMatcher(rules []rule) *matcher {
	m := &matcher{rules: rules}
	for i := range m.class {
		m.class[i] = symOther
	}
	for c := 0; c < 256; c++ {
		if isSepByte(byte(c)) {
			m.class[c] = symSep
		}
	}
	next := firstCharSym
	for _, r := range rules {
		for _, p := range r.phrases {
			for i := 0; i < len(p); i++ {
				c := fold(p[i])
				if c == '*' || isSepByte(c) {
					continue
				}
				if c >= 0x80 {
					panic("errclass: non-ASCII phrase " + p)
				}
				if m.class[c] == symOther {
					m.class[c] = uint8(next)
					if c >= 'a' && c <= 'z' {
						m.class[c-'a'+'A'] = uint8(next)
					}
					next++
				}
			}
		}
	}
	m.nsym = next
	for ri, r := range rules {
		for _, p := range r.phrases {
			m.phrases = append(m.phrases, phrase{syms: m.compilePhrase(p), rule: ri})
		}
	}
	m.build()
	return m
}

// compilePhrase turns a phrase into symbols with the same normalisation the scan applies
// to text, dropping the boundary symbol at an end marked with '*'.
func (m *matcher) compilePhrase(p string) []uint8 {
	openLeft := strings.HasPrefix(p, "*")
	openRight := strings.HasSuffix(p, "*")
	p = strings.TrimSuffix(strings.TrimPrefix(p, "*"), "*")
	if p == "" || strings.Contains(p, "*") || isSepByte(p[0]) || isSepByte(p[len(p)-1]) {
		panic("errclass: malformed phrase " + p)
	}
	var syms []uint8
	m.transform(p, func(sym uint8, _ int) { syms = append(syms, sym) })
	if openLeft && syms[0] == symWordStart {
		syms = syms[1:]
	}
	if openRight && syms[len(syms)-1] == symWordEnd {
		syms = syms[:len(syms)-1]
	}
	return syms
}

// transform feeds the normalised symbols of text to emit, with the offset in text at which
// a match ending with that symbol ends. It is the reference for the scan loop below, which
// inlines the same steps for speed; TestMatcherTransformAgreesWithScan keeps them equal.
func (m *matcher) transform(text string, emit func(sym uint8, end int)) {
	prevWord, prevSep := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		w := isWordByte(c)
		if w && !prevWord {
			emit(symWordStart, i)
		} else if !w && prevWord {
			emit(symWordEnd, i)
		}
		prevWord = w
		sym := m.class[c]
		if sym == symSep {
			if !prevSep {
				emit(symSep, i+1)
			}
			prevSep = true
			continue
		}
		prevSep = false
		emit(sym, i+1)
	}
	if prevWord {
		emit(symWordEnd, len(text))
	}
}

// build makes the automaton: a trie of the phrases, completed with failure transitions so
// that every state has a next state for every symbol.
func (m *matcher) build() {
	const none = -1
	trie := []int32{}
	addState := func() int32 {
		for i := 0; i < m.nsym; i++ {
			trie = append(trie, none)
		}
		return int32(len(trie)/m.nsym - 1)
	}
	addState()
	own := map[int32][]int32{}
	for pi, p := range m.phrases {
		s := int32(0)
		for _, sym := range p.syms {
			t := trie[int(s)*m.nsym+int(sym)]
			if t == none {
				t = addState()
				trie[int(s)*m.nsym+int(sym)] = t
			}
			s = t
		}
		own[s] = append(own[s], int32(pi))
	}
	n := len(trie) / m.nsym
	fail := make([]int32, n)
	out := make([][]int32, n)
	out[0] = own[0]
	m.next = trie
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for sym := 0; sym < m.nsym; sym++ {
			t := m.next[int(s)*m.nsym+sym]
			if t == none {
				if s == 0 {
					m.next[sym] = 0
				} else {
					m.next[int(s)*m.nsym+sym] = m.next[int(fail[s])*m.nsym+sym]
				}
				continue
			}
			if s != 0 {
				fail[t] = m.next[int(fail[s])*m.nsym+sym]
			}
			out[t] = append(append([]int32(nil), own[t]...), out[fail[t]]...)
			queue = append(queue, t)
		}
	}
	m.outIdx = make([]int32, n+1)
	for s := 0; s < n; s++ {
		m.outs = append(m.outs, out[s]...)
		m.outIdx[s+1] = int32(len(m.outs))
	}
}

// matches is the set of rules (by index) that matched, at most 64.
type matches uint64

func (ms matches) has(rule int) bool { return ms&(1<<uint(rule)) != 0 }

// best returns the matched rule that comes first in precedence.
func (ms matches) best() (int, bool) {
	if ms == 0 {
		return 0, false
	}
	return bits.TrailingZeros64(uint64(ms)), true
}

// scan returns the rules whose phrases occur in text (and whose checks accept the
// occurrence). URLs are read as a single separator: their paths and query strings
// ("/oauth/v1/token", "?timeout=30") say nothing about why a request failed.
func (m *matcher) scan(text string) matches {
	var found matches
	skips := urlSpans(text)
	si := 0
	state := int32(0)
	prevWord, prevSep := false, false
	step := func(sym uint8, end int) {
		state = m.next[int(state)*m.nsym+int(sym)]
		for _, pi := range m.outs[m.outIdx[state]:m.outIdx[state+1]] {
			r := m.phrases[pi].rule
			if found.has(r) {
				continue
			}
			if chk := m.rules[r].check; chk == nil || chk(text, end) {
				found |= 1 << uint(r)
			}
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if si < len(skips) && i == skips[si].start {
			c = ' '
			i = skips[si].end - 1
			si++
		}
		w := isWordByte(c)
		if w != prevWord {
			if w {
				step(symWordStart, i)
			} else {
				step(symWordEnd, i)
			}
			prevWord = w
		}
		sym := m.class[c]
		if sym == symSep {
			if !prevSep {
				step(symSep, i+1)
			}
			prevSep = true
			continue
		}
		prevSep = false
		step(sym, i+1)
	}
	if prevWord {
		step(symWordEnd, len(text))
	}
	return found
}

// span is a byte range [start, end) of a text.
type span struct{ start, end int }

// urlSpans returns the URLs in text, sorted and disjoint: "scheme://…" and the path that
// urllib3 writes after "url: " (in any case), each up to the next white space, quote or
// bracket.
func urlSpans(text string) []span {
	var spans []span
	for from := 0; ; {
		i := strings.Index(text[from:], "://")
		if i < 0 {
			break
		}
		i += from
		start := i
		for start > 0 && isSchemeByte(text[start-1]) {
			start--
		}
		end := urlEnd(text, i+3)
		if start < i {
			spans = append(spans, span{start, end})
		}
		from = end
		if from <= i {
			from = i + 1
		}
	}
	for from := 0; ; {
		i := strings.Index(text[from:], ": ")
		if i < 0 {
			break
		}
		i += from
		from = i + 2
		if i < 3 || !strings.EqualFold(text[i-3:i], "url") || (i > 3 && isWordByte(text[i-4])) {
			continue
		}
		if end := urlEnd(text, from); end > from {
			spans = append(spans, span{from, end})
		}
	}
	if len(spans) < 2 {
		return spans
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s.start <= last.end {
			last.end = max(last.end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

func isSchemeByte(c byte) bool {
	return isWordByte(c) || c == '+' || c == '.' || c == '-'
}

// urlEnd returns where a URL that continues at i ends.
func urlEnd(text string, i int) int {
	for i < len(text) {
		switch c := text[i]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}':
			return i
		}
		i++
	}
	return i
}
