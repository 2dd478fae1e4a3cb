// Command loadtest measures syncwatch's cached path: many clients asking for the API's
// answers as fast as they can, over loopback. It reports requests per second, latency
// percentiles and, given the server's pid, its resident memory.
//
//	go run ./scripts/loadtest -url http://127.0.0.1:8000/ingestion/monitoring/ -c 100 -d 10s -pid 1234
//
// Each client cycles through the page's API paths, as a refresh does.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8000/ingestion/monitoring/", "the base URL of syncwatch")
	clients := flag.Int("c", 100, "concurrent clients")
	duration := flag.Duration("d", 10*time.Second, "how long to load")
	pid := flag.Int("pid", 0, "the server's pid, to report its resident memory")
	paths := flag.String("paths", "api/stats/,api/crm-status/,api/recent-syncs/,api/performance-charts/,api/errors/,api/system-health/",
		"comma-separated paths under the base URL")
	flag.Parse()
	if err := load(*base, strings.Split(*paths, ","), *clients, *duration, *pid, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func load(base string, paths []string, clients int, duration time.Duration, pid int, out io.Writer) error {
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	// Warm up: the first request of each path computes its figures.
	for _, p := range paths {
		if err := fetch(context.Background(), client, base+p); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var mu sync.Mutex
	var latencies []time.Duration
	var failures int
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			bad := 0
			for i := c; ctx.Err() == nil; i++ {
				t := time.Now()
				if err := fetch(ctx, client, base+paths[i%len(paths)]); err != nil {
					if ctx.Err() == nil {
						bad++
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			failures += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Fprintf(out, "clients %d, %v: %d requests, %.0f requests/s, %d failed\n",
		clients, elapsed.Round(time.Millisecond), len(latencies), float64(len(latencies))/elapsed.Seconds(), failures)
	fmt.Fprintf(out, "latency p50 %v  p95 %v  p99 %v  max %v\n",
		pct(0.50).Round(10*time.Microsecond), pct(0.95).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
	if pid > 0 {
		rss, err := residentMemory(pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "server resident memory %.1f MB (peak %.1f MB)\n", rss[0], rss[1])
	}
	if failures > 0 {
		return fmt.Errorf("%d requests failed", failures)
	}
	return nil
}

func fetch(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// residentMemory reads VmRSS and VmHWM (its peak) of a process, in MB.
func residentMemory(pid int) ([2]float64, error) {
	var mem [2]float64
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return mem, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		var kb float64
		if _, err := fmt.Sscanf(line, "VmRSS: %f kB", &kb); err == nil {
			mem[0] = kb / 1024
		}
		if _, err := fmt.Sscanf(line, "VmHWM: %f kB", &kb); err == nil {
			mem[1] = kb / 1024
		}
	}
	return mem, nil
}
