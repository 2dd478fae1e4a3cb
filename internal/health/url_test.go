package health

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want redisEndpoint
		tls  bool
	}{
		{"redis://localhost:6379/0", redisEndpoint{Network: "tcp", Addr: "localhost:6379", Display: "redis://localhost:6379/0"}, false},
		{"redis://", redisEndpoint{Network: "tcp", Addr: "127.0.0.1:6379", Display: "redis://127.0.0.1:6379/0"}, false},
		{"redis://redis", redisEndpoint{Network: "tcp", Addr: "redis:6379", Display: "redis://redis:6379/0"}, false},
		{"redis://:s3cret@broker.internal:6380/3", redisEndpoint{Network: "tcp", Addr: "broker.internal:6380", Password: "s3cret", DB: 3,
			Display: "redis://:***@broker.internal:6380/3"}, false},
		{"redis://celery:p%40ss@10.0.0.5/2", redisEndpoint{Network: "tcp", Addr: "10.0.0.5:6379", Username: "celery", Password: "p@ss", DB: 2,
			Display: "redis://celery:***@10.0.0.5:6379/2"}, false},
		{"redis://[::1]:7000/1", redisEndpoint{Network: "tcp", Addr: "[::1]:7000", DB: 1, Display: "redis://[::1]:7000/1"}, false},
		{"redis://host?db=4", redisEndpoint{Network: "tcp", Addr: "host:6379", DB: 4, Display: "redis://host:6379/4"}, false},
		{"REDIS://host/5", redisEndpoint{Network: "tcp", Addr: "host:6379", DB: 5, Display: "redis://host:6379/5"}, false},
		{"rediss://:pw@cache.example.com:6380/0?ssl_cert_reqs=required", redisEndpoint{Network: "tcp", Addr: "cache.example.com:6380", Password: "pw",
			Display: "rediss://:***@cache.example.com:6380/0"}, true},
		{"rediss://cache.example.com:6380/0?ssl_cert_reqs=CERT_NONE", redisEndpoint{Network: "tcp", Addr: "cache.example.com:6380",
			Display: "rediss://cache.example.com:6380/0"}, true},
		{"unix:///var/run/redis/redis.sock?db=2", redisEndpoint{Network: "unix", Addr: "/var/run/redis/redis.sock", DB: 2,
			Display: "unix:///var/run/redis/redis.sock?db=2"}, false},
		{"unix://:pw@/tmp/r.sock", redisEndpoint{Network: "unix", Addr: "/tmp/r.sock", Password: "pw", Display: "unix://:***@/tmp/r.sock"}, false},
		{"redis+socket:///tmp/redis.sock", redisEndpoint{Network: "unix", Addr: "/tmp/redis.sock", Display: "redis+socket:///tmp/redis.sock"}, false},
		{"redis+socket:///tmp/redis.sock?virtual_host=7", redisEndpoint{Network: "unix", Addr: "/tmp/redis.sock", DB: 7,
			Display: "redis+socket:///tmp/redis.sock?db=7"}, false},
		{"socket:///tmp/redis.sock?db=1", redisEndpoint{Network: "unix", Addr: "/tmp/redis.sock", DB: 1, Display: "socket:///tmp/redis.sock?db=1"}, false},
		{"unix:///tmp/r.sock?password=qs-secret", redisEndpoint{Network: "unix", Addr: "/tmp/r.sock", Password: "qs-secret",
			Display: "unix://:***@/tmp/r.sock"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := parseRedisURL(tt.url)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if (got.TLS != nil) != tt.tls {
				t.Errorf("TLS: got %v, want %v", got.TLS != nil, tt.tls)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(redisEndpoint{}, "TLS")); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRedisURLErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	const secret = "Hunter2-Secret"
	for _, raw := range []string{
		"redis://:" + secret + "@host:notaport/0",
		"redis://:" + secret + "@host:6379/notadb",
		"redis://:" + secret + "@host:99999/0",
		"redis://user:" + secret + "@ho st:6379/0",
		"redis://:" + secret + "@host%zz/0",
		"rediss://:" + secret + "@host/0?ssl_cert_reqs=maybe",
		"rediss://:" + secret + "@host/0?ssl_ca_certs=/nonexistent/ca.pem",
		"unix://:" + secret + "@",
		"http://:" + secret + "@host/",
		"host:6379",
	} {
		_, err := parseRedisURL(raw)
		if err == nil {
			t.Errorf("%q: got no error, want one", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error %q contains the password", raw, err)
		}
		if _, err := NewMonitor(Config{RedisURL: raw}); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewMonitor(RedisURL: %q): got %v, want an error without the password", raw, err)
		}
	}
}

func TestRedisURLFrom(t *testing.T) {
	t.Parallel()
	tests := []struct{ redisURL, brokerURL, want string }{
		{"redis://cache:6379/1", "redis://broker:6379/0", "redis://cache:6379/1"},
		{"", "redis://:pw@broker:6379/0", "redis://:pw@broker:6379/0"},
		{"", "rediss://broker:6380/0", "rediss://broker:6380/0"},
		{"", "redis+socket:///tmp/r.sock", "redis+socket:///tmp/r.sock"},
		{"", "redis://a:6379/0;redis://b:6379/0", "redis://a:6379/0"},
		{"", "amqp://guest:guest@rabbit:5672//", ""},
		{"", "sentinel://s1:26379;sentinel://s2:26379", ""},
		{"", "", ""},
		{"  ", "  redis://broker/0 ", "redis://broker/0"},
	}
	for _, tt := range tests {
		if got := RedisURLFrom(tt.redisURL, tt.brokerURL); got != tt.want {
			t.Errorf("RedisURLFrom(%q, %q): got %q, want %q", tt.redisURL, tt.brokerURL, got, tt.want)
		}
	}
}

func TestNewMonitorNotConfigured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       Config
		wantError string
	}{
		{"nothing", Config{}, ""},
		{"sentinel broker", Config{BrokerURL: "sentinel://s1:26379;sentinel://s2:26379"}, "only Redis and RabbitMQ (AMQP) brokers are supported"},
		{"sqs broker", Config{BrokerURL: "sqs://guest:guest@sqs/"}, "only Redis and RabbitMQ (AMQP) brokers are supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestMonitor(t, tt.cfg)
			for _, rep := range []Report{m.Report(), m.CheckNow(t.Context())} {
				want := Report{
					Database: DatabaseReport{Check: Check{Status: StatusNotConfigured}},
					Redis:    RedisReport{Check: Check{Status: StatusNotConfigured}},
					Celery:   CeleryReport{Check: Check{Status: StatusNotConfigured, Error: tt.wantError}},
				}
				if diff := cmp.Diff(want, rep); diff != "" {
					t.Errorf("report (-want +got):\n%s", diff)
				}
				if strings.Contains(fmt.Sprint(rep), "guest") {
					t.Errorf("the report shows the broker's credentials: %+v", rep)
				}
			}
		})
	}
}

func TestNewMonitorRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"a negative timeout", Config{Timeout: -time.Second}},
		{"a negative interval", Config{Interval: -time.Second}},
		{"a bad broker URL", Config{BrokerURL: "redis://:pw@host:port/0"}},
		{"a bad AMQP broker URL", Config{BrokerURL: "amqp://u:pw@host:port/"}},
		{"a management URL without an AMQP broker", Config{BrokerURL: "redis://:pw@host/0", RabbitMQManagementURL: "http://guest:pw@host:15672/"}},
		{"a management URL that is not HTTP", Config{BrokerURL: "amqp://u:pw@host/", RabbitMQManagementURL: "ftp://guest:pw@host/"}},
		{"an endpoint without a name", Config{Endpoints: []EndpointConfig{{URL: "https://api.example.com/"}}}},
		{"an endpoint that is not HTTP", Config{Endpoints: []EndpointConfig{{Name: "x", URL: "ftp://example.com/"}}}},
		{"an endpoint with an impossible status", Config{Endpoints: []EndpointConfig{{Name: "x", URL: "https://example.com/", ExpectedStatus: 1000}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMonitor(tt.cfg); err == nil {
				t.Errorf("got no error, want one")
			} else if strings.Contains(err.Error(), ":pw@") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestParseAMQPURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want amqpEndpoint
		tls  bool
	}{
		{"amqp://guest:guest@localhost:5672//", amqpEndpoint{Addr: "localhost:5672", Host: "localhost", Username: "guest", Password: "guest", HasPassword: true,
			Vhost: "/", Display: "amqp://guest:***@localhost:5672//"}, false},
		{"amqp://", amqpEndpoint{Addr: "localhost:5672", Host: "localhost", Username: "guest", Password: "guest", Vhost: "/",
			Display: "amqp://guest@localhost:5672//"}, false},
		{"amqp://rabbit/", amqpEndpoint{Addr: "rabbit:5672", Host: "rabbit", Username: "guest", Password: "guest", Vhost: "/",
			Display: "amqp://guest@rabbit:5672//"}, false},
		{"pyamqp://celery:p%40ss@mq.internal:5673/dw", amqpEndpoint{Addr: "mq.internal:5673", Host: "mq.internal", Username: "celery", Password: "p@ss", HasPassword: true,
			Vhost: "dw", Display: "pyamqp://celery:***@mq.internal:5673/dw"}, false},
		{"librabbitmq://celery@mq/%2F", amqpEndpoint{Addr: "mq:5672", Host: "mq", Username: "celery", Password: "guest", Vhost: "/",
			Display: "librabbitmq://celery@mq:5672//"}, false},
		{"amqp://u:p@[::1]/a%2Fb", amqpEndpoint{Addr: "[::1]:5672", Host: "::1", Username: "u", Password: "p", HasPassword: true, Vhost: "a/b",
			Display: "amqp://u:***@[::1]:5672/a%2Fb"}, false},
		{"AMQP://u:p@h/v", amqpEndpoint{Addr: "h:5672", Host: "h", Username: "u", Password: "p", HasPassword: true, Vhost: "v",
			Display: "amqp://u:***@h:5672/v"}, false},
		{"amqps://u:p@mq.example.com/dw", amqpEndpoint{Addr: "mq.example.com:5671", Host: "mq.example.com", Username: "u", Password: "p", HasPassword: true,
			Vhost: "dw", Display: "amqps://u:***@mq.example.com:5671/dw"}, true},
		{"amqp://u:p@mq:5671/dw?ssl=true", amqpEndpoint{Addr: "mq:5671", Host: "mq", Username: "u", Password: "p", HasPassword: true,
			Vhost: "dw", Display: "amqp://u:***@mq:5671/dw"}, true},
		{"amqp://u:@mq/dw", amqpEndpoint{Addr: "mq:5672", Host: "mq", Username: "u", Password: "", HasPassword: true,
			Vhost: "dw", Display: "amqp://u:***@mq:5672/dw"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := parseAMQPURL(tt.url)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if (got.TLS != nil) != tt.tls {
				t.Errorf("TLS: got %v, want %v", got.TLS != nil, tt.tls)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(amqpEndpoint{}, "TLS")); diff != "" {
				t.Errorf("endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAMQPURLErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	const secret = "Hunter2-Secret"
	for _, raw := range []string{
		"amqp://u:" + secret + "@host:notaport/",
		"amqp://u:" + secret + "@host:0/",
		"amqp://u:" + secret + "@ho st/",
		"amqp://u:" + secret + "@host%zz/",
		"amqp://u:" + secret + "@host/?ssl=maybe",
		"amqps://u:" + secret + "@host/?ssl_ca_certs=/nonexistent/ca.pem",
	} {
		_, err := parseAMQPURL(raw)
		if err == nil {
			t.Errorf("%q: got no error, want one", raw)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error %q contains the password", raw, err)
		}
		if _, err := NewMonitor(Config{BrokerURL: raw}); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("NewMonitor(BrokerURL: %q): got %v, want an error without the password", raw, err)
		}
	}
}
