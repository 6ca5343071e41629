"""Kubeflow's Model Registry Python client (model-registry 0.3.18) against a server given on the command line.

Usage: python model-registry-client.py URL TOKEN REGISTER_NAME READ_NAME READ_VERSION
Registers REGISTER_NAME v1 with the client's own register_model, reads it back and reads READ_NAME
READ_VERSION (written by someone else) with get_registered_model / get_model_version /
get_model_artifact, and prints what it saw as one JSON object. Any client error exits non-zero.
"""

import json
import sys
import warnings

from model_registry import ModelRegistry

warnings.simplefilter("ignore")
url, token, register_name, read_name, read_version = sys.argv[1:6]


def seen(name: str, version: str) -> dict:
    model = registry.get_registered_model(name)
    mv = registry.get_model_version(name, version)
    artifact = registry.get_model_artifact(name, version)
    return {
        "registeredModel": {"id": model.id, "name": model.name, "state": str(model.state.value), "owner": model.owner},
        "modelVersion": {
            "id": mv.id,
            "name": mv.name,
            "state": str(mv.state.value),
            "author": mv.author,
            "registeredModelId": mv.registered_model_id,
            "customProperties": mv.custom_properties,
        },
        "modelArtifact": {
            "id": artifact.id,
            "name": artifact.name,
            "uri": artifact.uri,
            "modelFormatName": artifact.model_format_name,
            "modelFormatVersion": artifact.model_format_version,
            "customProperties": artifact.custom_properties,
        },
    }


registry = ModelRegistry(url, author="judge", is_secure=False, user_token=token)
registry.register_model(
    register_name,
    f"oci://registry.example.com/judges/{register_name}@sha256:{'c' * 64}",
    model_format_name="gguf",
    model_format_version="3",
    version="v1",
    description="registered by the Kubeflow client",
    version_description="first version",
    metadata={"mof.class": "3", "layers": 2, "signed": True},
)
print(
    json.dumps(
        {
            "registered": seen(register_name, "v1"),
            "read": seen(read_name, read_version),
            "missing": registry.get_registered_model("no-such-model") is None,
        },
        default=str,
    )
)
