package app

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/platformguide/ssocutover/activities/analysis"
	"github.com/platformguide/ssocutover/activities/checks"
	"github.com/platformguide/ssocutover/activities/entra"
	"github.com/platformguide/ssocutover/activities/identitycenter"
	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/activities/schedules"
	"github.com/platformguide/ssocutover/activities/scim"
	"github.com/platformguide/ssocutover/internal/awsclient"
	"github.com/platformguide/ssocutover/internal/graphclient"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/store/s3store"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/workflows/register"
)

// Activities are the activity structs a worker registers, one per outside
// system plus the analysis and the notifications.
type Activities struct {
	IdentityCenter *identitycenter.Activities
	Entra          *entra.Activities
	SCIM           *scim.Activities
	Analysis       *analysis.Activities
	Notify         *notify.Activities
	// Schedules need the worker's Temporal client, which NewActivities
	// does not have: NewWorker sets them when they are nil.
	Schedules *schedules.Activities
	Checks    *checks.Activities
	Policy    *policy.Activities
	// Store is where the activities keep documents.
	Store store.Store
}

// NewActivities builds the SDK clients from cfg and the activities on them.
// Nothing is called yet: a wrong credential shows in the first activity,
// whose error says what to fix.
func NewActivities(ctx context.Context, cfg Config) (Activities, error) {
	if cfg.DataDir == "" && !cfg.Store.IsS3() {
		return Activities{}, fmt.Errorf("no data directory: set %s or --data-dir", store.EnvDataDir)
	}
	// A policy that does not read stops the worker here, not at a gate.
	if cfg.ApprovalPolicy != "" {
		if _, err := policy.Load(cfg.ApprovalPolicy); err != nil {
			return Activities{}, err
		}
	}

	awsConfig, err := AWSConfig(ctx, cfg)
	if err != nil {
		return Activities{}, err
	}
	st, err := s3store.Open(cfg.Store, cfg.DataDir, awsConfig, cfg.Sealer)
	if err != nil {
		return Activities{}, err
	}

	graph, err := graphclient.New(cfg.Graph)
	if err != nil {
		return Activities{}, err
	}

	secrets := secretsmanager.NewFromConfig(awsConfig)
	iamClient := iam.NewFromConfig(awsConfig)
	ssoAdmin := ssoadmin.NewFromConfig(awsConfig)
	identityStore := identitystore.NewFromConfig(awsConfig)
	return Activities{
		Store: st,
		IdentityCenter: &identitycenter.Activities{
			IdentityStore: identityStore,
			SSOAdmin:      ssoAdmin,
			IAM:           iamClient,
			Secrets:       secrets,
			Store:         st,
		},
		Entra:    &entra.Activities{Graph: graph, Store: st, Secrets: secrets, LoginBaseURL: cfg.LoginBaseURL(), AppVisibilityWait: cfg.AppVisibilityWait},
		SCIM:     &scim.Activities{Secrets: secrets},
		Analysis: &analysis.Activities{Store: st},
		Notify:   &notify.Activities{Webhook: cfg.Webhook},
		Policy:   &policy.Activities{Path: cfg.ApprovalPolicy},
		Checks: &checks.Activities{
			AWS:   checks.AWSClients{STS: sts.NewFromConfig(awsConfig), IAM: iamClient, SSOAdmin: ssoAdmin, IdentityStore: identityStore},
			Graph: graph,
		},
	}, nil
}

// AWSConfig is the configuration of the AWS clients cfg describes.
func AWSConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	awsConfig, err := awsclient.Load(ctx, cfg.AWS)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.AWSEndpointURL != "" {
		awsConfig.BaseEndpoint = aws.String(cfg.AWSEndpointURL)
	}
	if cfg.AWSCredentials != nil {
		awsConfig.Credentials = cfg.AWSCredentials
	}
	return awsConfig, nil
}

// WorkerStopTimeout is how long a stopping worker lets running activities
// finish. The inventories heartbeat, so one cut short is retried elsewhere
// within its heartbeat timeout and nothing is lost.
const WorkerStopTimeout = 20 * time.Second

// HeartbeatThrottle is the longest the worker holds an activity's heartbeat
// back before sending it to the server.
const HeartbeatThrottle = 5 * time.Second

// NewWorker returns a worker (not yet started) on the cutover's task queue
// with every workflow and activity registered, the schedule activities on
// c's schedule client (so on its payload codec) unless acts has its own.
func NewWorker(c client.Client, acts Activities, cfg Config) worker.Worker {
	w := worker.New(c, temporalclient.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: cfg.MaxConcurrentActivities,
		WorkerStopTimeout:                  WorkerStopTimeout,
		// The inventories' checkpoints ride in their heartbeats, which the
		// SDK holds back for up to 60 s by default: what the server has not
		// seen is redone after a crash. One heartbeat call per activity
		// every few seconds bounds that to seconds of work.
		MaxHeartbeatThrottleInterval: HeartbeatThrottle,
	})
	if acts.Schedules == nil {
		acts.Schedules = &schedules.Activities{Schedules: c.ScheduleClient()}
	}
	Register(w, acts)
	return w
}

// Register registers the workflows and the activities' methods, each under
// the name the workflow calls it by (its method name). The schedule
// activities are registered when acts has them (a test environment
// without a Temporal client may leave them out).
func Register(r worker.Registry, acts Activities) {
	register.Workflows(r)
	r.RegisterActivity(acts.IdentityCenter)
	r.RegisterActivity(acts.Entra)
	r.RegisterActivity(acts.SCIM)
	r.RegisterActivity(acts.Analysis)
	r.RegisterActivity(acts.Notify)
	if acts.Checks != nil {
		r.RegisterActivity(acts.Checks)
	}
	if acts.Policy == nil { // no policy: the workflows read the zero one
		acts.Policy = &policy.Activities{}
	}
	r.RegisterActivity(acts.Policy)
	if acts.Schedules != nil {
		r.RegisterActivity(acts.Schedules)
	}
}

// RunWorker runs a worker until ctx is done, then stops it, letting running
// activities finish for up to WorkerStopTimeout. It returns early with the
// error if the worker cannot start or fails (a namespace that does not
// exist, lost permissions).
//
// polling, when set, is called as the worker starts polling (its
// readiness probe answers from then on).
func RunWorker(ctx context.Context, w worker.Worker, logger *zap.Logger, polling func()) error {
	interrupt := make(chan any)
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			logger.Info("Stopping the worker; running activities get time to finish", zap.Duration("timeout", WorkerStopTimeout))
			close(interrupt)
		case <-stopped:
		}
	}()
	if polling != nil {
		// Run starts the poller and returns at once if it cannot.
		polling()
	}
	if err := w.Run(interrupt); err != nil {
		return fmt.Errorf("the worker stopped: %w", err)
	}
	return nil
}
