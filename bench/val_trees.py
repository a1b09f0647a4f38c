"""Prepare approximate trees for the validation set from PyPI releases.

The validation repositories' git histories are too big to mirror here, so each instance
gets the tree of a published release instead of its base commit: an APPROXIMATION
(a release differs from the commit the issue was filed against; a wheel, used when a
source distribution cannot even report its metadata without a native build, has no
docs and no top-level tests). Figures measured on these trees are labelled as such.

Which release: the instance number is the number of the pull request that fixed it;
its date is estimated by linear interpolation between public anchor pull requests
(number, date) of that repository, and the instance gets the newest feature release
published before that date (release dates are public facts). The gold files are never
consulted to choose; the manifest only records, for the report, whether they exist in
the chosen tree.

    python bench/val_trees.py CACHE_DIR [--dataset FILE]

CACHE_DIR (never committed) receives the downloads, one extracted tree per release,
and `manifest.json`, which `bench/retrieval.py --trees CACHE_DIR/manifest.json` reads.
Downloads go through pip (`pip download --no-deps`), at setup time only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DATASET = Path("/work/shared/bench/swebench_lite_val.json")


@dataclass(frozen=True)
class Source:
    package: str  # PyPI name
    releases: dict[str, str]  # feature release -> publication date (ISO)
    anchors: list[tuple[int, str]]  # (pull request number, approximate date)
    wheel_root: str = ""  # where the wheel's top-level packages live in the repository


# Release dates: the projects' release announcements. Anchors: approximate creation
# dates of round-numbered pull requests, to within about a month.
SOURCES: dict[str, Source] = {
    "django/django": Source(
        "django",
        {
            "2.0": "2017-12-02",
            "2.1": "2018-08-01",
            "2.2": "2019-04-01",
            "3.0": "2019-12-02",
            "3.1": "2020-08-04",
            "3.2": "2021-04-06",
            "4.0": "2021-12-07",
            "4.1": "2022-08-03",
            "4.2": "2023-04-03",
            "5.0": "2023-12-04",
        },
        [
            (9000, "2017-09-01"),
            (10000, "2018-06-01"),
            (11000, "2019-02-20"),
            (12000, "2019-10-25"),
            (13000, "2020-06-01"),
            (14000, "2021-02-15"),
            (15000, "2021-10-20"),
            (16000, "2022-08-25"),
            (17000, "2023-06-20"),
        ],
    ),
    "scikit-learn/scikit-learn": Source(
        "scikit-learn",
        {
            "0.19.0": "2017-08-11",
            "0.20.0": "2018-09-26",
            "0.21.0": "2019-05-09",
            "0.22": "2019-12-03",
            "0.23.0": "2020-05-12",
            "0.24.0": "2020-12-22",
            "1.0": "2021-09-24",
            "1.1.0": "2022-05-12",
            "1.2.0": "2022-12-08",
            "1.3.0": "2023-06-30",
        },
        [
            (10000, "2017-10-25"),
            (11000, "2018-05-01"),
            (12000, "2018-09-01"),
            (13000, "2019-01-15"),
            (14000, "2019-06-01"),
            (15000, "2019-09-15"),
            (20000, "2021-05-01"),
            (25000, "2022-11-20"),
            (26000, "2023-03-25"),
        ],
    ),
    "matplotlib/matplotlib": Source(
        "matplotlib",
        {
            "3.0.0": "2018-09-18",
            "3.1.0": "2019-05-18",
            "3.2.0": "2020-03-04",
            "3.3.0": "2020-07-16",
            "3.4.0": "2021-03-26",
            "3.5.0": "2021-11-16",
            "3.6.0": "2022-09-15",
            "3.7.0": "2023-02-13",
        },
        [
            (13000, "2018-12-20"),
            (15000, "2019-08-10"),
            (18000, "2020-07-20"),
            (20000, "2021-04-15"),
            (22000, "2021-12-25"),
            (24000, "2022-09-25"),
            (26000, "2023-06-01"),
        ],
        wheel_root="lib",
    ),
}
_WHEEL_PYTHONS = ("3.6", "3.7", "3.8", "3.9", "3.10")
_PLATFORMS = ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64")


def estimated_date(number: int, anchors: list[tuple[int, str]]) -> date:
    """Linear interpolation between anchors (extrapolated from the nearest two)."""
    points = [(n, date.fromisoformat(d).toordinal()) for n, d in anchors]
    i = min(max(bisect_right([n for n, _ in points], number), 1), len(points) - 1)
    (n0, d0), (n1, d1) = points[i - 1], points[i]
    return date.fromordinal(round(d0 + (number - n0) * (d1 - d0) / (n1 - n0)))


def release_for(day: date, releases: dict[str, str]) -> str:
    """The newest release published before `day` (the oldest one if none was)."""
    before = [v for v, d in releases.items() if date.fromisoformat(d) < day]
    by_date = sorted(releases, key=releases.__getitem__)
    return max(before, key=releases.__getitem__) if before else by_date[0]


def pip_download(args: list[str], dest: Path) -> Path | None:
    dest.mkdir(parents=True, exist_ok=True)
    before = set(dest.iterdir())
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest)]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=900)
    new = sorted(set(dest.iterdir()) - before)
    if done.returncode != 0 or not new:
        return None
    return new[0]


def fetch(source: Source, version: str, downloads: Path) -> tuple[Path, str]:
    """An sdist when pip can prepare it, else a pure or old-CPython wheel (no build)."""
    spec = f"{source.package}=={version}"
    for existing in downloads.glob("*"):
        name = existing.name.lower().replace("_", "-")
        if name.startswith(f"{source.package}-{version}".lower()) and (
            name.endswith((".tar.gz", ".whl", ".zip"))
        ):
            return existing, "wheel" if name.endswith(".whl") else "sdist"
    sdist = pip_download([spec, "--no-binary", source.package], downloads)
    if sdist is not None:
        return sdist, "sdist"
    for python in _WHEEL_PYTHONS:
        platforms = [a for p in _PLATFORMS for a in ("--platform", p)]
        wheel = pip_download(
            [spec, "--only-binary", ":all:", "--python-version", python, *platforms], downloads
        )
        if wheel is not None:
            return wheel, "wheel"
    raise SystemExit(f"cannot download {spec} as an sdist or a wheel")


def extract(archive: Path, kind: str, target: Path, wheel_root: str) -> None:
    """The release's files laid out as in the repository."""
    if target.exists():
        return
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    if kind == "sdist":
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        [top] = list(partial.iterdir())  # an sdist holds one folder, name-version/
        for item in top.iterdir():
            item.rename(partial / item.name)
        top.rmdir()
    else:
        root = partial / wheel_root if wheel_root else partial
        root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as wheel:
            for member in wheel.namelist():
                top = member.split("/", 1)[0]
                if top.endswith((".dist-info", ".data")) or member.endswith((".so", ".pyd")):
                    continue
                wheel.extract(member, root)
    partial.rename(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    args = parser.parse_args()
    cache: Path = args.cache_dir.resolve()
    instances = json.loads(args.dataset.read_text())
    manifest: dict[str, dict[str, object]] = {}
    trees: dict[tuple[str, str], tuple[Path, str]] = {}
    for inst in instances:
        source = SOURCES[inst["repo"]]
        number = int(inst["instance_id"].rsplit("-", 1)[1])
        day = estimated_date(number, source.anchors)
        version = release_for(day, source.releases)
        key = (inst["repo"], version)
        if key not in trees:
            archive, kind = fetch(source, version, cache / "downloads")
            tree = cache / "trees" / f"{source.package}-{version}"
            extract(archive, kind, tree, source.wheel_root)
            trees[key] = (tree, kind)
            print(f"{source.package} {version}: {kind} -> {tree}", flush=True)
        tree, kind = trees[key]
        manifest[inst["instance_id"]] = {
            "tree": str(tree),
            "release": version,
            "kind": kind,
            "estimatedDate": day.isoformat(),
            "goldPresent": all((tree / p).is_file() for p in inst["gold_files"]),
        }
    out = cache / "manifest.json"
    out.write_text(json.dumps({"dataset": str(args.dataset), "instances": manifest}, indent=1))
    present = sum(1 for m in manifest.values() if m["goldPresent"])
    print(f"{len(manifest)} instances, gold files present in the tree for {present}; {out}")


if __name__ == "__main__":
    main()
