package store

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// instruments are the store's metrics. Their attributes are the operation
// (a fixed set) and the outcome: never a key name.
type instruments struct {
	duration  metric.Float64Histogram
	errors    metric.Int64Counter
	fallbacks metric.Int64Counter
	refusals  metric.Int64Counter
	busyLocks metric.Int64Counter
}

func newInstruments(m metric.Meter, s *Redis) (instruments, error) {
	var in instruments
	var err error
	if in.duration, err = m.Float64Histogram("skimmer_mcp.store.operation.duration", metric.WithUnit("s"),
		metric.WithDescription("Time of one shared-store operation, by operation and outcome."),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)); err != nil {
		return in, err
	}
	if in.errors, err = m.Int64Counter("skimmer_mcp.store.errors", metric.WithDescription("Shared-store operations that failed (the store was down, slow or refused), by operation.")); err != nil {
		return in, err
	}
	if in.fallbacks, err = m.Int64Counter("skimmer_mcp.store.fallbacks", metric.WithDescription("Reads served with this replica's own state because the shared store was unreachable, by operation.")); err != nil {
		return in, err
	}
	if in.refusals, err = m.Int64Counter("skimmer_mcp.store.refusals", metric.WithDescription("Guarded writes refused because the shared store was unreachable, by operation.")); err != nil {
		return in, err
	}
	if in.busyLocks, err = m.Int64Counter("skimmer_mcp.store.lock.busy", metric.WithDescription("Record locks not had within the wait: another change held them.")); err != nil {
		return in, err
	}
	_, err = m.Int64ObservableGauge("skimmer_mcp.store.up", metric.WithDescription("1 while the shared store answers, 0 during an outage."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			up := int64(0)
			if s.Up() {
				up = 1
			}
			o.Observe(up)
			return nil
		}))
	return in, err
}

func opAttr(op string) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String("operation", op))
}

func (in instruments) observe(ctx context.Context, op string, d time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
		in.errors.Add(ctx, 1, opAttr(op))
	}
	in.duration.Record(ctx, d.Seconds(), metric.WithAttributes(attribute.String("operation", op), attribute.String("outcome", outcome)))
}

func (in instruments) fallback(ctx context.Context, op string) { in.fallbacks.Add(ctx, 1, opAttr(op)) }
func (in instruments) refuse(ctx context.Context, op string)   { in.refusals.Add(ctx, 1, opAttr(op)) }
func (in instruments) busy(ctx context.Context)                { in.busyLocks.Add(ctx, 1) }
