package errclass

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// maskFragments are the pieces Mask's scanners react to. Byte-level fuzzing rarely puts
// several of them together; random sentences of them do.
var maskFragments = []string{
	"token", "key", "password", "Authorization", "x-api-key", "apiKey", "monkey", "user",
	"=", ":", ": ", " = ", "=>", "'", "\"", `\"`, `\`, "b'", "f\"", "&", ";", ",", "(", ")",
	"{", "}", "[", "]", "<", ">", "@", "/", "?", "#", ".", "-", "_", "*", "**", "***",
	"://", "https://", "redis://:", "u:", " ", "  ", "\t", "\n", "\r\n",
	"Bearer ", "bearer", "Basic ", "Token ", "dXNlcjpwYXNz", "abc123", "x", "9", "é", "\xff",
	"ghp_", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6", "AKIAIOSFODNN7EXAMPLE", "AIza", "sk-",
	"eyJhbGciOi12345678.eyJzdWIiOi12345678.sig", "pat-na1-12345678-abcd-4ef0-9abc-0123456789ab",
	"-----BEGIN PRIVATE KEY-----", "-----BEGIN ", "PRIVATE KEY-----", "-----END PRIVATE KEY-----", "-----END ",
	"null", "None", "xoxb-1234567890", "sk_live_abcdefghijklmnop",
}

func randomMaskText(r *rand.Rand) string {
	var b strings.Builder
	n := 1 + r.IntN(40)
	for range n {
		b.WriteString(maskFragments[r.IntN(len(maskFragments))])
	}
	return b.String()
}

func TestMaskInvariantsOnGeneratedText(t *testing.T) {
	t.Parallel()
	// ERRCLASS_GENERATED=n,seed runs longer or other series by hand.
	n, seed := 20000, uint64(1)
	if s := os.Getenv("ERRCLASS_GENERATED"); s != "" {
		f := strings.SplitN(s+",1", ",", 3)
		n, _ = strconv.Atoi(f[0])
		seed, _ = strconv.ParseUint(f[1], 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	for range n {
		text := randomMaskText(r)
		checkMaskInvariants(t, text)
		half := len(text) / 2
		planted := text[:half] + "\nGET https://x.example/v1?access_token=PLANTED9secret&page=2\n" + text[half:]
		if out := checkMaskInvariants(t, planted); strings.Contains(out, "PLANTED9secret") {
			t.Fatalf("Mask(%q) = %q, still holds the planted secret", planted, out)
		}
	}
}
