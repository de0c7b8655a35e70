"""hostPath PersistentVolumes bound to claims, for e2e tests that need a real volume on the node."""

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.support.cluster import Cluster, wait_until


@dataclass
class Volumes:
    """hostPath PersistentVolumes made for one test (cluster-scoped: deleted at its end)."""

    cluster: Cluster
    namespace: str
    root: Path
    made: list[str]

    def create(self, claim: str) -> Path:
        """A fresh host directory (mode 0777: the watcher runs as 65532) bound to claim `claim`."""
        directory = self.root / claim
        (directory / "input").mkdir(parents=True)
        for path in (directory, directory / "input"):
            os.chmod(path, 0o777)
        pv_name = f"cronflow-e2e-{uuid.uuid4().hex[:10]}"
        self.made.append(pv_name)
        manifests = [
            {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": pv_name},
             "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                      "persistentVolumeReclaimPolicy": "Retain",
                      "hostPath": {"path": str(directory), "type": "Directory"},
                      "claimRef": {"namespace": self.namespace, "name": claim}}},
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": claim, "namespace": self.namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": pv_name,
                      "resources": {"requests": {"storage": "1Gi"}}}},
        ]
        self.cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                   "items": manifests}))
        wait_until(f"claim {claim} to be bound", lambda: self.cluster.get_json(
            "-n", self.namespace, "pvc", claim).get("status", {}).get("phase") == "Bound", timeout=60)
        return directory / "input"
