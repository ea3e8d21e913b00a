#!/usr/bin/env bash
# deploy/: what a user applies, and what hearth-provision's control plane
# applies after kubeadm init. Checks the shape a cluster would enforce
# (no kubectl here): least-privilege RBAC, a DaemonSet with host network
# and only NET_ADMIN/NET_RAW/NET_BIND_SERVICE, the GatewayClass, a
# ConfigMap whose configuration hearthd --check-config accepts, a pinned
# Flannel for 10.244.0.0/16 over VXLAN; and that the manifests built into
# hearth-provision are these very files.
. "$(dirname "$0")/common.sh"
prov_init
python3 -c 'import yaml' 2>/dev/null || prov_skip "needs python3-yaml"
SRC=${HEARTH_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}

head -c 32 /dev/urandom | base64 >"$PROV_DIR/peer.key"
python3 - "$SRC/deploy" "$PROV_DIR" <<'PY' || prov_fail "deploy manifests"
import glob, json, os, sys, yaml
deploy, tmp = sys.argv[1], sys.argv[2]
docs = []
for p in sorted(glob.glob(deploy + "/*.yaml")):
    docs += [d for d in yaml.safe_load_all(open(p)) if d]
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
ns = by[("Namespace", "hearth-system")]
sa = by[("ServiceAccount", "hearth")]
assert sa["metadata"]["namespace"] == "hearth-system"

# RBAC: no wildcards, reads where reads suffice, status writes only.
cr = by[("ClusterRole", "hearth")]
grants = {}
for r in cr["rules"]:
    for g in r["apiGroups"]:
        for res in r["resources"]:
            assert "*" not in r["verbs"] and res != "*" and g != "*", r
            grants.setdefault((g, res), set()).update(r["verbs"])
read = {"get", "list", "watch"}
assert grants[("", "services")] == read
assert grants[("", "nodes")] == read
assert grants[("", "secrets")] == read, "secrets must be read-only"
assert grants[("discovery.k8s.io", "endpointslices")] == read
for res in ("gateways", "httproutes"):
    assert grants[("gateway.networking.k8s.io", res)] == read
    assert grants[("gateway.networking.k8s.io", res + "/status")] <= {"get", "update", "patch"}
assert grants[("", "services/status")] <= {"get", "update", "patch"}
assert grants[("", "events")] <= {"create", "patch"}
assert not any(res == "leases" for _, res in grants), "leases must not be cluster-wide"
for (g, res), verbs in grants.items():
    if "/status" not in res and res != "events":
        assert verbs <= read, (g, res, verbs)
crb = by[("ClusterRoleBinding", "hearth")]
assert crb["roleRef"]["name"] == "hearth"
assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "hearth", "namespace": "hearth-system"}]
role = [d for d in docs if d["kind"] == "Role"][0]
assert role["metadata"]["namespace"] == "hearth-system"
assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                          "verbs": ["get", "list", "watch", "create", "update", "patch"]}]
rb = [d for d in docs if d["kind"] == "RoleBinding"][0]
assert rb["roleRef"]["name"] == role["metadata"]["name"]

# The DaemonSet.
ds = by[("DaemonSet", "hearth")]
spec = ds["spec"]["template"]["spec"]
assert spec["hostNetwork"] is True
assert spec["serviceAccountName"] == "hearth"
(c,) = spec["containers"]
assert c["image"] == "hearth:latest"
sc = c["securityContext"]
assert sorted(sc["capabilities"]["add"]) == ["NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW"]
assert sc["capabilities"]["drop"] == ["ALL"]
assert not sc.get("privileged", False) and sc["allowPrivilegeEscalation"] is False
assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()
vols = {v["name"]: v for v in spec["volumes"]}
cfgpath = c["args"][c["args"].index("-c") + 1]
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
cfgvol = vols[mounts[os.path.dirname(cfgpath)]]
assert cfgvol["configMap"]["name"] == "hearth-config"
assert any(m == "/etc/hearth/peer" for m in mounts), mounts
assert any(t.get("operator") == "Exists" for t in spec["tolerations"])

# The ConfigMap's configuration, with the peer key where the Secret would be.
cm = by[("ConfigMap", "hearth-config")]
cfg = yaml.safe_load(cm["data"]["hearth.yaml"])
assert cfg["kubernetes"]["enabled"] is True
assert cfg["peers"]["key_file"].startswith("/etc/hearth/peer/")
text = cm["data"]["hearth.yaml"].replace(cfg["peers"]["key_file"], tmp + "/peer.key")
open(tmp + "/hearth.yaml", "w").write(text)

gc = by[("GatewayClass", "hearth")]
assert gc["apiVersion"] == "gateway.networking.k8s.io/v1"
assert gc["spec"]["controllerName"] == "hearth.dev/gateway-controller"

# Flannel: pinned images, 10.244.0.0/16 over VXLAN.
fl = [d for d in yaml.safe_load_all(open(deploy + "/flannel/kube-flannel.yaml")) if d]
fby = {(d["kind"], d["metadata"]["name"]): d for d in fl}
net = json.loads(fby[("ConfigMap", "kube-flannel-cfg")]["data"]["net-conf.json"])
assert net["Network"] == "10.244.0.0/16" and net["Backend"]["Type"] == "vxlan"
json.loads(fby[("ConfigMap", "kube-flannel-cfg")]["data"]["cni-conf.json"])
fspec = fby[("DaemonSet", "kube-flannel-ds")]["spec"]["template"]["spec"]
for c in fspec["containers"] + fspec["initContainers"]:
    img = c["image"]
    tag = img.rsplit(":", 1)[1] if ":" in img.split("/")[-1] else ""
    assert tag and tag != "latest", img
assert fspec["hostNetwork"] is True
PY
"$HEARTH_BIN/hearthd" -c "$PROV_DIR/hearth.yaml" --check-config >"$PROV_DIR/out" 2>&1 ||
	prov_fail "hearthd rejects the ConfigMap's configuration: $(cat "$PROV_DIR/out")"

# hearth-provision carries these very files to the control plane.
prov --connect test:///default up
prov_expect_rc 0
python3 - "$SRC/deploy" "$STATE/k8s-control-plane/user-data" <<'PY' || prov_fail "built-in manifests differ from deploy/"
import sys, yaml
deploy, ud = sys.argv[1], sys.argv[2]
files = {f["path"]: f["content"] for f in yaml.safe_load(open(ud))["write_files"]}
m = "/etc/hearth/manifests/"
assert files[m + "kube-flannel.yaml"] == open(deploy + "/flannel/kube-flannel.yaml").read()
assert files[m + "gatewayclass.yaml"] == open(deploy + "/40-gatewayclass.yaml").read()
parts = [open(f"{deploy}/{n}").read() for n in
         ("00-namespace.yaml", "10-rbac.yaml", "20-configmap.yaml", "30-daemonset.yaml")]
assert files[m + "hearth.yaml"] == "---\n".join(parts)
PY
prov_log "PASS"
