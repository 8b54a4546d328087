"""Writes deploy/k8s/companion.yaml: one Deployment and Service per cloud service, probes on
/health, configuration from a ConfigMap and a Secret, an autoscaler for chat, and PostgreSQL,
Redis and chromadb as external dependencies. `tests/deploy/test_k8s.py` validates the result
against the Kubernetes schemas, offline, and checks it is up to date.

    python deploy/k8s/generate.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).with_name("companion.yaml")
IMAGE = "companion/cloud:0.1.0"  # built from deploy/Dockerfile.cloud
NAMESPACE = "companion"
# service -> (replicas, cpu request, memory request, memory limit)
SERVICES = {
    "auth": (2, "100m", "128Mi", "256Mi"),
    "profile": (2, "100m", "128Mi", "256Mi"),
    "chat": (2, "1000m", "1Gi", "2Gi"),
    "escalation": (2, "500m", "1Gi", "2Gi"),
    "sync": (2, "200m", "256Mi", "512Mi"),
    "rag": (2, "1000m", "1Gi", "2Gi"),
    "analytics": (2, "200m", "256Mi", "512Mi"),
    "translation": (1, "500m", "1Gi", "2Gi"),
    "notification": (2, "200m", "256Mi", "512Mi"),
    "vision": (1, "1000m", "512Mi", "1536Mi"),
    "voice": (1, "1000m", "768Mi", "1536Mi"),
}
EXTERNAL = {
    "postgres": "postgres.databases.svc.cluster.local",
    "redis": "redis.databases.svc.cluster.local",
    "chromadb": "chromadb.databases.svc.cluster.local",
}


def meta(name: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "companion", **labels}}


def documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta("companion-config"),
            "data": {
                "COMPANION_CLOUD_HOST": "0.0.0.0",
                "COMPANION_CLOUD_PORT": "8400",
                "COMPANION_CLOUD_API_DOCS": "false",
                "COMPANION_CLOUD_RAG_CHROMA_URL": "http://chromadb:8000",
                "COMPANION_CLOUD_LOG_LEVEL": "INFO",
            },
        },
    ]
    for name, host in EXTERNAL.items():
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta(name, role="external"),
                "spec": {"type": "ExternalName", "externalName": host},
            }
        )
    for name, (replicas, cpu, memory, memory_limit) in SERVICES.items():
        labels = {"app.kubernetes.io/name": f"companion-{name}"}
        probe = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3}
        container = {
            "name": name,
            "image": IMAGE,
            "args": ["cloud", "serve", "--service", name],
            "ports": [{"name": "http", "containerPort": 8400}],
            "envFrom": [{"configMapRef": {"name": "companion-config"}}, {"secretRef": {"name": "companion-secrets"}}],
            "readinessProbe": probe,
            "livenessProbe": {**probe, "failureThreshold": 6},
            "startupProbe": {**probe, "failureThreshold": 30},
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}},
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            },
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "env": [{"name": "COMPANION_CLOUD_DATA_DIR", "value": "/data"}],
        }
        docs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": meta(f"companion-{name}", **labels),
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [container], "volumes": [{"name": "data", "emptyDir": {}}]},
                    },
                },
            }
        )
        ports = [{"name": "http", "port": 80, "targetPort": "http"}]
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta(f"companion-{name}", **labels),
                "spec": {"selector": labels, "ports": ports},
            }
        )
    docs.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta("companion-chat"),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "companion-chat"},
                "minReplicas": 2,
                "maxReplicas": 10,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                    }
                ],
            },
        }
    )
    return docs


def render() -> str:
    header = (
        "# Generated by deploy/k8s/generate.py; edit that, then run it.\n"
        "# Secrets are not in the repo. Create them first:\n"
        "#   kubectl -n companion create secret generic companion-secrets \\\n"
        "#     --from-literal=COMPANION_CLOUD_JWT_SECRET=$(openssl rand -hex 32) \\\n"
        "#     --from-literal=COMPANION_CLOUD_DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@postgres/companion \\\n"
        "#     --from-literal=COMPANION_CLOUD_REDIS_URL=redis://redis:6379/0\n"
    )
    return header + yaml.safe_dump_all(documents(), sort_keys=False)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
