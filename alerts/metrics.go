package alerts

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the alert engine's series.
type metrics struct {
	notifications *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, e *Engine) *metrics {
	m := &metrics{notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vantage_notifications_total",
		Help: "Notification delivery attempts by notifier and result: queued, sent, failed (will retry), given_up.",
	}, []string{"notifier", "result"})}
	for name := range e.o.Notifiers {
		for _, r := range []string{"queued", "sent", "failed", "given_up"} {
			m.notifications.WithLabelValues(name, r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.notifications, &alertCollector{e: e})
	}
	return m
}

func (m *metrics) queued(name string)         { m.notifications.WithLabelValues(name, "queued").Inc() }
func (m *metrics) result(name, result string) { m.notifications.WithLabelValues(name, result).Inc() }

var (
	descAlerts = prometheus.NewDesc("vantage_alerts", "Alerts by rule, severity and state (pending or firing).",
		[]string{"rule", "severity", "state"}, nil)
	descOutbox = prometheus.NewDesc("vantage_notification_outbox_depth", "Notifications waiting for delivery, by notifier.",
		[]string{"notifier"}, nil)
)

// alertCollector reports the alerts and the outbox at scrape time.
type alertCollector struct{ e *Engine }

func (c *alertCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAlerts
	ch <- descOutbox
}

func (c *alertCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ rule, sev, state string }
	counts := map[key]int{}
	for _, r := range c.e.rules { // every rule's series exist, at 0 when nothing fires
		sevs := []Severity{r.Severity}
		if r.SLOBurn {
			sevs = []Severity{SeverityPage, SeverityTicket}
		}
		for _, sev := range sevs {
			counts[key{r.Name, string(sev), statusPending}] = 0
			counts[key{r.Name, string(sev), statusFiring}] = 0
		}
	}
	c.e.mu.Lock()
	for _, a := range c.e.alerts {
		if a.Status == statusPending || a.Status == statusFiring {
			counts[key{a.Rule, string(a.Severity), a.Status}]++
		}
	}
	c.e.mu.Unlock()
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(descAlerts, prometheus.GaugeValue, float64(n), k.rule, k.sev, k.state)
	}
	depth, err := c.e.o.Store.OutboxDepth(context.Background())
	if err != nil {
		return
	}
	for name := range c.e.o.Notifiers {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(depth[name]), name)
	}
}
