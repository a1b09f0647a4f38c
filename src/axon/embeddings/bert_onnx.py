"""Build a BERT sentence encoder as an ONNX graph from safetensors weights.

The graph takes `input_ids`, `attention_mask` and `token_type_ids` (int64,
shape [batch, seq]) and returns `sentence_embedding` [batch, hidden]: the
encoder's last hidden states averaged over the real (mask = 1) tokens. L2
normalisation happens outside, in numpy. Weight names follow the Hugging Face
`BertModel` layout; Linear weights are stored [out, in] there, so they are
transposed once here to feed MatMul directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17  # LayerNormalization is a standard op from 17 on
# When this graph changes, bump model_files.BUILDER_VERSION (kept there so a cache hit
# never imports onnx, which costs more than opening the session).


@dataclass(frozen=True, slots=True)
class BertShape:
    """What the weights cannot tell: head count and LayerNorm epsilon."""

    num_heads: int = 12
    layer_norm_eps: float = 1e-12


@dataclass
class _Graph:
    """Accumulates nodes and initializers; each helper returns its output name."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[TensorProto] = field(default_factory=list)
    _count: int = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: NDArray[np.generic]) -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.name(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(
        self, x: str, weight: NDArray[np.float32], bias: NDArray[np.float32], hint: str
    ) -> str:
        w = self.const(f"{hint}.weight_t", np.ascontiguousarray(weight.T))
        b = self.const(f"{hint}.bias", bias)
        return self.op("Add", [self.op("MatMul", [x, w], hint), b], f"{hint}.out")

    def layer_norm(
        self, x: str, weights: dict[str, NDArray[np.float32]], prefix: str, eps: float
    ) -> str:
        scale = self.const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, scale, bias], prefix, axis=-1, epsilon=eps)


def _embeddings(g: _Graph, w: dict[str, NDArray[np.float32]], shape: BertShape) -> str:
    """word + position + token-type embeddings, then LayerNorm."""
    words = g.op(
        "Gather",
        [g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"],
        "words",
    )
    seq_len = g.op(
        "Gather",
        [g.op("Shape", ["input_ids"], "ids_shape"), g.const("one", np.array(1, dtype=np.int64))],
        "seq_len",
        axis=0,
    )
    positions = g.op(
        "Range",
        [
            g.const("zero", np.array(0, dtype=np.int64)),
            seq_len,
            g.const("step", np.array(1, dtype=np.int64)),
        ],
        "position_ids",
    )
    pos = g.op(
        "Gather",
        [g.const("position_embeddings", w["embeddings.position_embeddings.weight"]), positions],
        "positions",
    )
    types = g.op(
        "Gather",
        [
            g.const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"]),
            "token_type_ids",
        ],
        "types",
    )
    summed = g.op("Add", [g.op("Add", [words, pos], "words_pos"), types], "embedded")
    return g.layer_norm(summed, w, "embeddings.LayerNorm", shape.layer_norm_eps)


def _additive_mask(g: _Graph) -> str:
    """[batch, 1, 1, seq]: 0 where a token is real, a large negative where it is padding."""
    mask = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask = g.op(
        "Unsqueeze", [mask, g.const("mask_axes", np.array([1, 2], dtype=np.int64))], "mask_4d"
    )
    inverted = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask], "mask_inv")
    return g.op("Mul", [inverted, g.const("neg", np.array(-1e4, dtype=np.float32))], "mask_add")


def _self_attention(
    g: _Graph,
    x: str,
    mask: str,
    w: dict[str, NDArray[np.float32]],
    prefix: str,
    shape: BertShape,
    hidden: int,
) -> str:
    head_dim = hidden // shape.num_heads
    split = g.const("split_heads", np.array([0, 0, shape.num_heads, head_dim], dtype=np.int64))

    def heads(kind: str) -> str:
        projected = g.linear(
            x,
            w[f"{prefix}.self.{kind}.weight"],
            w[f"{prefix}.self.{kind}.bias"],
            f"{prefix}.{kind}",
        )
        # [batch, seq, hidden] -> [batch, heads, seq, head_dim]
        return g.op(
            "Transpose",
            [g.op("Reshape", [projected, split], f"{kind}_split")],
            f"{kind}_heads",
            perm=[0, 2, 1, 3],
        )

    q, k, v = heads("query"), heads("key"), heads("value")
    k_t = g.op("Transpose", [k], "key_t", perm=[0, 1, 3, 2])
    scores = g.op("MatMul", [q, k_t], "scores")
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    scores = g.op("Add", [g.op("Mul", [scores, scale], "scaled"), mask], "masked")
    probs = g.op("Softmax", [scores], "probs", axis=-1)
    context = g.op(
        "Transpose", [g.op("MatMul", [probs, v], "context")], "context_t", perm=[0, 2, 1, 3]
    )
    merged = g.op(
        "Reshape",
        [context, g.const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))],
        "merged",
    )
    out = g.linear(
        merged,
        w[f"{prefix}.output.dense.weight"],
        w[f"{prefix}.output.dense.bias"],
        f"{prefix}.output",
    )
    return g.layer_norm(
        g.op("Add", [out, x], "attn_residual"),
        w,
        f"{prefix}.output.LayerNorm",
        shape.layer_norm_eps,
    )


def _gelu(g: _Graph, x: str) -> str:
    """Exact GELU, x * (1 + erf(x / sqrt(2))) * 0.5, in the node order ONNX Runtime
    recognises and fuses (with the bias Add before it) into one kernel."""
    scaled = g.op("Div", [x, g.const("sqrt2", np.array(math.sqrt(2), dtype=np.float32))], "gelu_in")
    erf = g.op("Erf", [scaled], "erf")
    one_plus = g.op("Add", [erf, g.const("one_g", np.array(1.0, dtype=np.float32))], "erf_1")
    times_x = g.op("Mul", [x, one_plus], "gelu_x")
    return g.op("Mul", [times_x, g.const("half", np.array(0.5, dtype=np.float32))], "gelu")


def _feed_forward(
    g: _Graph, x: str, w: dict[str, NDArray[np.float32]], prefix: str, shape: BertShape
) -> str:
    inner = g.linear(
        x,
        w[f"{prefix}.intermediate.dense.weight"],
        w[f"{prefix}.intermediate.dense.bias"],
        f"{prefix}.intermediate",
    )
    out = g.linear(
        _gelu(g, inner),
        w[f"{prefix}.output.dense.weight"],
        w[f"{prefix}.output.dense.bias"],
        f"{prefix}.ffn_out",
    )
    return g.layer_norm(
        g.op("Add", [out, x], "ffn_residual"), w, f"{prefix}.output.LayerNorm", shape.layer_norm_eps
    )


def _mean_pool(g: _Graph, hidden_states: str) -> str:
    """Average of the hidden states over real tokens (padding excluded)."""
    mask = g.op("Cast", ["attention_mask"], "pool_mask", to=TensorProto.FLOAT)
    mask = g.op(
        "Unsqueeze", [mask, g.const("pool_axis", np.array([2], dtype=np.int64))], "pool_mask_3d"
    )
    axis = g.const("seq_axis", np.array([1], dtype=np.int64))
    summed = g.op(
        "ReduceSum",
        [g.op("Mul", [hidden_states, mask], "masked_states"), axis],
        "summed",
        keepdims=0,
    )
    counts = g.op("ReduceSum", [mask, axis], "counts", keepdims=0)
    counts = g.op(
        "Max", [counts, g.const("min_count", np.array(1e-9, dtype=np.float32))], "counts_safe"
    )
    return g.op("Div", [summed, counts], "sentence_embedding_raw")


def _layer_count(weights: dict[str, NDArray[np.float32]]) -> int:
    layers = {int(key.split(".")[2]) for key in weights if key.startswith("encoder.layer.")}
    if layers != set(range(len(layers))) or not layers:
        raise ValueError("weights hold no contiguous encoder.layer.N blocks")
    return len(layers)


def build_bert_encoder(weights_path: Path, shape: BertShape | None = None) -> onnx.ModelProto:
    """The full encoder with mean pooling, checked by onnx.checker."""
    shape = shape or BertShape()
    weights = load_file(str(weights_path))
    hidden = int(weights["embeddings.word_embeddings.weight"].shape[1])
    if hidden % shape.num_heads:
        raise ValueError(f"hidden size {hidden} is not divisible by {shape.num_heads} heads")
    g = _Graph()
    x = _embeddings(g, weights, shape)
    mask = _additive_mask(g)
    for i in range(_layer_count(weights)):
        prefix = f"encoder.layer.{i}"
        x = _self_attention(g, x, mask, weights, f"{prefix}.attention", shape, hidden)
        x = _feed_forward(g, x, weights, prefix, shape)
    pooled = _mean_pool(g, x)
    g.nodes.append(helper.make_node("Identity", [pooled], ["sentence_embedding"], name="output"))

    def int_input(name: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])

    graph = helper.make_graph(
        g.nodes,
        "bert_sentence_encoder",
        [int_input("input_ids"), int_input("attention_mask"), int_input("token_type_ids")],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="axon"
    )
    model.ir_version = 8  # readable by every onnxruntime that supports opset 17
    onnx.checker.check_model(model)
    return model
