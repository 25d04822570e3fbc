#!/usr/bin/env python3
"""ONNX Runtime's speed on all-MiniLM-L6-v2: the engine a Python user would
pick instead of Cinder's. Called by scripts/bench-inference.sh, which prints
its figures beside the canonical and candle ones.

The f32 graph is written here, operator by operator, from the same
model.safetensors the chain registers (no model hub, no PyTorch), and also
passed through ONNX Runtime's transformer optimizer (fused attention,
GELU, layer norms); each graph is checked against the model's published
embedding of "This is an example sentence" before anything is timed. Then,
per sequence length and graph: one sentence per session.run (batch 1, as a
worker serves requests), mean pooling and L2 normalisation included, for
--seconds after a warm-up. The faster graph at each length is reported.

usage: onnxruntime-minilm.py MODEL_DIR OUT.json [--seconds 4] [--threads 2]
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file
from tokenizers import Tokenizer

# all-MiniLM-L6-v2's published embedding of the check sentence (first five
# values, sentence-transformers model card).
CHECK = ("This is an example sentence", [0.0676569, 0.0634959, 0.0487131, 0.0793050, 0.0374481])
# The text scripts' Rust bench cuts its inputs from.
TEXT = ("Validators run the model and post the result; anyone can challenge a wrong "
        "answer with a fraud proof that the runtime checks step by step. ") * 16


class Graph:
    """A tiny builder: named initializers and nodes, unique value names."""

    def __init__(self, weights):
        self.w, self.nodes, self.inits, self.n = weights, [], {}, 0

    def init(self, name, array=None):
        if name not in self.inits:
            a = self.w[name] if array is None else array
            self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(a), name)
        return name

    def op(self, kind, inputs, **attrs):
        self.n += 1
        out = f"{kind.lower()}_{self.n}"
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        w = self.init(prefix + ".weight.T", self.w[prefix + ".weight"].T)
        return self.op("Add", [self.op("MatMul", [x, w]), self.init(prefix + ".bias")])

    def norm(self, x, prefix, eps):
        return self.op("LayerNormalization", [x, self.init(prefix + ".weight"), self.init(prefix + ".bias")],
                       axis=-1, epsilon=eps)


def build(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    w = load_file(str(model_dir / "model.safetensors"))
    w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in w.items()}
    d, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    hd = d // heads
    g = Graph(w)
    shape_heads = g.init("shape_heads", np.array([1, -1, heads, hd], dtype=np.int64))
    shape_flat = g.init("shape_flat", np.array([1, -1, d], dtype=np.int64))
    scale = g.init("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    half = g.init("half", np.array(0.5, dtype=np.float32))
    one = g.init("one", np.array(1.0, dtype=np.float32))
    sqrt2 = g.init("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))

    ids = "input_ids"
    # The first `seq` rows of the position table, `seq` as a 1-D tensor.
    zero, one_i = g.init("zero", np.array([0], dtype=np.int64)), g.init("one_i", np.array([1], dtype=np.int64))
    seq = g.op("Slice", [g.op("Shape", [ids]), one_i, g.init("two_i", np.array([2], dtype=np.int64))])
    positions = g.op("Slice", [g.init("embeddings.position_embeddings.weight"), zero, seq, zero])
    x = g.op("Add", [g.op("Gather", [g.init("embeddings.word_embeddings.weight"), ids]), positions])
    token_type = g.init("token_type", w["embeddings.token_type_embeddings.weight"][0])
    x = g.norm(g.op("Add", [x, token_type]), "embeddings.LayerNorm", eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def split(t):
            return g.op("Transpose", [g.op("Reshape", [t, shape_heads])], perm=[0, 2, 1, 3])

        q = split(g.linear(x, p + "attention.self.query"))
        k = g.op("Transpose", [g.op("Reshape", [g.linear(x, p + "attention.self.key"), shape_heads])],
                 perm=[0, 2, 3, 1])
        v = split(g.linear(x, p + "attention.self.value"))
        probs = g.op("Softmax", [g.op("Mul", [g.op("MatMul", [q, k]), scale])], axis=-1)
        ctx = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), shape_flat])
        x = g.norm(g.op("Add", [g.linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm", eps)
        h = g.linear(x, p + "intermediate.dense")
        # GELU as PyTorch exports it, a pattern ONNX Runtime fuses.
        h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [g.op("Erf", [g.op("Div", [h, sqrt2])]), one])]), half])
        x = g.norm(g.op("Add", [g.linear(h, p + "output.dense"), x]), p + "output.LayerNorm", eps)
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    graph = helper.make_graph(
        g.nodes, "minilm",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, [1, "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [1, "seq", d])],
        list(g.inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model, heads, d


def fused(model, heads, d):
    """The graph after ONNX Runtime's transformer optimizer (fused attention,
    GELU and layer norms), or None where it does not apply."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plain.onnx"
        onnx.save(model, str(path))
        try:
            optimized = optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=d,
                                       opt_level=0, use_gpu=False)
        except Exception:  # noqa: BLE001 - the plain graph is measured anyway
            return None
        return optimized.model


def embed(session, ids):
    h = session.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0][0]
    v = h.mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def rate(session, ids, seconds):
    end = time.perf_counter() + min(1.0, seconds)
    while time.perf_counter() < end:
        embed(session, ids)
    runs, start = 0, time.perf_counter()
    while True:
        embed(session, ids)
        runs += 1
        now = time.perf_counter()
        if now - start >= seconds and runs >= 3:
            return runs / (now - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    tok = Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    ids = tok.encode(TEXT).ids

    # Both graphs are checked and timed; the faster one at each length is
    # the baseline.
    plain, heads, d = build(args.model_dir)
    graphs = {"plain": plain, "fused": fused(plain, heads, d)}
    rows, error = {}, 0.0
    for name, model in graphs.items():
        if model is None:
            continue
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        got = embed(session, tok.encode(CHECK[0]).ids)[:5]
        off = float(np.max(np.abs(got - np.array(CHECK[1]))))
        if off > 1e-5:
            raise SystemExit(f"ONNX Runtime's {name} graph embeds {CHECK[0]!r} off by {off:.2e}: it is wrong")
        error = max(error, off)
        for n in (16, 128):
            r = rate(session, ids[: n - 1] + ids[-1:], args.seconds)
            if r > rows.get(str(n), (0.0, ""))[0]:
                rows[str(n)] = (r, name)
    args.out.write_text(json.dumps({
        "version": ort.__version__,
        "threads": args.threads,
        "check_error": error,
        "sentences_per_second": {n: r for n, (r, _) in rows.items()},
        "graph": {n: name for n, (_, name) in rows.items()},
    }))


if __name__ == "__main__":
    main()
