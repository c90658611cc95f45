"""Stage ``fetch``: download, verify and safely extract one source of the real datasets.

Every file has a pinned checksum and one or more URLs (mirrors first where the original host
is gone; see ``SOURCES``). A download resumes a partial file (HTTP Range), shows a progress
bar, sends a User-Agent (CaltechDATA refuses requests without one) and retries with
exponential backoff before it moves on to the next URL; a client error (404, 403) moves on at
once. A file whose checksum does not match is deleted and fetched again, then reported.

Several LFW files have no live host today, so a file can also be put in place by hand:
``resources/<source>/<file name>``. Such a file is verified like a download and then used.
When every URL of a file fails, the error names each missing file, its checksum and the path
to put it at. Nothing unverified is left at a final path: downloads go to ``<name>.partial``
and are renamed only after their checksum matches.

Archives are extracted into ``resources/<source>/`` with every member checked first: no
absolute path, no ``..``, no link, no device may write outside the target folder.

A file with no published checksum (the Part Labels split lists) is pinned on first use: its
SHA-256 goes into ``resources/<source>/fetched.json`` and the card, and a later fetch must
match it.

The DAG fetches per dataset (``fetch_dataset``, ``attr2img fetch --dataset D --out
resources/D``): each source of ``DATASET_SOURCES[D]`` goes to ``resources/D/<source>/`` with
its own card, and ``resources/D/fetched.json`` records them all. The sources with a documented
fallback (the View 1 lists, the Part Labels) may be missing: the record says so and
preparation uses the fallback. Embedded synthetic datasets need nothing; their record says that.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from attr2img.atomic import write_json
from attr2img.errors import FetchError, UsageError

USER_AGENT = "attr2img/0.1 (+https://github.com/attr2img; research dataset fetcher) python-urllib"
CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    extract: bool = False          # a .tgz/.tar archive to unpack into the source folder

    def checksum_text(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.md5:
            return f"md5 {self.md5}"
        return "no published checksum (pinned on first use)"


@dataclass(frozen=True)
class Source:
    name: str
    files: tuple[RemoteFile, ...]
    note: str = ""


_UMASS = "http://vis-www.cs.umass.edu/lfw/"
_FIGSHARE = "https://ndownloader.figshare.com/files/"

# What is known of each source (../shared/reference/data-sources.md, re-checked 2026-11).
SOURCES = {s.name: s for s in (
    Source("lfw-funneled", (
        RemoteFile("lfw-funneled.tgz", (_FIGSHARE + "5976015", _UMASS + "lfw-funneled.tgz"),
                   sha256="b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a",
                   md5="1b42dfed7d15c9b2dd63d5e5840c86ad", extract=True),
    ), "LFW, funneled (the images the Part Labels label); figshare mirror"),
    Source("lfw-view1", (
        RemoteFile("peopleDevTrain.txt", (_UMASS + "peopleDevTrain.txt",), md5="54eaac34beb6d042ed3a7d883e247a21"),
        RemoteFile("peopleDevTest.txt", (_UMASS + "peopleDevTest.txt",), md5="e4bf5be0a43b5dcd9dc5ccfcb8fb19c5"),
    ), "LFW View 1 identity split; no live host known: put the files in by hand"),
    Source("lfw-attributes", (
        RemoteFile("lfw_attributes.txt",
                   ("http://www.cs.columbia.edu/CAVE/databases/pubfig/download/lfw_attributes.txt",),
                   md5="a68c039ac854fd966fe4bdc36674b98f"),
    ), "Kumar et al.'s 73 attribute scores"),
    Source("lfw-part-labels", (
        RemoteFile("parts_lfw_funneled_gt_images.tgz", (_UMASS + "part_labels/parts_lfw_funneled_gt_images.tgz",),
                   md5="3e7e26e801c3081d651c8c2ef3c45cfc", extract=True),
        RemoteFile("parts_train.txt", (_UMASS + "part_labels/parts_train.txt",)),
        RemoteFile("parts_validation.txt", (_UMASS + "part_labels/parts_validation.txt",)),
        RemoteFile("parts_test.txt", (_UMASS + "part_labels/parts_test.txt",)),
    ), "LFW Part Labels (hair/skin/background); no live host known: put the files in by hand"),
    Source("cub", (
        RemoteFile("CUB_200_2011.tgz",
                   ("https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz?download=1",
                    "http://www.vision.caltech.edu/visipedia-data/CUB-200-2011/CUB_200_2011.tgz"),
                   sha256="0c685df5597a8b24909f6a7c9db6d11e008733779a671760afef78feb49bf081",
                   md5="97eceeb196236b17998738112f37df78", size=1150585339, extract=True),
    ), "CUB-200-2011 images and metadata (non-commercial research and education)"),
    Source("cub-segmentations", (
        RemoteFile("segmentations.tgz",
                   ("https://data.caltech.edu/records/w9d68-gec53/files/segmentations.tgz?download=1",),
                   sha256="dc77f6cffea0cbe2e41d4201115c8f29a6320ecb04fffd2444f51b8066e4b84f",
                   md5="4d47ba1228eae64f2fa547c47bc65255", size=39272883, extract=True),
    ), "CUB-200-2011 segmentation masks"),
)}


@dataclass
class Policy:
    """How hard to try: attempts per URL, first backoff (doubling), socket timeout."""
    attempts: int = 3
    backoff: float = 2.0
    timeout: float = 60.0
    progress: bool | None = None          # None: a bar when stderr is a terminal
    sleep: object = field(default=time.sleep, repr=False)


# -- verification ------------------------------------------------------------------------------
def digests(path: Path) -> dict:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return {"sha256": sha.hexdigest(), "md5": md5.hexdigest()}


def verify(rf: RemoteFile, path: Path, pinned: str | None = None,
           accepted: str | None = None) -> tuple[dict | None, str | None]:
    """(digests, None) when ``path`` is ``rf`` (or the copy whose SHA-256 the user ``accepted``),
    else (None, why not, with its size beside the expected one). Reads the file once."""
    size = path.stat().st_size
    expected_size = f", expected {rf.size:,}" if rf.size is not None else ""
    got = digests(path)
    if accepted and got["sha256"] == accepted.lower():
        return {**got, "accepted": True}, None
    if rf.size is not None and size != rf.size:
        return None, f"{size:,} bytes{expected_size}; sha256 {got['sha256']}"
    for kind, want in (("sha256", rf.sha256 or pinned), ("md5", rf.md5)):
        if want and got[kind] != want:
            return None, f"{size:,} bytes{expected_size}; {kind} {got[kind]}, expected {want}"
    return got, None


# -- download ----------------------------------------------------------------------------------
class _ClientError(Exception):
    """An HTTP 4xx answer, or a host name that does not resolve: retrying the same URL will not help."""


def _unresolvable(exc: BaseException) -> bool:
    """A name-resolution failure (offline, or a dead host name): fail fast, do not back off."""
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, socket.gaierror)


def _content_range_start(value: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes START-END/TOTAL`` header (None if absent or unreadable)."""
    try:
        unit, _, rng = (value or "").partition(" ")
        return int(rng.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


def _download(url: str, partial: Path, policy: Policy, label: str) -> None:
    """Fetch ``url`` into ``partial``, resuming what is already there."""
    have = partial.stat().st_size if partial.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=policy.timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:        # nothing left to send: the partial file is whole
            return
        if 400 <= exc.code < 500:
            raise _ClientError(f"HTTP {exc.code} {exc.reason}") from None
        raise
    except urllib.error.URLError as exc:
        if _unresolvable(exc):
            raise _ClientError(f"host name does not resolve ({exc.reason})") from None
        raise
    with resp:
        resumed = resp.status == 206
        if have and not resumed:            # the server ignored the range: start over
            have = 0
        if resumed and _content_range_start(resp.headers.get("Content-Range")) != have:
            # a 206 for other bytes than asked: appending would corrupt the file; start over
            partial.unlink(missing_ok=True)
            raise OSError(f"the server resumed at {resp.headers.get('Content-Range')!r}, not at byte {have}; "
                          f"the partial download was discarded")
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with open(partial, "ab" if resumed else "wb") as f, \
                tqdm(total=total, initial=have, unit="B", unit_scale=True, desc=label, leave=False,
                     disable=None if policy.progress is None else not policy.progress) as bar:
            while block := resp.read(CHUNK):
                f.write(block)
                bar.update(len(block))
        if total is not None and partial.stat().st_size < total:
            raise OSError(f"transfer ended after {partial.stat().st_size} of {total} bytes")


def fetch_file(rf: RemoteFile, folder: Path, policy: Policy, pinned: str | None = None,
               accepted: str | None = None) -> tuple[Path, dict | None, list[str]]:
    """Make ``folder/rf.name`` a verified copy; returns (path, its digests, []) or
    (path, None, the reasons it failed). A file in place that verifies never touches the network."""
    dest = folder / rf.name
    problems = []
    if dest.exists():
        got, why = verify(rf, dest, pinned, accepted)
        if why is None:
            return dest, got, []
        problems.append(f"{dest} is there but does not verify ({why}); to use this copy anyway, accept it: "
                        f"add '{rf.name}: <its sha256>' under fetch.accept in params.yaml")
    partial = dest.with_name(dest.name + ".partial")
    for url in rf.urls:
        for attempt in range(policy.attempts):
            try:
                _download(url, partial, policy, rf.name)
            except _ClientError as exc:
                problems.append(f"{url}: {exc}")
                break
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                problems.append(f"{url}: {reason} (attempt {attempt + 1}/{policy.attempts})")
                if attempt + 1 < policy.attempts:
                    policy.sleep(policy.backoff * 2 ** attempt)
                continue
            got, why = verify(rf, partial, pinned, accepted)
            if why is None:
                os.replace(partial, dest)
                return dest, got, []
            problems.append(f"{url}: downloaded file does not verify ({why}); deleted")
            partial.unlink()
    return dest, None, problems


# -- safe extraction ---------------------------------------------------------------------------
def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or member.name.startswith(("/", "\\")):
        raise FetchError(f"{archive}: member {member.name!r} would write outside its folder; refusing the archive")
    if not (member.isfile() or member.isdir()):
        kind = "link" if member.issym() or member.islnk() else "special file"
        raise FetchError(f"{archive}: member {member.name!r} is a {kind}; refusing the archive")


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Unpack ``archive`` into ``target`` after checking every member; returns its top-level entries.

    Members go to a temporary folder first; each top-level entry is then renamed into place,
    so a failure leaves the target as it was.
    """
    for stale in target.glob(f".extract-{archive.name}.*"):     # left by a killed extraction
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".extract-{archive.name}.", dir=target))
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for m in members:
                _check_member(m, archive)
            for m in members:
                m.mode = 0o644 if m.isfile() else 0o755
                tar.extract(m, tmp, set_attrs=False, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        tops = sorted(p.name for p in tmp.iterdir())
        for top in tops:
            dest = target / top
            if dest.is_dir():
                shutil.rmtree(dest)
            elif dest.exists():
                dest.unlink()
            os.replace(tmp / top, dest)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise FetchError(f"{archive}: cannot extract ({exc}); delete it and fetch again") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tops


# -- the stage ---------------------------------------------------------------------------------
def run(source: str | Source, out, policy: Policy | None = None, accept: dict | None = None) -> dict:
    """Fetch, verify and extract every file of ``source`` into ``out``; returns the card.

    ``accept`` (file name -> SHA-256): local copies to use although they are not the published
    file (a repacked archive, a copy of a file no host serves); the card says so."""
    accept = accept or {}
    src = SOURCES.get(source) if isinstance(source, str) else source
    if src is None:
        raise UsageError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    policy, out = policy or Policy(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    card_path = out / "fetched.json"
    previous = json.loads(card_path.read_text()).get("files", {}) if card_path.exists() else {}
    results, missing = {}, []
    for rf in src.files:
        pinned = previous.get(rf.name, {}).get("sha256") if not (rf.sha256 or rf.md5) else None
        path, got, problems = fetch_file(rf, out, policy, pinned, accept.get(rf.name))
        if got is None:
            missing.append((rf, path, problems))
            continue
        accepted = got.pop("accepted", False)
        results[rf.name] = {**got, "bytes": path.stat().st_size,
                            "checksum": "accepted non-reference copy (params fetch.accept)" if accepted else
                            "published" if (rf.sha256 or rf.md5) else "pinned on first use"}
    if missing:
        lines = [f"could not fetch {len(missing)} file(s) of {src.name!r}. Download each by hand, "
                 f"check it and put it at the path shown; `attr2img fetch` then verifies and uses it:"]
        for rf, path, problems in missing:
            lines.append(f"  - {rf.name}: put at {path} ({rf.checksum_text()})")
            lines += [f"      {p}" for p in problems]
        raise FetchError("\n".join(lines))
    for rf in src.files:
        if rf.extract:
            results[rf.name]["extracted"] = safe_extract(out / rf.name, out)
    card = {"source": src.name, "note": src.note, "files": results}
    write_json(card_path, card)
    return card


# -- per dataset (the DAG's fetch stage) -------------------------------------------------------
# dataset -> {source: None (required) or the fallback preparation uses when it cannot be had}
DATASET_SOURCES = {
    "synth-faces": {},
    "synth-birds": {},
    "lfw": {"lfw-funneled": None, "lfw-attributes": None,
            "lfw-view1": "a deterministic identity split of View 1's proportions (sha256 of each name)",
            "lfw-part-labels": "download-free masks: a random walker seeded from the face template"},
    "cub": {"cub": None, "cub-segmentations": None},
}


def fetch_dataset(dataset: str, out, policy: Policy | None = None, sources: dict | None = None,
                  accept: dict | None = None) -> dict:
    """Fetch every source of ``dataset`` into ``out/<source>/``; write and return ``out/fetched.json``.

    A required source that cannot be had fails the stage, after every source has been tried,
    with one message naming each missing file; an optional one is recorded as missing with
    the fallback that replaces it. The previous record is deleted first, so a failed fetch
    leaves none for a later stage to trust. ``accept``: see :func:`run`. ``sources`` (name ->
    Source) replaces ``SOURCES`` (tests).
    """
    if dataset not in DATASET_SOURCES:
        raise UsageError(f"unknown dataset {dataset!r}; known: {', '.join(DATASET_SOURCES)}")
    sources, out = sources or SOURCES, Path(out)
    (out / "fetched.json").unlink(missing_ok=True)
    record = {"dataset": dataset, "sources": {}, "missing": {}}
    errors = []
    for name, fallback in DATASET_SOURCES[dataset].items():
        try:
            record["sources"][name] = run(sources[name], out / name, policy, accept)
        except FetchError as exc:
            if fallback is None:
                errors.append(str(exc))
            else:
                record["missing"][name] = {"fallback": fallback, "to_use_it": str(exc)}
                print(f"warning: {name} is not available; preparation will use {fallback}.\n{exc}",
                      file=sys.stderr)
    if errors:
        raise FetchError("\n".join(errors))
    if not DATASET_SOURCES[dataset]:
        record["note"] = "an embedded synthetic dataset: rendered offline by the prepare stage, nothing to fetch"
    non_reference = sorted(f for card in record["sources"].values() for f, info in card["files"].items()
                           if info["checksum"].startswith("accepted"))
    if non_reference:
        record["non_reference_copies"] = non_reference
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "fetched.json", record)
    return record


# -- the fetch stage's command line --------------------------------------------------------------
def add_arguments(p) -> None:
    p.description = ("download, verify and extract every file of a dataset (the DAG stage) or of one source; "
                     "a file put by hand where the error message says is verified and used")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--dataset", help="synth-faces, synth-birds (nothing to fetch), lfw or cub: every source "
                                        "it needs, each into OUT/<source>/, recorded in OUT/fetched.json")
    what.add_argument("--source", help="one source: " + ", ".join(SOURCES))
    p.add_argument("--out", help="target folder, e.g. resources/lfw")
    p.add_argument("--list", action="store_true", help="list every source with its files, checksums and URLs")
    p.add_argument("--attempts", type=int, default=3, help="tries per URL before the next one (default 3)")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds (default 60)")
    p.add_argument("--accept", action="append", default=[], metavar="FILE=SHA256",
                   help="use this local copy although it is not the published file (repeatable; adds to "
                        "params fetch.accept, which is where a DAG run should say it)")


def _accepted(args, params) -> dict:
    accept = dict((params or {}).get("fetch", {}).get("accept", {}))
    for item in args.accept:
        name, sep, sha = item.partition("=")
        if not sep or len(sha) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha):
            raise UsageError(f"--accept {item!r}: expected FILE=SHA256 (64 hex digits)")
        accept[name] = sha
    return accept


def main(args, params=None) -> None:
    if args.list:
        for src in SOURCES.values():
            print(f"{src.name}: {src.note}")
            for rf in src.files:
                print(f"  {rf.name}  {rf.checksum_text()}\n    " + "\n    ".join(rf.urls))
        return
    if not args.out or not (args.source or args.dataset):
        raise UsageError("fetch needs --dataset (or --source) and --out, or --list")
    policy, accept = Policy(attempts=args.attempts, timeout=args.timeout), _accepted(args, params)
    if args.dataset:
        rec = fetch_dataset(args.dataset, args.out, policy, accept=accept)
        missing = f"; missing, with a fallback: {', '.join(rec['missing'])}" if rec["missing"] else ""
        copies = f"; non-reference copies accepted: {', '.join(rec['non_reference_copies'])}" \
            if rec.get("non_reference_copies") else ""
        print(f"{args.dataset}: {len(rec['sources'])} source(s) verified in {args.out}{missing}{copies}")
        return
    card = run(args.source, args.out, policy, accept)
    print(f"{args.source}: {len(card['files'])} file(s) verified in {args.out}")
