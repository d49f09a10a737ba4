package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	composeFile = "../compose.yaml"
	haproxyFile = "../haproxy.cfg"
)

type composeService struct {
	Image string
	Build *struct {
		Context    string
		Dockerfile string
		Target     string
	}
	Command     []string
	Environment map[string]string
	DependsOn   []string `yaml:"depends_on"`
}

// TestComposeExample: deploy/compose.yaml is what the README's "Running
// many replicas" says: three replicas of the product image (the last stage
// of deploy/container/Dockerfile, the one image definition), sharing one
// Redis that never evicts and one confirmation key, behind the HAProxy of
// haproxy.cfg, in front of a sandbox built from the same Dockerfile.
// (.ci/replicas/run checks haproxy.cfg with haproxy itself.)
func TestComposeExample(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	var compose struct {
		Services map[string]composeService
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	require.NoError(t, dec.Decode(&compose))
	docker, err := os.ReadFile(dockerfile)
	require.NoError(t, err)
	stages := regexp.MustCompile(`(?mi)^FROM \S+ AS (\S+)$`).FindAllStringSubmatch(string(docker), -1)
	require.NotEmpty(t, stages)
	var stageNames []string
	for _, s := range stages {
		stageNames = append(stageNames, s[1])
	}
	assert.Equal(t, "final", stageNames[len(stageNames)-1], "the product image is the Dockerfile's last stage, what a build with no --target makes")

	var replicas []string
	for name, s := range compose.Services {
		if s.Build == nil {
			continue
		}
		assert.Equal(t, "..", s.Build.Context, "%s: the build context is the repository", name)
		assert.Equal(t, "deploy/container/Dockerfile", s.Build.Dockerfile, "%s: built from the one image definition", name)
		if s.Build.Target != "" {
			assert.Contains(t, stageNames, s.Build.Target, "%s: the Dockerfile has no stage %q", name, s.Build.Target)
			continue
		}
		replicas = append(replicas, name)
		env := s.Environment
		assert.Equal(t, "redis://redis:6379", env["SKIMMER_STORE"], name)
		assert.True(t, strings.HasPrefix(env["SKIMMER_CONFIRM_KEY"], "${SKIMMER_CONFIRM_KEY:?"), "%s: one confirmation key for all, from the environment", name)
		assert.Equal(t, "http://sandbox:8081", env["SKIMMER_BASE_URL"], name)
		assert.NotContains(t, env, "SKIMMER_API_KEY", "%s: callers bring their own keys", name)
		assert.ElementsMatch(t, []string{"redis", "sandbox"}, s.DependsOn, name)
	}
	slices.Sort(replicas)
	assert.Equal(t, []string{"replica-1", "replica-2", "replica-3"}, replicas, "three replicas of the product image")

	sandbox := compose.Services["sandbox"]
	require.NotNil(t, sandbox.Build)
	assert.Equal(t, "sandbox", sandbox.Build.Target)
	assert.Equal(t, "0.0.0.0:8081", flagValue(sandbox.Command, "--addr"), "the sandbox listens where the replicas look for it")

	redis := compose.Services["redis"]
	assert.Equal(t, "noeviction", flagValue(redis.Command, "--maxmemory-policy"), "an evicted lock would be a hole")

	// HAProxy balances over exactly the replicas, on the port the image serves.
	cfg, err := os.ReadFile(haproxyFile)
	require.NoError(t, err)
	var servers []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server (\S+) (\S+):(\d+)`).FindAllStringSubmatch(string(cfg), -1) {
		assert.Equal(t, m[1], m[2], "server %s points at %s", m[1], m[2])
		assert.Equal(t, "8080", m[3], "the image serves on 8080")
		servers = append(servers, m[1])
	}
	assert.Equal(t, replicas, servers)
	assert.Contains(t, string(docker), "SKIMMER_ADDR=0.0.0.0:8080")
	assert.Contains(t, string(cfg), "option httpchk GET /healthz")
}

// flagValue is the value after name in a command line.
func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}
