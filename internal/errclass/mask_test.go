package errclass

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		// URL query strings.
		{"HubSpot's legacy hapikey in a URL is masked",
			"429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=4f6a1b2c-9d8e-4f00-a1b2-c3d4e5f60718&limit=100",
			"429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=***&limit=100"},
		{"an api_key first in a query string is masked and the path kept",
			"Max retries exceeded with url: /v1/leads?api_key=sr_live_abcdef123456 (Caused by NewConnectionError('x'))",
			"Max retries exceeded with url: /v1/leads?api_key=*** (Caused by NewConnectionError('x'))"},
		{"every secret-looking parameter is masked, case-insensitively",
			"https://x.example/a?apikey=aaaa&KEY=bbbb&token=cccc&Access_Token=dddd&refresh_token=eeee&auth=ffff&password=gggg&pass=hhhh&pwd=iiii&secret=jjjj&client_secret=kkkk&signature=llll&sig=mmmm&x-api-key=nnnn&X-Amz-Signature=oooo&page=2",
			"https://x.example/a?apikey=***&KEY=***&token=***&Access_Token=***&refresh_token=***&auth=***&password=***&pass=***&pwd=***&secret=***&client_secret=***&signature=***&sig=***&x-api-key=***&X-Amz-Signature=***&page=2"},
		{"a value ends at a fragment separator or a quote",
			`<a href="https://x.example/cb?access_token=abc123&state=9">`,
			`<a href="https://x.example/cb?access_token=***&state=9">`},

		// URL passwords.
		{"a URL's password is masked and its user kept",
			"could not open https://user:s3cr3t-pw@host.example/path",
			"could not open https://user:***@host.example/path"},
		{"a Redis URL with only a password is masked",
			"Error connecting to redis://:hunter2hunter2@redis.internal:6379/0.",
			"Error connecting to redis://:***@redis.internal:6379/0."},
		{"a short password becomes as many stars, so the text does not grow",
			"postgres://u:p@h/db",
			"postgres://u:*@h/db"},
		{"an unescaped @ in a password is masked too",
			"postgres://sync:p@ss@warehouse:5432/dw",
			"postgres://sync:***@warehouse:5432/dw"},
		{"a URL without a password is unchanged",
			"git clone https://git@github.com/org/repo.git",
			"git clone https://git@github.com/org/repo.git"},

		// name=value and name: value outside URLs.
		{"key=value in a libpq connection string is masked",
			"connection failed: host=warehouse port=5432 user=sync password=Tr0ub4dor&3 dbname=dw",
			"connection failed: host=warehouse port=5432 user=sync password=***&3 dbname=dw"},
		{"an environment variable assignment is masked",
			"SALESRABBIT_API_KEY=abc123def456 is invalid",
			"SALESRABBIT_API_KEY=*** is invalid"},
		{"key: value is masked",
			"client_secret: 9f8e7d6c5b4a and client_id: 1234",
			"client_secret: *** and client_id: 1234"},
		{"a CLI flag is masked",
			"five9-cli --password=hunter22 --user=ops",
			"five9-cli --password=*** --user=ops"},

		// JSON and Python reprs.
		{"a JSON string value is masked whole, spaces included",
			`{"api_key": "abc 123 def", "limit": 100, "apiKey":"x9y8z7"}`,
			`{"api_key": "***", "limit": 100, "apiKey":"***"}`},
		{"a JSON number is masked and null kept",
			`{"pin": 1, "token": 123456, "refresh_token": null}`,
			`{"pin": 1, "token": ***, "refresh_token": null}`},
		{"a Python dict repr is masked",
			`headers={'Authorization': 'Bearer abc.def.ghi', 'X-Api-Key': 'k-123456'}`,
			`headers={'Authorization': 'Bearer ***', 'X-Api-Key': '***'}`},
		{"JSON inside a string with escaped quotes is masked",
			`body="{\"password\": \"p4ss w0rd\", \"user\": \"ops\"}"`,
			`body="{\"password\": \"***\", \"user\": \"ops\"}"`},
		{"an escaped quote inside a value does not end it",
			`{"secret": "ab\"cd", "n": 1}`,
			`{"secret": "***", "n": 1}`},
		{"Python bytes and f-strings are masked inside their quotes",
			`token=b'abcdef' auth=f"Bearer {self.token}"`,
			`token=b'***' auth=f"Bearer ***"`},

		// Headers.
		{"a bearer token in a header keeps its scheme",
			"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
			"Authorization: Bearer ***"},
		{"a basic credential in a header keeps its scheme",
			"authorization: Basic dXNlcjpwYXNzd29yZA==",
			"authorization: Basic ***"},
		{"a token scheme in a header keeps its scheme",
			"Authorization: Token token=abcdef123",
			"Authorization: Token ***"},
		{"an API key header is masked",
			"X-API-Key: 0123456789abcdef\nAccept: application/json",
			"X-API-Key: ***\nAccept: application/json"},
		{"a cookie header is masked",
			"Cookie: sessionid=abc123; csrftoken=def456",
			"Cookie: ***; csrftoken=***"},
		{"a bearer token outside a header is masked",
			"curl -H 'Accept: */*' https://x.example -d 'Bearer abc123xyz789'",
			"curl -H 'Accept: */*' https://x.example -d 'Bearer ***'"},
		{"a basic credential outside a header is masked",
			"sent Basic dXNlcjpwYXNzd29yZA== to the proxy",
			"sent Basic *** to the proxy"},

		// Bare tokens with a known prefix.
		{"a GitHub token is masked after its prefix",
			"push failed with ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 for repo",
			"push failed with ghp_*** for repo"},
		{"an AWS access key id is masked after its prefix",
			"The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE.",
			"The security token included in the request is invalid: AKIA***"},
		{"a HubSpot private app token is masked after its prefix",
			"using pat-na1-12345678-abcd-4ef0-9abc-0123456789ab failed",
			"using pat-*** failed"},
		{"a JWT is masked after its prefix",
			"token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rejected",
			"token eyJ*** rejected"},
		{"a PEM private key's body is masked",
			"bad PEM: -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1\nabcd\n-----END RSA PRIVATE KEY-----\nend",
			"bad PEM: -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\nend"},

		// Ordinary text stays.
		{"words that contain secret names are not secret",
			"tokenizer=3 monkey=3 keyboard: qwerty bypass=1 primary_key=42 author=ann signal=9",
			"tokenizer=3 monkey=3 keyboard: qwerty bypass=1 primary_key=42 author=ann signal=9"},
		{"a CorrelationId is not a secret",
			"Invalid pagination token - CorrelationId: 5b7a1c8e-9d55-4c1e-8f00-0a1b2c3d4e5f",
			"Invalid pagination token - CorrelationId: 5b7a1c8e-9d55-4c1e-8f00-0a1b2c3d4e5f"},
		{"a line of Python code in a traceback is not a secret",
			"    token = self.get_token(refresh=True)\n    password = os.environ['PW']",
			"    token = self.get_token(refresh=True)\n    password = os.environ['PW']"},
		{"prose about tokens is not a secret",
			"Authentication failed - invalid API token; Bearer authentication required",
			"Authentication failed - invalid API token; Bearer authentication required"},
		{"long ids without a credential prefix stay",
			"record 0f8fad5b-d9cb-469f-a165-70867728950e hash 9e107d9d372bb6826bd81d3542a419d6",
			"record 0f8fad5b-d9cb-469f-a165-70867728950e hash 9e107d9d372bb6826bd81d3542a419d6"},
		{"an empty value stays empty",
			"?api_key=&limit=1 password: \n",
			"?api_key=&limit=1 password: \n"},

		// HTML is not this package's business.
		{"HTML is left as it is",
			`<script>alert("x")</script><b>api_key=abc123</b><img src=x onerror=alert(1)>`,
			`<script>alert("x")</script><b>api_key=***</b><img src=x onerror=alert(1)>`},

		// Bytes.
		{"invalid UTF-8 is passed through and a secret made of it masked",
			"api_key=\xff\xfe\xfdabc next \xff",
			"api_key=*** next \xff"},
		{"multi-byte characters around a secret stay whole",
			"clé: «password=pässwörd» — fin",
			"clé: «password=*** — fin"}, // non-ASCII never ends a value: better hide a quote mark than a letter of the secret
		{"a text without secrets is returned as it is", "Sync stopped by user", "Sync stopped by user"},
		{"an empty text is returned as it is", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Mask(tt.text)
			if got != tt.want {
				t.Errorf("Mask(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
			if again := Mask(got); again != got {
				t.Errorf("Mask(Mask(%q)) = %q, want %q (idempotent)", tt.text, again, got)
			}
			if len(got) > len(tt.text) {
				t.Errorf("len(Mask(%q)) = %d, want at most %d", tt.text, len(got), len(tt.text))
			}
			if utf8.ValidString(tt.text) && !utf8.ValidString(got) {
				t.Errorf("Mask(%q) = %q, invalid UTF-8 from valid input", tt.text, got)
			}
		})
	}
}

// bigMessage is a 200 KB traceback with secrets at its start, in its middle and at its end.
func bigMessage() string {
	frame := "  File \"/app/ingestion/sync/hubspot/engine.py\", line 1234, in fetch_page\n    response = self.session.get(url, params={'limit': 100, 'after': cursor}, timeout=30)\n"
	var b strings.Builder
	b.WriteString("GET https://api.hubapi.com/crm/v3/objects/contacts?hapikey=START-SECRET-1&limit=100\nTraceback (most recent call last):\n")
	for b.Len() < 100<<10 {
		b.WriteString(frame)
	}
	b.WriteString("  headers = {'Authorization': 'Bearer MIDDLE-SECRET-2'}\n")
	for b.Len() < 200<<10 {
		b.WriteString(frame)
	}
	b.WriteString("requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.hubapi.com/x?access_token=END-SECRET-3\n")
	return b.String()
}

func TestMaskBigMessage(t *testing.T) {
	t.Parallel()
	msg := bigMessage()
	got := Mask(msg)
	for _, secret := range []string{"START-SECRET-1", "MIDDLE-SECRET-2", "END-SECRET-3"} {
		if strings.Contains(got, secret) {
			t.Errorf("Mask(200 KB message) still contains %q", secret)
		}
	}
	if !strings.Contains(got, "params={'limit': 100, 'after': cursor}, timeout=30)") {
		t.Errorf("Mask(200 KB message) changed the ordinary frames")
	}
	if again := Mask(got); again != got {
		t.Errorf("Mask(Mask(200 KB message)) differs from Mask(200 KB message)")
	}
}

// TestMaskIsLinear guards against inputs that make a scan restart at every separator.
func TestMaskIsLinear(t *testing.T) {
	t.Parallel()
	for _, unit := range []string{"token=", "token:'", "a://", "https://u:", "Bearer ", "-----BEGIN ", "ghp_", `"key": "`, "=:"} {
		msg := strings.Repeat(unit, 200<<10/len(unit))
		got := Mask(msg)
		if len(got) > len(msg) {
			t.Errorf("Mask(%q × n) grew from %d to %d bytes", unit, len(msg), len(got))
		}
	}
}

func BenchmarkMask200KB(b *testing.B) {
	msg := bigMessage()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		Mask(msg)
	}
}

// TestMaskKnown: what health's reasons used to hide with a masker of their own (URL
// passwords, password= pairs, the password a check connected with) MaskKnown hides.
func TestMaskKnown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		known []string
		want  string
	}{
		{"a URL's password, the user kept",
			"dial redis://:pw123@host:6379/0: refused", nil,
			"dial redis://:***@host:6379/0: refused"},
		{"an AMQP URL's password, the user named",
			"amqp://celery:Rabb1t-Pa55@mq:5672/dw: refused", nil,
			"amqp://celery:***@mq:5672/dw: refused"},
		{"a libpq password pair",
			"host=db user=app password=Secr3t dbname=dw", nil,
			"host=db user=app password=*** dbname=dw"},
		{"a known password quoted bare",
			"WRONGPASS for Secr3t-Pa55 (Secr3t-Pa55)", []string{"Secr3t-Pa55"},
			"WRONGPASS for *** (***)"},
		{"a known password inside a word",
			"authXsecretpwX failed", []string{"secretpw"},
			"authX***X failed"},
		{"a known password beside multi-byte text",
			"mot de passe «pässwörd» refusé", []string{"pässwörd"},
			"mot de passe «***» refusé"},
		{"a known secret of raw bytes that would cut a character is left alone",
			"é-abcd", []string{"\xa9-abcd"},
			"é-abcd"},
		{"a known secret shorter than four bytes is left to the other rules",
			"the pw is pw, redis://:pw@h", []string{"pw"},
			"the pw is pw, redis://:**@h"},
		{"a known secret that overlaps a detected one is hidden whole, and the rest of the value",
			"password=abc hunter2xyz", []string{"abc hunter2"},
			"password=***"},
		{"a value the replacement joins to a secret name is masked too",
			"?hapiSecr3t-Pa55key=abc123&limit=1", []string{"Secr3t-Pa55"},
			"?hapi***key=***&limit=1"},
		{"several known secrets", "u1pass and u2pass", []string{"u1pass", "u2pass", ""},
			"*** and ***"},
		{"nothing known, nothing found", "connection refused", []string{"zzzz"}, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := MaskKnown(tt.text, tt.known...)
			if got != tt.want {
				t.Errorf("MaskKnown(%q, %q)\n got %q\nwant %q", tt.text, tt.known, got, tt.want)
			}
			if again := MaskKnown(got, tt.known...); again != got {
				t.Errorf("MaskKnown twice = %q, want %q (idempotent)", again, got)
			}
			if len(got) > len(tt.text) {
				t.Errorf("MaskKnown grew %q to %q", tt.text, got)
			}
			if utf8.ValidString(tt.text) && !utf8.ValidString(got) {
				t.Errorf("MaskKnown(%q) = %q, invalid UTF-8 from valid input", tt.text, got)
			}
		})
	}
}

// TestMaskKnownInvariants plants a known secret into every fuzz seed, at every place a
// seed's bytes allow, and checks that it is gone and Mask's promises hold.
func TestMaskKnownInvariants(t *testing.T) {
	t.Parallel()
	const secret = "Kn0wn-Pässword"
	for _, seed := range fuzzSeeds {
		for i := 0; i <= len(seed); i++ {
			text := seed[:i] + secret + seed[i:]
			out := MaskKnown(text, secret)
			if utf8.ValidString(text) && strings.Contains(out, secret) {
				t.Fatalf("MaskKnown(%q) = %q, still holds the known secret", text, out)
			}
			if len(out) > len(text) {
				t.Fatalf("MaskKnown(%q) = %q, longer than its input", text, out)
			}
			if utf8.ValidString(text) && !utf8.ValidString(out) {
				t.Fatalf("MaskKnown(%q) = %q, invalid UTF-8 from valid input", text, out)
			}
			if again := MaskKnown(out, secret); again != out {
				t.Fatalf("MaskKnown not idempotent:\n text %q\n once %q\ntwice %q", text, out, again)
			}
		}
	}
}
