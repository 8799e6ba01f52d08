"""The cards of dlib's models, which `analyzers.faces.FaceModels` runs (files from the pinned
`face-recognition-models==0.3.0` package; the HOG detector is compiled into dlib itself)."""

from __future__ import annotations

from svidok.analyzers.models import ModelCard, ModelKind

PACKAGE = "PyPI face-recognition-models==0.3.0"

HOG = ModelCard(
    name="dlib_hog_frontal_face_detector", kind=ModelKind.DETECTOR, version="dlib (built in)",
    licence="Boost Software License (dlib)", source="compiled into dlib (dlib-bin, or dlib built by make setup)",
    sha256=None, input="RGB uint8 picture at the working size (analyze.face_working_width); 80x80 window",
    card="dlib",
)
CNN = ModelCard(
    name="mmod_human_face_detector", kind=ModelKind.DETECTOR, version="0.3.0",
    licence="CC0 (dlib model files, public domain)", source=f"{PACKAGE}: mmod_human_face_detector.dat",
    sha256="4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
    input="RGB uint8 picture; used only when HOG finds nothing and analyze.face_cnn_fallback is on",
    package_file="cnn_face_detector_model_location", card="dlib",
)
SHAPE5 = ModelCard(
    name="shape_predictor_5_face_landmarks", kind=ModelKind.LANDMARKS, version="0.3.0",
    licence="CC0 (dlib model files, public domain)", source=f"{PACKAGE}: shape_predictor_5_face_landmarks.dat",
    sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
    input="RGB picture + face box; 5 points (eye corners, nose base) for dlib's 150 px chip and frontalness",
    package_file="pose_predictor_five_point_model_location", card="dlib",
)
SHAPE68 = ModelCard(
    name="shape_predictor_68_face_landmarks", kind=ModelKind.LANDMARKS, version="0.3.0",
    licence="dlib's file is CC0, but it was trained on iBUG 300-W, whose terms exclude commercial use",
    source=f"{PACKAGE}: shape_predictor_68_face_landmarks.dat",
    sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
    input="RGB picture + face box; 68 points, reduced to ArcFace's five for the plug-in embedders",
    package_file="pose_predictor_model_location", card="dlib",
)
RESNET = ModelCard(
    name="dlib_face_recognition_resnet_model_v1", kind=ModelKind.EMBEDDER, version="0.3.0",
    licence="CC0 (dlib model files, public domain)", source=f"{PACKAGE}: dlib_face_recognition_resnet_model_v1.dat",
    sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
    input="dlib's 150x150 chip aligned on the 5 points; 128-d output compared by Euclidean distance",
    package_file="face_recognition_model_location", card="dlib",
)

CARDS = (HOG, CNN, SHAPE5, SHAPE68, RESNET)
