// flux-build builds Flux Kustomizations the way kustomize-controller v1.8 (Flux 2.8) does, with the
// library it uses (github.com/fluxcd/pkg/kustomize): a judge of what modelship's hand-off commits.
//
//	flux-build --root REPO --kustomization FILE.yaml [--name NAME]
//
// For each kustomize.toolkit.fluxcd.io/v1 Kustomization in FILE (or the one named NAME) it follows
// kustomize-controller v1.8.5 internal/controller/kustomization_controller.go: the repository is
// copied to a temporary folder (the controller works on the extracted artifact, and the generator
// writes into it), spec.path is joined securely and must exist, kustomize.NewGenerator(...).WriteFile
// generates or amends kustomization.yaml (targetNamespace, patches, images, components), then
// kustomize.SecureBuild(root, path, false) builds it with every file restricted to the repository
// root (no remote bases: the judge runs offline), each object must have apiVersion, kind and name,
// and postBuild.substitute is applied with kustomize.SubstituteVariables. The built objects are
// printed as multi-document YAML; any failure is an error on stderr and exit status 1.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	cp "github.com/otiai10/copy"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const apiVersion = "kustomize.toolkit.fluxcd.io/v1"

func main() {
	root := flag.String("root", "", "the repository root: the GitRepository artifact the Kustomizations read")
	file := flag.String("kustomization", "", "YAML file holding the Flux Kustomization object(s)")
	name := flag.String("name", "", "build only the Kustomization with this metadata.name")
	flag.Parse()
	if *root == "" || *file == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: flux-build --root REPO --kustomization FILE.yaml [--name NAME]")
		os.Exit(2)
	}
	out, err := run(*root, *file, *name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flux-build: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

func run(root, file, name string) ([]byte, error) {
	objs, err := readKustomizations(file, name)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, obj := range objs {
		built, err := build(root, obj)
		if err != nil {
			return nil, fmt.Errorf("Kustomization %s/%s (%s): %w", obj.Namespace, obj.Name, file, err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(built)
	}
	return out.Bytes(), nil
}

// readKustomizations decodes the v1 Kustomizations of a multi-document file strictly: a field the API
// does not define is an error, as the API server's validation would make it.
func readKustomizations(file, name string) ([]*kustomizev1.Kustomization, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*kustomizev1.Kustomization
	for {
		var doc map[string]interface{}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if doc == nil || doc["kind"] != kustomizev1.KustomizationKind || doc["apiVersion"] != apiVersion {
			continue
		}
		raw, err := yaml.Marshal(doc)
		if err != nil {
			return nil, err
		}
		obj := &kustomizev1.Kustomization{}
		if err := yaml.UnmarshalStrict(raw, obj); err != nil {
			return nil, fmt.Errorf("%s: Kustomization %v: %w", file, doc["metadata"], err)
		}
		if name == "" || obj.Name == name {
			objs = append(objs, obj)
		}
	}
	if len(objs) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%s: no %s Kustomization named %q", file, apiVersion, name)
		}
		return nil, fmt.Errorf("%s: no %s Kustomization", file, apiVersion)
	}
	return objs, nil
}

func build(root string, obj *kustomizev1.Kustomization) ([]byte, error) {
	// What the cluster cannot give here is refused rather than skipped: decryption keys, variables from the cluster.
	if obj.Spec.Decryption != nil {
		return nil, errors.New("spec.decryption needs the cluster's keys: not supported by this judge")
	}
	if obj.Spec.PostBuild != nil && len(obj.Spec.PostBuild.SubstituteFrom) > 0 {
		return nil, errors.New("spec.postBuild.substituteFrom reads the cluster: not supported by this judge")
	}
	tmpDir, err := os.MkdirTemp("", "flux-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	// source-controller's artifact is the checkout without .git; symbolic links stay links, so the secure build sees where they point.
	err = cp.Copy(root, tmpDir, cp.Options{
		OnSymlink: func(string) cp.SymlinkAction { return cp.Shallow },
		Skip: func(_ os.FileInfo, src, _ string) (bool, error) {
			return filepath.Base(src) == ".git", nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("copying the repository %s: %w", root, err)
	}

	// kustomization_controller.go reconcile: check build path exists.
	dirPath, err := securejoin.SecureJoin(tmpDir, obj.Spec.Path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(dirPath); err != nil {
		return nil, fmt.Errorf("kustomization path not found: %s", strings.ReplaceAll(err.Error(), tmpDir, root))
	}

	data, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := unstructured.Unstructured{Object: data}

	// kustomization_controller.go generate.
	if _, err := kustomize.NewGenerator(tmpDir, u).WriteFile(dirPath); err != nil {
		return nil, fmt.Errorf("failed to generate kustomization.yaml: %s", strings.ReplaceAll(err.Error(), tmpDir, root))
	}

	// kustomization_controller.go build.
	m, err := kustomize.SecureBuild(tmpDir, dirPath, false)
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %s", strings.ReplaceAll(err.Error(), tmpDir, root))
	}
	for _, res := range m.Resources() {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("failed to decode Kubernetes apiVersion, kind and name from: %v", res.String())
		}
		if obj.Spec.PostBuild != nil {
			outRes, err := kustomize.SubstituteVariables(context.Background(), nil, u, res)
			if err != nil {
				return nil, fmt.Errorf("post build failed for '%s/%s': %w", res.GetGvk(), res.GetName(), err)
			}
			if outRes != nil {
				if _, err := m.Replace(res); err != nil {
					return nil, err
				}
			}
		}
	}
	return m.AsYaml()
}
