package health

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// broker is one Celery transport as the Monitor sees it: it measures, and judge.go
// judges what it measured the same way whatever the transport. Adding a broker is one
// file with a type that satisfies this, and one case in newBroker.
type broker interface {
	// kind is the broker type the report names ("redis").
	kind() string
	// display is the broker's URL without password, for reports and logs.
	display() string
	// secrets are the passwords it connects with, masked in every reason.
	secrets() []string
	// measure looks at the broker once, within timeout and ctx: its round trip, the
	// workers' answers to roundMethods, and the depth of every queue the workers
	// consume plus the known ones. A broker it cannot reach is measurement.err.
	measure(ctx context.Context, timeout time.Duration, known []string) celeryMeasurement
	// close releases its connections. measure is not called afterwards.
	close()
}

// newBroker picks the transport of CELERY_BROKER_URL by its scheme. A scheme no
// transport speaks is not an error: celery is then not_configured, for the reason why.
// A failover list ("url1;url2") is read as its first URL.
func newBroker(rawURL string, cfg Config) (b broker, why string, err error) {
	first, _, _ := strings.Cut(strings.TrimSpace(rawURL), ";")
	switch scheme := schemeOf(first); {
	case first == "":
		return nil, "", nil
	case isRedisScheme(scheme):
		ep, err := parseRedisURL(first)
		if err != nil {
			return nil, "", fmt.Errorf("broker url: %w", err)
		}
		return newRedisBroker(ep, cfg), "", nil
	default:
		return nil, "only Redis brokers are supported", nil
	}
}
