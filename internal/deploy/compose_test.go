package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type composeFile struct {
	Services map[string]struct {
		Image     string    `yaml:"image"`
		Build     yaml.Node `yaml:"build"`
		Ports     []string  `yaml:"ports"`
		DependsOn yaml.Node `yaml:"depends_on"`
	} `yaml:"services"`
}

func TestComposeFileIsValidPinnedAndLoopbackOnly(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var compose composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	require.NoError(t, dec.Decode(&compose))

	for _, name := range []string{"postgresql", "temporal", "temporal-ui", "worker"} {
		require.Contains(t, compose.Services, name)
	}
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:[0-9][0-9A-Za-z.-]*$`)
	for name, svc := range compose.Services {
		require.Regexp(t, pinned, svc.Image, "service %s: image must be pinned to a version", name)
		for _, p := range svc.Ports {
			require.True(t, strings.HasPrefix(p, "127.0.0.1:"), "service %s: port %s must be bound to loopback", name, p)
		}
	}
	require.NotZero(t, compose.Services["worker"].Build.Kind, "the worker is built from this repository")
	require.NotContains(t, string(data), "SECRET: \"", "no secret value in the compose file")
}

func TestDockerfileBuildsTheWorker(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	require.Contains(t, string(data), "go build -trimpath -o /out/worker ./worker")
	require.NotRegexp(t, `(?m)^FROM \S+:latest`, string(data))
}

// The Dockerfile copies the whole directory into the build stage: the
// .dockerignore keeps secrets and data out of that context, as Docker reads
// it (its own pattern matcher, github.com/moby/patternmatcher).
func TestDockerBuildContextHoldsNoSecrets(t *testing.T) {
	patterns, err := ignorefile.ReadAll(mustOpen(t, "../../.dockerignore"))
	require.NoError(t, err)
	matcher, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	for _, path := range []string{
		".env", ".env.local", "worker/.env", ".data/codec-keys", ".data/store/aws-inventory-abc", ".data/temporal.db",
		"bin/worker", ".artifacts/ui/preflight.png", ".git/config", "tls/worker.key", "deploy/codec-keys",
	} {
		excluded, err := matcher.MatchesOrParentMatches(path)
		require.NoError(t, err)
		require.True(t, excluded, "%s must stay out of the Docker build context", path)
	}
	for _, path := range []string{"go.mod", "go.sum", "worker/main.go", "internal/store/store.go", "Dockerfile"} {
		excluded, err := matcher.MatchesOrParentMatches(path)
		require.NoError(t, err)
		require.False(t, excluded, "%s is needed to build the worker", path)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
