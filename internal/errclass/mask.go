package errclass

import (
	"cmp"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Mask returns text with the values of secrets replaced by "***", keeping the names, so
// that an error message stays readable but carries no API key, token or password. The
// rules are described in the package documentation. Mask never lengthens text, is
// idempotent (Mask(Mask(s)) == Mask(s)), keeps valid UTF-8 valid (it cuts only beside
// ASCII bytes and writes only ASCII), leaves invalid UTF-8 as it finds it, and runs in
// time linear in the length of text. It does not escape HTML: that is the job of whoever
// writes the text into a page.
func Mask(text string) string {
	var spans []secret
	spans = keyValueSpans(text, spans)
	spans = userinfoSpans(text, spans)
	spans = tokenSpans(text, spans)
	spans = authSchemeSpans(text, spans)
	spans = privateKeySpans(text, spans)
	if len(spans) == 0 {
		return text
	}
	// Where detections overlap, the one that starts first (the longest, at equal starts)
	// is masked whole and the next is masked from where the first ends, past the first's
	// guard: the byte or marker that ends a secret (a closing quote, the end of a line, an
	// '@', "-----END ") must survive, or a second Mask would find the secret's end
	// elsewhere.
	slices.SortFunc(spans, func(a, b secret) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(b.end, a.end)
	})
	var b strings.Builder
	b.Grow(len(text))
	last, blocked := 0, 0
	for _, s := range spans {
		start := max(s.start, blocked)
		if start >= s.end {
			continue
		}
		b.WriteString(text[last:start])
		b.WriteString(stars(text[start:s.end]))
		last = s.end
		blocked = s.end + s.guard
	}
	b.WriteString(text[last:])
	return b.String()
}

// secret is a byte range [start, end) of a text to mask, and the number of guard bytes
// after it that no other secret may mask: the ASCII marker that ends it, which a second
// Mask must find again.
type secret struct{ start, end, guard int }

const maskText = "***"

// stars is the replacement of a secret value: "***", or one star per byte when the value
// is shorter, so that masking never lengthens a text however many secrets it holds. A
// value that is only stars is already masked and stays as it is.
func stars(v string) string {
	if strings.Trim(v, "*") == "" {
		return v
	}
	if len(v) < len(maskText) {
		return maskText[:len(v)]
	}
	return maskText
}

// MaskKnown is Mask that also hides every occurrence of the known secrets, for a caller
// that holds the password it used, so that a library's error quoting it verbatim, with no
// name or URL around it, is masked too. A known secret shorter than minKnownLen bytes is
// hidden only where Mask's own rules find it: replacing every "pw" or "a" of a text
// would leave nothing readable. The known secrets are replaced first and Mask runs on the
// result, so a value that the replacement joins to a secret name ("hapi" + secret +
// "key=…") is masked too. Mask's promises hold for MaskKnown, idempotence included for
// known secrets that contain no '*' (neither step can make such a secret appear).
func MaskKnown(text string, known ...string) string {
	return Mask(replaceKnown(text, known))
}

// minKnownLen is the length below which MaskKnown ignores a known secret.
const minKnownLen = 4

// replaceKnown replaces every occurrence of the known secrets of at least minKnownLen
// bytes with stars. An occurrence that would cut a character of the text (a secret of raw
// bytes matching inside a multi-byte character) is left to Mask's rules.
func replaceKnown(text string, known []string) string {
	for _, k := range known {
		if len(k) < minKnownLen || strings.Trim(k, "*") == "" {
			continue
		}
		var b strings.Builder
		last := 0
		for from := 0; ; {
			i := strings.Index(text[from:], k)
			if i < 0 {
				break
			}
			i += from
			end := i + len(k)
			from = i + 1
			if !utf8.RuneStart(text[i]) || (end < len(text) && !utf8.RuneStart(text[end])) {
				continue
			}
			b.WriteString(text[last:i])
			b.WriteString(maskText)
			last, from = end, end
		}
		if last > 0 {
			b.WriteString(text[last:])
			text = b.String()
		}
	}
	return text
}

// isValueEnd reports whether c ends an unquoted value: white space and control
// characters, the separators of query strings and lists, quotes and brackets. Names are
// made of letters, digits, '_', '-' and '.', none of which ends a value, so a masked value
// is never followed directly by a name character.
func isValueEnd(c byte) bool {
	if c <= ' ' || c == 0x7f {
		return true
	}
	switch c {
	case '&', ';', ',', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}', '|', '\\':
		return true
	}
	return false
}

func isNameByte(c byte) bool {
	return isWordByte(c) || c == '_' || c == '-' || c == '.'
}

const maxNameLen = 64

// keyValueSpans finds the values of secret names written as name=value, name: value,
// "name": "value", 'name': 'value' or \"name\": \"value\", in URLs' query strings, headers,
// JSON, Python reprs and prose alike. Every candidate is reported, even inside another
// one's value: Mask's merge decides which win, and a candidate skipped here could be the
// one left once another detection takes precedence.
func keyValueSpans(text string, spans []secret) []secret {
	var ends valueEnds
	for i := 0; i < len(text); {
		j := strings.IndexAny(text[i:], "=:")
		if j < 0 {
			break
		}
		sep := i + j
		i = sep + 1
		name, spacedName, ok := nameBefore(text, sep)
		if !ok || !secretName(name) {
			continue
		}
		if s, ok := valueAfter(text, sep, spacedName, &ends); ok {
			spans = append(spans, s)
		}
	}
	return spans
}

// valueEnds remembers where the last searches for the end of a value stopped, so that a
// text with many secret names (token=token=token=…) is still read in linear time.
type valueEnds struct {
	unquoted, double, single, escaped finder
}

// finder finds the first position at or after start where a predicate holds. It
// remembers its last answer, which stays right for any later start up to it, so a series
// of mostly increasing starts costs one pass over the text.
type finder struct {
	valid    bool
	from, at int
}

func (f *finder) next(text string, start int, is func(text string, i int) bool) int {
	if !f.valid || start < f.from || start > f.at {
		f.valid, f.from, f.at = true, start, start
		for f.at < len(text) && !is(text, f.at) {
			f.at++
		}
	}
	return f.at
}

func endsUnquoted(text string, i int) bool { return isValueEnd(text[i]) }

// The end of a quoted value: its closing quote, unless escaped, or the end of the line.
// (The byte before a value's first byte is its opening quote, so text[i-1] exists.)
func endsDouble(text string, i int) bool {
	return text[i] == '\n' || (text[i] == '"' && text[i-1] != '\\')
}
func endsSingle(text string, i int) bool {
	return text[i] == '\n' || (text[i] == '\'' && text[i-1] != '\\')
}
func endsEscaped(text string, i int) bool {
	return text[i] == '\n' || (text[i] == '\\' && i+1 < len(text) && text[i+1] == '"')
}

// nameBefore returns the name that ends just before the separator at sep, past optional
// blanks and a closing quote (possibly backslash-escaped). spaced says whether blanks
// stood between the name and the separator.
func nameBefore(text string, sep int) (name string, spaced, ok bool) {
	j := sep
	for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	spaced = j < sep
	if j > 0 && (text[j-1] == '"' || text[j-1] == '\'') {
		j--
		if j > 0 && text[j-1] == '\\' {
			j--
		}
	}
	end := j
	for j > 0 && isNameByte(text[j-1]) {
		if end-j == maxNameLen {
			return "", false, false // too long to be a key's name
		}
		j--
	}
	if j == end {
		return "", false, false
	}
	return text[j:end], spaced, true
}

// Secret names, compared after lower-casing and dropping '-', '_' and '.': a name is
// secret when it equals one of secretExact or ends with one of secretSuffixes. So
// "api_key", "X-API-Key", "hapikey", "clientSecret", "refresh_token" and "DB_PASSWORD"
// are secret; "monkey", "tokenizer", "keyboard", "bypass" and "CorrelationId" are not.
// A bare "key" is secret ("?key=…" is Google's API key), but "primary_key" or "sort_key"
// are not: only the kinds of key listed below are.
var (
	secretExact = []string{
		"key", "pass", "sig", "auth", "session", "jwt", "bearer",
	}
	secretSuffixes = []string{
		"token", "secret", "password", "passwd", "pwd", "passphrase", "credential",
		"credentials", "signature", "authorization", "auth", "cookie", "sessionid",
		"apikey", "accesskey", "secretkey", "privatekey", "clientkey", "authkey", "appkey",
		"masterkey", "sessionkey", "signingkey", "subscriptionkey", "encryptionkey",
		"licensekey", "consumerkey", "developerkey", "userkey", "passkey",
	}
)

// secretName reports whether a name (of at most maxNameLen bytes) looks secret. A dotted
// name is also judged by its last part ("params.key").
func secretName(name string) bool {
	if secretSquashed(name) {
		return true
	}
	if dot := strings.LastIndexByte(name, '.'); dot >= 0 {
		return secretSquashed(name[dot+1:])
	}
	return false
}

func secretSquashed(name string) bool {
	var buf [maxNameLen]byte
	n := 0
	for i := 0; i < len(name) && n < len(buf); i++ {
		switch c := name[i]; c {
		case '-', '_', '.':
		default:
			buf[n] = fold(c)
			n++
		}
	}
	sq := string(buf[:n])
	if slices.Contains(secretExact, sq) {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(sq, s) {
			return true
		}
	}
	return false
}

// authSchemes are the words that may precede a credential in an Authorization header's
// value; they are kept, so "Authorization: Bearer ***" still says what kind it was.
var authSchemes = []string{
	"bearer", "basic", "token", "digest", "jwt", "oauth", "apikey", "api-key", "key",
	"hmac", "negotiate", "ntlm", "sso-key", "aws4-hmac-sha256",
}

// valueAfter returns the value that follows the separator at sep. A quoted value runs to
// its closing quote (or the end of the line); an unquoted one to the first isValueEnd
// byte. An unquoted value after "name =" with blanks around the separator is Python code
// in a traceback ("token = self.get_token()"), not a secret, and is left alone.
func valueAfter(text string, sep int, spacedName bool, ends *valueEnds) (secret, bool) {
	k := sep + 1
	if text[sep] == '=' && k < len(text) && text[k] == '>' {
		k++ // Ruby's and PHP's "key" => "value"
	}
	v := k
	for v < len(text) && (text[v] == ' ' || text[v] == '\t') {
		v++
	}
	spaced := spacedName || v > k
	// A string prefix: Python's b'…', f"…", r'…', u'…'.
	if v+1 < len(text) && strings.IndexByte("bBfFrRuU", text[v]) >= 0 && (text[v+1] == '"' || text[v+1] == '\'') {
		v++
	}
	if v >= len(text) {
		return secret{}, false
	}
	var quoteLen int
	var f *finder
	var is func(string, int) bool
	switch {
	case text[v] == '"':
		quoteLen, f, is = 1, &ends.double, endsDouble
	case text[v] == '\'':
		quoteLen, f, is = 1, &ends.single, endsSingle
	case text[v] == '\\' && v+1 < len(text) && text[v+1] == '"':
		quoteLen, f, is = 2, &ends.escaped, endsEscaped
	}
	if quoteLen > 0 {
		start := v + quoteLen
		end := f.next(text, start, is)
		start = skipScheme(text, start, end, true)
		if start >= end || isLiteral(text[start:end]) {
			return secret{}, false
		}
		guard := quoteLen
		if end < len(text) && text[end] == '\n' {
			guard = 1
		}
		return secret{start: start, end: end, guard: guard}, true
	}
	if text[sep] == '=' && spaced {
		return secret{}, false
	}
	start := skipScheme(text, v, len(text), false)
	end := ends.unquoted.next(text, start, endsUnquoted)
	if end == start || isLiteral(text[start:end]) {
		return secret{}, false
	}
	return secret{start: start, end: end, guard: 1}, true
}

// skipScheme returns where the credential starts when the value at [start, limit) begins
// with an authorization scheme word and blanks ("Bearer abc" → "abc"); else start. A
// scheme word with nothing after it is not skipped. In a quoted value the credential is
// the rest of the quotes, whatever it starts with (f"Bearer {token}").
func skipScheme(text string, start, limit int, quoted bool) int {
	w := start
	for w < limit && (isWordByte(text[w]) || text[w] == '-') {
		w++
	}
	if w == start || w >= limit || (text[w] != ' ' && text[w] != '\t') {
		return start
	}
	word := text[start:w]
	if !slices.ContainsFunc(authSchemes, func(s string) bool { return strings.EqualFold(s, word) }) {
		return start
	}
	c := w
	for c < limit && (text[c] == ' ' || text[c] == '\t') {
		c++
	}
	if c >= limit || (!quoted && isValueEnd(text[c])) {
		return start
	}
	return c
}

// isLiteral reports whether a value is a JSON or Python literal that holds no secret.
func isLiteral(v string) bool {
	for _, l := range []string{"null", "true", "false", "none", "nil"} {
		if strings.EqualFold(v, l) {
			return true
		}
	}
	return false
}

// isAuthorityEnd reports whether c ends the authority of a URL (user:password@host:port)
// as Mask reads it: where a value ends, or at the start of the path, query or fragment.
func isAuthorityEnd(c byte) bool {
	return isValueEnd(c) || c == '/' || c == '?' || c == '#'
}

// userinfoSpans finds the passwords of URLs: "postgres://user:secret@host/db",
// "redis://:secret@host". The authority runs from "://" to the path; the password from the
// first ':' to the last '@' in it, so an unescaped '@' in the password is covered too.
func userinfoSpans(text string, spans []secret) []secret {
	for from := 0; ; {
		i := strings.Index(text[from:], "://")
		if i < 0 {
			break
		}
		a := from + i + 3
		b, at := a, -1
		for b < len(text) && !isAuthorityEnd(text[b]) {
			if text[b] == '@' {
				at = b
			}
			b++
		}
		if at >= 0 {
			if colon := strings.IndexByte(text[a:at], ':'); colon >= 0 && a+colon+1 < at {
				spans = append(spans, secret{start: a + colon + 1, end: at, guard: 1})
			}
		}
		from = max(b, a)
	}
	return spans
}

// tokenShape is a kind of credential recognisable without a name before it, by a prefix
// its issuer puts on every token. keep bytes of the prefix stay visible.
type tokenShape struct {
	prefix string
	keep   int
	shape  *regexp.Regexp // matched at the start of the token's run of characters
}

// tokenShapes are the bare credentials Mask recognises. Only formats with a fixed prefix
// are here: a long random-looking string without one may as well be a record id, a
// CorrelationId, a UUID, a hash or a pagination cursor, which must stay readable.
var tokenShapes = func() []tokenShape {
	var shapes []tokenShape
	add := func(prefixes []string, keep int, shape string) {
		re := regexp.MustCompile(shape)
		for _, p := range prefixes {
			shapes = append(shapes, tokenShape{prefix: p, keep: keep, shape: re})
		}
	}
	// GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
	add([]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, 4, `^gh[pousr]_[A-Za-z0-9]{30}`)
	add([]string{"github_pat_"}, 11, `^github_pat_[A-Za-z0-9_]{40}`)
	// GitLab personal access tokens.
	add([]string{"glpat-"}, 6, `^glpat-[A-Za-z0-9_-]{20}`)
	// Slack bot, user, app and refresh tokens.
	add([]string{"xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxr-", "xoxs-"}, 5, `^xox[abeprs]-[A-Za-z0-9-]{10}`)
	// AWS access key ids, exactly 20 characters.
	add([]string{"AKIA", "ASIA"}, 4, `^A[KS]IA[A-Z0-9]{16}(?:[^A-Za-z0-9]|$)`)
	// Google API keys.
	add([]string{"AIza"}, 4, `^AIza[A-Za-z0-9_-]{35}`)
	// Stripe secret and restricted keys.
	add([]string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"}, 8, `^[rs]k_(?:live|test)_[A-Za-z0-9]{16}`)
	// OpenAI-style secret keys.
	add([]string{"sk-"}, 3, `^sk-[A-Za-z0-9_-]{32}`)
	// HubSpot private app tokens: pat-na1-<uuid>.
	add([]string{"pat-"}, 4, `^pat-[a-z]{2}[0-9]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	// JSON Web Tokens: base64url of '{"' starts both header and payload.
	add([]string{"eyJ"}, 3, `^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)
	return shapes
}()

// isTokenByte is the alphabet of a bare token's run: every name byte, so that a masked
// token is never followed directly by a name byte.
func isTokenByte(c byte) bool { return isNameByte(c) }

// tokenSpans finds bare credentials of the tokenShapes and masks each whole run of token
// characters after the kept prefix.
func tokenSpans(text string, spans []secret) []secret {
	for _, ts := range tokenShapes {
		for from := 0; ; {
			i := strings.Index(text[from:], ts.prefix)
			if i < 0 {
				break
			}
			i += from
			end := i
			for end < len(text) && isTokenByte(text[end]) {
				end++
			}
			from = max(end, i+1)
			if i > 0 && isTokenByte(text[i-1]) {
				continue // inside a longer word: "task-…" is not "sk-…"
			}
			if ts.shape.MatchString(text[i:end]) {
				spans = append(spans, secret{start: i + ts.keep, end: end})
			}
		}
	}
	return spans
}

// authSchemeSpans finds credentials after "Bearer" or "Basic" where no header name
// precedes them. The credential runs to the end of the word, where an unquoted value
// ends (isValueEnd): masking never adds or removes such a byte, so a second Mask reads the
// same extent. After "Bearer", a word of at least 8 bytes counts only if it holds a digit
// or punctuation ("Bearer authentication" stays); after "Basic", only base64 that decodes
// to user:password does.
func authSchemeSpans(text string, spans []secret) []secret {
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "Basic", "basic", "BASIC"} {
		basic := strings.EqualFold(scheme, "basic")
		for from := 0; ; {
			i := strings.Index(text[from:], scheme)
			if i < 0 {
				break
			}
			i += from
			from = i + len(scheme)
			if i > 0 && isNameByte(text[i-1]) {
				continue
			}
			start := from
			for start < len(text) && (text[start] == ' ' || text[start] == '\t') {
				start++
			}
			if start == from {
				continue
			}
			end := start
			for end < len(text) && !isValueEnd(text[end]) {
				end++
			}
			cred := text[start:end]
			if len(cred) < 8 {
				continue
			}
			if (basic && isBasicCredential(cred)) || (!basic && strings.ContainsAny(cred, "0123456789._~+/=-")) {
				spans = append(spans, secret{start: start, end: end, guard: 1})
			}
		}
	}
	return spans
}

// isBasicCredential reports whether s is base64 of "user:password".
func isBasicCredential(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return strings.IndexByte(string(b), ':') > 0 && !slices.ContainsFunc(b, func(c byte) bool { return c < ' ' || c == 0x7f })
		}
	}
	return false
}

// privateKeySpans finds the bodies of PEM private keys, from the "-----BEGIN … PRIVATE
// KEY-----" line to the "-----END" line, or to the end of a text that was cut. The label
// must be capitals and spaces, as PEM writes it: a looser one could run across other text,
// and a second Mask, reading that text masked, would find a key the first did not. The
// "-----END " marker is guarded, so that no other secret masks it away. Keys inside a
// body are reported too, for the same reason keyValueSpans reports every candidate.
func privateKeySpans(text string, spans []secret) []secret {
	const begin, dashes, end = "-----BEGIN ", "-----", "-----END "
	var endAt finder
	for from := 0; ; {
		i := strings.Index(text[from:], begin)
		if i < 0 {
			break
		}
		i += from + len(begin)
		from = i
		j := i
		for j < len(text) && (text[j] == ' ' || (text[j] >= 'A' && text[j] <= 'Z')) {
			j++
		}
		if !strings.HasSuffix(text[i:j], "PRIVATE KEY") || !strings.HasPrefix(text[j:], dashes) {
			continue
		}
		bodyStart := j + len(dashes)
		bodyEnd := endAt.next(text, bodyStart, func(text string, i int) bool {
			return strings.HasPrefix(text[i:], end)
		})
		if bodyEnd > bodyStart {
			spans = append(spans, secret{start: bodyStart, end: bodyEnd, guard: len(end)})
		}
	}
	return spans
}
