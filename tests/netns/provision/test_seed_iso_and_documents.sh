#!/usr/bin/env bash
# The seed ISO `up` writes: ISO 9660 labelled cidata holding exactly the
# user-data, meta-data and network-config kept beside it; and the
# documents as YAML with the keys cloud-init and kubeadm need (cloud-init's
# own schema check is test_user_data_passes_cloud_init_schema.sh).
. "$(dirname "$0")/common.sh"
prov_init
command -v xorriso >/dev/null || prov_skip "needs xorriso"
python3 -c 'import yaml' 2>/dev/null || prov_skip "needs python3-yaml"

prov --connect test:///default up
prov_expect_rc 0
for n in k8s-control-plane k8s-worker1 k8s-worker2; do
	iso=$STATE/$n/seed.iso
	label=$(xorriso -indev "$iso" -pvd_info 2>/dev/null | sed -n "s/^Volume Id *: //p")
	[ "$label" = cidata ] || prov_fail "$n: volume id '$label'"
	if command -v blkid >/dev/null; then
		[ "$(blkid -o value -s LABEL "$iso")" = cidata ] || prov_fail "$n: blkid label"
		[ "$(blkid -o value -s TYPE "$iso")" = iso9660 ] || prov_fail "$n: not iso9660"
	fi
	files=$(xorriso -indev "$iso" -lsd '/*' 2>/dev/null | sed "s/^'\/\(.*\)'$/\1/" | sort | tr '\n' ' ')
	[ "$files" = "meta-data network-config user-data " ] || prov_fail "$n: files '$files'"
	mkdir -p "$PROV_DIR/x/$n"
	xorriso -osirrox on -indev "$iso" -extract / "$PROV_DIR/x/$n" >/dev/null 2>&1
	for f in user-data meta-data network-config; do
		cmp -s "$PROV_DIR/x/$n/$f" "$STATE/$n/$f" || prov_fail "$n: $f in the ISO differs"
	done
done

python3 - "$STATE" <<'PY' || prov_fail "documents"
import sys, yaml, subprocess
st = sys.argv[1]
pin = None
def load(p):
    return yaml.safe_load(open(p))
for n, role in (("k8s-control-plane", "cp"), ("k8s-worker1", "w"), ("k8s-worker2", "w")):
    ud_text = open(f"{st}/{n}/user-data").read()
    assert ud_text.startswith("#cloud-config\n"), n
    ud = yaml.safe_load(ud_text)
    assert ud["hostname"] == n
    for k in ("packages", "write_files", "runcmd"):
        assert k in ud, (n, k)
    assert "containerd" in ud["packages"]
    files = {f["path"]: f for f in ud["write_files"]}
    for f in files.values():
        assert set(f) <= {"path", "content", "permissions", "owner", "encoding", "append", "defer"}, f
    boot = files["/usr/local/sbin/hearth-bootstrap"]["content"]
    assert "SystemdCgroup = true" in boot
    assert "pkgs.k8s.io/core:/stable:/v1.31/deb/" in boot
    kadm = list(yaml.safe_load_all(files["/etc/kubeadm/kubeadm.yaml"]["content"]))
    assert kadm == list(yaml.safe_load_all(open(f"{st}/{n}/kubeadm.yaml"))), n
    md = load(f"{st}/{n}/meta-data")
    assert md["local-hostname"] == n and md["instance-id"]
    nc = load(f"{st}/{n}/network-config")
    assert nc["version"] == 2
    eth = nc["ethernets"]["primary"]
    assert eth["routes"][0]["via"] == "192.168.122.1"
    assert eth["nameservers"]["addresses"] == ["192.168.122.1"]
    if role == "cp":
        assert files["/etc/kubernetes/pki/ca.crt"]["content"] == open(f"{st}/pki/ca.crt").read()
        assert files["/etc/kubernetes/pki/ca.key"]["permissions"] == "0600"
        assert "kubeadm init --config" in boot
        init, cluster, kubelet = kadm
        assert init["kind"] == "InitConfiguration"
        assert init["bootstrapTokens"][0]["token"] == open(f"{st}/pki/token").read().strip()
        assert cluster["controlPlaneEndpoint"] == "192.168.122.10:6443"
        assert cluster["networking"]["podSubnet"] == "10.244.0.0/16"
        assert kubelet["cgroupDriver"] == "systemd"
        # Flannel and hearth's manifests ride along and parse.
        for m in ("kube-flannel.yaml", "hearth.yaml", "gatewayclass.yaml"):
            docs = [d for d in yaml.safe_load_all(files["/etc/hearth/manifests/" + m]["content"]) if d]
            assert docs, m
        assert eth["addresses"] == ["192.168.122.10/24"]
    else:
        assert "/etc/kubernetes/pki/ca.key" not in files
        assert "kubeadm join --config" in boot
        (join,) = kadm
        hashes = join["discovery"]["bootstrapToken"]["caCertHashes"]
        out = subprocess.run(f"openssl x509 -in {st}/pki/ca.crt -pubkey -noout | "
                             "openssl pkey -pubin -outform der | sha256sum",
                             shell=True, capture_output=True, text=True).stdout.split()[0]
        assert hashes == ["sha256:" + out], (hashes, out)
        assert "unsafeSkipCAVerification" not in str(join)
PY
prov_log "PASS"
