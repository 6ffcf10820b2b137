"""Facial expression evidence on real photos from scikit-image, and pictures that cannot be read."""

from __future__ import annotations

import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from attune.common.errors import InputError
from attune.tools.mood.face import (
    CLASSES,
    CONFIDENCE_MAX,
    EXPRESSION_VA,
    FaceReading,
    bench_face,
    classify_face,
    infer_face,
    read_image,
)

ASTRONAUT = data.astronaut()  # Eileen Collins, smiling, face near (177, 66) 95 x 95 pixels
NOT_AN_IMAGE = "not an image we can read"


def _encode(rgb: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def _near_astronaut_face(box, scale: float = 1.0, dx: int = 0) -> bool:
    x, y, w, h = box
    return abs(x - (177 * scale + dx)) <= 8 * scale and abs(y - 66 * scale) <= 8 * scale and abs(w - 95 * scale) <= 10 * scale


def _png_file(tmp_path):
    p = tmp_path / "astronaut.png"
    p.write_bytes(_encode(ASTRONAUT, ".png"))
    return p


# (id, make(tmp_path) -> (source, bgr)): the same photo handed over in every accepted form
FORMS = [
    ("rgb-array", lambda t: (ASTRONAUT, False)),
    ("bgr-array", lambda t: (np.ascontiguousarray(ASTRONAUT[:, :, ::-1]), True)),
    ("grey-array", lambda t: (cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2GRAY), False)),
    ("float-0-1", lambda t: (ASTRONAUT.astype(np.float32) / 255.0, False)),
    ("rgba-array", lambda t: (np.dstack([ASTRONAUT, np.full(ASTRONAUT.shape[:2], 255, np.uint8)]), False)),
    ("png-bytes", lambda t: (_encode(ASTRONAUT, ".png"), False)),
    ("jpeg-bytes", lambda t: (_encode(ASTRONAUT, ".jpg"), False)),
    ("png-path-str", lambda t: (str(_png_file(t)), False)),
    ("png-path", lambda t: (_png_file(t), False)),
    ("pil-image", lambda t: (Image.fromarray(ASTRONAUT), False)),
]


@pytest.mark.parametrize("make", [m for _, m in FORMS], ids=[i for i, _ in FORMS])
def test_astronaut_smile_in_every_form(tmp_path, make):
    source, bgr = make(tmp_path)
    r = classify_face(source, bgr=bgr)
    assert r.found and r.faces == 1
    assert _near_astronaut_face(r.box)
    # the model gives happy about 0.99 on this photo; 0.9 leaves room for JPEG and grey conversions
    assert r.top == "happy" and r.probabilities["happy"] > 0.9
    assert set(r.probabilities) == set(CLASSES)
    assert abs(sum(r.probabilities.values()) - 1) < 1e-3
    assert r.elapsed_ms > 0


def test_smile_reads_as_pleasant_and_lively_but_weighed_lightly():
    est = infer_face(ASTRONAUT)
    assert est.valence > 0.6 and 0.2 < est.arousal < 0.6
    assert est.top(1)[0][0] == "joy"
    assert 0.5 < est.confidence <= CONFIDENCE_MAX
    first = est.evidence[0]
    assert first.source == "face"
    assert first.detail.startswith("face found; expression looks happy (p=")
    assert any("not a feeling" in e.detail for e in est.evidence)
    assert all(e.source == "face" for e in est.evidence)


@pytest.mark.parametrize("name", ["coffee", "brick", "chelsea", "rocket"])
def test_picture_without_a_face(name):
    photo = getattr(data, name)()  # a cup, a brick wall, a cat, a launch pad
    r = classify_face(photo)
    assert not r.found and r.faces == 0 and r.box is None and r.probabilities == {} and r.top is None
    est = infer_face(photo)
    assert est.confidence == 0 and est.valence == 0 and est.arousal == 0
    assert [(e.source, e.detail) for e in est.evidence] == [("face", "no face found in the picture")]


def test_face_turned_away_is_not_found():
    # the cameraman looks into his viewfinder, face turned: the frontal-face cascade does not see it,
    # which is the honest answer (no reading) rather than a guess from half a face
    assert not classify_face(data.camera()).found


@pytest.mark.parametrize("small_first", [False, True], ids=["large-left", "large-right"])
def test_largest_of_two_faces_is_read(small_first):
    small = cv2.resize(ASTRONAUT, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((512, 512 + small.shape[1], 3), np.uint8)
    if small_first:
        canvas[:small.shape[0], :small.shape[1]] = small
        canvas[:, small.shape[1]:] = ASTRONAUT
    else:
        canvas[:, :512] = ASTRONAUT
        canvas[:small.shape[0], 512:] = small
    r = classify_face(canvas)
    assert r.faces == 2 and r.top == "happy"
    assert _near_astronaut_face(r.box, dx=small.shape[1] if small_first else 0)
    assert any("2 faces" in e.detail for e in infer_face(canvas).evidence)


def test_large_photo_is_shrunk_for_detection():
    big = cv2.resize(ASTRONAUT, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    r = classify_face(big)
    assert r.faces == 1 and r.top == "happy"
    assert _near_astronaut_face(r.box, scale=4.0)  # box in the picture's own pixels


def _text(p):
    p.write_text("this is not a picture at all\n" * 50)


def _random(p):
    p.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _truncated_png(p):
    p.write_bytes(_encode(ASTRONAUT, ".png")[:64])


def _empty(p):
    p.write_bytes(b"")


BAD_FILES = [
    ("text", "notes.png", _text, NOT_AN_IMAGE),
    ("random-bytes", "photo.jpg", _random, NOT_AN_IMAGE),
    ("truncated-png", "cut.png", _truncated_png, NOT_AN_IMAGE),
    ("empty", "empty.png", _empty, "empty"),
]


@pytest.mark.parametrize("name,make,message", [(n, m, msg) for _, n, m, msg in BAD_FILES], ids=[i for i, *_ in BAD_FILES])
def test_bad_picture_files(tmp_path, name, make, message):
    p = tmp_path / name
    make(p)
    with pytest.raises(InputError, match=message):
        classify_face(p)
    with pytest.raises(InputError, match=message):
        infer_face(p.read_bytes())


def test_unreadable_message_is_the_user_sentence(tmp_path):
    with pytest.raises(InputError) as err:
        read_image(b"GIF89a? no, just words")
    assert str(err.value) == "That file is not an image we can read (PNG or JPEG)."


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match="folder"):
        read_image(tmp_path)


BAD_ARRAYS = [
    ("one-dimensional", np.zeros(100, np.uint8), "height x width"),
    ("no-pixels", np.zeros((0, 0, 3), np.uint8), "height x width"),
    ("two-channels", np.zeros((10, 10, 2), np.uint8), "height x width"),
    ("nan", np.full((20, 20), np.nan), "NaN"),
]


@pytest.mark.parametrize("array,message", [(a, m) for _, a, m in BAD_ARRAYS], ids=[i for i, *_ in BAD_ARRAYS])
def test_bad_arrays(array, message):
    with pytest.raises(InputError, match=message):
        read_image(array)


def test_read_image_gives_rgb_uint8():
    from_png = read_image(_encode(ASTRONAUT, ".png"))
    assert from_png.dtype == np.uint8 and from_png.shape == (512, 512, 3)
    assert np.array_equal(from_png, ASTRONAUT)  # PNG is lossless: colour order survives the BGR decoder
    grey = read_image(ASTRONAUT[:, :, 0])
    assert grey.shape == (512, 512, 3) and np.array_equal(grey[:, :, 2], ASTRONAUT[:, :, 0])


@pytest.mark.parametrize("expression", CLASSES)
def test_each_expression_maps_to_its_table_point(expression):
    probs = {c: (1.0 if c == expression else 0.0) for c in CLASSES}
    reading = FaceReading(found=True, faces=1, box=(0, 0, 64, 64), probabilities=probs, top=expression)
    est = infer_face(None, reading=reading)
    assert (est.valence, est.arousal) == pytest.approx(EXPRESSION_VA[expression])
    assert est.confidence == pytest.approx(CONFIDENCE_MAX)
    assert f"looks {expression} (p=1.00)" in est.evidence[0].detail


def test_uncertain_face_gets_lower_confidence_and_a_runner_up():
    probs = {"happy": 0.45, "neutral": 0.35, "surprise": 0.2, "angry": 0, "disgust": 0, "fear": 0, "sad": 0}
    est = infer_face(None, reading=FaceReading(found=True, faces=1, box=(0, 0, 80, 80), probabilities=probs, top="happy"))
    assert est.confidence == pytest.approx(0.27)
    assert "then neutral (p=0.35)" in est.evidence[0].detail
    assert est.valence == pytest.approx(0.45 * 0.7 + 0.2 * 0.1)


def test_only_numbers_leave_the_module():
    r = classify_face(ASTRONAUT)
    assert set(r.model_dump()) == {"found", "faces", "box", "probabilities", "top", "elapsed_ms"}
    from attune.tools.mood import face

    m = face._models()
    # the shared interpreter does not keep the last face in its input tensor
    assert not m.interpreter.get_tensor(m.input_index).any()


def test_threads_share_the_models():
    photos = [ASTRONAUT, data.coffee(), np.fliplr(ASTRONAUT).copy(), data.brick()] * 3
    results: list = [None] * len(photos)

    def work(i):
        results[i] = classify_face(photos[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(photos))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.found for r in results] == [True, False, True, False] * 3
    assert {r.top for r in results if r.found} == {"happy"}
    assert len({r.box for r in results[0::4]}) == 1  # same photo, same answer under contention


def test_importing_loads_nothing():
    code = "import sys, attune.tools.mood.face; print(any(m in sys.modules for m in ('cv2', 'ai_edge_litert', 'skimage')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bench_face():
    b = bench_face(n=3)
    assert b["runs"] == 3 and b["top"] == "happy"
    for key in ("detect_ms_p50", "classify_ms_p50", "total_ms_p95"):
        assert b[key] > 0
    assert b["classify_ms_p50"] < b["detect_ms_p50"]
