"""The classic baseline: a FastAPI app serving one pipeline, as people write it.

Started by run.py under uvicorn with MODEL_KIND=sklearn|onnx and MODEL_PATH=<pickle or .onnx>.
POST /predict takes one record by field name and answers the prediction and the probabilities.
"""

import os
import pickle

import numpy as np
import pandas as pd
from fastapi import FastAPI

KIND = os.environ["MODEL_KIND"]
PATH = os.environ["MODEL_PATH"]

app = FastAPI()

if KIND == "sklearn":
    with open(PATH, "rb") as f:
        pipe = pickle.load(f)
    classes = [str(c) for c in pipe.classes_]

    @app.post("/predict")
    def predict(record: dict):
        proba = pipe.predict_proba(pd.DataFrame([record]))[0]
        i = int(np.argmax(proba))
        return {"prediction": classes[i],
                "probabilities": dict(zip(classes, map(float, proba)))}

else:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    session = ort.InferenceSession(PATH, so, providers=["CPUExecutionProvider"])
    inputs = [(i.name, i.type) for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    classes = os.environ["MODEL_CLASSES"].split("|")

    @app.post("/predict")
    def predict(record: dict):
        feed = {}
        for name, kind in inputs:
            v = record.get(name)
            if kind == "tensor(string)":
                feed[name] = np.array([["" if v is None else str(v)]], dtype=object)
            else:
                feed[name] = np.array([[np.nan if v is None else v]], dtype=np.float32)
        label, proba = session.run(outputs, feed)
        return {"prediction": str(label[0]),
                "probabilities": dict(zip(classes, map(float, proba[0])))}
