"""Fetching real-data sources, offline: a local HTTP server on 127.0.0.1 plays the hosts."""

import hashlib
import json
import random
from pathlib import Path

import pytest

from attr2img.data.real import fetch
from attr2img.data.real.fetch import Policy, RemoteFile, Source
from attr2img.errors import FetchError, UsageError
from fakehost import host, tgz as _tgz  # noqa: F401  (host is a fixture)

JPEG = b"\xff\xd8" + random.Random(1).randbytes(5000)
FAST = Policy(attempts=2, backoff=0.0, timeout=5.0, progress=False, sleep=lambda s: None)


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _lfw_like():
    """A tiny archive in lfw-funneled.tgz's real layout, and a split list beside it."""
    rnd = random.Random(0)                     # incompressible, so the archive is several KB
    archive = _tgz({"lfw_funneled": None, "lfw_funneled/Aaron_Eckhart": None,
                    "lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg": JPEG,
                    "lfw_funneled/Zico/Zico_0001.jpg": b"\xff\xd8" + rnd.randbytes(3000)})
    split = b"2\nAaron_Eckhart\t1\nZico\t1\n"
    return archive, split


def _source(host, archive, split, archive_urls=None):
    host.files.update({"/a/lfw-funneled.tgz": archive, "/b/lfw-funneled.tgz": archive, "/a/peopleDevTrain.txt": split})
    return Source("tiny-lfw", (
        RemoteFile("lfw-funneled.tgz", tuple(host.url(u) for u in (archive_urls or ["/a/lfw-funneled.tgz"])),
                   sha256=_sha(archive), extract=True),
        RemoteFile("peopleDevTrain.txt", (host.url("/a/peopleDevTrain.txt"),),
                   md5=hashlib.md5(split).hexdigest()),
    ))


def test_fetch_verifies_extracts_and_writes_a_card(host, tmp_path):
    archive, split = _lfw_like()
    card = fetch.run(_source(host, archive, split), tmp_path / "res", FAST)
    res = tmp_path / "res"
    assert (res / "lfw_funneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg").read_bytes() == JPEG
    assert (res / "peopleDevTrain.txt").read_bytes() == split
    assert card["files"]["lfw-funneled.tgz"]["sha256"] == _sha(archive)
    assert card["files"]["lfw-funneled.tgz"]["extracted"] == ["lfw_funneled"]
    assert json.loads((res / "fetched.json").read_text()) == card
    assert all(ua and ua.startswith("attr2img/") for _, _, ua in host.log), "a User-Agent on every request"
    assert not list(res.glob("*.partial")) and not list(res.glob(".extract-*"))
    n = len(host.log)
    fetch.run(_source(host, archive, split), res, FAST)
    assert len(host.log) == n, "verified files are not downloaded again"


def test_a_truncated_transfer_resumes_where_it_stopped(host, tmp_path):
    archive, split = _lfw_like()
    src = _source(host, archive, split)
    host.faults["/a/lfw-funneled.tgz"] = ("truncate", 1000)
    fetch.run(src, tmp_path, FAST)
    requests = [(p, r) for p, r, _ in host.log if p == "/a/lfw-funneled.tgz"]
    assert requests == [("/a/lfw-funneled.tgz", None), ("/a/lfw-funneled.tgz", "bytes=1000-")]
    assert fetch.digests(tmp_path / "lfw-funneled.tgz")["sha256"] == _sha(archive)


def test_a_dead_first_mirror_moves_on_to_the_next_at_once(host, tmp_path):
    archive, split = _lfw_like()
    src = _source(host, archive, split, archive_urls=["/a/lfw-funneled.tgz", "/b/lfw-funneled.tgz"])
    host.faults["/a/lfw-funneled.tgz"] = "404"
    fetch.run(src, tmp_path, FAST)
    paths = [p for p, _, _ in host.log if p.endswith(".tgz")]
    assert paths == ["/a/lfw-funneled.tgz", "/b/lfw-funneled.tgz"], "a 404 is not retried"
    assert (tmp_path / "lfw_funneled/Zico/Zico_0001.jpg").exists()


def test_a_checksum_mismatch_is_retried_then_reported_and_nothing_unverified_stays(host, tmp_path):
    archive, split = _lfw_like()
    src = _source(host, archive, split)
    host.faults["/a/lfw-funneled.tgz"] = "corrupt"
    with pytest.raises(FetchError) as err:
        fetch.run(src, tmp_path, FAST)
    msg = str(err.value)
    assert "lfw-funneled.tgz" in msg and _sha(archive) in msg and str(tmp_path / "lfw-funneled.tgz") in msg
    assert msg.count("does not verify") == FAST.attempts
    assert [p for p, _, _ in host.log].count("/a/lfw-funneled.tgz") == FAST.attempts
    assert not (tmp_path / "lfw-funneled.tgz").exists() and not list(tmp_path.glob("*.partial"))
    assert not (tmp_path / "lfw_funneled").exists() and not (tmp_path / "fetched.json").exists()


@pytest.mark.parametrize("evil", [{"../escaped.txt": b"x"}, {"/tmp/absolute.txt": b"x"},
                                  {"lfw_funneled": None, "lfw_funneled/link": ("symlink", "/etc/passwd")}])
def test_an_archive_member_that_escapes_its_folder_is_refused(host, tmp_path, evil):
    archive = _tgz({"lfw_funneled/ok.jpg": b"fine", **evil})
    src = Source("evil", (RemoteFile("lfw-funneled.tgz", (host.url("/e.tgz"),), sha256=_sha(archive), extract=True),))
    host.files["/e.tgz"] = archive
    target = tmp_path / "res"
    with pytest.raises(FetchError, match="refusing the archive"):
        fetch.run(src, target, FAST)
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in target.iterdir()) == ["lfw-funneled.tgz"], "nothing was extracted"


def test_a_file_put_in_by_hand_is_verified_and_used_with_no_server(tmp_path):
    archive, split = _lfw_like()
    dead = "http://127.0.0.1:9/"               # the discard port: nothing answers
    src = Source("manual", (RemoteFile("lfw-funneled.tgz", (dead + "lfw-funneled.tgz",), sha256=_sha(archive),
                                       extract=True),
                            RemoteFile("peopleDevTrain.txt", (dead + "peopleDevTrain.txt",), md5=hashlib.md5(split).hexdigest())))
    with pytest.raises(FetchError) as err:
        fetch.run(src, tmp_path, FAST)
    msg = str(err.value)
    for name in ("lfw-funneled.tgz", "peopleDevTrain.txt"):
        assert f"{name}: put at {tmp_path / name}" in msg
    assert f"sha256 {_sha(archive)}" in msg and f"md5 {hashlib.md5(split).hexdigest()}" in msg

    (tmp_path / "peopleDevTrain.txt").write_bytes(split + b"tampered")
    (tmp_path / "lfw-funneled.tgz").write_bytes(archive)
    with pytest.raises(FetchError, match="is there but does not verify"):
        fetch.run(src, tmp_path, FAST)
    (tmp_path / "peopleDevTrain.txt").write_bytes(split)
    card = fetch.run(src, tmp_path, FAST)
    assert set(card["files"]) == {"lfw-funneled.tgz", "peopleDevTrain.txt"}
    assert (tmp_path / "lfw_funneled/Zico/Zico_0001.jpg").exists()


def test_a_file_without_a_published_checksum_is_pinned_on_first_use(host, tmp_path):
    host.files["/parts_test.txt"] = b"Aaron_Eckhart 1\n"
    src = Source("parts", (RemoteFile("parts_test.txt", (host.url("/parts_test.txt"),)),))
    card = fetch.run(src, tmp_path, FAST)
    assert card["files"]["parts_test.txt"]["checksum"] == "pinned on first use"
    (tmp_path / "parts_test.txt").write_bytes(b"Someone_Else 2\n")
    host.files["/parts_test.txt"] = b"Someone_Else 2\n"
    with pytest.raises(FetchError, match="does not verify"):
        fetch.run(src, tmp_path, FAST)


def test_every_known_source_has_urls_and_a_checksum_or_a_pin():
    for src in fetch.SOURCES.values():
        for rf in src.files:
            assert rf.urls and all(u.startswith(("http://", "https://")) for u in rf.urls)
            assert rf.sha256 or rf.md5 or rf.name.startswith("parts_"), rf.name
    with pytest.raises(UsageError, match="unknown source 'nope'; known: lfw-funneled"):
        fetch.run("nope", Path("/nonexistent"), FAST)


def test_cli_fetch_lists_sources_and_reports_missing_files(tmp_path, capsys):
    from attr2img.cli import main

    main(["fetch", "--list"])
    out = capsys.readouterr().out
    assert "cub-segmentations" in out and "dc77f6cffea0cbe2e41d4201115c8f29a6320ecb04fffd2444f51b8066e4b84f" in out
    assert main(["fetch", "--source", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err
    assert main(["fetch", "--source", "cub"]) == 2
    assert "needs --dataset (or --source) and --out" in capsys.readouterr().err


def test_a_chunked_transfer_that_breaks_off_is_retried(host, tmp_path):
    archive, split = _lfw_like()
    src = _source(host, archive, split)
    host.faults["/a/lfw-funneled.tgz"] = ("chunked", len(archive) // 2)
    card = fetch.run(src, tmp_path, FAST)                     # http.client.IncompleteRead escaped before
    assert card["files"]["lfw-funneled.tgz"]["sha256"] == _sha(archive)
    ranges = [r for path, r, _ in host.log if path == "/a/lfw-funneled.tgz"]
    assert len(ranges) == 2 and ranges[0] is None, "one broken transfer, then a whole one"


def test_a_206_for_other_bytes_is_not_appended(host, tmp_path):
    archive, split = _lfw_like()
    src = _source(host, archive, split)
    (tmp_path / "lfw-funneled.tgz.partial").write_bytes(archive[:1000])    # a download to resume
    host.faults["/a/lfw-funneled.tgz"] = "wrong-range"
    card = fetch.run(src, tmp_path, FAST)
    assert card["files"]["lfw-funneled.tgz"]["sha256"] == _sha(archive)
    ranges = [r for path, r, _ in host.log if path == "/a/lfw-funneled.tgz"]
    assert ranges == ["bytes=1000-", None], "the bad 206 was discarded and the file fetched whole"


def test_a_killed_extraction_leaves_nothing_behind_on_the_next_run(host, tmp_path):
    archive, split = _lfw_like()
    stale = tmp_path / ".extract-lfw-funneled.tgz.k1ll3d"
    (stale / "lfw_funneled").mkdir(parents=True)
    (stale / "lfw_funneled" / "half.jpg").write_bytes(JPEG)
    fetch.run(_source(host, archive, split), tmp_path, FAST)
    assert not list(tmp_path.glob(".extract-*"))


def test_an_unresolvable_host_fails_fast_without_backoff(tmp_path, monkeypatch):
    import socket
    import urllib.error

    calls, sleeps = [], []
    def urlopen(req, timeout):
        calls.append(req.full_url)
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))
    monkeypatch.setattr(fetch.urllib.request, "urlopen", urlopen)
    policy = Policy(attempts=3, backoff=2.0, timeout=5.0, progress=False, sleep=sleeps.append)
    rf = RemoteFile("x.txt", ("http://a.invalid/x.txt", "http://b.invalid/x.txt"), md5="0" * 32)
    with pytest.raises(FetchError, match="host name does not resolve"):
        fetch.run(Source("s", (rf,)), tmp_path, policy)
    assert calls == ["http://a.invalid/x.txt", "http://b.invalid/x.txt"] and sleeps == []


def test_a_placed_file_that_does_not_verify_says_so_and_can_be_accepted(host, tmp_path, capsys):
    from attr2img.cli import main

    archive, split = _lfw_like()
    src = _source(host, archive, split)
    host.faults["/a/lfw-funneled.tgz"] = "404"
    repacked = _tgz({"lfw_funneled": None, "lfw_funneled/Zico": None, "lfw_funneled/Zico/Zico_0001.jpg": JPEG})
    (tmp_path / "lfw-funneled.tgz").write_bytes(repacked)
    with pytest.raises(FetchError) as err:
        fetch.run(src, tmp_path, FAST)
    msg = str(err.value)
    assert f"{tmp_path / 'lfw-funneled.tgz'} is there but does not verify ({len(repacked):,} bytes; sha256 " \
           f"{_sha(repacked)}, expected {_sha(archive)})" in msg and "fetch.accept" in msg
    card = fetch.run(src, tmp_path, FAST, accept={"lfw-funneled.tgz": _sha(repacked)})
    assert card["files"]["lfw-funneled.tgz"]["checksum"].startswith("accepted non-reference copy")
    assert (tmp_path / "lfw_funneled/Zico/Zico_0001.jpg").exists()
    # the same through the CLI, with the opt-in on the command line
    (tmp_path / "fetched.json").unlink()
    assert main(["fetch", "--source", "lfw-funneled", "--out", str(tmp_path / "cli"), "--attempts", "1",
                 "--timeout", "1", "--accept", "lfw-funneled.tgz=nothex"]) == 2
    assert "expected FILE=SHA256" in capsys.readouterr().err


def test_a_failed_dataset_fetch_leaves_no_stale_record(tmp_path):
    out = tmp_path / "resources/lfw"
    out.mkdir(parents=True)
    (out / "fetched.json").write_text('{"dataset": "lfw", "sources": {}, "missing": {}}')
    none = Source("empty", (RemoteFile("f.txt", (), md5="0" * 32),))
    with pytest.raises(FetchError):
        fetch.fetch_dataset("lfw", out, FAST, sources={name: none for name in fetch.DATASET_SOURCES["lfw"]})
    assert not (out / "fetched.json").exists(), "a later prepare must not trust the old record"
