/**
 * The KServe objects: the InferenceService (split into a digest-free base and a per-environment
 * pin) and, for GGUF, the llama.cpp ServingRuntime KServe does not ship.
 */
import { storageUri, type ModelDeployment } from './model-ref.js';

type Obj = Record<string, unknown>;

/**
 * What the Kubeflow Model Registry's InferenceService controller reads to link a deployment to its
 * registered model and version (kubeflow/model-registry
 * manifests/kustomize/options/controller/overlays/base/params.env, pkg/inferenceservice-controller/controller.go).
 */
export const REGISTERED_MODEL_ID_LABEL = 'modelregistry.kubeflow.org/registered-model-id';
export const MODEL_VERSION_ID_LABEL = 'modelregistry.kubeflow.org/model-version-id';
/** The registry's Service name and namespace, when its URL is an in-cluster Service address. */
export const MODEL_REGISTRY_NAME_LABEL = 'modelregistry.kubeflow.org/name';
export const MODEL_REGISTRY_NAMESPACE_LABEL = 'modelregistry.kubeflow.org/namespace';
/** The registry's base URL, which the controller calls when it is set. */
export const MODEL_REGISTRY_URL_ANNOTATION = 'modelregistry.kubeflow.org/url';
export const DIGEST_ANNOTATION = 'modelship.dev/digest';
export const MODEL_ARTIFACT_ID_ANNOTATION = 'modelship.dev/model-artifact-id';

/**
 * The labels and annotations that link the InferenceService to a registry the cluster can reach:
 * none for the embedded registry (a file on the machine that handed off) or a loopback address,
 * whose ids mean nothing to the cluster.
 */
export function registryLink(registry: NonNullable<ModelDeployment['registry']>): { labels: Record<string, string>; annotations: Record<string, string> } | undefined {
  let url: URL;
  try {
    url = new URL(registry.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (/^(localhost|.*\.localhost|127(\.\d+){3}|0\.0\.0\.0|::1?)$/i.test(host)) return undefined;
  const labels: Record<string, string> = { [REGISTERED_MODEL_ID_LABEL]: registry.registeredModelId, [MODEL_VERSION_ID_LABEL]: registry.modelVersionId };
  // SERVICE.NAMESPACE.svc[.cluster.local]: the controller finds the Service by these labels.
  const service = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$/.exec(host);
  if (service) Object.assign(labels, { [MODEL_REGISTRY_NAME_LABEL]: service[1]!, [MODEL_REGISTRY_NAMESPACE_LABEL]: service[3]! });
  return {
    labels,
    annotations: { [MODEL_REGISTRY_URL_ANNOTATION]: url.origin, [MODEL_ARTIFACT_ID_ANNOTATION]: registry.modelArtifactId },
  };
}

/** llama.cpp's server image; GPU builds are a separate tag. */
const LLAMA_CPP_IMAGE = { cpu: 'ghcr.io/ggml-org/llama.cpp:server', gpu: 'ghcr.io/ggml-org/llama.cpp:server-cuda' };
const GPU_RESOURCE = 'nvidia.com/gpu';

export function runtimeName(d: ModelDeployment): string | undefined {
  return d.format === 'gguf' ? `${d.name}-llamacpp` : undefined;
}

/** KServe's modelFormat: its Hugging Face server (vLLM backend) serves safetensors checkpoints. */
function modelFormatOf(d: ModelDeployment): { name: string } {
  if (d.format === 'safetensors') return { name: 'huggingface' };
  return { name: d.format };
}

function gpuResources(gpus: number): Obj {
  const count = String(gpus);
  return { requests: { [GPU_RESOURCE]: count }, limits: { [GPU_RESOURCE]: count } };
}

/** The InferenceService without what changes per hand-off (storage, registry ids): the base of every overlay. */
export function baseInferenceService(d: ModelDeployment, deploymentMode: 'Standard' | 'RawDeployment' = 'Standard'): Obj {
  const runtime = runtimeName(d);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: d.name,
      labels: { 'app.kubernetes.io/name': d.name, 'app.kubernetes.io/managed-by': 'modelship' },
      // A plain Deployment, no Knative: "Standard" from KServe 0.16, "RawDeployment" before.
      annotations: { 'serving.kserve.io/deploymentMode': deploymentMode },
    },
    spec: {
      predictor: {
        model: {
          modelFormat: modelFormatOf(d),
          ...(runtime ? { runtime } : {}),
          ...(d.gpus > 0 ? { resources: gpuResources(d.gpus) } : {}),
        },
        ...(d.gpus > 0 ? { tolerations: [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] } : {}),
      },
    },
  };
}

/** What an environment's overlay pins: the digest, and the registry version it was recorded as. */
export function inferenceServicePin(d: ModelDeployment): Obj {
  const link = d.registry ? registryLink(d.registry) : undefined;
  const labels: Record<string, string> = { ...link?.labels };
  const annotations: Record<string, string> = { [DIGEST_ANNOTATION]: d.image.digest, ...link?.annotations };
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: d.name, ...(Object.keys(labels).length ? { labels } : {}), annotations },
    spec: {
      predictor: {
        model: { modelFormat: modelFormatOf(d), storageUri: storageUri(d.image, d.mount) },
        // A single-platform image cannot be pulled on nodes of another architecture: schedule it only where it runs.
        ...(d.nodeArchitecture ? { nodeSelector: { [NODE_ARCH_LABEL]: d.nodeArchitecture } } : {}),
      },
    },
  };
}

/** The well-known node label the kubelet sets from its GOARCH (k8s.io/api/core/v1 LabelArchStable). */
export const NODE_ARCH_LABEL = 'kubernetes.io/arch';

/** A llama.cpp server for GGUF, listening where KServe expects the model container (port 8080). */
export function llamaCppServingRuntime(d: ModelDeployment): Obj | undefined {
  const name = runtimeName(d);
  if (!name) return undefined;
  const model = `/mnt/models/${d.modelFile ?? 'model.gguf'}`;
  return {
    apiVersion: 'serving.kserve.io/v1alpha1',
    kind: 'ServingRuntime',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'modelship' } },
    spec: {
      supportedModelFormats: [{ name: 'gguf', autoSelect: true }],
      protocolVersions: ['v1'],
      containers: [
        {
          name: 'kserve-container',
          image: d.gpus > 0 ? LLAMA_CPP_IMAGE.gpu : LLAMA_CPP_IMAGE.cpu,
          args: ['--model', model, '--host', '0.0.0.0', '--port', '8080', ...(d.gpus > 0 ? ['--n-gpu-layers', '999'] : [])],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          readinessProbe: { httpGet: { path: '/health', port: 8080 } },
        },
      ],
    },
  };
}

/** Strategic-merge of a pin onto its base, as kustomize builds it (maps merge; the pin has no lists). */
export function mergeObjects(base: Obj, patch: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) ? mergeObjects(b as Obj, v as Obj) : v;
  }
  return out;
}
