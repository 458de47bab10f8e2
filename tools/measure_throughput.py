"""Measure the decode throughput of a model shape on your own accelerator, as a throughput_measurements file.

    python tools/measure_throughput.py --accelerator "H100 SXM5 80GB" --model llama3-8b \\
        --layers 32 --hidden 4096 --heads 32 --kv-heads 8 --intermediate 14336 --vocab 128256 \\
        --batch 1 8 32 --context 1024 4096 --out my_h100.csv
    costcurve ingest throughput my_h100.csv --source throughput

It builds a Llama-shaped decoder with random weights (step time does not depend on their values), fills
a KV cache of `context` tokens per sequence, and times one decode step of every layer and the lm_head
for each batch and context: tokens/s = batch / step time. Plain PyTorch, no fused kernels and no CUDA
graph, so the figure is a floor for what a serving engine reaches on the same chip; the file says so in
its notes. PyTorch is not a project dependency: install it (with the CUDA or ROCm build your card needs)
to run this. The output has the columns `sources/throughput.py` reads, one row per batch and context.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from datetime import date
from pathlib import Path

from sources.throughput import KNOWN, REQUIRED

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def params_count(layers: int, hidden: int, heads: int, kv_heads: int, intermediate: int, vocab: int) -> int:
    """Weights of the shape: per layer the q and o projections (hidden^2 each), k and v (hidden x kv_heads
    x head_dim each) and the gated MLP (3 x hidden x intermediate); plus the embedding and the lm_head."""
    head_dim = hidden // heads
    per_layer = 2 * hidden * hidden + 2 * hidden * kv_heads * head_dim + 3 * hidden * intermediate
    return layers * per_layer + 2 * vocab * hidden


def decode_step_seconds(torch, shape: argparse.Namespace, batch: int, context: int, steps: int) -> float:
    """Mean seconds of one decode step of `batch` sequences attending over `context` cached tokens."""
    device, dtype = torch.device(shape.device), getattr(torch, DTYPES[shape.dtype])
    hidden, heads, kv_heads = shape.hidden, shape.heads, shape.kv_heads
    head_dim = hidden // heads

    def weight(rows: int, cols: int):
        return torch.randn(rows, cols, device=device, dtype=dtype) * 0.02

    layers = [
        {
            "q": weight(hidden, hidden),
            "kv": weight(hidden, 2 * kv_heads * head_dim),
            "o": weight(hidden, hidden),
            "gate_up": weight(hidden, 2 * shape.intermediate),
            "down": weight(shape.intermediate, hidden),
            "cache": torch.randn(2, batch, kv_heads, context, head_dim, device=device, dtype=dtype),
        }
        for _ in range(shape.layers)
    ]
    lm_head = weight(hidden, shape.vocab)
    x = torch.randn(batch, hidden, device=device, dtype=dtype)

    def step():
        h = x
        for layer in layers:
            q = (h @ layer["q"]).view(batch, heads, 1, head_dim)
            k_new, v_new = (h @ layer["kv"]).view(batch, 2, kv_heads, 1, head_dim).unbind(1)
            cache = layer["cache"]
            # The new token's keys and values take the last cache slot: the step attends over `context`.
            cache[0, :, :, -1:] = k_new
            cache[1, :, :, -1:] = v_new
            group = heads // kv_heads
            k = cache[0].repeat_interleave(group, dim=1)
            v = cache[1].repeat_interleave(group, dim=1)
            attn = torch.nn.functional.scaled_dot_product_attention(q, k, v).reshape(batch, hidden)
            h = h + attn @ layer["o"]
            gate, up = (h @ layer["gate_up"]).chunk(2, dim=-1)
            h = h + (torch.nn.functional.silu(gate) * up) @ layer["down"]
        return h @ lm_head

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    with torch.inference_mode():
        step()  # warm-up: allocation, kernel selection
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
    return (time.perf_counter() - start) / steps


def measure(argv: list[str] | None = None) -> list[dict[str, object]]:
    """Parse the arguments, time every batch and context, write the file; returns its rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accelerator", required=True, help="the accelerator's name, e.g. 'H100 SXM5 80GB'")
    parser.add_argument("--model", required=True, help="a name for the shape, e.g. llama3-8b")
    parser.add_argument("--source", default="my-measurement", help="who measured (the key of the rows)")
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--kv-heads", type=int, required=True)
    parser.add_argument("--intermediate", type=int, required=True)
    parser.add_argument("--vocab", type=int, required=True)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--context", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    parser.add_argument("--device", default="cuda", help="cuda, cpu, ... (a torch device)")
    parser.add_argument("--steps", type=int, default=20, help="timed decode steps per setting")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.hidden % args.heads or args.heads % args.kv_heads:
        parser.error("hidden must be a multiple of heads, and heads a multiple of kv-heads")
    import torch  # imported here so that --help works without it

    params = params_count(args.layers, args.hidden, args.heads, args.kv_heads, args.intermediate, args.vocab)
    rows = []
    for context in args.context:
        for batch in args.batch:
            seconds = decode_step_seconds(torch, args, batch, context, args.steps)
            rows.append(
                {
                    "source": args.source,
                    "accelerator": args.accelerator,
                    "gpus": 1,
                    "engine": "pytorch",
                    "engine_version": torch.__version__.split("+")[0],
                    "model": args.model,
                    "params_b": f"{params / 1e9:.9f}",
                    "layers": args.layers,
                    "kv_heads": args.kv_heads,
                    "head_dim": args.hidden // args.heads,
                    "dtype": args.dtype,
                    "phase": "decode",
                    "batch": batch,
                    "context_tokens": context,
                    "tokens_per_second": f"{batch / seconds:.3f}",
                    "measured_on": date.today().isoformat(),
                    "notes": f"tools/measure_throughput.py: random weights, eager PyTorch on {args.device}, "
                    f"no fused kernels; mean of {args.steps} steps of {seconds * 1e3:.3f} ms",
                }
            )
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*REQUIRED, *KNOWN])
        writer.writeheader()
        writer.writerows(rows)
    return rows


if __name__ == "__main__":
    for row in measure(sys.argv[1:]):
        print(
            f"batch {row['batch']:>4}  context {row['context_tokens']:>6}  {row['tokens_per_second']} tokens/s"
        )
