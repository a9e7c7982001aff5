package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/platformguide/ssocutover/activities/notify"
	"github.com/platformguide/ssocutover/activities/policy"
	"github.com/platformguide/ssocutover/internal/codec"
	"github.com/platformguide/ssocutover/internal/store"
	"github.com/platformguide/ssocutover/internal/temporalclient"
	"github.com/platformguide/ssocutover/worker/app"
)

// The chart is checked as Helm renders it: `helm template` of a helm built
// from tools/helm (make tools), offline.

const chartDir = "helm/ssocutover"

func helmBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("SSOCUTOVER_HELM")
	if path == "" {
		path = "../bin/helm"
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "helm is built by `make tools` into bin/helm (SSOCUTOVER_HELM names another)")
	return path
}

// helmTemplate renders the chart with --set values; it returns the
// objects, or the error helm printed.
func helmTemplate(t *testing.T, set ...string) ([]map[string]any, error) {
	t.Helper()
	args := []string{"template", "cutover", chartDir}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helmBinary(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New(stderr.String())
	}
	var objects []map[string]any
	dec := yaml.NewDecoder(&stdout)
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if obj != nil {
			objects = append(objects, obj)
		}
	}
	return objects, nil
}

func byKind(objects []map[string]any, kind string) []map[string]any {
	var out []map[string]any
	for _, o := range objects {
		if o["kind"] == kind {
			out = append(out, o)
		}
	}
	return out
}

// dig follows keys (string keys, int indexes) into a decoded object.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func containerEnv(t *testing.T, deployment map[string]any) map[string]map[string]any {
	t.Helper()
	env := map[string]map[string]any{}
	list, ok := dig(deployment, "spec", "template", "spec", "containers", 0, "env").([]any)
	require.True(t, ok)
	for _, e := range list {
		m := e.(map[string]any)
		env[m["name"].(string)] = m
	}
	return env
}

var withBucket = []string{"store.s3.bucket=acme-ssocutover"}

func TestChartRendersTheWorkerWiredForACluster(t *testing.T) {
	objects, err := helmTemplate(t, append(withBucket,
		"serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::111122223333:role/ssocutover",
		"serviceAccount.annotations.azure\\.workload\\.identity/client-id=00000000-0000-0000-0000-00000000c1d0",
		"entra.clientId=00000000-0000-0000-0000-00000000c1d0",
		"webhook.existingSecret=ssocutover-webhook",
		"temporal.apiKeySecret=temporal-cloud",
	)...)
	require.NoError(t, err)
	require.Len(t, byKind(objects, "Deployment"), 1)
	require.Empty(t, byKind(objects, "ServiceMonitor"), "off unless asked for")
	deployment := byKind(objects, "Deployment")[0]
	require.Equal(t, 2, dig(deployment, "spec", "replicas"))

	// The ServiceAccount carries the cloud identities, and the pods use it.
	accounts := byKind(objects, "ServiceAccount")
	require.Len(t, accounts, 1)
	name := dig(accounts[0], "metadata", "name")
	require.Equal(t, name, dig(deployment, "spec", "template", "spec", "serviceAccountName"))
	require.Equal(t, "arn:aws:iam::111122223333:role/ssocutover", dig(accounts[0], "metadata", "annotations", "eks.amazonaws.com/role-arn"))
	require.Equal(t, "00000000-0000-0000-0000-00000000c1d0", dig(accounts[0], "metadata", "annotations", "azure.workload.identity/client-id"))
	require.Equal(t, "true", dig(deployment, "spec", "template", "metadata", "labels", "azure.workload.identity/use"))

	// Every secret comes from a Secret, by reference; the variables are the
	// ones the worker reads.
	env := containerEnv(t, deployment)
	for _, secret := range []string{codec.EnvKeys, notify.EnvWebhookURL, temporalclient.EnvAPIKey} {
		require.Contains(t, env, secret)
		require.NotContains(t, env[secret], "value", "%s must not be a plain value", secret)
		require.NotNil(t, dig(env[secret], "valueFrom", "secretKeyRef", "name"), secret)
	}
	require.Equal(t, "ssocutover-codec-keys", dig(env[codec.EnvKeys], "valueFrom", "secretKeyRef", "name"))
	for _, noCloudSecret := range []string{app.EnvAzureClientSecret, "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", app.EnvGraphToken} {
		require.NotContains(t, env, noCloudSecret, "no static cloud secret: the ServiceAccount's identities sign in")
	}

	// The S3 store by default, so that replicas share their documents.
	require.Equal(t, store.KindS3, env[store.EnvStore]["value"])
	require.Equal(t, "acme-ssocutover", env[store.EnvStoreBucket]["value"])
	require.Equal(t, "ssocutover", env[store.EnvStorePrefix]["value"])

	// The probes ask the worker's metrics listener, on the port it serves.
	container := dig(deployment, "spec", "template", "spec", "containers", 0)
	require.Equal(t, "/livez", dig(container, "livenessProbe", "httpGet", "path"))
	require.Equal(t, "/readyz", dig(container, "readinessProbe", "httpGet", "path"))
	require.Equal(t, "metrics", dig(container, "readinessProbe", "httpGet", "port"))
	require.Equal(t, 9090, dig(container, "ports", 0, "containerPort"))
	require.Equal(t, ":9090", env[app.EnvMetricsAddress]["value"])
	require.Equal(t, true, dig(container, "securityContext", "readOnlyRootFilesystem"))
	require.Equal(t, store.EnvDataDir, dig(env[store.EnvDataDir], "name"))
}

func TestChartValuesHoldNoSecret(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	require.NoError(t, err)
	var values map[string]any
	require.NoError(t, yaml.Unmarshal(data, &values))
	// Secrets are named, never given: only Secret names and keys here.
	require.Equal(t, "ssocutover-codec-keys", dig(values, "codecKeys", "existingSecret"))
	for _, word := range []string{"clientSecret", "secretAccessKey", "password", "token:", "hooks.slack.com", "webhook.office.com"} {
		require.NotContains(t, strings.ToLower(string(data)), strings.ToLower(word))
	}
}

func TestChartRefusesWhatWouldBreakACutover(t *testing.T) {
	_, err := helmTemplate(t)
	require.ErrorContains(t, err, "store.s3.bucket is required")
	_, err = helmTemplate(t, "store.kind=dir")
	require.ErrorContains(t, err, "with several replicas use store.kind s3")
	_, err = helmTemplate(t, append(withBucket, "codecKeys.existingSecret=")...)
	require.ErrorContains(t, err, "codecKeys.existingSecret is required")

	// One replica may keep its documents on its own disk.
	objects, err := helmTemplate(t, "store.kind=dir", "replicaCount=1")
	require.NoError(t, err)
	env := containerEnv(t, byKind(objects, "Deployment")[0])
	require.Equal(t, store.KindDir, env[store.EnvStore]["value"])
	require.NotContains(t, env, store.EnvStoreBucket)
}

func TestChartServiceMonitorAndPolicy(t *testing.T) {
	objects, err := helmTemplate(t, append(withBucket, "metrics.serviceMonitor.enabled=true", "approvalPolicy.configMap=cutover-policy")...)
	require.NoError(t, err)
	monitors := byKind(objects, "ServiceMonitor")
	require.Len(t, monitors, 1)
	require.Equal(t, "metrics", dig(monitors[0], "spec", "endpoints", 0, "port"))
	require.Equal(t, "/metrics", dig(monitors[0], "spec", "endpoints", 0, "path"))
	services := byKind(objects, "Service")
	require.Len(t, services, 1)
	require.Equal(t, dig(monitors[0], "spec", "selector", "matchLabels", "app.kubernetes.io/instance"), dig(services[0], "metadata", "labels", "app.kubernetes.io/instance"))

	deployment := byKind(objects, "Deployment")[0]
	env := containerEnv(t, deployment)
	require.Equal(t, "/etc/ssocutover/policy/policy.yaml", env[policy.EnvPolicy]["value"])
	require.Equal(t, "cutover-policy", dig(deployment, "spec", "template", "spec", "volumes", 1, "configMap", "name"))
}
