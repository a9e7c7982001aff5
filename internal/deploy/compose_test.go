package deploy

import (
	"os"
	"regexp"
	"strings"
	"testing"

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
