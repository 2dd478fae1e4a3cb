package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// EndpointConfig names one optional HTTP check, for example a CRM's API.
type EndpointConfig struct {
	// Name is shown on the page ("HubSpot API").
	Name string
	// URL is fetched with GET. Credentials in it are never shown: the report carries
	// only its scheme, host and path.
	URL string
	// ExpectedStatus is the HTTP status that means healthy; 0 means 200.
	ExpectedStatus int
}

// EndpointReport is the result of one HTTP check.
type EndpointReport struct {
	Check
	Name string `json:"name"`
	// URL is the checked URL without user information or query.
	URL            string `json:"url"`
	ExpectedStatus int    `json:"expected_status"`
	// StatusCode is the status the endpoint answered; null when it did not answer.
	StatusCode     *int     `json:"status_code"`
	ResponseTimeMS *float64 `json:"response_time_ms"`
}

// maxBodyRead bounds how much of a response body is read before closing it, so a
// connection can be reused without reading a large answer.
const maxBodyRead = 64 << 10

// endpointChecker checks one HTTP endpoint.
type endpointChecker struct {
	cfg     EndpointConfig
	display string
	secrets []string // the URL's password and query values, masked in error text
	client  *http.Client
	timeout time.Duration
}

func newEndpointChecker(cfg EndpointConfig, timeout time.Duration) (*endpointChecker, error) {
	if strings.TrimSpace(cfg.Name) == "" {
		return nil, errors.New("endpoint without a name")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		err = withoutURL(err)
		return nil, fmt.Errorf("endpoint %q: invalid URL: %s", cfg.Name, errclass.Mask(err.Error()))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL", cfg.Name)
	}
	if cfg.ExpectedStatus == 0 {
		cfg.ExpectedStatus = http.StatusOK
	}
	if cfg.ExpectedStatus < 100 || cfg.ExpectedStatus > 599 {
		return nil, fmt.Errorf("endpoint %q: expected status %d is not an HTTP status", cfg.Name, cfg.ExpectedStatus)
	}
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p)
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			secrets = append(secrets, v) // errclass.MaskKnown ignores values too short to mask safely
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 1
	return &endpointChecker{
		cfg:     cfg,
		display: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(),
		secrets: secrets,
		timeout: timeout,
		client: &http.Client{
			Transport: transport,
			// The answer of the URL itself is what is checked, not of where it leads.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// check fetches the URL once under ctx.
func (c *endpointChecker) check(ctx context.Context) EndpointReport {
	rep := EndpointReport{Name: c.cfg.Name, URL: c.display, ExpectedStatus: c.cfg.ExpectedStatus}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.URL, nil)
	if err != nil {
		rep.Status, rep.Error = StatusUnhealthy, "invalid request"
		return rep
	}
	req.Header.Set("User-Agent", "syncwatch-health")
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		err = withoutURL(err)
		rep.Status, rep.Error = StatusUnhealthy, reason(fmt.Errorf("request: %w", err), c.timeout, c.secrets...)
		return rep
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyRead)
	_ = resp.Body.Close()
	elapsed := time.Since(start)
	rep.StatusCode = ptr(resp.StatusCode)
	rep.ResponseTimeMS = ptr(millis(elapsed))
	switch {
	case resp.StatusCode != c.cfg.ExpectedStatus:
		rep.Status = StatusUnhealthy
		rep.Error = fmt.Sprintf("got status %d, want %d", resp.StatusCode, c.cfg.ExpectedStatus)
	case elapsed > c.timeout/2:
		rep.Status = StatusDegraded
		rep.Warnings = append(rep.Warnings, slowWarning(c.cfg.Name, elapsed, c.timeout))
	default:
		rep.Status = StatusHealthy
	}
	return rep
}

func (c *endpointChecker) close() { c.client.CloseIdleConnections() }
