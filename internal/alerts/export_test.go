package alerts

// OnPoll makes the coordinator call f after each poll of the lease, so that a test
// advances its clock only once the previous poll is done. Call it before Run.
func (c *Coordinator) OnPoll(f func()) { c.polled = f }

// OnStep makes the engine call f after each look of an outbox at what its channel is
// owed. Call it before Run.
func (e *Engine) OnStep(f func(channelID string)) { e.stepped = f }

// Share queues st to be written to Redis, as the engine's saves do.
func (c *Coordinator) Share(st State) { c.share(st) }
