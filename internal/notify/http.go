package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// HTTPClient is the client of the HTTP channels: redirects are not followed (a POST
// redirected becomes a GET, which delivers nothing), and each request is bounded by the
// context its Send was given.
func HTTPClient() *http.Client {
	return &http.Client{
		// A transport of its own, whose idle connections Close releases.
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// postJSON POSTs body as JSON to rawURL and reads the answer; any status other than 2xx
// is an error that says the status and the start of the body, masked. Errors name the
// receiver by target, never by its URL, which may hold a secret.
func postJSON(ctx context.Context, client *http.Client, rawURL, target string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", target, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: bad URL", target)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "syncwatch")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, secret and all
		}
		if errors.Is(err, io.EOF) {
			err = errors.New("the receiver closed the connection")
		}
		return fmt.Errorf("%s: %s", target, errclass.Mask(err.Error()))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	if resp.StatusCode/100 != 2 {
		text := strings.TrimSpace(strings.ToValidUTF8(string(head), "\uFFFD"))
		if len(text) > 200 {
			cut := 200
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut] + "…"
		}
		if text != "" {
			text = ": " + errclass.Mask(text)
		}
		return fmt.Errorf("%s: HTTP %s%s", target, resp.Status, text)
	}
	return nil
}

// urlTarget describes a URL without its secrets: scheme and host only (a webhook's path
// and query are often its credentials, as Slack's are).
func urlTarget(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// digest is a short stable name for a secret: the first 8 hexadecimal digits of its
// SHA-256.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// CheckURL reports a URL a channel cannot post to: it must be absolute http or https.
func CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http:// or https:// URL")
	}
	return nil
}
