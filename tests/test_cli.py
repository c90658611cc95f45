import subprocess
import sys

from attr2img.cli import STAGES, main


def test_module_entry_point_lists_every_stage():
    out = subprocess.run([sys.executable, "-m", "attr2img", "--help"], capture_output=True, text=True, check=True).stdout
    for stage in STAGES:
        assert stage in out


def test_prepare_then_overview(tmp_path, tiny_params_file, capsys):
    data = tmp_path / "data" / "synth-birds"
    fig = tmp_path / "fig.png"
    assert main(["prepare", "--params", str(tiny_params_file), "--dataset", "synth-birds", "--out", str(data)]) == 0
    assert (data / "card.json").exists()
    assert main(["overview", "--params", str(tiny_params_file), "--data", str(data), "--out", str(fig)]) == 0
    first = fig.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["overview", "--params", str(tiny_params_file), "--data", str(data), "--out", str(fig)]) == 0
    assert fig.read_bytes() == first, "reruns give identical bytes"


def test_overview_without_data_names_the_producing_stage(tmp_path, tiny_params_file, capsys):
    code = main(["overview", "--params", str(tiny_params_file), "--data", str(tmp_path / "missing"),
                 "--out", str(tmp_path / "f.png")])
    assert code == 3, "a missing input is a data error"
    assert "attr2img prepare" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_check_params(tiny_params_file, capsys):
    assert main(["check-params", "--params", str(tiny_params_file)]) == 0
    assert "valid" in capsys.readouterr().out
