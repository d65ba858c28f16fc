#!/usr/bin/env python3
"""Packages the Splunk add-on (splunk/TA-jumpcloud-directory-insights) as
build/TA-jumpcloud-directory-insights-<version>.tgz, the file Splunk and Splunk Cloud install.

The package is reproducible: the same files give the same bytes. Entries are sorted, owned by uid/gid 0 with
no user or group names, dated SOURCE_DATE_EPOCH (default 1980-01-01), directories 0755 and files 0644; the gzip
header carries no name and no time. A user's settings (local/, local.meta) and Python caches never ship.
The version is package.json's; app.conf and app.manifest must say the same (the build stops and says where not).

Usage: python3 scripts/build-splunk.py [--app DIR] [--out DIR]
"""
import argparse
import configparser
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "TA-jumpcloud-directory-insights"
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z
SKIPPED_DIRS = {"local", "__pycache__"}
SKIPPED_FILES = {"local.meta"}


def skipped(rel: Path) -> bool:
    """A user's settings, caches and hidden files are not part of the add-on."""
    return (any(p in SKIPPED_DIRS or p.startswith(".") for p in rel.parts)
            or rel.name in SKIPPED_FILES or rel.suffix in (".pyc", ".pyo"))


def versions(app: Path) -> dict:
    """Every place the add-on states its version."""
    conf = configparser.ConfigParser(interpolation=None, strict=False)
    conf.read(app / "default" / "app.conf", encoding="utf-8")
    manifest = json.loads((app / "app.manifest").read_text(encoding="utf-8"))
    return {
        "default/app.conf [launcher] version": conf.get("launcher", "version", fallback=None),
        "default/app.conf [id] version": conf.get("id", "version", fallback=None),
        "app.manifest info.id.version": manifest["info"]["id"]["version"],
    }


def entries(app: Path) -> tuple:
    """The add-on's directories and files, relative to it and sorted, and what was left out."""
    keep, left_out = [], []
    for path in sorted(app.rglob("*")):
        rel = path.relative_to(app)
        if skipped(rel):
            left_out.append(rel.as_posix())
        elif path.is_symlink() or not (path.is_dir() or path.is_file()):
            raise SystemExit(f"{path}: not a plain file or directory; a Splunk app holds only those")
        else:
            keep.append(rel)
    return keep, left_out


def build(app: Path, out: Path, version: str, mtime: int) -> Path:
    keep, left_out = entries(app)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for rel in [Path(".")] + keep:
            path = app / rel
            info = tarfile.TarInfo(APP_ID if rel == Path(".") else f"{APP_ID}/{rel.as_posix()}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = mtime
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    target = out / f"{APP_ID}-{version}.tgz"
    out.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
        gz.write(raw.getvalue())
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {len(keep) + 1} entries, {target.stat().st_size} bytes, sha256 {digest}")
    if left_out:
        print(f"left out (a user's settings or caches): {', '.join(left_out)}")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\nUsage:")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, default=ROOT / "splunk" / APP_ID, metavar="DIR",
                        help=f"the add-on directory (default: splunk/{APP_ID})")
    parser.add_argument("--out", type=Path, default=ROOT / "build", metavar="DIR",
                        help="where the .tgz goes (default: build/)")
    args = parser.parse_args()
    if not (args.app / "default" / "app.conf").is_file():
        print(f"{args.app}: no default/app.conf: --app must be the add-on's directory ({APP_ID})", file=sys.stderr)
        return 1
    version = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["version"]
    wrong = {where: v for where, v in versions(args.app).items() if v != version}
    if wrong:
        for where, v in wrong.items():
            print(f"{args.app}/{where} is {v}, package.json's version is {version}: set it to {version}",
                  file=sys.stderr)
        return 1
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch and not epoch.isdigit():
        print(f"SOURCE_DATE_EPOCH={epoch}: seconds since 1970 expected", file=sys.stderr)
        return 1
    build(args.app, args.out, version, int(epoch) if epoch else DEFAULT_EPOCH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
