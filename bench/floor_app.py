"""The floor for bench/load.py: the least an HTTP suggestion can cost here.

A minimal FastAPI app answering ``GET /api/v1/needs/{need_id}/suggestions`` with an exact
numpy top 10
over ``FLOOR_ITEMS`` (10,000) random 512-dimensional float32 unit vectors, in the JSON shape of
the real answer (``FLOOR_TEMPLATE``: a file holding one real answer; its suggestions are
refilled with the top 10's ids and scores). It checks the bearer token (``FLOOR_TOKEN``) by
comparison. Run by bench/load.py with one uvicorn worker:

    FLOOR_TEMPLATE=answer.json FLOOR_TOKEN=... uvicorn --app-dir bench floor_app:create_app \
        --factory --port 8001
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

DIM = 512


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def create_app() -> FastAPI:
    items = int(os.environ.get("FLOOR_ITEMS", "10000"))
    template = json.loads(Path(os.environ["FLOOR_TEMPLATE"]).read_text(encoding="utf-8"))
    token = os.environ["FLOOR_TOKEN"]
    rng = np.random.default_rng(0)
    vectors = _unit(rng.standard_normal((items, DIM), dtype=np.float32))
    ids = [f"floor-o-{i:06d}" for i in range(items)]
    shown = template["suggestions"][:1] or [{"item_id": "", "score": 0.0}]
    app = FastAPI()
    need_vectors: dict[str, np.ndarray] = {}

    def need_vector(need_id: str) -> np.ndarray:
        vector = need_vectors.get(need_id)
        if vector is None:
            seed = int.from_bytes(hashlib.sha256(need_id.encode()).digest()[:8], "little")
            vector = _unit(np.random.default_rng(seed).standard_normal((1, DIM),
                                                                       dtype=np.float32))[0]
            need_vectors[need_id] = vector
        return vector

    @app.get("/api/v1/needs/{need_id}/suggestions")
    def suggestions(need_id: str, request: Request):
        if request.headers.get("authorization") != f"Bearer {token}":
            raise HTTPException(401, "a bearer token is required")
        scores = vectors @ need_vector(need_id)
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        answer = dict(template, need_id=need_id)
        answer["suggestions"] = [
            dict(copy.deepcopy(shown[0]), item_id=ids[i], need_id=need_id,
                 score=round(float(scores[i]), 4)) for i in top]
        return JSONResponse(answer)

    return app
