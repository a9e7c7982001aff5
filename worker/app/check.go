package app

import (
	"context"
	"fmt"

	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/readiness"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/temporalclient"
)

// CheckEnvironment makes the readiness checks in this process, with the
// worker's own configuration and identity (`worker --check`): the payload
// keys, Temporal and its namespace, the AWS and Entra checks, the data
// directory or the S3 store, and the webhook. It changes nothing but for
// the one small document it puts in an S3 store (readiness.CheckStore).
func CheckEnvironment(ctx context.Context, conn temporalclient.Options, keys codec.KeySource, cfg Config, target checks.CheckReadinessInput, logger *zap.Logger) readiness.Report {
	var r readiness.Report
	payloads, err := keys.LoadCodec()
	if err != nil {
		r.Fail(readiness.AreaTemporal, "payload keys", readiness.CodeNotReady, err.Error(),
			"set "+codec.EnvKeys+" or "+codec.EnvKeyFile+" to the namespace's keys; 'starter codec-key' makes one")
	} else {
		r.Pass(readiness.AreaTemporal, "payload keys", "loaded; current key "+payloads.CurrentKeyID())
		conn.Codec = payloads
		checkTemporal(ctx, &r, conn, logger)
		cfg.Sealer = payloads // as the worker seals what it stores
	}

	acts, err := NewActivities(ctx, cfg)
	if err != nil {
		r.Fail(readiness.AreaWorker, "configuration", readiness.CodeNotReady, err.Error(), "fix the worker's configuration")
	} else {
		r.Add(checks.Run(ctx, acts.Checks.AWS, acts.Checks.Graph, target).Checks...)
	}
	switch {
	case !cfg.Store.IsS3():
		r.Add(readiness.CheckDataDir(store.DirIn(cfg.DataDir)))
	case acts.Store != nil && cfg.Sealer != nil:
		r.Add(readiness.CheckStore(ctx, acts.Store, cfg.Store.Location(cfg.DataDir)))
	}
	host := ""
	if cfg.Webhook != nil {
		host = cfg.Webhook.Host()
	}
	r.Add(readiness.CheckWebhook(cfg.Webhook != nil, host, nil))
	return r
}

func checkTemporal(ctx context.Context, r *readiness.Report, conn temporalclient.Options, logger *zap.Logger) {
	c, err := conn.Dial(ctx, logger)
	if err != nil {
		r.Fail(readiness.AreaTemporal, "Temporal server", readiness.CodeNotReady, err.Error(),
			"check TEMPORAL_ADDRESS, the TLS settings or the API key")
		return
	}
	defer c.Close()
	r.Pass(readiness.AreaTemporal, "Temporal server", "reachable: "+conn.String())
	ns := conn.Namespace
	if ns == "" {
		ns = temporalclient.DefaultNamespace
	}
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns}); err != nil {
		r.Fail(readiness.AreaTemporal, "namespace", readiness.CodeNotReady, fmt.Sprintf("%s: %v", ns, err),
			"create the namespace or set TEMPORAL_NAMESPACE")
		return
	}
	r.Pass(readiness.AreaTemporal, "namespace", ns)
}
