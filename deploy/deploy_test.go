package deploy

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/testenv"
)

// herd serve's probe paths (API.md). The manifests must agree with them
// and with herd serve's defaults, read from its configuration table.
const (
	livePath  = "/health/live"
	readyPath = "/health/ready"
)

var herdPort, drainDelay, shutdownTimeout = func() (int, time.Duration, time.Duration) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	_, port, _ := net.SplitHostPort(cfg.Addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		panic(err)
	}
	return p, cfg.DrainDelay, cfg.ShutdownTimeout
}()

// decode reads a manifest strictly: an unknown or duplicated field is an
// error, as a typo in a real manifest would be silently dropped.
func decode(t *testing.T, name string, obj any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("kubernetes", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type manifests struct {
	deploy    appsv1.Deployment
	service   corev1.Service
	hpa       autoscalingv2.HorizontalPodAutoscaler
	pdb       policyv1.PodDisruptionBudget
	configMap corev1.ConfigMap
	secret    corev1.Secret
}

func load(t *testing.T) *manifests {
	t.Helper()
	var m manifests
	for _, f := range []struct {
		file, apiVersion, kind string
		obj                    any
		typeOf                 func() (string, string)
	}{
		{"deployment.yaml", "apps/v1", "Deployment", &m.deploy, func() (string, string) { return m.deploy.APIVersion, m.deploy.Kind }},
		{"service.yaml", "v1", "Service", &m.service, func() (string, string) { return m.service.APIVersion, m.service.Kind }},
		{"hpa.yaml", "autoscaling/v2", "HorizontalPodAutoscaler", &m.hpa, func() (string, string) { return m.hpa.APIVersion, m.hpa.Kind }},
		{"pdb.yaml", "policy/v1", "PodDisruptionBudget", &m.pdb, func() (string, string) { return m.pdb.APIVersion, m.pdb.Kind }},
		{"configmap.yaml", "v1", "ConfigMap", &m.configMap, func() (string, string) { return m.configMap.APIVersion, m.configMap.Kind }},
		{"secret.yaml", "v1", "Secret", &m.secret, func() (string, string) { return m.secret.APIVersion, m.secret.Kind }},
	} {
		decode(t, f.file, f.obj)
		apiVersion, kind := f.typeOf()
		if apiVersion != f.apiVersion || kind != f.kind {
			t.Fatalf("%s: got %s %s, want %s %s", f.file, apiVersion, kind, f.apiVersion, f.kind)
		}
	}
	return &m
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	decode(t, "kustomization.yaml", &k)
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			want = append(want, base)
		}
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Fatalf("kustomization resources: got %v, want %v", got, want)
	}
}

func TestManifestsAgreeWithHerdDefaults(t *testing.T) {
	m := load(t)
	spec := m.deploy.Spec.Template.Spec
	if got, want := len(spec.Containers), 1; got != want {
		t.Fatalf("containers: got %d, want %d", got, want)
	}
	c := spec.Containers[0]

	// The settings the replicas get.
	settings := m.configMap.Data
	if got, want := settings["HERD_ADDR"], ":"+strconv.Itoa(herdPort); got != want {
		t.Errorf("HERD_ADDR: got %q, want %q", got, want)
	}
	drain := mustDuration(t, "HERD_DRAIN_DELAY", settings["HERD_DRAIN_DELAY"])
	shutdown := mustDuration(t, "HERD_SHUTDOWN_TIMEOUT", settings["HERD_SHUTDOWN_TIMEOUT"])
	if drain != drainDelay || shutdown != shutdownTimeout {
		t.Errorf("ConfigMap drain %s, shutdown %s; herd's defaults are %s, %s", drain, shutdown, drainDelay, shutdownTimeout)
	}
	var fromConfig, fromSecret bool
	for _, src := range c.EnvFrom {
		if src.ConfigMapRef != nil && src.ConfigMapRef.Name == m.configMap.Name {
			fromConfig = true
		}
		if src.SecretRef != nil && src.SecretRef.Name == m.secret.Name {
			fromSecret = true
		}
	}
	if !fromConfig || !fromSecret {
		t.Errorf("container envFrom: ConfigMap %q used %v, Secret %q used %v", m.configMap.Name, fromConfig, m.secret.Name, fromSecret)
	}
	for _, key := range []string{"DATABASE_URL", "REDIS_URL"} {
		if _, ok := m.secret.StringData[key]; !ok {
			t.Errorf("Secret lacks %s", key)
		}
		if _, ok := settings[key]; ok {
			t.Errorf("%s is in the ConfigMap; it belongs in the Secret", key)
		}
	}

	// Probes on herd's endpoints and port.
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"startupProbe", c.StartupProbe, livePath},
		{"readinessProbe", c.ReadinessProbe, readyPath},
		{"livenessProbe", c.LivenessProbe, livePath},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe", p.name)
			continue
		}
		if got, want := p.probe.HTTPGet.Path, p.path; got != want {
			t.Errorf("%s path: got %q, want %q", p.name, got, want)
		}
		if got, want := containerPort(t, c, p.probe.HTTPGet.Port), herdPort; got != want {
			t.Errorf("%s port: got %d, want %d", p.name, got, want)
		}
	}

	// Termination: the preStop sleep covers the drain delay, and the grace
	// period covers preStop, the drain delay and the shutdown timeout.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("container has no preStop sleep")
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if preStop < drain {
		t.Errorf("preStop sleep %s is shorter than the drain delay %s", preStop, drain)
	}
	if spec.TerminationGracePeriodSeconds == nil {
		t.Fatal("no terminationGracePeriodSeconds")
	}
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	if need := preStop + drain + shutdown; grace < need {
		t.Errorf("terminationGracePeriodSeconds %s < preStop %s + drain %s + shutdown %s", grace, preStop, drain, shutdown)
	}

	// Rolling update: one extra pod, never one fewer.
	st := m.deploy.Spec.Strategy
	if st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil {
		t.Fatalf("strategy: got %+v, want RollingUpdate", st)
	}
	if got, want := intOrString(st.RollingUpdate.MaxSurge), "1"; got != want {
		t.Errorf("maxSurge: got %s, want %s", got, want)
	}
	if got, want := intOrString(st.RollingUpdate.MaxUnavailable), "0"; got != want {
		t.Errorf("maxUnavailable: got %s, want %s", got, want)
	}

	// Resources, requested and bounded.
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[name]
		lim, okLim := c.Resources.Limits[name]
		if !okReq || !okLim {
			t.Errorf("%s: request set %v, limit set %v; want both", name, okReq, okLim)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s request %s exceeds its limit %s", name, req.String(), lim.String())
		}
	}

	// Non-root, read-only root filesystem.
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatal("pod and container need a securityContext")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod securityContext: want runAsNonRoot and a non-zero runAsUser")
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Errorf("container securityContext: want readOnlyRootFilesystem")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext: want allowPrivilegeEscalation false")
	}

	// The Service, the autoscaler and the budget find these pods.
	labels := m.deploy.Spec.Template.Labels
	for k, v := range m.deploy.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("Deployment selector %s=%s does not match its pod labels", k, v)
		}
	}
	for k, v := range m.service.Spec.Selector {
		if labels[k] != v {
			t.Errorf("Service selector %s=%s does not match the pods", k, v)
		}
	}
	if got, want := len(m.service.Spec.Ports), 1; got != want {
		t.Fatalf("Service ports: got %d, want %d", got, want)
	}
	if got, want := containerPort(t, c, m.service.Spec.Ports[0].TargetPort), herdPort; got != want {
		t.Errorf("Service targetPort: got %d, want %d", got, want)
	}
	if m.pdb.Spec.Selector == nil {
		t.Fatal("PodDisruptionBudget has no selector")
	}
	for k, v := range m.pdb.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("PodDisruptionBudget selector %s=%s does not match the pods", k, v)
		}
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != m.deploy.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("HPA targets %+v, want the Deployment %q", ref, m.deploy.Name)
	}
	if m.hpa.Spec.MinReplicas == nil || *m.hpa.Spec.MinReplicas < 2 {
		t.Errorf("HPA minReplicas: want at least 2, so the budget allows an eviction")
	}
	cpu := false
	for _, metric := range m.hpa.Spec.Metrics {
		if metric.Resource != nil && metric.Resource.Name == corev1.ResourceCPU {
			cpu = true
		}
	}
	if !cpu {
		t.Errorf("HPA scales on no CPU metric")
	}
}

// containerPort resolves a probe or Service port, by number or by name.
func containerPort(t *testing.T, c corev1.Container, p intstr.IntOrString) int {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntValue()
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	t.Errorf("no container port named %q", p.StrVal)
	return 0
}

func intOrString(v *intstr.IntOrString) string {
	if v == nil {
		return "<unset>"
	}
	return v.String()
}

func mustDuration(t *testing.T, name, v string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if got := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(text, -1)); got < 2 {
		t.Errorf("FROM lines: got %d, want a multi-stage build", got)
	}
	if !strings.Contains(text, "CGO_ENABLED=0") {
		t.Errorf("the binary is not built static (CGO_ENABLED=0)")
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(users) == 0 {
		t.Fatal("no USER: the image would run as root")
	}
	last := strings.Split(users[len(users)-1][1], ":")[0]
	if uid, err := strconv.Atoi(last); err != nil || uid == 0 {
		t.Errorf("USER %q: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)", last)
	}
	if !regexp.MustCompile(`(?m)^EXPOSE\s+` + strconv.Itoa(herdPort) + `\b`).MatchString(text) {
		t.Errorf("EXPOSE %d missing", herdPort)
	}
}

// TestHAProxyConfig checks the production configuration with haproxy -c
// and its health checking against the drain delay.
func TestHAProxyConfig(t *testing.T) {
	path := filepath.Join("haproxy", "haproxy.cfg")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"balance roundrobin",
		"option httpchk GET " + readyPath,
		"http-check expect status 200",
		":" + strconv.Itoa(herdPort) + " check",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	m := regexp.MustCompile(`default-server inter (\d+)ms .*fall (\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("haproxy.cfg: no default-server inter/fall")
	}
	inter, _ := strconv.Atoi(m[1])
	fall, _ := strconv.Atoi(m[2])
	// Out of rotation within half the drain delay, leaving the other half
	// for requests already on their way.
	if out := time.Duration(inter*fall) * time.Millisecond; out > drainDelay/2 {
		t.Errorf("a draining replica leaves rotation after %s; want at most %s", out, drainDelay/2)
	}
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if testenv.CI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "-c", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
}
