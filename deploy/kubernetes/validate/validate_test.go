// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

// Package validate checks deploy/kubernetes/kiln.yaml against the real
// Kubernetes API types (k8s.io/api), decoding strictly: an unknown or
// misspelt field, a wrong type or a duplicate key fails. No cluster runs
// here, so this is what stands in for `kubectl apply --dry-run=server`.
// Then what kiln needs of the DaemonSet: host PID, exactly the capabilities
// of deploy/systemd/kiln.service, read-only host mounts, a config that
// `kiln run --check-config` accepts ($KILN), the metrics port the Service
// points at.
package validate

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const manifest = "../kiln.yaml"

func decodeAll(t *testing.T) []runtime.Object {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := appsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []runtime.Object
	for {
		doc, err := reader.Read()
		if err != nil {
			break
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strict.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("document %d of %s: %v", len(objs)+1, manifest, err)
		}
		t.Logf("decoded strictly: %s %s", gvk.Kind, obj.(interface{ GetName() string }).GetName())
		objs = append(objs, obj)
	}
	return objs
}

// The capabilities deploy/systemd/kiln.service grants, without "CAP_".
func unitCaps(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../systemd/kiln.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "AmbientCapabilities="); ok {
			var caps []string
			for _, c := range strings.Fields(v) {
				caps = append(caps, strings.TrimPrefix(c, "CAP_"))
			}
			sort.Strings(caps)
			return caps
		}
	}
	t.Fatal("no AmbientCapabilities= in kiln.service")
	return nil
}

func TestManifests(t *testing.T) {
	objs := decodeAll(t)
	var ds *appsv1.DaemonSet
	var cm *corev1.ConfigMap
	var svc *corev1.Service
	for _, o := range objs {
		switch v := o.(type) {
		case *appsv1.DaemonSet:
			ds = v
		case *corev1.ConfigMap:
			cm = v
		case *corev1.Service:
			svc = v
		}
	}
	if ds == nil || cm == nil || svc == nil {
		t.Fatalf("want a DaemonSet, a ConfigMap and a Service; got %d objects", len(objs))
	}
	spec := ds.Spec.Template.Spec
	if !spec.HostPID {
		t.Error("DaemonSet: hostPID must be true (kiln profiles the node's processes)")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("DaemonSet: want one container, got %d", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		t.Fatal("container: no securityContext.capabilities")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("container: privileged; kiln needs its capability set only")
	}
	var added []string
	for _, a := range sc.Capabilities.Add {
		added = append(added, string(a))
	}
	sort.Strings(added)
	if want := unitCaps(t); strings.Join(added, " ") != strings.Join(want, " ") {
		t.Errorf("capabilities added %v, the systemd unit grants %v", added, want)
	}
	if len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities: drop must be [ALL], got %v", sc.Capabilities.Drop)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container: readOnlyRootFilesystem must be true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container: allowPrivilegeEscalation must be false")
	}
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		mounted[m.MountPath] = true
		if p, ok := hostPaths[m.Name]; ok && m.Name != "spool" && !m.ReadOnly {
			t.Errorf("host path %s is mounted writable at %s", p, m.MountPath)
		}
	}
	for _, p := range []string{"/sys/kernel/btf", "/sys/fs/cgroup", "/etc/kiln", "/var/log"} {
		if !mounted[p] {
			t.Errorf("nothing mounted at %s", p)
		}
	}
	// the config the pod reads
	conf, ok := cm.Data["kiln.conf"]
	if !ok {
		t.Fatal("ConfigMap: no kiln.conf")
	}
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--config=/etc/kiln/kiln.conf") {
		t.Errorf("container args %q do not read /etc/kiln/kiln.conf", args)
	}
	if kiln := os.Getenv("KILN"); kiln != "" {
		path := filepath.Join(t.TempDir(), "kiln.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(kiln, "run", "--check-config", "--config", path)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("kiln run --check-config on the ConfigMap: %v\n%s", err, out)
		} else {
			t.Logf("kiln run --check-config on the ConfigMap:\n%s", out)
		}
	} else {
		t.Log("KILN not set: the ConfigMap's config is not run through kiln")
	}
	// the Service reaches the metrics port kiln listens on
	if !strings.Contains(conf, "metrics-addr = 0.0.0.0:9741") {
		t.Error("ConfigMap: kiln must listen on 0.0.0.0:9741 for the Service")
	}
	port := false
	for _, p := range c.Ports {
		port = port || (p.Name == "metrics" && p.ContainerPort == 9741)
	}
	if !port || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.StrVal != "metrics" {
		t.Error("Service: must target the container's metrics port 9741")
	}
	for k, v := range svc.Spec.Selector {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("Service selector %s=%s does not select the DaemonSet's pods", k, v)
		}
	}
}
