// k8s-validate: decodes Kubernetes manifests (multi-document YAML files) strictly into the Kubernetes API's own Go
// types (k8s.io/api), as the API server does for `kubectl apply --validate=strict`: an unknown or duplicate field, a
// value of the wrong type, an unknown apiVersion/kind is an error. Kinds that are not built in (custom resources)
// are listed as skipped, for the caller to check against their CRD. Prints one JSON object per document and exits 1
// when any is invalid. Used by test/unit/deploy (helm template output, deploy/kubernetes, deploy/helm).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type result struct {
	File  string `json:"file"`
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	// "valid", "invalid" or "skipped" (not a built-in kind).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func main() {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	failed := false
	out := json.NewEncoder(os.Stdout)
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := reader.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, file, err)
				os.Exit(2)
			}
			r := check(decoder, scheme, doc)
			if r == nil {
				i--
				continue
			}
			r.File, r.Index = file, i
			if r.Status == "invalid" {
				failed = true
			}
			_ = out.Encode(r)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(decoder runtime.Decoder, scheme *runtime.Scheme, doc []byte) *result {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return &result{Status: "invalid", Error: err.Error()}
	}
	if meta.APIVersion == "" && meta.Kind == "" {
		return nil // an empty document (comments only)
	}
	r := &result{Kind: meta.Kind, Name: meta.Metadata.Name}
	gv, err := schema.ParseGroupVersion(meta.APIVersion)
	if err != nil {
		r.Status, r.Error = "invalid", err.Error()
		return r
	}
	if !scheme.Recognizes(gv.WithKind(meta.Kind)) {
		r.Status = "skipped"
		return r
	}
	if _, _, err := decoder.Decode(doc, nil, nil); err != nil {
		r.Status, r.Error = "invalid", err.Error()
		return r
	}
	r.Status = "valid"
	return r
}
