"""``workbench attack`` with mask templates fitted to landmarks and printable exports (as a
subprocess), and the one-line errors for what cannot be fitted or printed (in-process, to keep
the suite fast)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from workbench.cli import main
from workbench.core.images import save_png
from workbench.core.printable import read_resolution

ROOT = Path(__file__).resolve().parents[2]
EYES = {"left_eye": [8.0, 10.0], "right_eye": [19.0, 10.0]}


@pytest.fixture
def faces_folder(tmp_path, fashion_batch):
    """Two labelled 28×28 images in class folders, with eye landmarks for both."""
    x, y = fashion_batch
    folder = tmp_path / "faces"
    names = []
    for i in range(2):
        (folder / str(int(y[i]))).mkdir(parents=True, exist_ok=True)
        name = f"{int(y[i])}/{i}.png"
        save_png(folder / name, x[i])
        names.append(name)
    (folder / "landmarks.json").write_text(json.dumps({name: EYES for name in names}))
    return folder


def _arguments(folder, *options):
    return ["attack", "--model", "fashion-cnn", "--data", str(folder), "--attack", "eyeglasses",
            "--param", "steps=2", "--param", "samples=1", *options]


def _exits_2(arguments, capsys) -> str:
    """The one-line message of a command that ends with exit code 2."""
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    message = capsys.readouterr().err
    assert len(message.strip().splitlines()) == 1 and "Traceback" not in message
    return message


def test_eyeglasses_fitted_to_landmarks_with_printables(faces_folder, tmp_path):
    printable, out = tmp_path / "glasses.png", tmp_path / "runs"
    arguments = _arguments(
        faces_folder, "--mask-template", "eyeglasses", "--print-out", str(printable),
        "--print-width-mm", "140", "--print-dpi", "200", "--out", str(out), "--json",
    )
    completed = subprocess.run([sys.executable, "-m", "workbench.cli", *arguments],
                               capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["n"] == 2 and summary["pixels_changed_outside_mask"] == 0
    assert 0 < summary["mean_l0"] < 0.15 * 28 * 28  # only the frame changed
    assert summary["printable"] == str(printable)
    width = round(140 / 25.4 * 200)
    pixels = cv2.imread(str(printable), cv2.IMREAD_UNCHANGED)
    assert pixels.shape[1] == width and pixels.shape[2] == 4
    assert read_resolution(printable) == pytest.approx(200, rel=1e-4)
    run = next(out.iterdir())
    printables = sorted(p.name for p in (run / "printable").iterdir())
    assert len(printables) == 2 and printables == sorted(p.name for p in (run / "adversarial").iterdir())
    config = json.loads((run / "config.json").read_text())
    assert config["mask"]["template"] == "eyeglasses"
    assert config["printable"] == {"width_mm": 140.0, "dpi": 200.0}


def test_an_image_without_landmarks_or_eyes_is_named(faces_folder, capsys):
    (faces_folder / "landmarks.json").write_text("{}")
    message = _exits_2(_arguments(faces_folder, "--mask-template", "eyeglasses"), capsys)
    first = sorted(p.relative_to(faces_folder).as_posix() for p in faces_folder.glob("*/*.png"))[0]
    assert f"--mask-template: {first}" in message


@pytest.mark.parametrize("options, message", [
    (["--mask-template", "monocle"], "no mask template 'monocle'"),
    (["--mask-template", "stop-stickers"], "needs the landmark 'sign'"),
    (["--print-out", "x.png"], "--print-out needs --print-width-mm"),
    (["--print-out", "x.png", "--print-width-mm", "-3"], "must be positive"),
])
def test_bad_template_and_print_options(faces_folder, options, message, capsys):
    assert message in _exits_2(_arguments(faces_folder, *options), capsys)
