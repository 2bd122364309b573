#!/usr/bin/env python3
"""Builds the pull benchmark's image from installed Debian packages and
pushes it to a registry (the distribution API, monolithic uploads).

    bench/pull_image.py --registry http://127.0.0.1:5000 \
        --repository bench/debian --tag v1 \
        --layers busybox-static libicu72 libperl5.36,perl-modules-5.36 git

One gzip layer per --layers argument, base first, holding every file,
directory and symlink `dpkg -L` lists for the packages of that argument
(comma-separated), owned by root, modes kept, mtimes zero, so the same
packages give the same blobs. The config is linux/<this machine's
architecture>. Prints a JSON summary on stdout: the reference's manifest
digest, the total compressed size and each layer's sizes, for meta.json.

Exit status 1 naming the package when one is not installed (install it
with apt-get). Python 3 standard library only.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.error
import urllib.parse
import urllib.request

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm",
          "ppc64le": "ppc64le", "s390x": "s390x"}


def package_paths(package):
    try:
        out = subprocess.run(["dpkg", "-L", package], check=True,
                             capture_output=True, text=True).stdout
    except subprocess.CalledProcessError:
        sys.exit(f"pull_image.py: package {package} is not installed "
                 f"(apt-get install {package})")
    # On a merged-/usr system dpkg still lists /bin/busybox, but /bin is a
    # symlink to usr/bin: a layer entry below a symlink would make the
    # unpacker follow it. So each path is named by its real parent
    # directory, with every ancestor directory listed too; a listed path
    # that is itself a symlink (/bin) stays one.
    paths = set()
    for line in out.splitlines():
        if not line.startswith("/") or line == "/." or not (
                os.path.lexists(line)):
            continue
        parent = os.path.realpath(os.path.dirname(line))
        path = os.path.join(parent, os.path.basename(line))
        while parent != "/":
            paths.add(parent)
            parent = os.path.dirname(parent)
        paths.add(path)
    return paths


def layer(packages):
    """(gzip bytes, diff_id, digest) of one layer."""
    paths = sorted({p for pkg in packages for p in package_paths(pkg)})
    raw = io.BytesIO()

    def normalise(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in paths:
            # Diverted or replaced files may be missing or of another type
            # now; what is there is what the layer gets.
            t.add(path, arcname=path.lstrip("/"), recursive=False,
                  filter=normalise)
    tar = raw.getvalue()
    blob = gzip.compress(tar, compresslevel=6, mtime=0)
    return (blob, "sha256:" + hashlib.sha256(tar).hexdigest(),
            "sha256:" + hashlib.sha256(blob).hexdigest())


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    with urllib.request.urlopen(req) as resp:
        return resp.status, resp.headers


def push_blob(registry, repository, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    base = f"{registry}/v2/{repository}/blobs"
    try:
        request("HEAD", f"{base}/{digest}")
        return digest  # already there
    except urllib.error.HTTPError:
        pass
    _, headers = request("POST", f"{base}/uploads/")
    location = urllib.parse.urljoin(registry, headers["Location"])
    sep = "&" if "?" in location else "?"
    request("PUT", f"{location}{sep}digest={digest}", data,
            {"Content-Type": "application/octet-stream"})
    return digest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--registry", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--layers", nargs="+", required=True)
    args = parser.parse_args()
    registry = args.registry.rstrip("/")

    layers, diff_ids, summary = [], [], []
    for group in args.layers:
        blob, diff_id, digest = layer(group.split(","))
        push_blob(registry, args.repository, blob)
        layers.append({"mediaType":
                       "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": digest, "size": len(blob)})
        diff_ids.append(diff_id)
        summary.append({"packages": group, "compressed_bytes": len(blob)})
    config = json.dumps({
        "architecture": GOARCH.get(os.uname().machine, os.uname().machine),
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    config_digest = push_blob(registry, args.repository, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": layers,
    }).encode()
    request("PUT",
            f"{registry}/v2/{args.repository}/manifests/{args.tag}", manifest,
            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    json.dump({
        "manifest_digest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
        "config_digest": config_digest,
        "compressed_bytes": sum(l["size"] for l in layers) + len(config),
        "layers": summary,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
