package main

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// The package's private RabbitMQ node: it takes seconds to boot, so it is started once,
// by the first test that needs it, and stopped by TestMain.
var rabbitNode = struct {
	once sync.Once
	node *servicetest.RabbitMQ
	dir  string
	err  error
}{}

func rabbitMQ(t *testing.T) *servicetest.RabbitMQ {
	t.Helper()
	rabbitNode.once.Do(func() {
		if rabbitNode.dir, rabbitNode.err = os.MkdirTemp("", "syncwatch-rabbitmq-"); rabbitNode.err != nil {
			return
		}
		rabbitNode.node, rabbitNode.err = servicetest.StartRabbitMQServer(rabbitNode.dir, servicetest.RabbitMQOptions{})
	})
	if rabbitNode.err != nil {
		t.Fatalf("a private rabbitmq-server: %v", rabbitNode.err)
	}
	return rabbitNode.node
}

// stopRabbitMQ stops the node if a test started it.
func stopRabbitMQ() {
	if rabbitNode.node != nil {
		rabbitNode.node.Stop()
	}
	if rabbitNode.dir != "" {
		_ = os.RemoveAll(rabbitNode.dir)
	}
}

// TestEndToEndOnRabbitMQ is TestEndToEnd with Celery's most common production broker:
// syncwatch as main starts it, a real PostgreSQL, a private RabbitMQ node and a real
// Celery worker on it (kombu's pyamqp), read through the API, the metrics and Chromium.
// Changing only CELERY_BROKER_URL gives the same health section, metrics and judgement.
func TestEndToEndOnRabbitMQ(t *testing.T) {
	t.Parallel()
	node := rabbitMQ(t)
	brokerURL := node.URL(node.NewVhost(t))
	db := dbWithRows(t)
	const workerName = "e2e-amqp@syncwatch-test"
	workers := servicetest.StartWorkers(t, servicetest.LoggedReady,
		servicetest.WorkerOptions{Broker: brokerURL, Name: workerName})
	// Three tasks wait in the default queue, which no worker consumes here.
	servicetest.SendTasks(t, brokerURL, "", "dw-backlog:3:-1:1")

	s := start(t, map[string]string{
		"DATABASE_URL":                      db.URL,
		"CELERY_BROKER_URL":                 brokerURL,
		"CELERY_TASK_DEFAULT_QUEUE":         "dw-backlog",
		"SYNCWATCH_RABBITMQ_MANAGEMENT_URL": node.ManagementURL(),
	}, "--addr", "127.0.0.1:0", "--refresh", "1s", "--health-interval", "1s",
		"--alert-queue-backlog", "2", "--alert-queue-backlog-for", "1s", "--alert-workers-down-for", "1s")

	type health struct {
		Celery struct {
			Status        string `json:"status"`
			BrokerType    string `json:"broker_type"`
			ActiveWorkers *int   `json:"active_workers"`
			PendingTasks  *int64 `json:"pending_tasks"`
		} `json:"celery"`
		RabbitMQ *struct {
			Status      string `json:"status"`
			Version     string `json:"version"`
			Connections *int64 `json:"connections"`
		} `json:"rabbitmq"`
	}
	var h health
	// The management API's figures lag by its statistics interval (5 s): wait for the
	// connections too.
	eventually(t, 60*time.Second, "Celery and RabbitMQ healthy, with the worker, the backlog and the connections", func() bool {
		_, body, _ := get(t, s.base+"api/system-health/", nil)
		h = health{}
		return json.Unmarshal(body, &h) == nil && h.Celery.Status == "healthy" && h.RabbitMQ != nil &&
			h.RabbitMQ.Status == "healthy" && h.Celery.ActiveWorkers != nil && *h.Celery.ActiveWorkers == 1 &&
			h.Celery.PendingTasks != nil && *h.Celery.PendingTasks == 3 &&
			h.RabbitMQ.Connections != nil && *h.RabbitMQ.Connections >= 2 // syncwatch's and the worker's
	})
	if h.Celery.BrokerType != "rabbitmq" || h.RabbitMQ.Version == "" {
		t.Errorf("broker: %+v %+v, want rabbitmq and its version", h.Celery, *h.RabbitMQ)
	}

	// The same metrics as on Redis.
	_, metrics, _ := get(t, s.base+"metrics", nil)
	for _, want := range []string{
		"syncwatch_celery_workers 1\n",
		`syncwatch_celery_queue_length{queue="dw-backlog"} 3` + "\n",
		`syncwatch_component_up{component="celery"} 1` + "\n",
		`syncwatch_component_up{component="rabbitmq"} 1` + "\n",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}

	// The same alerts: three tasks wait in dw-backlog, above the threshold of two.
	firing := func(name string) bool {
		_, body, _ := get(t, s.base+"api/alerts/", nil)
		var a struct {
			Firing []struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"firing"`
		}
		if json.Unmarshal(body, &a) != nil {
			return false
		}
		for _, f := range a.Firing {
			if f.Name == name && (name != "queue_backlog" || f.Labels["queue"] == "dw-backlog") {
				return true
			}
		}
		return false
	}
	eventually(t, 30*time.Second, "queue_backlog fires for dw-backlog", func() bool { return firing("queue_backlog") })

	// The page shows RabbitMQ's card where Redis's would be.
	b := browsertest.New(t)
	tab := b.NewTab(t)
	tab.Do(t, 20*time.Second, chromedp.Navigate(s.base))
	tab.WaitFor(t, 10*time.Second, `document.body.dataset.state === "ready"`)
	status := func(component string) string {
		return `document.querySelector('#health-tiles [data-component="` + component + `"]')?.dataset.status`
	}
	tab.WaitFor(t, 30*time.Second, status("celery")+` === "healthy" && `+status("rabbitmq")+` === "healthy"`)
	if browsertest.Eval[bool](t, tab, `!!document.querySelector('#health-tiles [data-component="redis"]')`) {
		t.Error("the page shows a Redis card for a RabbitMQ broker without REDIS_URL")
	}
	pill := browsertest.Eval[string](t, tab, `document.querySelector('#health-pills [data-component="rabbitmq"]')?.textContent || ""`)
	if !strings.Contains(pill, "RabbitMQ") {
		t.Errorf("top bar: got %q, want a RabbitMQ pill", pill)
	}

	// The worker dies: Celery turns red, the broker stays green.
	workers[0].Kill()
	tab.WaitFor(t, 30*time.Second, status("celery")+` === "unhealthy"`)
	if st := browsertest.Eval[string](t, tab, status("rabbitmq")); st == "unhealthy" {
		t.Errorf("a dead worker turned the broker red")
	}
	eventually(t, 30*time.Second, "workers_down fires", func() bool { return firing("workers_down") })
	tab.Console.AssertClean(t)
}
