package health

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// broker is one Celery transport as the Monitor sees it: it measures, and judge.go
// judges what it measured the same way whatever the transport. Adding a broker is one
// file with a type that satisfies this, and one case in newBroker.
type broker interface {
	// kind is the broker type the report names: "redis" or "rabbitmq".
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

// brokerSetup is what newBroker prepares for the Monitor.
type brokerSetup struct {
	broker broker // nil: celery is not configured
	// why says why celery is not configured, when the scheme has no transport.
	why string
	// rabbitmq checks the broker card of a RabbitMQ broker; nil for the others, whose
	// card (the redis section) has its own URL.
	rabbitmq *rabbitmqChecker
}

// newBroker picks the transport of CELERY_BROKER_URL by its scheme. A scheme no
// transport speaks is not an error: celery is then not_configured, for the reason why.
// A failover list ("url1;url2") is read as its first URL.
func newBroker(cfg Config) (brokerSetup, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(cfg.BrokerURL), ";")
	mgmtURL := strings.TrimSpace(cfg.RabbitMQManagementURL)
	scheme := schemeOf(first)
	if mgmtURL != "" && !isAMQPScheme(scheme) {
		return brokerSetup{}, errors.New("a RabbitMQ management URL needs an AMQP broker URL (amqp://, amqps://, pyamqp://)")
	}
	switch {
	case first == "":
		return brokerSetup{}, nil
	case isRedisScheme(scheme):
		ep, err := parseRedisURL(first)
		if err != nil {
			return brokerSetup{}, fmt.Errorf("broker url: %w", err)
		}
		return brokerSetup{broker: newRedisBroker(ep, cfg)}, nil
	case isAMQPScheme(scheme):
		ep, err := parseAMQPURL(first)
		if err != nil {
			return brokerSetup{}, fmt.Errorf("broker url: %w", err)
		}
		var mgmt *managementClient
		if mgmtURL != "" {
			if mgmt, err = newManagementClient(mgmtURL, ep); err != nil {
				return brokerSetup{}, err
			}
		}
		conn := newAMQPConn(ep, cfg.Timeout)
		return brokerSetup{
			broker: &amqpBroker{conn: conn, mgmt: mgmt, ep: ep},
			rabbitmq: &rabbitmqChecker{conn: conn, mgmt: mgmt, display: ep.Display,
				secrets: secretsOf(ep, mgmt), timeout: cfg.Timeout},
		}, nil
	default:
		return brokerSetup{why: "only Redis and RabbitMQ (AMQP) brokers are supported"}, nil
	}
}

// secretsOf lists the passwords masked in an AMQP broker's reasons: the ones the URLs
// give. Not kombu's default guest when the broker URL gives none: it is no secret, and
// masking it would turn `user "guest"` into `user "***"`. Nor a password equal to a name
// the reasons show (the user's, the vhost's): masking it would hide the name, which
// says the password anyway. A URL's userinfo is masked by errclass.Mask regardless.
func secretsOf(ep amqpEndpoint, mgmt *managementClient) []string {
	var out []string
	if ep.HasPassword && ep.Password != ep.Username && ep.Password != ep.Vhost {
		out = append(out, ep.Password)
	}
	if mgmt != nil && mgmt.hasPassword && mgmt.password != mgmt.user && mgmt.password != mgmt.vhost {
		out = append(out, mgmt.password)
	}
	return out
}
