"""Sentence embeddings for RAG: all-MiniLM-L6-v2 (int8 ONNX) from the registry, run by onnxruntime
with its own WordPiece tokenizer; mean pooling over real tokens, L2-normalised, 384 dimensions.
Never chromadb's default embedder: it downloads a model at run time."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from models.engine import Engine
from models.errors import EngineError
from models.registry import Registry

MAX_TOKENS = 256  # what the model was trained on; longer chunks are cut


class EmbedError(EngineError):
    code = "EMBED_ERROR"


class MiniLMEmbedder(Engine):
    error_type = EmbedError
    kind = "embed"
    dimensions = 384

    def __init__(
        self,
        registry: Registry,
        model_id: str = "embed-minilm-int8",
        tokenizer_id: str = "embed-minilm-tokenizer",
        *,
        threads: int = 2,
    ) -> None:
        super().__init__()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(registry.path(model_id)), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(registry.path(tokenizer_id)))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str], *, batch: int = 32) -> np.ndarray:
        """(len(texts), 384) float32, each row of unit length."""
        started = time.perf_counter()
        try:
            out = [self._batch(texts[i : i + batch]) for i in range(0, len(texts), batch)]
        except Exception as err:
            raise self._fail(err, "embed text") from err
        finally:
            self._timed(started)
        return np.concatenate(out) if out else np.zeros((0, self.dimensions), np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)
