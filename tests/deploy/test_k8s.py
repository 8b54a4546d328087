"""The Kubernetes manifests: valid against the Kubernetes schemas (offline, kubernetes-validate),
up to date with their generator, and complete: every service deployed with probes, config from
a ConfigMap and a Secret that is not in the repo, an autoscaler for chat."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from cloud.common.app import all_services

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "k8s" / "companion.yaml"
VERSIONS = ["1.29.0", "1.33.0", kubernetes_validate.latest_version()]


def load() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_are_valid_kubernetes(version: str) -> None:
    for doc in load():
        kubernetes_validate.validate(doc, version, strict=True)  # raises with the path and the reason


def test_an_invalid_manifest_is_caught() -> None:
    hpa = next(d for d in load() if d["kind"] == "HorizontalPodAutoscaler")
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, VERSIONS[-1], strict=True)


def test_generated_file_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("k8s_generate", ROOT / "deploy" / "k8s" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert MANIFEST.read_text() == module.render(), "run: python deploy/k8s/generate.py"


def test_every_service_is_deployed_with_probes_and_external_config() -> None:
    docs = load()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
    for name in all_services():
        deployment = deployments[f"companion-{name}"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["cloud", "serve", "--service", name]
        assert {"readinessProbe", "livenessProbe", "startupProbe"} <= set(container)
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
        assert refs == {"companion-config", "companion-secrets"}
        assert f"companion-{name}" in services
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are created in the cluster, never kept here"
    assert {"postgres", "redis", "chromadb"} <= services
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "companion-chat"
