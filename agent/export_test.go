package agent

import "context"

// PushAll exposes pushAll to the tests of package agent_test.
func (a *Agent) PushAll(ctx context.Context) error { return a.pushAll(ctx) }
