package schedule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces celery.schedules.crontab_parser (Celery 5.2.6, unchanged on
// Celery's main branch), quirks included, because beat accepts exactly what that
// parser accepts. Its grammar is four regular expressions tried in order on each
// comma-separated part, with re.match, which anchors at the start but not at the end:
//
//	(\w+?)-(\w+)/(\w+)?   a range with a step   "1-30/7"
//	(\w+?)-(\w+)          a range               "1-5", "fri-mon"
//	\*/(\w+)?             a star with a step    "*/15"
//	^\*$                  a star                "*"
//
// and anything else is one number. Consequences that look like bugs but are what
// beat does, and are covered by the oracle cases:
//   - whatever follows the matched prefix is ignored: "1-5/2/3" is "1-5/2", "1-5-7" is
//     "1-5", "*/15/2" is "*/15";
//   - a lone number with a step, "5/2", is rejected (it is not a range);
//   - numbers go through Python's int(): surrounding spaces, a "+" sign, "_" between
//     digits and non-ASCII decimal digits are accepted (" 5", "+5", "1_0", "١٢");
//   - anything that is not a number is looked up as a day name by its first three
//     letters, in every field: "Sunshine" is Sunday, minute "mon" is minute 1,
//     "fri/2" is 5; month names are not known ("jan" is rejected);
//   - a range whose end is below its start wraps around: minute "50-10" is 50..59 and
//     0..10, day_of_week "fri-mon" is Fri, Sat, Sun, Mon;
//   - day_of_week is 0-6 with Sunday 0: "7" is rejected.

// fieldRange is a crontab field's name and the values Celery accepts in it.
type fieldRange struct {
	name   string
	lo, hi int
}

// parseField expands one field's text into a bit set (bit v set when v matches).
func parseField(f fieldRange, spec string) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(spec, ",") {
		if part == "" {
			if spec == "" {
				return 0, fmt.Errorf("%s is empty", f.name)
			}
			return 0, fmt.Errorf("%s %q: empty item in the list", f.name, spec)
		}
		values, err := f.parsePart(part)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", f.name, spec, err)
		}
		for _, v := range values {
			set |= 1 << uint(v)
		}
	}
	return set, nil
}

// parsePart expands one comma-separated item, trying Celery's patterns in Celery's
// order.
func (f fieldRange) parsePart(p string) ([]int, error) {
	if a := wordPrefix(p); a > 0 && a < len(p) && p[a] == '-' {
		if b := wordPrefix(p[a+1:]); b > 0 {
			from, to := p[:a], p[a+1:a+1+b]
			rest := p[a+1+b:]
			values, err := f.expandRange(from, to)
			if !strings.HasPrefix(rest, "/") {
				return values, err
			}
			step := rest[1 : 1+wordPrefix(rest[1:])]
			if step == "" {
				return nil, fmt.Errorf("%q has no step after \"/\"", p)
			}
			// Python evaluates the range before the step, so its errors come first.
			if err != nil {
				return nil, err
			}
			return f.stepped(values, step)
		}
	}
	if rest, ok := strings.CutPrefix(p, "*/"); ok {
		step := rest[:wordPrefix(rest)]
		if step == "" {
			return nil, fmt.Errorf("%q has no step after \"/\"", p)
		}
		return f.stepped(f.all(), step)
	}
	if p == "*" {
		return f.all(), nil
	}
	v, err := f.expandNumber(p)
	if err != nil {
		return nil, err
	}
	return []int{v}, nil
}

// all is the expansion of "*".
func (f fieldRange) all() []int {
	values := make([]int, 0, f.hi-f.lo+1)
	for v := f.lo; v <= f.hi; v++ {
		values = append(values, v)
	}
	return values
}

// expandRange is Celery's _expand_range: from..to, wrapping past the field's end when
// to < from.
func (f fieldRange) expandRange(fromText, toText string) ([]int, error) {
	from, err := f.expandNumber(fromText)
	if err != nil {
		return nil, err
	}
	to, err := f.expandNumber(toText)
	if err != nil {
		return nil, err
	}
	var values []int
	if to < from {
		for v := from; v <= f.hi; v++ {
			values = append(values, v)
		}
		from = f.lo
	}
	for v := from; v <= to; v++ {
		values = append(values, v)
	}
	return values, nil
}

// stepped is Python's values[::step]: every step-th element, starting with the first.
func (f fieldRange) stepped(values []int, stepText string) ([]int, error) {
	step, ok := pythonInt(stepText)
	if !ok {
		return nil, fmt.Errorf("step %q is not a number", stepText)
	}
	if step <= 0 { // only 0 can reach here: a \w token has no sign
		return nil, fmt.Errorf("step must not be 0")
	}
	var out []int
	for i := int64(0); i < int64(len(values)); i += step {
		out = append(out, values[i])
	}
	return out, nil
}

// expandNumber is Celery's _expand_number: a Python int, else a day name, then
// checked against the field's range.
func (f fieldRange) expandNumber(s string) (int, error) {
	if s[0] == '-' {
		return 0, fmt.Errorf("%q: negative numbers are not allowed", s)
	}
	v, ok := pythonInt(s)
	if !ok {
		d, ok := weekday(s)
		if !ok {
			return 0, fmt.Errorf("%q is neither a number nor a day name", s)
		}
		if d < f.lo || d > f.hi {
			return 0, fmt.Errorf("%q is day %d, out of range %d-%d", s, d, f.lo, f.hi)
		}
		return d, nil
	}
	if v < int64(f.lo) || v > int64(f.hi) {
		return 0, fmt.Errorf("%s is out of range %d-%d", strings.TrimFunc(s, isPythonSpace), f.lo, f.hi)
	}
	return int(v), nil
}

// dayNames are Celery's DAYNAMES, Sunday first, as celery.utils.time.weekday knows
// them.
const dayNames = "sunmontuewedthufrisat"

// weekday is celery.utils.time.weekday: the day whose three-letter name equals the
// first three characters of s, lowercased. Only ASCII letters can lowercase to those
// names (Python's lower() maps no other character onto them), so non-ASCII fails.
func weekday(s string) (int, bool) {
	var abbr [3]byte
	n := 0
	for _, r := range s {
		if n == 3 {
			break
		}
		if r >= utf8.RuneSelf {
			return 0, false
		}
		abbr[n] = byte(unicode.ToLower(r))
		n++
	}
	if n != 3 {
		return 0, false
	}
	for d := 0; d < 7; d++ {
		if dayNames[3*d:3*d+3] == string(abbr[:]) {
			return d, true
		}
	}
	return 0, false
}

// wordPrefix returns the length in bytes of the longest prefix of s made of what
// Python's re calls \w in a str pattern: letters, numbers and "_".
func wordPrefix(s string) int {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)) {
			return i
		}
	}
	return len(s)
}

// maxParsed is where pythonInt stops counting: far beyond every field's range, yet
// far from overflowing when multiplied by 10.
const maxParsed = 1 << 40

// pythonInt is Python's int(s) for a str in base 10, saturated at maxParsed: optional
// surrounding whitespace, an optional sign, decimal digits (any script) with single
// underscores between them.
func pythonInt(s string) (int64, bool) {
	s = strings.TrimFunc(s, isPythonSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	digits, afterDigit := 0, false
	for _, r := range s {
		if r == '_' {
			if !afterDigit {
				return 0, false
			}
			afterDigit = false
			continue
		}
		d, ok := decimalValue(r)
		if !ok {
			return 0, false
		}
		n = min(n*10+int64(d), maxParsed)
		digits++
		afterDigit = true
	}
	if digits == 0 || !afterDigit {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// decimalValue is the value of a decimal digit (Unicode category Nd) of any script.
// Unicode assigns those digits in contiguous runs of ten, 0 to 9, so a digit's value
// is its distance from the start of its run of consecutive Nd characters, modulo 10.
func decimalValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < utf8.RuneSelf || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	n := 0
	for unicode.Is(unicode.Nd, r-rune(n)-1) {
		n++
	}
	return n % 10, true
}

// isPythonSpace is the white space Python's int() strips. It is not str.isspace():
// U+001C..U+001F count as space there but not here. Measured on Python 3.11 over all
// of Unicode, it is exactly Go's unicode.IsSpace.
func isPythonSpace(r rune) bool {
	return unicode.IsSpace(r)
}
