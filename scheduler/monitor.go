package scheduler

import (
	"time"

	"github.com/go-co-op/gocron/v2"
)

// monitor receives gocron's scheduler events; the scheduler counts a run
// skipped because the previous run of the same job still runs.
type monitor struct{ s *Scheduler }

func (m monitor) ConcurrencyLimitReached(limitType string, job gocron.Job) {
	if limitType == "singleton" {
		m.s.stats.overruns.Add(1)
		m.s.opts.Logger.Warn("probe skipped: previous run still in progress", "check", job.Name())
	}
}

func (monitor) SchedulerStarted()                                   {}
func (monitor) SchedulerStopped()                                   {}
func (monitor) SchedulerShutdown()                                  {}
func (monitor) JobRegistered(gocron.Job)                            {}
func (monitor) JobUnregistered(gocron.Job)                          {}
func (monitor) JobStarted(gocron.Job)                               {}
func (monitor) JobRunning(gocron.Job)                               {}
func (monitor) JobFailed(gocron.Job, error)                         {}
func (monitor) JobCompleted(gocron.Job)                             {}
func (monitor) JobExecutionTime(gocron.Job, time.Duration)          {}
func (monitor) JobSchedulingDelay(gocron.Job, time.Time, time.Time) {}
